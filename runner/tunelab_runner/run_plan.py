"""Resolves a native fine-tuning config (config.py) into a plan: the keyword
arguments of every step the runner takes, what `python -m tunelab_runner plan`
prints. Pure Python + PyYAML: `plan` must work without torch."""

from __future__ import annotations

import copy
import os
from typing import Any, Dict, List, Optional, Tuple

from .attention_backends import attention_step
from .config import (DATA_DEFAULTS, MODEL_OWN_KEYS, NAMED_TEMPLATES, _coerce_numbers, load_yaml,
                     resolve_path, validate)
from .events import RunnerError
from .sharding import launch_warnings, sharding


def _looks_local(name: str, base_dir: str) -> Optional[str]:
    """A model/tokenizer path that is a local directory (relative to the config
    file, or absolute / relative to cwd); None for a hub id."""
    if not isinstance(name, str) or not name:
        return None
    expanded = os.path.expanduser(name)
    if os.path.isabs(expanded):
        return expanded
    candidate = os.path.normpath(os.path.join(base_dir, expanded))
    if name.startswith(("./", "../", ".\\", "..\\", "~")) or os.path.exists(candidate):
        return candidate
    return None


def _model_step(doc: dict, base_dir: str, method: str, local_rank: int,
                zero3: bool = False) -> Tuple[dict, dict]:
    model = copy.deepcopy(doc["model"])
    name = model["name_or_path"]
    local = _looks_local(name, base_dir)
    resolved_name = local if local else name
    kwargs = {k: v for k, v in model.items() if k not in MODEL_OWN_KEYS}
    if method == "qlora":
        kwargs["quantization_config"] = "<BitsAndBytesConfig: steps.quantization>"
        if not zero3:  # transformers refuses any device_map under ZeRO-3
            kwargs.setdefault("device_map", {"": local_rank})
    tok_kwargs = {k: kwargs[k] for k in ("revision", "trust_remote_code", "token", "cache_dir") if k in kwargs}
    tokenizer = {"call": "transformers.AutoTokenizer.from_pretrained",
                 "args": [resolved_name], "kwargs": tok_kwargs}
    step = {"call": "transformers.AutoModelForCausalLM.from_pretrained",
            "args": [resolved_name], "kwargs": kwargs}
    if model.get("add_tokens"):
        step["add_tokens"] = model["add_tokens"]
    return tokenizer, step


def _training_step(doc: dict, base_dir: str, config_path: str, method: str) -> dict:
    user = dict(doc.get("training") or {})
    kwargs = dict(user)
    defaults: List[str] = []

    def default(key: str, value: Any) -> None:
        if key not in kwargs:
            kwargs[key] = value
            defaults.append(key)

    stem = os.path.basename(config_path)
    for suffix in (".finetune.yaml", ".finetune.yml", ".yaml", ".yml"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    default("output_dir", os.path.join("runs", stem))
    kwargs["output_dir"] = resolve_path(kwargs["output_dir"], base_dir)
    if kwargs.get("logging_dir"):
        kwargs["logging_dir"] = resolve_path(kwargs["logging_dir"], base_dir)
    if isinstance(kwargs.get("deepspeed"), str) and not kwargs["deepspeed"].lstrip().startswith("{"):
        kwargs["deepspeed"] = resolve_path(kwargs["deepspeed"], base_dir)
    default("report_to", "none")
    default("logging_steps", 10)
    default("remove_unused_columns", False)      # our batches are built by our collator
    default("label_names", ["labels"])           # PeftModel hides `labels` from Trainer's signature check
    default("logging_nan_inf_filter", False)     # a NaN loss must surface, not be averaged away
    if kwargs.get("gradient_checkpointing"):
        default("gradient_checkpointing_kwargs", {"use_reentrant": False})
    if method in ("lora", "qlora"):
        default("ddp_find_unused_parameters", False)
    notes = _evaluation_defaults(kwargs, default)
    return {"call": "transformers.TrainingArguments", "kwargs": kwargs, "defaults_applied": defaults,
            "notes": notes}


# HF's per_device_train_batch_size when the config leaves it out.
HF_TRAIN_BATCH_DEFAULT = 8
# TrainingArguments keys that only make sense when evaluation gathers predictions.
PREDICTION_KEYS = ("include_for_metrics", "include_inputs_for_metrics", "batch_eval_metrics")
LOSS_METRICS = (None, "loss", "eval_loss")


def _asks_for_predictions(kwargs: dict) -> bool:
    if any(kwargs.get(key) for key in PREDICTION_KEYS):
        return True
    return kwargs.get("metric_for_best_model") not in LOSS_METRICS


def _evaluation_defaults(kwargs: dict, default) -> Dict[str, str]:
    """Evaluation sized like training: HF's eval batch of 8 holds 8 rows of
    full-vocabulary logits at once, which with packed (full) rows can exceed
    what training needed. Returns why each default was set, for the plan."""
    notes: Dict[str, str] = {}
    if "per_device_eval_batch_size" not in kwargs and "per_gpu_eval_batch_size" not in kwargs:
        default("per_device_eval_batch_size",
                kwargs.get("per_device_train_batch_size", HF_TRAIN_BATCH_DEFAULT))
        notes["per_device_eval_batch_size"] = (
            "the training micro-batch (per_device_train_batch_size), not HF's 8: "
            "evaluation's logits then fit in what training already uses")
    if "prediction_loss_only" not in kwargs and not _asks_for_predictions(kwargs):
        default("prediction_loss_only", True)
        notes["prediction_loss_only"] = (
            "evaluation reports eval_loss only; no logits are gathered across batches")
    # eval_accumulation_steps is left alone: it only moves gathered predictions to
    # the CPU, and loss-only evaluation gathers none, so it would save nothing.
    return notes


def _compile_step(training: dict, shards: Optional[dict]) -> Optional[dict]:
    """`torch_compile: true` compiles each decoder layer in place (compile_layers.py
    says why) instead of Trainer's whole-model compile, which is then turned off.
    Sharded runs keep Trainer's compile: FSDP and DeepSpeed wrap the layers themselves."""
    kwargs = training["kwargs"]
    # as TrainingArguments: a backend or mode alone turns compile on
    wanted = kwargs.get("torch_compile") or kwargs.get("torch_compile_backend") or kwargs.get("torch_compile_mode")
    if not wanted or shards:
        return None
    kwargs["torch_compile"] = False
    compile_kwargs = {"backend": kwargs.pop("torch_compile_backend", None) or "inductor"}
    mode = kwargs.pop("torch_compile_mode", None)
    if mode:
        compile_kwargs["mode"] = mode
    training["notes"]["torch_compile"] = (
        "compiled by the runner, one decoder layer at a time (steps.compile); Trainer's whole-model "
        "compile is off")
    return {"call": "nn.Module.compile", "on": "each layer of the repeated decoder block",
            "kwargs": compile_kwargs}


def gradient_checkpointing_reentrant(training_kwargs: dict) -> bool:
    gc_kwargs = training_kwargs.get("gradient_checkpointing_kwargs") or {}
    return bool(gc_kwargs.get("use_reentrant", False))


def _kbit_steps(doc: dict, tkw: dict, shards: Optional[dict], warnings: List[str]) -> Tuple[Any, Any]:
    """QLoRA's (prepare_model_for_kbit_training, kbit_without_cast) steps. Sharded, peft's
    call gives way to what it does besides its fp32 cast of norms, embeddings and lm_head:
    next to 4-bit weights packed in the storage dtype, that cast leaves FSDP and ZeRO-3
    mixed dtypes to flatten (TRL skips the call for sharded QLoRA; peft's guide too)."""
    prep = doc.get("prepare_model_for_kbit_training")
    if prep in (None, False):
        if not shards:
            warnings.append("method: qlora without `prepare_model_for_kbit_training`: the quantized base is not prepared")
        return None, None
    pkw = dict(prep) if isinstance(prep, dict) else {}
    use_gc = bool(pkw.setdefault("use_gradient_checkpointing", bool(tkw.get("gradient_checkpointing", True))))
    if use_gc:
        pkw.setdefault("gradient_checkpointing_kwargs",
                       tkw.get("gradient_checkpointing_kwargs") or {"use_reentrant": False})
    # Tunelab's own key: not peft's, taken out before the call
    upcast = pkw.pop("upcast_to_fp32", True)
    if not isinstance(upcast, bool):
        raise RunnerError("config", "`prepare_model_for_kbit_training.upcast_to_fp32` must be true or false")
    if not shards:
        return {"call": "peft.prepare_model_for_kbit_training", "kwargs": pkw, "upcast_to_fp32": upcast}, None
    gc_kwargs = pkw.get("gradient_checkpointing_kwargs") if use_gc else None
    warnings.append(
        f"QLoRA sharded by {shards['by']}: prepare_model_for_kbit_training is replaced by what it does besides "
        "its fp32 cast of the norms, embeddings and lm_head (" + ("gradient checkpointing with its kwargs, "
        "input grads" if use_gc else "nothing: use_gradient_checkpointing is false") + "): next to the 4-bit "
        "weights stored in bnb_4bit_quant_storage that cast gives the shards mixed dtypes, so those weights "
        "stay in the model dtype, as in TRL")
    return None, {"replaces": "peft.prepare_model_for_kbit_training", "sharding": shards["kind"],
                  "gradient_checkpointing": use_gc, "gradient_checkpointing_kwargs": gc_kwargs,
                  # peft's condition: reentrant checkpointing (its default) needs inputs that require grad
                  "enable_input_require_grads": use_gc and (gc_kwargs or {}).get("use_reentrant", True) is not False}


def build_plan(config_path: str, local_rank: int = 0, base_dir: Optional[str] = None) -> Dict[str, Any]:
    """The resolved keyword arguments of every step, as plain JSON-able data.
    `base_dir`: where relative paths start, when the file is a copy (a run's
    tunelab-config.yaml) of a config that lived elsewhere."""
    config_path = os.path.abspath(config_path)
    base_dir = os.path.abspath(base_dir) if base_dir else os.path.dirname(config_path)
    doc = _coerce_numbers(load_yaml(config_path))
    warnings = validate(doc)
    method = doc["method"]

    shards = sharding(doc, base_dir)
    warnings += launch_warnings(doc)
    zero3 = bool(shards) and shards["kind"] == "zero3"
    tokenizer, model = _model_step(doc, base_dir, method, local_rank, zero3=zero3)
    if zero3 and "device_map" in model["kwargs"]:
        warnings.append("`model.device_map` with DeepSpeed ZeRO-3: transformers refuses it; remove it")
    steps: Dict[str, Any] = {"tokenizer": tokenizer}

    if method == "qlora":
        steps["quantization"] = {"call": "transformers.BitsAndBytesConfig",
                                 "kwargs": dict(doc["quantization"])}
    else:
        steps["quantization"] = None
    steps["model"] = model

    training = _training_step(doc, base_dir, config_path, method)
    tkw = training["kwargs"]

    steps["prepare_model_for_kbit_training"], steps["kbit_without_cast"] = \
        _kbit_steps(doc, tkw, shards, warnings) if method == "qlora" else (None, None)

    if method in ("lora", "qlora"):
        lkw = dict(doc["lora"])
        lkw.setdefault("task_type", "CAUSAL_LM")
        steps["lora"] = {"call": "peft.LoraConfig", "kwargs": lkw, "then": "peft.get_peft_model"}
        if method == "qlora" and shards:
            # as TRL for sharded QLoRA: peft's fp32 copy of the adapter would mix dtypes again
            steps["lora"]["get_peft_model_kwargs"] = {"autocast_adapter_dtype": False}
    else:
        steps["lora"] = None

    # Gradient checkpointing with a frozen base: non-reentrant checkpointing needs
    # nothing more; reentrant needs inputs that require grad.
    steps["gradient_checkpointing"] = {
        "enabled": bool(tkw.get("gradient_checkpointing")),
        "kwargs": tkw.get("gradient_checkpointing_kwargs"),
        "enable_input_require_grads": bool(tkw.get("gradient_checkpointing"))
        and method in ("lora", "qlora") and gradient_checkpointing_reentrant(tkw),
    }

    steps["compile"] = _compile_step(training, shards)

    data = dict(DATA_DEFAULTS)
    data.update(doc["data"])
    data["train_file"] = resolve_path(data["train_file"], base_dir)
    data["eval_file"] = resolve_path(data.get("eval_file"), base_dir)
    if data.get("general_data"):
        gd = dict(data["general_data"])
        gd["file"] = resolve_path(gd["file"], base_dir)
        gd.setdefault("ratio", 0.05)
        data["general_data"] = gd
    tmpl = data.get("chat_template") or "model"
    data["chat_template_kind"] = ("model" if tmpl == "model" else
                                  "named" if tmpl in NAMED_TEMPLATES else "jinja")
    if data["chat_template_kind"] == "jinja" and "{" not in str(tmpl):
        raise RunnerError("config", f"`data.chat_template` {tmpl!r} is neither `model`, one of "
                          f"{', '.join(NAMED_TEMPLATES)}, nor a Jinja template")
    data["seed"] = tkw.get("data_seed", tkw.get("seed", 42))
    if data["packing"]:
        data["collator"] = {"kind": "packed", "row_length": data["max_length"],
                            "attention_mask": None, "position_ids": "reset per sample"}
    else:
        data["collator"] = {"kind": "padding", "padding": "longest in batch"}
    steps["data"] = data
    steps["attention"] = attention_step(steps["model"]["kwargs"].get("attn_implementation"), bool(data["packing"]))
    steps["training"] = training

    export = dict(doc.get("export") or {})
    export.setdefault("adapter", method != "full")
    if method == "full":
        export["adapter"] = False
    export.setdefault("merge", method == "full")
    export.setdefault("dtype", "bfloat16")
    export.setdefault("max_shard_size", "5GB")
    export.setdefault("safe_serialization", True)
    export["output_dir"] = resolve_path(export.get("output_dir") or os.path.join(tkw["output_dir"], "merged"), base_dir)
    export["adapter_dir"] = os.path.join(tkw["output_dir"], "adapter")
    if method == "full":
        export["how"] = "model.to(dtype).save_pretrained(output_dir)"
    elif method == "qlora":
        export["how"] = "reload base unquantized in dtype + adapter, merge_and_unload()"
    else:
        export["how"] = "merge_and_unload() in memory, cast to dtype"
    steps["export"] = export
    from .eval_config import resolve_evaluation
    # None without an `evaluation:` section: training then evaluates nothing
    steps["evaluation"] = resolve_evaluation(doc["evaluation"], data, base_dir) \
        if doc.get("evaluation") is not None else None

    launch = doc.get("launch") or {}
    return {
        "version": 1,
        "config": config_path,
        "method": method,
        "steps": steps,
        "output_dir": tkw["output_dir"],
        "events_file": os.path.join(tkw["output_dir"], "events.jsonl"),
        "distributed": (launch.get("distributed") if isinstance(launch, dict) else None),
        "sharding": shards,
        "warnings": warnings,
    }


def required_packages(plan: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(import name, pip name) the plan needs."""
    pkgs = [("torch", "torch"), ("transformers", "transformers"), ("accelerate", "accelerate"),
            ("safetensors", "safetensors")]
    if plan["method"] in ("lora", "qlora"):
        pkgs.append(("peft", "peft"))
    if plan["method"] == "qlora":
        pkgs.append(("bitsandbytes", "bitsandbytes"))
    if plan["steps"]["training"]["kwargs"].get("deepspeed"):
        pkgs.append(("deepspeed", "deepspeed"))
    # TrainingArguments' use_liger_kernel passes through; without liger-kernel
    # the Trainer fails only after the model has loaded: say so before, with
    # the install command.
    if plan["steps"]["training"]["kwargs"].get("use_liger_kernel"):
        pkgs.append(("liger_kernel", "liger-kernel"))
    # torch ships Triton with its CUDA wheels on Linux; a build without it fails at the first step
    compiled = plan["steps"].get("compile")
    if compiled and compiled["kwargs"].get("backend") == "inductor":
        pkgs.append(("triton", "triton"))
    if plan["steps"]["data"]["format"] == "messages" and plan["steps"]["data"]["chat_template_kind"] != "named":
        pkgs.append(("jinja2", "jinja2"))
    return pkgs
