"""One runner process, measured: the runner's environment (runner/ on PYTHONPATH,
offline Hub), whether bitsandbytes imports, nvidia-smi queries and the 0.2 s
memory.used sampler, `python -m tunelab_runner train CFG` with its log and live event
lines (run_once), and measure(), which turns such a run into its summary (events via
template_run_results). Also the per-process CUDA memory cap: CAP_ENV and the
sitecustomize.py (SITECUSTOMIZE) that a capped run finds first on its PYTHONPATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from template_run_common import GIB, RUNNER_DIR, fmt, gib, say
from template_run_results import read_events_file, summarize
from tunelab_runner.events import parse_event_line  # pure Python; runner/ is on sys.path (template_run_common)

CAP_ENV = "TUNELAB_BENCH_MEMORY_CAP_GIB"

SITECUSTOMIZE = '''"""Written by runner/bench/template_runs.py: caps this process's PyTorch CUDA memory to
$%(env)s GiB (torch.cuda.set_per_process_memory_fraction), then runs any sitecustomize
this one shadows."""
import os as _os
import sys as _sys


def _tunelab_cap():
    cap = _os.environ.get("%(env)s")
    if not cap:
        return
    try:
        import torch
        if not torch.cuda.is_available():
            return
        total = torch.cuda.get_device_properties(0).total_memory
        frac = min(1.0, float(cap) * %(gib)d / total)
        torch.cuda.set_per_process_memory_fraction(frac, 0)
        _sys.stderr.write("[template_runs sitecustomize] CUDA memory cap %%s GiB = %%.4f of %%.1f GiB\\n"
                          %% (cap, frac, total / %(gib)d))
    except Exception as exc:  # never break the runner
        _sys.stderr.write("[template_runs sitecustomize] memory cap not set: %%r\\n" %% (exc,))


def _tunelab_chain():
    import importlib.machinery
    import importlib.util
    here = _os.path.dirname(_os.path.abspath(__file__))
    rest = [p for p in _sys.path if _os.path.abspath(p or _os.getcwd()) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)


_tunelab_cap()
try:
    _tunelab_chain()
except Exception as _exc:
    _sys.stderr.write("[template_runs sitecustomize] shadowed sitecustomize failed: %%r\\n" %% (_exc,))
''' % {"env": CAP_ENV, "gib": GIB}


# ------------------------------------------------------------------ environment

def runner_env(extra_pythonpath: Optional[str] = None) -> Dict[str, str]:
    env = dict(os.environ)
    parts = ([extra_pythonpath] if extra_pythonpath else []) + [RUNNER_DIR]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])   # e.g. a bitsandbytes build
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")       # no Hub: fail fast, never wait on the network
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("HF_DATASETS_OFFLINE", "1")
    env.pop(CAP_ENV, None)
    return env


def bitsandbytes_reason() -> Optional[str]:
    """None when bitsandbytes imports in a fresh process with the runner's environment.
    A subprocess, so that this process never imports torch or touches the GPU (its
    CUDA context would show in nvidia-smi during the runs)."""
    try:
        proc = subprocess.run([sys.executable, "-c", "import bitsandbytes, sys; sys.stdout.write(bitsandbytes.__version__)"],
                              cwd=RUNNER_DIR, env=runner_env(), capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return "importing bitsandbytes took over 180 s"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"bitsandbytes is not importable ({last[:300]}); set PYTHONPATH to a build to include QLoRA"
    return None


def gpu_index() -> str:
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    return cvd.split(",")[0].strip() if cvd else "0"


def nvidia_smi(query: str) -> Optional[str]:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        proc = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits",
                               "-i", gpu_index()], capture_output=True, text=True, timeout=10)
    except (subprocess.TimeoutExpired, OSError):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return proc.stdout.strip().splitlines()[0].strip()


class SmiSampler(threading.Thread):
    """Samples nvidia-smi memory.used (MiB) every `period` s; keeps the max."""

    def __init__(self, period: float = 0.2):
        super().__init__(daemon=True)
        self.period = period
        self.stop_flag = threading.Event()
        self.peak_mib: Optional[int] = None
        self.samples = 0
        self.available = shutil.which("nvidia-smi") is not None

    def run(self) -> None:
        if not self.available:
            return
        while not self.stop_flag.is_set():
            t0 = time.time()
            out = nvidia_smi("memory.used")
            if out is not None:
                try:
                    v = int(float(out))
                    self.samples += 1
                    self.peak_mib = v if self.peak_mib is None else max(self.peak_mib, v)
                except ValueError:
                    pass
            self.stop_flag.wait(max(0.0, self.period - (time.time() - t0)))

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(timeout=15)


# ------------------------------------------------------------------ one run

def run_once(cfg: str, log_path: str, timeout: int, cap_gib: Optional[float] = None,
             site_dir: Optional[str] = None, quiet: bool = False, sample_smi: bool = True,
             train_args: Optional[List[str]] = None) -> Dict[str, Any]:
    env = runner_env(site_dir if cap_gib is not None else None)
    if cap_gib is not None:
        env[CAP_ENV] = f"{cap_gib:g}"
    cmd = [sys.executable, "-m", "tunelab_runner", "train", *(train_args or []), cfg]
    baseline = nvidia_smi("memory.used")
    sampler = SmiSampler(0.2)
    sampler.available = sampler.available and sample_smi   # concurrent runs: the whole GPU's figure means nothing
    sampler.start()
    t0 = time.time()
    events: List[Dict] = []
    timed_out = {"v": False}
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + (f"   ({CAP_ENV}={cap_gib:g})" if cap_gib is not None else "") + "\n")
        log.flush()
        # same process group as this script: whatever kills this script's group kills the run too
        proc = subprocess.Popen(cmd, cwd=RUNNER_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, errors="replace")

        def kill(why_timeout: bool = True):
            timed_out["v"] = timed_out["v"] or why_timeout
            try:
                proc.kill()
            except OSError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                ev = parse_event_line(line) if line.startswith("@tunelab") else None
                if ev is None:
                    continue
                events.append(ev)
                if not quiet:
                    live(ev)
            rc = proc.wait()
        except KeyboardInterrupt:
            kill(False)
            proc.wait()
            raise
        finally:
            timer.cancel()
            sampler.stop()
    wall = time.time() - t0
    return {"exit_code": rc, "timed_out": timed_out["v"], "process_seconds": round(wall, 2), "events": events,
            "smi_peak_mib": sampler.peak_mib, "smi_samples": sampler.samples,
            "smi_baseline_mib": int(float(baseline)) if baseline else None}


def live(ev: Dict[str, Any]) -> None:
    kind = ev.get("event")
    if kind == "status":
        say(f"    . {ev.get('stage')}")
    elif kind == "warning":
        say(f"    ! warning: {ev.get('message')}")
    elif kind == "start":
        d = ev.get("data") or {}
        pk = d.get("packing")
        say(f"    . start: {ev.get('params')}, {ev.get('estimated_steps')} steps, effective batch "
            f"{ev.get('effective_batch')}, train {d.get('train', {}).get('samples')} samples "
            f"(mean {d.get('train', {}).get('mean_length')} tokens)" + (f", packed rows {pk}" if pk else ""))
    elif kind == "step":
        step, mx = ev.get("step"), ev.get("max_steps")
        if step in (1, 2, 3) or step == mx or (isinstance(step, int) and step % 5 == 0):
            mem = ev.get("gpu_memory") or {}
            say(f"    step {step}/{mx} loss {fmt(ev.get('loss'), '.3f')} tok/s {fmt(ev.get('tokens_per_second'), ',.0f')} "
                f"peak alloc {fmt(gib(mem.get('peak_allocated_bytes')), '.2f')} GiB reserved "
                f"{fmt(gib(mem.get('reserved_bytes')), '.2f')} GiB")
    elif kind == "eval":
        say(f"    eval at step {ev.get('step')}: eval_loss {fmt((ev.get('metrics') or {}).get('eval_loss'), '.3f')}")
    elif kind == "error":
        say(f"    ! error {ev.get('type')}: {str(ev.get('message'))[:400]}")
    elif kind == "end":
        say(f"    . end: {ev.get('status')} (exit {ev.get('exit_code')})")


def measure(name: str, cfg: str, out_dir: str, logs: str, a, cap_gib: Optional[float] = None,
            site_dir: Optional[str] = None, quiet: bool = False, sample_smi: bool = True) -> Dict[str, Any]:
    tag = name + (f"-cap{cap_gib:g}" if cap_gib is not None else "")
    log_path = os.path.join(logs, tag + ".log")
    stale = os.path.join(out_dir, "events.jsonl")
    if os.path.exists(stale):
        os.remove(stale)
    res = run_once(cfg, log_path, a.timeout, cap_gib, site_dir, quiet, sample_smi)
    # events.jsonl is the record; what stdout carried is the fallback (e.g. a run killed early)
    events = read_events_file(os.path.join(out_dir, "events.jsonl")) or res["events"]
    if events:
        with open(os.path.join(logs, tag + ".events.jsonl"), "w") as fh:
            for e in events:
                fh.write(json.dumps(e) + "\n")
    summary = summarize(events)
    res.pop("events")
    summary.update(res)
    summary["smi_peak_gib"] = summary["smi_peak_mib"] / 1024 if summary["smi_peak_mib"] is not None else None
    summary["log"] = os.path.relpath(log_path, os.path.dirname(logs))
    if cap_gib is not None:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            summary["cap_applied"] = "[template_runs sitecustomize] CUDA memory cap" in fh.read()
    if not a.keep_outputs:
        shutil.rmtree(out_dir, ignore_errors=True)
    return summary


def pace_probe(name: str, cfg: str, logs: str, steps: int, timeout: int) -> Dict[str, Any]:
    """`train --probe STEPS` of the config before its run, as `tunelab launch --probe` would: the
    steady step it reports is what the estimate learns the host's pace from."""
    log_name = name + ".probe.log"
    r = run_once(cfg, os.path.join(logs, log_name), timeout, quiet=True, sample_smi=False,
                 train_args=["--probe", str(steps)])
    end = next((e for e in reversed(r["events"]) if e.get("event") == "end"), {})
    metrics = end.get("metrics") or {}
    return {"steps": steps, "exit_code": r["exit_code"], "process_seconds": r["process_seconds"],
            "status": end.get("status"), "steady_step_seconds": metrics.get("steady_step_seconds"),
            "steady_step_intervals": metrics.get("steady_step_intervals"),
            "train_seconds": metrics.get("train_runtime"), "log": log_name}
