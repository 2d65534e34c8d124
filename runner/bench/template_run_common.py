"""Shared ground of the template runs (template_runs.py, whole_runs.py and the
template_run_* modules): where the runner, the repository and the telecom-support
template are (runner/ is put on sys.path here, so that tunelab_runner imports), the
methods, and the three small helpers every report line goes through: say (a flushed
print), gib (bytes to GiB) and fmt (a number or a dash)."""

from __future__ import annotations

import math
import os
import sys
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(RUNNER_DIR)
TEMPLATE_DIR = os.path.join(REPO_ROOT, "templates", "telecom-support")
if RUNNER_DIR not in sys.path:
    sys.path.insert(0, RUNNER_DIR)

METHODS = ("lora", "full", "qlora")
GIB = 2 ** 30


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def gib(x: Optional[float]) -> Optional[float]:
    return None if x is None else x / GIB


def fmt(x: Optional[float], spec: str = ".1f", dash: str = "—") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return dash
    return format(x, spec)
