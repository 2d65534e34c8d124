"""Whether CUDA's JIT cache works on this host, for the doctor.

Some kernels a training step runs are compiled by the driver from PTX the first
time a process needs them; the driver keeps the result in a per-user cache
(~/.nv/ComputeCache, or CUDA_CACHE_PATH) for every later process. Measured on an
H100 (runner/bench/results/jit-cache-h100/): the first padded-batch LoRA run on a
fresh machine took 3.8, 1.9, 1.8 and 1.7 s for the steps that met new shapes
(0.6-0.8 s otherwise; 4.3 MB cached), the next run none of that, and the same run
with CUDA_CACHE_DISABLE=1 4.3-5.5 s for every step (6x the cached run's time).
A host where the cache is off or cannot be written (a read-only or missing home on
a cluster node) pays that on every run. Those kernels were cuDNN's attention plans,
one per new shape; since the runner turns cuDNN's attention off for padded batches
(attention_backends.py), a fresh machine's first padded run took 1.2 s for its first
step and 0.4-0.5 s for the others (bench/TIME.md), but packed runs still compile
their one plan, and other kernels may come as PTX: the doctor still checks the cache.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional


def cache_path(env: Mapping[str, str], home: str) -> str:
    """Where the driver keeps the cache: CUDA_CACHE_PATH, else ~/.nv/ComputeCache (Linux)."""
    return env.get("CUDA_CACHE_PATH") or os.path.join(home, ".nv", "ComputeCache")


def _writable(path: str) -> bool:
    """The directory, or the nearest existing parent it would be created in, is writable."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)


def jit_cache_report(env: Optional[Mapping[str, str]] = None, home: Optional[str] = None) -> Dict[str, Any]:
    """{"enabled", "path", "writable", "note"}: note is None when the cache works."""
    env = os.environ if env is None else env
    home = os.path.expanduser("~") if home is None else home
    path = cache_path(env, home)
    enabled = env.get("CUDA_CACHE_DISABLE", "0").strip() not in ("1", "true", "True")
    writable = _writable(path)
    note = None
    cost = ("every run recompiles the kernels CUDA builds from PTX: on an H100 each step of a padded-batch run "
            "took 6x as long")
    if not enabled:
        note = f"CUDA's JIT cache is off (CUDA_CACHE_DISABLE=1): {cost}; unset it"
    elif not writable:
        note = (f"CUDA's JIT cache cannot be written at {path}: {cost}; "
                "point CUDA_CACHE_PATH at a writable local directory")
    return {"enabled": enabled, "path": path, "writable": writable, "note": note}
