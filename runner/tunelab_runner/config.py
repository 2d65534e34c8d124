"""Reads a native fine-tuning config: the YAML, the keys and defaults the runner
knows, and the checks that make a run impossible (validate). run_plan.py resolves
it into the plan. Pure Python + PyYAML: `plan` must work without torch."""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional

from .events import RunnerError

METHODS = ("full", "lora", "qlora")
DATA_FORMATS = ("messages", "prompt_completion", "text")
NAMED_TEMPLATES = ("llama-3", "chatml", "mistral", "gemma", "phi-3")
TOP_LEVEL_KEYS = ("method", "model", "quantization", "prepare_model_for_kbit_training",
                  "lora", "data", "training", "export", "hardware", "launch", "evaluation")
# Keys of `model` that are ours, not from_pretrained's.
MODEL_OWN_KEYS = ("name_or_path", "architecture", "add_tokens")
DATA_KEYS = ("train_file", "eval_file", "format", "chat_template", "system_prompt",
             "max_length", "completion_only_loss", "packing", "general_data")
EXPORT_KEYS = ("adapter", "merge", "dtype", "safe_serialization", "max_shard_size",
               "output_dir")
DTYPES = ("bfloat16", "float16", "float32", "auto")

DATA_DEFAULTS = {
    "format": "messages",
    "chat_template": "model",
    "system_prompt": None,
    "max_length": 2048,
    "completion_only_loss": True,
    "packing": False,
    "general_data": None,
    "eval_file": None,
}

# Scientific notation without a dot ("2e-4") is a string in YAML 1.1.
_SCI = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def _coerce_numbers(value: Any) -> Any:
    if isinstance(value, str) and _SCI.match(value.strip()):
        return float(value)
    if isinstance(value, dict):
        return {k: _coerce_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce_numbers(v) for v in value]
    return value


def load_yaml(path: str) -> Dict[str, Any]:
    try:
        import yaml  # PyYAML
    except ImportError as exc:  # pragma: no cover - PyYAML is a hard dependency
        raise RunnerError("missing_package", "PyYAML is not installed", "pip install PyYAML") from exc
    try:
        with open(path, "r", encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise RunnerError("config", f"config file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise RunnerError("config", f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RunnerError("config", f"{path}: the config must be a YAML mapping")
    return doc


def resolve_path(path: Optional[str], base_dir: str) -> Optional[str]:
    if path is None:
        return None
    expanded = os.path.expanduser(str(path))
    if os.path.isabs(expanded):
        return os.path.normpath(expanded)
    return os.path.normpath(os.path.join(base_dir, expanded))


def _require_mapping(doc: dict, key: str, required: bool = False) -> Dict[str, Any]:
    value = doc.get(key)
    if value is None:
        if required:
            raise RunnerError("config", f"`{key}` is required")
        return {}
    if not isinstance(value, dict):
        raise RunnerError("config", f"`{key}` must be a mapping")
    return value


def validate(doc: Dict[str, Any]) -> List[str]:
    """Checks what the runner needs; returns warnings. Raises RunnerError (config)
    for what makes a run impossible. (The editor's linter does the full check.)"""
    warnings: List[str] = []
    method = doc.get("method")
    if method not in METHODS:
        raise RunnerError("config", f"`method` must be one of {', '.join(METHODS)} (got {method!r})")
    model = _require_mapping(doc, "model", required=True)
    if not model.get("name_or_path"):
        raise RunnerError("config", "`model.name_or_path` is required")
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            warnings.append(f"unknown top-level key `{key}` ignored")
    if method == "full":
        for key in ("quantization", "lora"):
            if doc.get(key) is not None:
                raise RunnerError("config", f"`{key}` is not allowed with method: full")
        if doc.get("prepare_model_for_kbit_training") not in (None, False):
            raise RunnerError("config", "`prepare_model_for_kbit_training` is not allowed with method: full")
    if method in ("lora", "qlora"):
        if not isinstance(doc.get("lora"), dict):
            raise RunnerError("config", f"`lora` (peft.LoraConfig arguments) is required with method: {method}")
    if method == "lora" and doc.get("quantization") is not None:
        raise RunnerError("config", "`quantization` is not allowed with method: lora (use method: qlora)")
    if method == "qlora":
        q = doc.get("quantization")
        if not isinstance(q, dict) or not (q.get("load_in_4bit") or q.get("load_in_8bit")):
            raise RunnerError("config", "method: qlora needs `quantization` with load_in_4bit: true or load_in_8bit: true")
        p = doc.get("prepare_model_for_kbit_training")
        if p not in (None, False) and not (p is True or isinstance(p, dict)):
            raise RunnerError("config", "`prepare_model_for_kbit_training` must be true/false or a mapping of its arguments")
    data = _require_mapping(doc, "data", required=True)
    if not data.get("train_file"):
        raise RunnerError("config", "`data.train_file` is required")
    for key in data:
        if key not in DATA_KEYS:
            warnings.append(f"unknown key `data.{key}` ignored")
    fmt = data.get("format", DATA_DEFAULTS["format"])
    if fmt not in DATA_FORMATS:
        raise RunnerError("config", f"`data.format` must be one of {', '.join(DATA_FORMATS)} (got {fmt!r})")
    max_length = data.get("max_length", DATA_DEFAULTS["max_length"])
    if not isinstance(max_length, int) or isinstance(max_length, bool) or max_length < 2:
        raise RunnerError("config", "`data.max_length` must be an integer >= 2")
    gd = data.get("general_data")
    if gd is not None:
        if not isinstance(gd, dict) or not gd.get("file"):
            raise RunnerError("config", "`data.general_data` must be a mapping { file, ratio }")
        ratio = gd.get("ratio", 0.05)
        if not isinstance(ratio, (int, float)) or not 0 <= ratio < 1:
            raise RunnerError("config", "`data.general_data.ratio` must be a number in [0, 1)")
    training = _require_mapping(doc, "training")
    if "torch_dtype" in model and "dtype" in model:
        raise RunnerError("config", "`model` has both `dtype` and its old name `torch_dtype`")
    export = _require_mapping(doc, "export")
    for key in export:
        if key not in EXPORT_KEYS:
            warnings.append(f"unknown key `export.{key}` ignored")
    if export.get("dtype") not in (None,) + DTYPES[:3]:
        raise RunnerError("config", "`export.dtype` must be bfloat16, float16 or float32")
    if method == "full" and export.get("adapter"):
        warnings.append("export.adapter has no meaning with method: full (there is no adapter); ignored")
    del training
    from .eval_config import validate_evaluation
    warnings += validate_evaluation(doc)
    return warnings
