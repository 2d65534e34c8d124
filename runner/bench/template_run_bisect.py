"""The smallest memory cap a template run completes in (--bisect): bisect_cap runs the
config again under per-process CUDA caps (template_run_process's CAP_ENV and
sitecustomize), between the uncapped run's allocated peak (fails) and its nvidia-smi
peak + 1 GiB (assumed to pass), at most --bisect-runs times, a run that exits with
EXIT_OOM being below the cap."""

from __future__ import annotations

import math
import time
from typing import Any, Dict

from template_run_common import gib, say
from template_run_process import measure
from tunelab_runner.events import EXIT_OOM  # pure Python; runner/ is on sys.path (template_run_common)


def bisect_cap(name: str, cfg: str, out_dir: str, logs: str, a, base: Dict[str, Any], site_dir: str,
               t_begin: float) -> Dict[str, Any]:
    step = a.bisect_step
    alloc = gib(base.get("alloc_peak_whole_bytes"))
    if alloc is None:
        return {"skipped": "no allocated peak from the uncapped run"}
    upper_src = base.get("smi_peak_gib")
    if upper_src is None:
        upper_src = gib(base.get("reserved_peak_bytes"))
    if upper_src is None:
        return {"skipped": "no nvidia-smi or reserved peak from the uncapped run"}
    lo = math.floor(alloc / step) * step          # below the allocated peak: cannot pass
    hi = math.ceil((upper_src + 1.0) / step) * step  # above what the uncapped run held: assumed to pass
    trials = []
    hi_verified = False
    while hi - lo > step + 1e-9 and len(trials) < a.bisect_runs:
        if a.budget_s and time.time() - t_begin + base["process_seconds"] > a.budget_s:
            break
        mid = lo + max(1, round((hi - lo) / step / 2)) * step
        if mid >= hi:
            mid = hi - step
        say(f"    bisect [{lo:g}, {hi:g}] GiB: try {mid:g} GiB")
        r = measure(name, cfg, out_dir, logs, a, cap_gib=mid, site_dir=site_dir, quiet=True)
        ok = r["exit_code"] == 0 and r.get("status") == "completed"
        oom = r["exit_code"] == EXIT_OOM or ((r.get("error") or {}).get("type") == "oom") or (
            r["exit_code"] == 1 and "out of memory" in str((r.get("error") or {}).get("message", "")).lower())
        trials.append({"cap_gib": mid, "exit_code": r["exit_code"], "completed": ok, "oom": oom,
                       "process_seconds": r["process_seconds"], "error": r.get("error"),
                       "alloc_peak_whole_gib": gib(r.get("alloc_peak_whole_bytes")),
                       "reserved_peak_gib": gib(r.get("reserved_peak_bytes"))})
        say(f"      -> {'completed' if ok else 'OOM' if oom else 'failed'} (exit {r['exit_code']}, "
            f"{r['process_seconds']:.0f}s)")
        if not r.get("cap_applied"):
            return {"smallest_cap_gib": None, "stopped": "the sitecustomize did not set the cap (see the capped "
                    "run's log)", "lo": lo, "hi": hi, "trials": trials}
        if ok:
            hi, hi_verified = mid, True
        elif oom:
            lo = mid
        else:
            return {"smallest_cap_gib": None, "stopped": "a capped run failed for another reason than OOM",
                    "lo": lo, "hi": hi, "trials": trials}
    return {"smallest_cap_gib": hi, "verified": hi_verified, "resolution_gib": round(hi - lo, 3),
            "largest_failing_gib": lo, "trials": trials,
            "note": None if hi_verified else "upper bound (nvidia-smi peak + 1 GiB) not run: assumed to pass"}
