"""Which checkpoint `train --resume` / `--resume-from` continues from."""

from __future__ import annotations

import os
from typing import Optional

from .events import RunnerError


def find_checkpoint(output_dir: str, resume) -> Optional[str]:
    """None: start over. "last" (or true): the newest checkpoint-<step> in output_dir.
    Anything else: that directory."""
    if resume in (None, False):
        return None
    if isinstance(resume, str) and resume not in ("", "last", "true", "True"):
        path = resume if os.path.isabs(resume) else os.path.abspath(resume)
        if not os.path.isdir(path):
            raise RunnerError("no_checkpoint", f"checkpoint not found: {path}")
        return path
    from transformers.trainer_utils import get_last_checkpoint
    last = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
    if last is None:
        raise RunnerError("no_checkpoint", f"no checkpoint to resume from in {output_dir}",
                          "run without --resume to start over")
    return last


def checkpoint_step(checkpoint: str) -> Optional[int]:
    """The step in a Trainer checkpoint's name (checkpoint-<step>), if it has one."""
    tail = os.path.basename(checkpoint.rstrip("/"))
    if tail.startswith("checkpoint-"):
        try:
            return int(tail.split("-", 1)[1])
        except ValueError:
            return None
    return None
