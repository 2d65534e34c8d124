"""The `evaluation:` section (docs/evaluation.md): its checks, warnings and the
resolved settings that `plan` prints and `evaluate` uses. Pure Python."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from .events import RunnerError
from .metrics import DEFAULT_METRICS, METRICS

WHEN = ("end", "every_eval", "on_demand")
SECTION_KEYS = ("when", "task", "generation", "forgetting", "lm_eval")
TASK_KEYS = ("max_samples", "metrics", "json_schema")
FORGETTING_KEYS = ("file", "max_samples", "threshold")
LM_EVAL_KEYS = ("tasks", "limit", "batch_size")
DEFAULT_GENERATION = {"max_new_tokens": 256, "do_sample": False}
DEFAULTS = {"task_max_samples": 50, "forgetting_max_samples": 200, "threshold": 0.05}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _mapping(section: Dict[str, Any], key: str) -> Optional[Dict[str, Any]]:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RunnerError("config", f"`evaluation.{key}` must be a mapping")
    return value


def _unknown(mapping: Dict[str, Any], known, where: str, warnings: List[str]) -> None:
    for key in mapping:
        if key not in known:
            warnings.append(f"unknown key `{where}.{key}` ignored")


def _count(mapping: Dict[str, Any], key: str, where: str, default: int) -> int:
    value = mapping.get(key, default)
    if not _is_int(value) or value < 0:
        raise RunnerError("config", f"`{where}.{key}` must be an integer >= 0 (got {value!r})")
    return value


def validate_evaluation(doc: Dict[str, Any]) -> List[str]:
    """Checks `evaluation` (absent is fine); returns warnings, raises RunnerError(config)."""
    warnings: List[str] = []
    section = doc.get("evaluation")
    if section is None:
        return warnings
    if not isinstance(section, dict):
        raise RunnerError("config", "`evaluation` must be a mapping")
    _unknown(section, SECTION_KEYS, "evaluation", warnings)
    when = section.get("when", "end")
    if when not in WHEN:
        raise RunnerError("config", f"`evaluation.when` must be one of {', '.join(WHEN)} (got {when!r})")
    task = _mapping(section, "task") or {}
    _unknown(task, TASK_KEYS, "evaluation.task", warnings)
    _count(task, "max_samples", "evaluation.task", DEFAULTS["task_max_samples"])
    metrics = task.get("metrics", list(DEFAULT_METRICS))
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise RunnerError("config", "`evaluation.task.metrics` must be a list of metric names")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise RunnerError("config", f"`evaluation.task.metrics`: unknown metric {', '.join(map(repr, unknown))}; "
                          f"known: {', '.join(METRICS)}")
    schema = task.get("json_schema")
    if schema is not None and not isinstance(schema, (str, dict)):
        raise RunnerError("config", "`evaluation.task.json_schema` must be a file path or a JSON Schema mapping")
    if "json_schema" in metrics and schema is None:
        raise RunnerError("config", "the json_schema metric needs `evaluation.task.json_schema` "
                          "(the JSON Schema of the reply)")
    if schema is not None and "json_schema" not in metrics:
        warnings.append("`evaluation.task.json_schema` is set but `json_schema` is not in evaluation.task.metrics")
    _mapping(section, "generation")
    forgetting = section.get("forgetting")
    if forgetting not in (None, False):
        if not isinstance(forgetting, dict):
            raise RunnerError("config", "`evaluation.forgetting` must be a mapping (or false to turn it off)")
        _unknown(forgetting, FORGETTING_KEYS, "evaluation.forgetting", warnings)
        if forgetting.get("file") is not None and not isinstance(forgetting["file"], str):
            raise RunnerError("config", "`evaluation.forgetting.file` must be a path")
        _count(forgetting, "max_samples", "evaluation.forgetting", DEFAULTS["forgetting_max_samples"])
        threshold = forgetting.get("threshold", DEFAULTS["threshold"])
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or threshold <= 0:
            raise RunnerError("config", f"`evaluation.forgetting.threshold` must be a number > 0 (got {threshold!r})")
    lm_eval = _mapping(section, "lm_eval")
    if lm_eval is not None:
        _unknown(lm_eval, LM_EVAL_KEYS, "evaluation.lm_eval", warnings)
        tasks = lm_eval.get("tasks")
        if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) for t in tasks):
            raise RunnerError("config", "`evaluation.lm_eval.tasks` must be a non-empty list of task names")
        if lm_eval.get("limit") is not None and not (_is_int(lm_eval["limit"]) or isinstance(lm_eval["limit"], float)):
            raise RunnerError("config", "`evaluation.lm_eval.limit` must be a number")
        batch = lm_eval.get("batch_size", 8)
        if not (_is_int(batch) and batch > 0) and batch != "auto":
            raise RunnerError("config", "`evaluation.lm_eval.batch_size` must be a positive integer or auto")
    return warnings


def _resolve(path: Optional[str], base_dir: str) -> Optional[str]:
    if path is None:
        return None
    expanded = os.path.expanduser(str(path))
    return os.path.normpath(expanded if os.path.isabs(expanded) else os.path.join(base_dir, expanded))


def resolve_evaluation(section: Optional[Dict[str, Any]], data: Dict[str, Any], base_dir: str) -> Dict[str, Any]:
    """The settings with defaults filled in and paths made absolute. `section` None
    (no `evaluation:` in the config) gives the defaults with `when: on_demand`:
    `evaluate` still works on any run; training runs none."""
    present = section is not None
    section = section or {}
    task = section.get("task") or {}
    schema = task.get("json_schema")
    forgetting = section.get("forgetting")
    general = (data.get("general_data") or {}).get("file")
    if forgetting is False:
        forgetting_step = None
    else:
        forgetting = forgetting or {}
        forgetting_step = {
            "file": _resolve(forgetting["file"], base_dir) if forgetting.get("file") else general,
            "max_samples": forgetting.get("max_samples", DEFAULTS["forgetting_max_samples"]),
            "threshold": float(forgetting.get("threshold", DEFAULTS["threshold"])),
        }
    lm_eval = section.get("lm_eval")
    generation = dict(DEFAULT_GENERATION)
    generation.update(section.get("generation") or {})
    return {
        "when": section.get("when", "end") if present else "on_demand",
        "task": {
            "file": data.get("eval_file"),
            "max_samples": task.get("max_samples", DEFAULTS["task_max_samples"]),
            "metrics": list(task.get("metrics", DEFAULT_METRICS)),
            "json_schema": _resolve(schema, base_dir) if isinstance(schema, str) else schema,
        },
        "generation": generation,
        "forgetting": forgetting_step,
        "lm_eval": None if lm_eval is None else {"tasks": list(lm_eval["tasks"]), "limit": lm_eval.get("limit"),
                                                 "batch_size": lm_eval.get("batch_size", 8)},
    }
