"""The CUDA caching allocator's setting for every runner command: expandable segments.

By default PyTorch caches fixed-size segments: a block freed inside one that another
tensor still holds cannot serve a larger request, so under a memory limit a run can fail
with gigabytes "reserved but unallocated". With `expandable_segments:True` the allocator
maps pages into one growing segment and returns free pages, and a run completes close to
its allocated peak. Whole runs of the telecom templates on an H100
(bench/results/whole-runs-bisect-h100-expandable.md) each completed within 0.8 GiB of
their allocated peak, where the default allocator needed up to 5 GiB more.

A PYTORCH_CUDA_ALLOC_CONF or PYTORCH_ALLOC_CONF already set (the shell, or the config's
`launch.env`) is kept as it is; the estimate reads the same `launch.env`.
"""

from __future__ import annotations

import os
from typing import Dict, MutableMapping, Optional

ENV_KEYS = ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF")
DEFAULT_SETTING = "expandable_segments:True"


def expandable_segments(setting: str) -> bool:
    """Whether an allocator setting string turns expandable segments on."""
    for option in setting.split(","):
        key, _, value = option.partition(":")
        if key.strip() == "expandable_segments":
            return value.strip().lower() == "true"
    return False


def allocator_setting(environ: Optional[MutableMapping[str, str]] = None) -> Dict[str, object]:
    """What the allocator will use in this environment, and where that comes from."""
    env = os.environ if environ is None else environ
    for key in ENV_KEYS:
        value = env.get(key)
        if value:
            return {"variable": key, "value": value, "source": "environment",
                    "expandable_segments": expandable_segments(value)}
    return {"variable": ENV_KEYS[0], "value": DEFAULT_SETTING, "source": "runner default",
            "expandable_segments": True}


def apply_allocator_default(environ: Optional[MutableMapping[str, str]] = None) -> Dict[str, object]:
    """Sets expandable segments unless the environment chose a setting. Call before CUDA starts:
    PyTorch reads the variable when its allocator is first used."""
    env = os.environ if environ is None else environ
    setting = allocator_setting(env)
    if setting["source"] == "runner default":
        env[str(setting["variable"])] = str(setting["value"])
    return setting


def allocator_in_use() -> Dict[str, object]:
    """The setting this process runs with (the `start` event's `allocator`)."""
    setting = allocator_setting()
    return {"variable": setting["variable"], "value": setting["value"],
            "expandable_segments": setting["expandable_segments"]}
