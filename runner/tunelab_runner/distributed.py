"""The process's place under torchrun/accelerate (plain environment variables,
so nothing here imports torch)."""

from __future__ import annotations

import os


def world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def local_rank() -> int:
    try:
        return int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        return 0


def close_process_group(torch) -> None:
    """Under torchrun, leave the NCCL group cleanly (torch warns about leaked resources otherwise)."""
    dist = getattr(torch, "distributed", None) if torch is not None else None
    if dist is not None and dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - a failing teardown must not change the run's exit code
            pass
