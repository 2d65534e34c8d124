"""Whole runs on the telecom chat data, each with the smallest memory it completes in.

The truth that `tunelab estimate`'s "fits" is judged against (issue 13). The matrix:
two model shapes (random-init Llama-3.2-1B and Qwen2.5-0.5B, see template_run_model.py) x
lora/full/qlora x packing on/off x evaluation on/off (qlora with evaluation only):
20 runs of the shipped telecom templates, each changed as template_runs.py says plus

  training.gradient_accumulation_steps   --accum (2): the peak does not depend on it
                                          (gradients exist once), the minutes do
  training.max_steps / eval_steps        --max-steps (6) / --eval-steps (3)
  evaluation off                         data.eval_file removed, eval_strategy no
  packing off                            train_sampling_strategy: group_by_length, so
                                          that the longest chat is in the first
                                          micro-batch (transformers puts the longest
                                          group first, to fail early): the run meets
                                          the batch that sets its peak in a few steps

Two phases, each fitting one 10-minute command:
  --phase measure   each run alone, uncapped: time, allocated/reserved peaks and
                    nvidia-smi (whole GPU, sampled every 0.2 s); results saved after each
  --phase bisect    reads the measure results (--from) and finds, for each run, the
                    smallest per-process cap (torch.cuda.set_per_process_memory_fraction,
                    through the sitecustomize of template_run_process.py) it completes in, to
                    --step (0.5 GiB): the allocated peak cannot pass (a floor), caps just
                    above it are tried first, several runs at once on the one GPU (their
                    caps, plus a CUDA context each, stay under --gpu-gib): a cap bounds
                    its own process whatever the others do, so memory is measured right
                    while the minutes of the capped runs mean nothing (time comes from
                    the measure phase)

  python runner/bench/whole_runs.py --phase measure --work /tmp/tl-whole --budget-s 540
  python runner/bench/whole_runs.py --phase bisect --work /tmp/tl-whole \
      --from runner/bench/results/whole-runs-h100.json --budget-s 540
(QLoRA needs bitsandbytes on PYTHONPATH, see ../shared/notes/infra.md.)
Results: whole-runs[-TAG].json / .md in --out ($OUT, else runner/bench/results).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from template_run_common import GIB, fmt, gib, say  # noqa: E402,F401  (GIB: whole_runs.GIB, as before)
from template_run_configs import load_template, make_config, write_config  # noqa: E402
from template_run_model import ensure_model  # noqa: E402
from template_run_process import (  # noqa: E402
    RUNNER_DIR, SITECUSTOMIZE, bitsandbytes_reason, measure, nvidia_smi, pace_probe, runner_env)
from template_run_results import save  # noqa: E402
from tunelab_runner.allocator import allocator_setting  # noqa: E402
from tunelab_runner.events import EXIT_OOM  # noqa: E402  (runner/ on sys.path: template_run_common)

CONTEXT_GIB = 0.75   # a CUDA context and cuBLAS workspace: outside the cap, inside the GPU


def run_name(shape: str, method: str, packing: bool, evaluate: bool) -> str:
    return f"{shape}-{method}-{'packed' if packing else 'unpacked'}-{'eval' if evaluate else 'noeval'}"


def matrix(shapes: List[str], methods: List[str], names: Optional[set] = None) -> List[Tuple[str, str, bool, bool]]:
    """The runs in their recorded order; `names`, when given, keeps only those (--runs)."""
    out = []
    for shape in shapes:
        for method in methods:
            for packing in (True, False):
                for evaluate in (True, False):
                    if method == "qlora" and not evaluate:
                        continue   # 20 runs in all; qlora's evaluation-off twin adds nothing new
                    if names and run_name(shape, method, packing, evaluate) not in names:
                        continue
                    out.append((shape, method, packing, evaluate))
    return out


def write_run_config(shape: str, method: str, packing: bool, evaluate: bool, model_dir: str, work: str,
                     a, out_suffix: str = "") -> Tuple[str, List[Dict]]:
    name = run_name(shape, method, packing, evaluate)
    run_dir = os.path.join(work, "runs", name + out_suffix)
    targs = SimpleNamespace(max_steps=a.max_steps, eval_steps=a.eval_steps, logging_steps="1", keep_saves=False,
                            keep_evaluation=False)
    doc, changes = make_config(method, packing, model_dir, run_dir, targs)
    training = doc.setdefault("training", {})

    def change(key: str, old: Any, new: Any) -> None:
        changes.append({"key": key, "template": old, "bench": new})

    change("training.gradient_accumulation_steps", training.get("gradient_accumulation_steps"), a.accum)
    training["gradient_accumulation_steps"] = a.accum
    if not evaluate:
        data = doc.setdefault("data", {})
        change("data.eval_file", data.pop("eval_file", None), "<removed>")
        change("training.eval_strategy", training.get("eval_strategy"), "no")
        training["eval_strategy"] = "no"
        training.pop("eval_steps", None)
    if not packing:
        change("training.train_sampling_strategy", training.get("train_sampling_strategy"), "group_by_length")
        training["train_sampling_strategy"] = "group_by_length"
    cfg = write_config(doc, os.path.join(work, "configs", name + out_suffix + ".finetune.yaml"))
    return cfg, changes


def load_results(path: str) -> Dict[str, Any]:
    with open(path) as fh:
        return json.load(fh)


# ------------------------------------------------------------------ measure

def host_speed() -> Dict[str, Any]:
    """host_probe.py in its own process (this one never touches the GPU): how fast this host drives the
    GPU from eager PyTorch, recorded beside the runs it paces."""
    try:
        proc = subprocess.run([sys.executable, os.path.join(HERE, "host_probe.py")], cwd=RUNNER_DIR,
                              env=runner_env(), capture_output=True, text=True, timeout=180)
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, IndexError, ValueError) as exc:
        return {"measured": False, "reason": f"{type(exc).__name__}: {exc}"}


def warm_up(a, jobs, models, results, logs) -> None:
    """A run once before the measured ones, its figures kept apart: on a machine just started, the first
    two trainings measured took 2.7-4.5 s for their first step against 0.5 s later, and a machine's first
    padded run stalls for seconds at its first new shapes."""
    # a padded run when there is one: the first padded batches of a machine wait on CUDA's JIT (jit_cache.py)
    shape, method, packing, evaluate = next((j for j in jobs if not j[2]), jobs[0])
    name = run_name(shape, method, packing, evaluate)
    cfg, _ = write_run_config(shape, method, packing, evaluate, models[shape], a.work, a)
    say(f"\n== {name} (warm-up, not counted)")
    r = measure(name + "-warm-up", cfg, os.path.join(a.work, "runs", name, "out"), logs, a)
    results["warm_up"] = {"name": name, **{k: r.get(k) for k in ("status", "train_seconds", "process_seconds")}}


def phase_measure(a, jobs, models, results, out, stem, logs, t_begin) -> None:
    if a.warm_up and jobs:
        warm_up(a, jobs, models, results, logs)
    if a.host_speed:
        results["host_speed"] = [host_speed()]
        say(f"host speed: {results['host_speed'][0]}")
    for shape, method, packing, evaluate in jobs:
        name = run_name(shape, method, packing, evaluate)
        rec: Dict[str, Any] = {"name": name, "shape": shape, "method": method, "packing": packing,
                               "evaluate": evaluate}
        results["runs"].append(rec)
        cfg, changes = write_run_config(shape, method, packing, evaluate, models[shape], a.work, a)
        shutil.copy(cfg, os.path.join(logs, name + ".finetune.yaml"))
        rec.update(config=os.path.basename(cfg), changes=changes)
        if method == "qlora" and a.bnb_reason:
            rec["skipped"] = a.bnb_reason
            continue
        used = time.time() - t_begin
        if a.budget_s and used + (80 if a.probe_steps else 40) > a.budget_s:
            rec["skipped"] = f"budget: {used:.0f}s used of {a.budget_s:.0f}s"
            say(f"== {name}: skipped ({rec['skipped']})")
            continue
        say(f"\n== {name}")
        if a.probe_steps:
            rec["probe"] = p = pace_probe(name, cfg, logs, a.probe_steps, a.timeout)
            say(f"    probe of {a.probe_steps} steps: {p['status']} in {p['process_seconds']:.0f}s, steady step "
                f"{fmt(p.get('steady_step_seconds'), '.4f')} s")
        r = measure(name, cfg, os.path.join(a.work, "runs", name, "out"), logs, a)
        rec.update(r)
        say(f"    => {r.get('status')} exit {r['exit_code']} in {r['process_seconds']:.0f}s: tok/s "
            f"{fmt(r.get('tokens_per_second_whole_training'), ',.0f')}, alloc "
            f"{fmt(gib(r.get('alloc_peak_training_bytes')), '.2f')} / "
            f"{fmt(gib(r.get('alloc_peak_whole_bytes')), '.2f')} GiB, reserved "
            f"{fmt(gib(r.get('reserved_peak_bytes')), '.2f')}, smi {fmt(r.get('smi_peak_gib'), '.2f')}, "
            f"train {fmt(r.get('train_seconds'), '.1f')} s")
        save(results, out, stem)
    if a.host_speed:
        results["host_speed"].append(host_speed())
        say(f"host speed after the runs: {results['host_speed'][-1]}")


# ------------------------------------------------------------------ bisect

class Search:
    """The smallest passing cap of one run on a `step` grid: `lo` fails, `hi` passes (or is assumed to)."""

    def __init__(self, rec: Dict[str, Any], step: float):
        self.rec, self.step = rec, step
        alloc = gib(rec.get("alloc_peak_whole_bytes"))
        upper = rec.get("smi_peak_gib") or gib(rec.get("reserved_peak_bytes"))
        self.lo = math.floor(alloc / step) * step          # the allocated peak cannot fit under it
        self.hi = math.ceil(((upper or alloc) + 1.0) / step) * step
        self.hi_verified = False
        self.trials: List[Dict[str, Any]] = []
        earlier = rec.get("bisect") or {}
        if earlier.get("trials"):   # a bisection resumed (--only): its bounds and trials stand
            self.trials = list(earlier["trials"])
            self.lo = max(self.lo, earlier.get("largest_failing_gib") or self.lo)
            if earlier.get("verified") and earlier.get("smallest_cap_gib") is not None:
                self.hi, self.hi_verified = min(self.hi, earlier["smallest_cap_gib"]), True
        self.running: set = set()
        self.stopped: Optional[str] = None

    def done(self) -> bool:
        return self.stopped is not None or self.hi - self.lo <= self.step + 1e-9

    def next_caps(self, width: int) -> List[float]:
        """Caps for the next round: just above the floor first (most runs fit within a GiB or two of
        their allocated peak), then an even split of what is left."""
        if self.done() or self.running:
            return []
        n = round((self.hi - self.lo) / self.step)   # grid points lo+1 .. hi-1 are open
        if not self.trials:
            picks = [1, 2, 4, 8]
        else:
            picks = [round(n * (i + 1) / (width + 1)) for i in range(width)]
        caps = sorted({self.lo + self.step * k for k in picks if 0 < k < n})
        if not caps:
            caps = [self.lo + self.step]
        if not self.hi_verified and len(caps) < width and not any(c >= self.hi for c in caps):
            caps.append(self.hi)   # checks the assumed upper bound in the same round
        return caps[:width]

    def record(self, cap: float, r: Dict[str, Any]) -> None:
        ok = r["exit_code"] == 0 and r.get("status") == "completed"
        err = r.get("error") or {}
        oom = r["exit_code"] == EXIT_OOM or err.get("type") == "oom" or "out of memory" in str(
            err.get("message", "")).lower()
        self.trials.append({"cap_gib": cap, "exit_code": r["exit_code"], "completed": ok, "oom": oom,
                            "process_seconds": r["process_seconds"], "cap_applied": r.get("cap_applied"),
                            "alloc_peak_whole_gib": gib(r.get("alloc_peak_whole_bytes")),
                            "reserved_peak_gib": gib(r.get("reserved_peak_bytes")), "error": r.get("error")})
        if not r.get("cap_applied"):
            self.stopped = "the sitecustomize did not set the cap (see the capped run's log)"
        elif ok:
            if cap <= self.hi:
                self.hi, self.hi_verified = cap, True
        elif oom:
            self.lo = max(self.lo, cap)
        else:
            self.stopped = f"a capped run failed for another reason than OOM (exit {r['exit_code']})"
        if self.hi <= self.lo:   # a pass below a fail: noise of the allocator; keep the pass, say so
            self.stopped = f"a run passed at {self.hi:g} GiB below one that failed at {self.lo:g} GiB"

    def result(self) -> Dict[str, Any]:
        return {"smallest_cap_gib": self.hi if not self.stopped or self.hi_verified else None,
                "verified": self.hi_verified, "largest_failing_gib": self.lo,
                "resolution_gib": round(self.hi - self.lo, 3), "stopped": self.stopped, "trials": self.trials}


def phase_bisect(a, models, results, out, stem, logs, t_begin) -> None:
    site_dir = os.path.join(a.work, "sitecustomize-cap")
    os.makedirs(site_dir, exist_ok=True)
    with open(os.path.join(site_dir, "sitecustomize.py"), "w") as fh:
        fh.write(SITECUSTOMIZE)
    searches: Dict[str, Search] = {}
    for rec in results["runs"]:
        if rec.get("skipped") or rec.get("exit_code") != 0 or rec.get("alloc_peak_whole_bytes") is None:
            rec["bisect"] = {"skipped": "no completed uncapped run to start from"}
            continue
        if a.only and rec["name"] not in a.only:
            continue   # keeps its earlier bisection
        searches[rec["name"]] = Search(rec, a.step)
    lock = threading.Lock()
    held = {"gib": 0.0}
    pool = ThreadPoolExecutor(max_workers=a.concurrency)
    futures: Dict[Any, Tuple[str, float]] = {}

    def launch(name: str, cap: float) -> None:
        rec = searches[name].rec
        cfg, _ = write_run_config(rec["shape"], rec["method"], rec["packing"], rec["evaluate"],
                                  models[rec["shape"]], a.work, a, out_suffix=f"-cap{cap:g}")
        out_dir = os.path.join(a.work, "runs", f"{name}-cap{cap:g}", "out")
        searches[name].running.add(cap)
        held["gib"] += cap + CONTEXT_GIB
        fut = pool.submit(measure, name, cfg, out_dir, logs, a, cap, site_dir, True, False)
        futures[fut] = (name, cap)
        say(f"  start {name} cap {cap:g} GiB (holding {held['gib']:.1f} GiB, {len(futures)} running)")

    try:
        while True:
            if a.budget_s and time.time() - t_begin > a.budget_s - 45:
                say("budget: no new capped runs")
                pending = []
            else:
                pending = [(name, cap) for name, s in searches.items() for cap in s.next_caps(a.width)]
            for name, cap in sorted(pending, key=lambda p: p[1]):
                if len(futures) >= a.concurrency or held["gib"] + cap + CONTEXT_GIB > a.gpu_gib:
                    continue
                launch(name, cap)
            if not futures:
                break
            finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            with lock:
                for fut in finished:
                    name, cap = futures.pop(fut)
                    held["gib"] -= cap + CONTEXT_GIB
                    s = searches[name]
                    s.running.discard(cap)
                    try:
                        r = fut.result()
                    except Exception as exc:  # noqa: BLE001
                        s.stopped = f"the capped run could not be measured: {exc!r}"
                        continue
                    s.record(cap, r)
                    say(f"  {name} cap {cap:g}: {'completed' if s.trials[-1]['completed'] else 'OOM' if s.trials[-1]['oom'] else 'failed'}"
                        f" -> [{s.lo:g}, {s.hi:g}]{' done' if s.done() else ''}")
                    s.rec["bisect"] = s.result()
                    save(results, out, stem)
    finally:
        pool.shutdown(wait=True)
    for s in searches.values():
        s.rec["bisect"] = s.result()


# ------------------------------------------------------------------ report

def render(results: Dict[str, Any]) -> str:
    lines = ["# Whole runs on the telecom chat data: smallest memory, peaks, time", "",
             f"Device: {results.get('device') or '?'}; {json.dumps(results.get('versions') or {})}.",
             f"Settings: {results.get('settings')}.",
             f"Allocator: {(results.get('allocator') or {}).get('value', 'PyTorch default (not recorded)')}.", "",
             "| run | tok/s | alloc peak GiB | reserved GiB | nvidia-smi GiB | smallest cap GiB | train s | "
             "eval s | status |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results.get("runs", []):
        if r.get("skipped"):
            lines.append(f"| {r['name']} | — | — | — | — | — | — | — | skipped: {r['skipped']} |")
            continue
        b = r.get("bisect") or {}
        cap = b.get("smallest_cap_gib")
        cap_s = "—" if cap is None else f"{cap:g}" + ("" if b.get("verified") else " (assumed)") + (
            f" ±{b['resolution_gib']:g}" if (b.get("resolution_gib") or 0) > 0.5 + 1e-9 else "")
        if b.get("stopped"):
            cap_s += f" ({b['stopped']})"
        lines.append(
            f"| {r['name']} | {fmt(r.get('tokens_per_second_whole_training'), ',.0f')} | "
            f"{fmt(gib(r.get('alloc_peak_whole_bytes')), '.2f')} | {fmt(gib(r.get('reserved_peak_bytes')), '.2f')} | "
            f"{fmt(r.get('smi_peak_gib'), '.2f')} | {cap_s} | {fmt(r.get('train_seconds'), '.1f')} | "
            f"{'+'.join(fmt(x, '.1f') for x in r.get('eval_seconds') or []) or '—'} | "
            f"{r.get('status') or 'exit ' + str(r.get('exit_code'))} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phase", choices=("measure", "bisect"), required=True)
    ap.add_argument("--shapes", default="1b,0.5b")
    ap.add_argument("--methods", default="lora,full,qlora")
    ap.add_argument("--work", required=True, help="models, configs and run outputs (reused between phases)")
    ap.add_argument("--out", default=None)
    ap.add_argument("--tag", default="h100")
    ap.add_argument("--from", dest="from_", default=None, help="bisect: the measure phase's JSON")
    ap.add_argument("--max-steps", type=int, default=6)
    ap.add_argument("--eval-steps", type=int, default=3)
    ap.add_argument("--accum", type=int, default=2)
    ap.add_argument("--vocab-size", type=int, default=8000)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--budget-s", type=float, default=0)
    ap.add_argument("--step", type=float, default=0.5, help="bisection resolution, GiB")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--width", type=int, default=3, help="caps of one run tried at once")
    ap.add_argument("--gpu-gib", type=float, default=70.0, help="caps + contexts held at once")
    ap.add_argument("--runs", default="", help="measure: these runs (comma-separated names) only, e.g. one of "
                    "each pair of evaluation twins when only the time is wanted (their training is the same)")
    ap.add_argument("--probe-steps", type=int, default=0, help="measure: before each run, `train --probe N` of its "
                    "config (as `tunelab launch --probe`): the steady step the estimate learns the host's pace from")
    ap.add_argument("--warm-up", action="store_true", help="measure: train a run (the first padded one, else "
                    "the first) once before the measured ones (kept apart in the results): no measured run is a "
                    "just-started machine's first, nor its first on padded batches")
    ap.add_argument("--host-speed", action="store_true", help="measure: run host_probe.py before and "
                    "after the runs, into the results' host_speed")
    ap.add_argument("--only", default="", help="bisect: these runs (comma-separated names) only, resuming "
                    "their earlier bisection; the others keep theirs")
    a = ap.parse_args(argv)
    a.keep_outputs = False
    a.only = {n for n in a.only.split(",") if n}
    t_begin = time.time()
    out = os.path.abspath(a.out or os.environ.get("OUT") or os.path.join(HERE, "results"))
    stem = f"whole-runs-{a.tag}" if a.phase == "measure" else f"whole-runs-bisect-{a.tag}"
    logs = os.path.join(out, stem + "-logs")
    os.makedirs(logs, exist_ok=True)
    a.work = os.path.abspath(a.work)
    os.makedirs(a.work, exist_ok=True)
    shapes = [s for s in a.shapes.split(",") if s]
    methods = [m for m in a.methods.split(",") if m]
    names = {n for n in a.runs.split(",") if n}
    unknown = names - {run_name(*j) for j in matrix(shapes, methods)}
    if unknown:   # before the models are built: a typo costs nothing
        ap.error(f"--runs: no such run: {', '.join(sorted(unknown))}")
    jobs = matrix(shapes, methods, names)
    _t, lora_doc = load_template("lora")
    system_prompt = (lora_doc.get("data") or {}).get("system_prompt") or ""
    # both models at once: two processes, each a GPU context and a tokenizer to train
    built: Dict[str, Tuple[str, Optional[Dict]]] = {}
    threads = [threading.Thread(target=lambda s=s: built.__setitem__(
        s, ensure_model(a.work, a.vocab_size, system_prompt, False, s))) for s in shapes]
    [t.start() for t in threads]
    [t.join() for t in threads]
    models = {s: built[s][0] for s in shapes}
    a.bnb_reason = bitsandbytes_reason() if "qlora" in methods else None
    if a.phase == "measure":
        results: Dict[str, Any] = {
            "script": "runner/bench/whole_runs.py", "argv": sys.argv[1:], "device": nvidia_smi("name"),
            "versions": (built[shapes[0]][1] or {}).get("versions"),
            "models": {s: {k: (built[s][1] or {}).get(k) for k in ("params", "model_type", "train_chat_tokens")}
                       for s in shapes},
            "settings": f"max_steps {a.max_steps}, eval_steps {a.eval_steps}, gradient_accumulation_steps "
                        f"{a.accum}, logging_steps 1, save_strategy no, export off; unpacked runs group_by_length",
            "runs": []}
        phase_measure(a, jobs, models, results, out, stem, logs, t_begin)
    else:
        results = load_results(a.from_)
        missing = [r for r in results["runs"] if str(r.get("skipped", "")).startswith("budget")]
        for rec in missing:   # runs the measure phase had no time for: measured alone first
            say(f"\n== {rec['name']} (measure)")
            for key in [k for k in rec if k not in ("name", "shape", "method", "packing", "evaluate")]:
                rec.pop(key)
            cfg, changes = write_run_config(rec["shape"], rec["method"], rec["packing"], rec["evaluate"],
                                            models[rec["shape"]], a.work, a)
            shutil.copy(cfg, os.path.join(logs, rec["name"] + ".finetune.yaml"))
            rec.update(config=os.path.basename(cfg), changes=changes, measured_in="bisect phase, alone")
            rec.update(measure(rec["name"], cfg, os.path.join(a.work, "runs", rec["name"], "out"), logs, a))
            say(f"    => {rec.get('status')} in {rec['process_seconds']:.0f}s")
        results["bisect_settings"] = (f"step {a.step} GiB, up to {a.concurrency} runs at once, caps + "
                                      f"{CONTEXT_GIB} GiB each under {a.gpu_gib} GiB")
        phase_bisect(a, models, results, out, stem, logs, t_begin)
    # what the runs' allocator was: the runner's default (allocator.py) unless this environment set one
    results["allocator"] = allocator_setting()
    results["seconds_total"] = round(time.time() - t_begin, 1)
    save(results, out, stem)
    with open(os.path.join(out, stem + ".md"), "w") as fh:
        fh.write(render(results))
    say("\n" + render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
