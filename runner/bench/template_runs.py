"""Re-measures the shipped telecom-support templates as whole runs of the runner.

For each template (lora, full, qlora; qlora is skipped, with the reason, when
bitsandbytes does not import) and each data.packing value (--packing
both|true|false), the template's YAML is loaded and written back with PyYAML,
every setting kept except:

  model.name_or_path          a local random-init model of the Llama-3.2-1B shape
                              (hidden 2048, 16 layers, 32 heads, 8 kv heads,
                              intermediate 8192, vocab 128256, tied embeddings,
                              rope_theta 500000, max_position_embeddings 131072),
                              saved once in bf16 with a byte-level BPE tokenizer
                              (~8k tokens) trained here on the template's train data
  data.train_file, data.eval_file, data.general_data.file
                              absolute paths to templates/telecom-support/data/
  data.packing                true / false
  training.max_steps          30 (--max-steps); num_train_epochs is left in place
                              (max_steps wins)
  training.eval_strategy/eval_steps   steps / 20 (--eval-steps)
  training.logging_steps      1 (--logging-steps; `template` keeps the template's 10):
                              one step event per optimizer step, so that tokens/s
                              is a median over steps, not 3 windows of 10
  training.save_strategy      "no" unless --keep-saves: with `steps` the Trainer also
                              saves a checkpoint at the last step (max_steps), which
                              for full fine-tuning writes ~7 GB and is no part of
                              what is measured here
  training.output_dir         a temporary directory (deleted after each run)
  export.adapter/merge        false (nothing is exported); export.output_dir under
                              the temporary directory
  evaluation                  removed unless --keep-evaluation: its generation after
                              training outlasts the 30 steps on a random model
The chat format stays the template's (data.chat_template: llama-3): the tokenizer
carries <|begin_of_text|>, <|end_of_text|>, <|start_header_id|>, <|end_header_id|>
and <|eot_id|> as single special tokens, bos/eos ids in the model config are the
tokenizer's, and like the real Llama-3.2-1B base there is no pad token (the runner
pads with eos) and no pad_token_id in the model config (no zeroed embedding row).

Each run is one `python -m tunelab_runner train CFG` process (cwd runner/) while a
thread samples `nvidia-smi --query-gpu=memory.used` every 0.2 s. From the events
(runner/EVENTS.md):
  tok/s          median of the step events' tokens_per_second for steps > 3,
                 leaving out the step right after an evaluation (its window holds
                 the evaluation)
  alloc train    gpu_memory.peak_allocated_bytes of the last step event before the
                 first eval event (the runner resets the peak just before training)
  alloc whole    max of every step's peak and the end event's
                 metrics.peak_memory_allocated_bytes (training + both evaluations)
  reserved       end metrics.peak_memory_reserved_bytes (else the largest step
                 reserved_bytes)
  nvidia-smi     the largest memory.used sampled during the process (whole GPU)
  train s        30 steps: last step event - start event, less the in-training
                 evaluation (eval event - the step event it follows); JSON also has
                 first-to-last step event, evaluation, after-training and process seconds
  final loss     loss of the last step event (JSON: also train_loss and eval_loss)
--bisect: the smallest per-process cap (GiB, --bisect-step 0.5) the run completes
in, set through TUNELAB_BENCH_MEMORY_CAP_GIB read by a sitecustomize.py in a temp
dir put first on PYTHONPATH (torch.cuda.set_per_process_memory_fraction). Bisects
between the whole-run allocated peak (fails) and the nvidia-smi peak + 1 GiB
(assumed to pass), at most --bisect-runs capped runs per config; a run that
exits 4 (oom) is below the cap. The cap bounds PyTorch's caching allocator only:
the CUDA context and QLoRA's paged 8-bit optimizer states (CUDA managed memory)
are outside it.
When `node` and dist/cli.js are there, `tunelab estimate --format json --offline`
of each config is recorded too (and, when the config's hardware.gpu is another
GPU, the same estimate with --gpu <this GPU's name>).

Run (one GPU; no network needed):
  python runner/bench/template_runs.py [--out DIR] [--packing both|true|false]
      [--methods lora,full,qlora] [--bisect] [--work DIR] [--dry-run]
  --dry-run writes the configs, checks each with `python -m tunelab_runner plan`,
  records the estimates and prints the commands; it needs neither torch nor a GPU.
Results: DIR/template_runs.json and DIR/template_runs.md (DIR: --out, else $OUT,
else runner/bench/results), rewritten after every run; each run's config, full log
and events in DIR/template_runs-logs/.

Time: Tunelab's own estimate (dry run, H100) of the 30 training steps is 81 s
lora packed, 88 s lora unpacked, 59 s / 63 s full, 150 s / 247 s qlora, plus
~35 s per process for imports, tokenizing, loading and the two evaluations:
~15 min for all six. To stay within 10-minute commands, split the runs and reuse
the model with one --work folder, e.g.
  python runner/bench/template_runs.py --methods lora,full --work /tmp/tl-bench --budget-s 560
  PYTHONPATH=/path/to/bitsandbytes python runner/bench/template_runs.py --methods qlora \
      --work /tmp/tl-bench --tag qlora --budget-s 560
--budget-s skips a run that would not end in time (estimate x1 + 35 s); --bisect
adds up to --bisect-runs whole runs per config, so use it on one config at a time
(e.g. --methods lora --packing true --bisect).

Code: this file is the command line (arguments, the two passes, the runs in order);
template_run_common.py (paths, say/gib/fmt), template_run_process.py (runner
environment, nvidia-smi, one measured run, the memory-cap sitecustomize),
template_run_model.py (shapes, tokenizer and model building: --_build),
template_run_configs.py (templates, configs, plan check, estimate),
template_run_results.py (events summary, report, save) and template_run_bisect.py
(the smallest cap).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import Any, Dict

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from template_run_bisect import bisect_cap  # noqa: E402
from template_run_common import METHODS, RUNNER_DIR, fmt, gib, say  # noqa: E402
from template_run_configs import (check_plan, device_matches, load_template, make_config,  # noqa: E402
                                  tunelab_estimate, write_config)
from template_run_model import build_assets_child, ensure_model  # noqa: E402
from template_run_process import (CAP_ENV, SITECUSTOMIZE, bitsandbytes_reason, measure, nvidia_smi,  # noqa: E402
                                  pace_probe)
from template_run_results import render, save  # noqa: E402

PROCESS_OVERHEAD_S = 35   # per runner process besides training: imports, tokenizing, loading, 2 evaluations


# ------------------------------------------------------------------ main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packing", choices=("both", "true", "false"), default="both")
    ap.add_argument("--methods", default="lora,full,qlora", help="comma-separated subset of lora,full,qlora")
    ap.add_argument("--out", default=None, help="results folder (default $OUT, else runner/bench/results)")
    ap.add_argument("--tag", default="", help="suffix of the result files: template_runs-TAG.{json,md}")
    ap.add_argument("--work", default=None, help="work folder (model, configs, run outputs); default a new temp dir. "
                    "Reused when given: the model is built once")
    ap.add_argument("--max-steps", type=int, default=30)
    ap.add_argument("--eval-steps", type=int, default=20)
    ap.add_argument("--logging-steps", default="1", help="an integer, or `template` to keep the template's")
    ap.add_argument("--keep-saves", action="store_true", help="keep the template's save_strategy (a checkpoint at the "
                    "last step)")
    ap.add_argument("--keep-evaluation", action="store_true",
                    help="keep the template's `evaluation:` (generation after training; slow on a random model)")
    ap.add_argument("--keep-outputs", action="store_true", help="keep each run's output_dir")
    ap.add_argument("--vocab-size", type=int, default=8000, help="tokenizer vocabulary (the model's stays 128256)")
    ap.add_argument("--timeout", type=int, default=480, help="seconds per runner process before it is killed")
    ap.add_argument("--budget-s", type=float, default=0,
                    help="skip a run when the time used so far plus its expected length exceeds this (0: no limit)")
    ap.add_argument("--bisect", action="store_true", help="also find the smallest memory cap each run completes in (slow)")
    ap.add_argument("--bisect-runs", type=int, default=5, help="capped runs per config at most")
    ap.add_argument("--bisect-step", type=float, default=0.5, help="GiB")
    ap.add_argument("--probe-steps", type=int, default=0,
                    help="before each run, `train --probe N` of its config (as `tunelab launch --probe`): its steady "
                         "step, from which the estimate learns the host's pace")
    ap.add_argument("--dry-run", action="store_true", help="write the configs, check them with `plan`, record the "
                    "estimates and print the commands; no torch, no GPU")
    ap.add_argument("--_build", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.logging_steps != "template":
        try:
            if int(a.logging_steps) < 1:
                raise ValueError
        except ValueError:
            ap.error("--logging-steps: a positive integer or `template`")
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        ap.error(f"--methods: unknown {bad}")
    a.method_list = [m for m in METHODS if m in methods]
    return a


def main(argv=None) -> int:
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        pass
    a = parse_args(argv)
    if a._build:
        return build_assets_child(a._build)

    def on_term(signum, frame):  # a SIGTERM stops the current run too (run_once kills it), results so far stay
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    t_begin = time.time()
    out = os.path.abspath(a.out or os.environ.get("OUT") or os.path.join(HERE, "results"))
    stem = "template_runs" + (f"-{a.tag}" if a.tag else "")
    logs = os.path.join(out, stem + "-logs")
    os.makedirs(logs, exist_ok=True)
    work = os.path.abspath(a.work) if a.work else tempfile.mkdtemp(prefix="tunelab-template-runs-")
    os.makedirs(work, exist_ok=True)
    try:
        return run_all(a, out, stem, logs, work, t_begin)
    finally:
        if not a.work and not a.keep_outputs:
            shutil.rmtree(work, ignore_errors=True)   # a temp work dir (model included) goes; configs are in logs


def run_all(a, out: str, stem: str, logs: str, work: str, t_begin: float) -> int:
    packings = {"both": [True, False], "true": [True], "false": [False]}[a.packing]
    say(f"template_runs: methods {a.method_list}, packing {packings}, max_steps {a.max_steps}, "
        f"eval every {a.eval_steps}, logging_steps {a.logging_steps}, bisect {a.bisect}; work {work}; out {out}")

    device = nvidia_smi("name")
    total_mib = nvidia_smi("memory.total")
    if device is None and not a.dry_run:
        say("warning: nvidia-smi not found or failed: no nvidia-smi peaks, no device name")

    _t, lora_doc = load_template("lora")
    system_prompt = (lora_doc.get("data") or {}).get("system_prompt") or ""
    model_dir, model_info = ensure_model(work, a.vocab_size, system_prompt, a.dry_run)

    bnb_reason = None
    if "qlora" in a.method_list:
        bnb_reason = "dry run: not checked" if a.dry_run else bitsandbytes_reason()
        if bnb_reason and not a.dry_run:
            say(f"qlora: skipped: {bnb_reason}")

    site_dir = None
    if a.bisect:
        site_dir = os.path.join(work, "sitecustomize-cap")
        os.makedirs(site_dir, exist_ok=True)
        with open(os.path.join(site_dir, "sitecustomize.py"), "w") as fh:
            fh.write(SITECUSTOMIZE)

    results: Dict[str, Any] = {
        "script": "runner/bench/template_runs.py", "argv": sys.argv[1:], "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "device": device, "gpu_memory_total_mib": int(float(total_mib)) if total_mib else None,
        "versions": (model_info or {}).get("versions"), "model": model_info, "work": work,
        "changes_summary": (f"model.name_or_path -> the local model; data files -> absolute paths; max_steps "
                            f"{a.max_steps}; eval_strategy steps, eval_steps {a.eval_steps}; "
                            + (f"logging_steps {a.logging_steps}; " if a.logging_steps != "template" else "")
                            + ("" if a.keep_saves else "save_strategy no; ")
                            + "output_dir -> temp; export adapter/merge false; "
                            + ("" if a.keep_evaluation else "the evaluation after training removed; ")
                            + "everything else as shipped"),
        "runs": [], "notes": [],
    }
    if a.dry_run:
        results["notes"].append("dry run: nothing was trained")

    # pass 1: configs, plan check, estimates (no GPU)
    est_gpu = device or "H100-80GB"   # a dry run without nvidia-smi estimates for an H100
    jobs = []
    for method in a.method_list:
        for packing in packings:
            name = f"{method}-{'packed' if packing else 'unpacked'}"
            run_dir = os.path.join(work, "runs", name)
            doc, changes = make_config(method, packing, model_dir, run_dir, a)
            cfg = write_config(doc, os.path.join(work, "configs", name + ".finetune.yaml"))
            shutil.copy(cfg, os.path.join(logs, name + ".finetune.yaml"))
            rec: Dict[str, Any] = {"method": method, "packing": packing, "config": cfg,
                                   "hardware": doc.get("hardware"), "changes": changes}
            say(f"\n== {name}: {cfg}")
            for c in changes:
                say(f"    {c['key']}: {json.dumps(c['template'], default=str)} -> {json.dumps(c['bench'], default=str)}")
            ok, msg = check_plan(cfg)
            say(f"    {msg}" if ok else f"    ! plan failed: {msg}")
            rec["plan"] = msg
            rec["estimate"] = tunelab_estimate(cfg)
            if "skipped" not in rec["estimate"] and rec["estimate"].get("gpu") \
                    and not device_matches(est_gpu, rec["estimate"]["gpu"]):
                rec["estimate_here"] = tunelab_estimate(cfg, gpu=est_gpu)
            est = rec.get("estimate_here") or rec["estimate"]
            if "skipped" in est:
                say(f"    estimate: skipped ({est['skipped']})")
            elif "error" in est:
                say(f"    estimate: failed ({est['error'][:300]})")
            else:
                say(f"    estimate ({est.get('gpu')}): {fmt(gib(est.get('per_gpu_bytes')), '.1f')} GiB per GPU, "
                    f"{fmt(est.get('seconds'), '.0f')} s for {fmt(est.get('steps'), '.0f')} steps, "
                    f"{fmt(est.get('tokens'), ',.0f')} tokens (peak phase {est.get('peak_phase')})")
            if method == "qlora" and bnb_reason and not a.dry_run:
                rec["skipped"] = bnb_reason
            elif not ok:
                rec["skipped"] = "the runner's plan rejects the config"
            jobs.append((name, cfg, run_dir, rec, est))
    to_run = [j for j in jobs if not j[3].get("skipped")]
    # a probe adds one more process (its steps are a fraction of the run's)
    expected = {j[0]: (j[4].get("seconds") or 90) + PROCESS_OVERHEAD_S * (2 if a.probe_steps else 1)
                for j in to_run}
    if to_run:
        total = sum(expected.values())
        say(f"\nexpected: ~{total / 60:.1f} min for {len(to_run)} runs (Tunelab's time estimate + "
            f"~{PROCESS_OVERHEAD_S} s start-up and evaluation each)"
            + (f"; with --bisect up to {a.bisect_runs} more runs each" if a.bisect else ""))
        if total > 480 and not a.budget_s:
            say("  note: over 8 minutes; split with --methods (e.g. lora,full then qlora, same --work) "
                "or pass --budget-s")

    # pass 2: the runs
    try:
        run_jobs(jobs, expected, results, a, out, stem, logs, site_dir, t_begin)
    except KeyboardInterrupt as exc:
        results["notes"].append(f"interrupted ({exc or 'SIGINT'}): the runs after the last row did not run")
        say(f"\ninterrupted ({exc or 'SIGINT'}); writing what was measured")

    results["seconds_total"] = round(time.time() - t_begin, 1)
    if a.bisect:
        results["notes"].append("smallest cap: torch.cuda.set_per_process_memory_fraction bounds PyTorch's caching "
                                "allocator only (no CUDA context, no paged 8-bit optimizer states of QLoRA)")
    save(results, out, stem)
    say("\n" + render(results))
    say(f"wrote {os.path.join(out, stem + '.json')} and {stem}.md; logs in {logs}; total {results['seconds_total']:.0f}s")
    return 0


def run_jobs(jobs, expected, results, a, out, stem, logs, site_dir, t_begin) -> None:
    """Pass 2 of main: runs each job (measure, then bisect), saving the results after each."""
    for name, cfg, run_dir, rec, est in jobs:
        if rec.get("skipped"):
            say(f"\n== {name}: skipped: {rec['skipped']}")
            results["runs"].append(rec)
            save(results, out, stem)
            continue
        cmd = f"cd {RUNNER_DIR} && {sys.executable} -m tunelab_runner train {cfg}"
        if a.dry_run:
            say(f"\n== {name}: would run: {cmd}   (nvidia-smi sampled every 0.2 s)")
            if a.bisect:
                say(f"    would bisect: up to {a.bisect_runs} runs with {CAP_ENV}=<GiB> and "
                    f"PYTHONPATH={site_dir}:...")
            rec["skipped"] = "dry run"
            results["runs"].append(rec)
            save(results, out, stem)
            continue
        if a.budget_s:
            used = time.time() - t_begin
            if used + expected[name] > a.budget_s:
                rec["skipped"] = f"budget: {used:.0f}s used + ~{expected[name]:.0f}s expected > {a.budget_s:.0f}s"
                say(f"\n== {name}: skipped: {rec['skipped']}")
                results["runs"].append(rec)
                save(results, out, stem)
                continue
        if a.probe_steps:
            rec["probe"] = p = pace_probe(name, cfg, logs, a.probe_steps, a.timeout)
            say(f"\n== {name}: probe of {a.probe_steps} steps: {p['status']} exit {p['exit_code']} in "
                f"{p['process_seconds']:.0f}s, steady step {fmt(p.get('steady_step_seconds'), '.4f')} s")
        say(f"\n== {name}: {cmd}")
        r = measure(name, cfg, os.path.join(run_dir, "out"), logs, a)
        rec.update(r)
        say(f"    => {r.get('status')} exit {r['exit_code']} in {r['process_seconds']:.0f}s: "
            f"tok/s {fmt(r.get('tokens_per_second_median'), ',.0f')}, alloc peak training "
            f"{fmt(gib(r.get('alloc_peak_training_bytes')), '.2f')} / whole {fmt(gib(r.get('alloc_peak_whole_bytes')), '.2f')} GiB, "
            f"reserved {fmt(gib(r.get('reserved_peak_bytes')), '.2f')} GiB, nvidia-smi {fmt(r.get('smi_peak_gib'), '.2f')} GiB, "
            f"train {fmt(r.get('train_seconds'), '.1f')}s, final loss {fmt(r.get('final_loss'), '.3f')}")
        if r["exit_code"] != 0:
            say(f"    ! failed: {r.get('error')}; log {os.path.join(out, r['log'])}")
        elif a.bisect:
            if a.budget_s and time.time() - t_begin + r["process_seconds"] > a.budget_s:
                rec["bisect"] = {"skipped": "budget"}
            else:
                rec["bisect"] = bisect_cap(name, cfg, os.path.join(run_dir, "out"), logs, a, r, site_dir,
                                           t_begin)
                b = rec["bisect"]
                say(f"    smallest cap: {b.get('smallest_cap_gib')} GiB "
                    f"({'verified' if b.get('verified') else 'not verified'}; resolution {b.get('resolution_gib')})")
        results["runs"].append(rec)
        save(results, out, stem)


if __name__ == "__main__":
    sys.exit(main())
