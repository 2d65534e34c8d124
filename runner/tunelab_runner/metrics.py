"""Task metrics on generated replies against reference replies (docs/evaluation.md):
exact_match, chrf and bleu (sacrebleu, corpus level, 0-100), rouge_l (rouge-score,
F-measure mean over samples, 0-1), json_valid and json_schema (jsonschema), as
shares of samples. Each optional package is imported only when its metric is
asked for; a missing one is listed in `missing` with its install command and the
other metrics still run. Pure Python apart from those packages."""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

METRICS = ("exact_match", "chrf", "bleu", "rouge_l", "json_valid", "json_schema")
DEFAULT_METRICS = ("exact_match", "chrf", "bleu", "rouge_l")

# metric -> (import name, pip distribution)
METRIC_PACKAGES = {
    "chrf": ("sacrebleu", "sacrebleu"),
    "bleu": ("sacrebleu", "sacrebleu"),
    "rouge_l": ("rouge_score", "rouge-score"),
    "json_schema": ("jsonschema", "jsonschema"),
}

Importer = Callable[[str], Any]


def install_command(pip_name: str) -> str:
    return f"pip install {pip_name}"


def exact_match(prediction: str, reference: str) -> bool:
    """Stripped strings equal (docs/evaluation.md)."""
    return prediction.strip() == reference.strip()


def parse_json(text: str) -> Tuple[bool, Any]:
    """(parsed, value) of the reply as JSON. A reply wrapped in a ```json fence
    still counts: models often put one around valid JSON."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        if body.rstrip().endswith("```"):
            body = body.rstrip()[:-3]
    try:
        return True, json.loads(body)
    except ValueError:
        return False, None


def chrf(predictions: Sequence[str], references: Sequence[str], sacrebleu: Any) -> float:
    return float(sacrebleu.corpus_chrf(list(predictions), [list(references)]).score)


def bleu(predictions: Sequence[str], references: Sequence[str], sacrebleu: Any) -> float:
    return float(sacrebleu.corpus_bleu(list(predictions), [list(references)]).score)


def rouge_l(predictions: Sequence[str], references: Sequence[str], rouge_scorer: Any) -> float:
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    scores = [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references)]
    return sum(scores) / len(scores) if scores else 0.0


def json_schema_share(predictions: Sequence[str], schema: Dict[str, Any], jsonschema: Any) -> float:
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    ok = 0
    for pred in predictions:
        parsed, value = parse_json(pred)
        if parsed and validator.is_valid(value):
            ok += 1
    return ok / len(predictions) if predictions else 0.0


def _import_module(importer: Importer, module: str) -> Any:
    """The module, or None when it is missing or broken (a broken install is as good as none)."""
    try:
        return importer(module)
    except Exception:  # noqa: BLE001
        return None


def compute(predictions: Sequence[str], references: Sequence[str], metrics: Sequence[str],
            json_schema: Optional[Dict[str, Any]] = None,
            importer: Importer = importlib.import_module) -> Dict[str, Any]:
    """{"metrics": {name: value}, "missing": [{metric, package, install}]} for the
    asked metrics. Raises ValueError for unknown metric names or mismatched lists."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    if len(predictions) != len(references):
        raise ValueError("predictions and references differ in length")
    values: Dict[str, float] = {}
    missing: List[Dict[str, str]] = []
    n = len(predictions)
    for metric in metrics:
        module = None
        if metric in METRIC_PACKAGES:
            import_name, pip_name = METRIC_PACKAGES[metric]
            submodule = "rouge_score.rouge_scorer" if import_name == "rouge_score" else import_name
            module = _import_module(importer, submodule)
            if module is None:
                missing.append({"metric": metric, "package": pip_name, "install": install_command(pip_name)})
                continue
            if metric == "json_schema":
                validators = _import_module(importer, "jsonschema.validators")
                if validators is None:
                    missing.append({"metric": metric, "package": pip_name, "install": install_command(pip_name)})
                    continue
        if metric == "exact_match":
            values[metric] = sum(exact_match(p, r) for p, r in zip(predictions, references)) / n if n else 0.0
        elif metric == "json_valid":
            values[metric] = sum(parse_json(p)[0] for p in predictions) / n if n else 0.0
        elif metric == "json_schema":
            if json_schema is None:
                raise ValueError("the json_schema metric needs evaluation.task.json_schema")
            values[metric] = json_schema_share(predictions, json_schema, module)
        elif metric == "chrf":
            values[metric] = chrf(predictions, references, module)
        elif metric == "bleu":
            values[metric] = bleu(predictions, references, module)
        elif metric == "rouge_l":
            values[metric] = rouge_l(predictions, references, module)
    return {"metrics": values, "missing": missing}


def package_versions(metrics: Sequence[str]) -> Dict[str, Optional[str]]:
    """Installed versions of the packages behind the asked metrics (for eval.json)."""
    from importlib import metadata
    out: Dict[str, Optional[str]] = {}
    for metric in metrics:
        if metric not in METRIC_PACKAGES:
            continue
        _, pip_name = METRIC_PACKAGES[metric]
        try:
            out[pip_name] = metadata.version(pip_name)
        except metadata.PackageNotFoundError:
            module = _import_module(importlib.import_module, METRIC_PACKAGES[metric][0])
            out[pip_name] = getattr(module, "__version__", None) if module else None
    return out
