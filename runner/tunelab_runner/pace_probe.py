"""`train CONFIG --probe STEPS`: a short run of the config that times this host.

A run whose step the host paces (short padded batches, narrow models) takes what
the machine's CPU gives it: 0.57-1.31x the estimate across ten H100s, so the
first estimate on a new host cannot be within 20%. The probe trains the config
itself for a few steps, as the real run would (same model, data, batch, method,
processes), with nothing that is not a training step: no evaluation, no
checkpoints, no export, no report to a tracker, no push. Its `end` event's
`steady_step_seconds` (step_timing.py) is what the launcher learns the host's
pace from. It writes to OUTPUT_DIR-pace-probe, so the real run's output
directory (its checkpoints, what `--resume` finds) is never touched."""

from __future__ import annotations

import copy
import os
from typing import Any, Dict

from .events import RunnerError
from .step_timing import MIN_INTERVALS

PROBE_DIR_SUFFIX = "-pace-probe"
# N steps give N - 1 intervals between step ends; the steady step needs
# MIN_INTERVALS of them, and the probe keeps one to spare.
MIN_PROBE_STEPS = MIN_INTERVALS + 2
MAX_PROBE_STEPS = 1000


def probe_plan(plan: Dict[str, Any], steps: int) -> Dict[str, Any]:
    """The plan of the config's probe: `steps` training steps and nothing else."""
    if not MIN_PROBE_STEPS <= steps <= MAX_PROBE_STEPS:
        raise RunnerError("config", f"--probe {steps}: a probe trains {MIN_PROBE_STEPS} to {MAX_PROBE_STEPS} "
                          "steps (the steady step is timed from step 2 on)")
    probe = copy.deepcopy(plan)
    kwargs = probe["steps"]["training"]["kwargs"]
    out = kwargs["output_dir"].rstrip("/\\") + PROBE_DIR_SUFFIX
    for key in ("evaluation_strategy", "eval_steps", "save_steps", "hub_model_id", "hub_strategy"):
        kwargs.pop(key, None)
    kwargs.update(output_dir=out, max_steps=steps, eval_strategy="no", save_strategy="no",
                  load_best_model_at_end=False, report_to="none", push_to_hub=False)
    if kwargs.get("logging_dir"):
        kwargs["logging_dir"] = os.path.join(out, "logs")
    probe["steps"]["evaluation"] = None
    probe["output_dir"] = out
    probe["events_file"] = os.path.join(out, "events.jsonl")
    probe["probe"] = {"steps": steps}
    return probe
