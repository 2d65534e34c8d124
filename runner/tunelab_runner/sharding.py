"""How a run is sharded, read from its config without torch: FSDP from
`training.fsdp`, DeepSpeed ZeRO-3 from `training.deepspeed` (a mapping, JSON
text or a JSON file); `launch.distributed.backend` alone only starts one
process per GPU."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional


def _fsdp_on(value: Any) -> bool:
    """`training.fsdp` as TrainingArguments reads it: true, option words, or a list of them."""
    return len(value) > 0 if isinstance(value, (list, tuple)) else \
        value is True or (isinstance(value, str) and value.strip() != "")


def deepspeed_stage(value: Any, base_dir: str) -> Optional[int]:
    """The ZeRO stage of `training.deepspeed` (a mapping, JSON text, or a JSON file, read
    here: the runner runs where the file is); None when unknown."""
    try:
        if isinstance(value, str) and not value.lstrip().startswith("{"):
            with open(_resolve(value.strip(), base_dir), "r", encoding="utf-8") as fh:
                value = fh.read()
        value = json.loads(value) if isinstance(value, str) else value
        stage = value["zero_optimization"]["stage"]
        return None if isinstance(stage, bool) else int(stage)
    except (OSError, ValueError, TypeError, KeyError):  # a missing file: the Trainer says so itself
        return None


def sharding(doc: dict, base_dir: str) -> Optional[Dict[str, str]]:
    """How the Trainer shards the model: FSDP from `training.fsdp`, or DeepSpeed ZeRO-3.
    (`launch.distributed.backend` only makes the launcher start one process per GPU.)"""
    training = doc.get("training") or {}
    if _fsdp_on(training.get("fsdp")):
        return {"kind": "fsdp", "by": "FSDP (`training.fsdp`)"}
    if training.get("deepspeed") and deepspeed_stage(training["deepspeed"], base_dir) == 3:
        return {"kind": "zero3", "by": "DeepSpeed ZeRO-3 (`training.deepspeed`)"}
    return None


def launch_warnings(doc: dict) -> List[str]:
    """A launch backend without its training key: torchrun starts, the Trainer does not shard."""
    launch = doc.get("launch")
    dist = launch.get("distributed") if isinstance(launch, dict) else None
    backend = dist.get("backend") if isinstance(dist, dict) else None
    value = (doc.get("training") or {}).get(backend) if backend in ("fsdp", "deepspeed") else True
    if _fsdp_on(value) or isinstance(value, dict):
        return []
    return [f"launch.distributed.backend: {backend} without `training.{backend}`: the launcher starts one "
            f"process per GPU, but the Trainer shards only with `training.{backend}`, so this run is DDP "
            "(each GPU holds the whole model)"]


def _resolve(path: str, base_dir: str) -> str:
    from .config import resolve_path
    return resolve_path(path, base_dir) or path
