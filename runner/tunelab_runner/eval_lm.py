"""evaluation.lm_eval: lm-evaluation-harness tasks on the tuned model and on the
base (the adapter switched off, or the base loaded), when `lm_eval` imports.
Only the installed-package path lives here; evaluate.py reports it as skipped
with the install command otherwise. The base's scores are cached like the
forgetting measure."""

from __future__ import annotations

import json
from typing import Any, Dict

from . import eval_report as R


def _main_metric(task_result: Dict[str, Any]):
    """The first numeric metric lm_eval reports for a task ("acc,none" -> acc)."""
    for key, value in task_result.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and "stderr" not in key \
                and key != "alias":
            return key.split(",")[0], float(value)
    return None, None


def _scores(model, tok, settings: Dict[str, Any]) -> Dict[str, Any]:
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=settings.get("batch_size", 8))
    results = simple_evaluate(model=lm, tasks=list(settings["tasks"]), limit=settings.get("limit"))
    out = {}
    for task, values in (results or {}).get("results", {}).items():
        metric, value = _main_metric(values)
        if metric is not None:
            out[task] = {"metric": metric, "value": value}
    return out


def run_lm_eval(evaluation, settings: Dict[str, Any]) -> Dict[str, Any]:
    tuned = _scores(evaluation.tuned, evaluation.tok, settings)
    step = evaluation.plan["steps"]["model"]
    key = R.base_cache_key({"path": step["args"][0], "kwargs": step["kwargs"], "lm_eval": True},
                           "lm_eval", json.loads(json.dumps(settings)))
    base = R.read_cached(key)
    cached = base is not None
    if not cached:
        with evaluation.base_model() as model:
            base = _scores(model, evaluation.tok, settings)
        R.write_cached(key, base)
    tasks = {}
    for task, t in tuned.items():
        b = base.get(task) or {}
        change = R.relative_change(b["value"], t["value"]) if b.get("value") else None
        tasks[task] = {"metric": t["metric"], "base": b.get("value"), "tuned": t["value"], "change": change}
    return {"tasks": tasks, "base_cached": cached}
