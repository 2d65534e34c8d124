"""Packages, tokenizer, model (+ BitsAndBytesConfig for qlora) and peft: the
plan's tokenizer, quantization, model, add_tokens, prepare_model_for_kbit_training
and lora steps. torch and transformers come in as arguments, imported by the caller
only once the packages are known to be there."""

from __future__ import annotations

import importlib
import importlib.util
import os
from typing import Any, Dict, List, Optional

from .distributed import local_rank
from .events import RunnerError, pip_hint
from .run_plan import required_packages
from .templates import JINJA, MARKERS


def check_packages(plan: Dict[str, Any]) -> None:
    missing = [pip for mod, pip in required_packages(plan) if importlib.util.find_spec(mod) is None]
    if missing:
        # the packages a setting asks for are named by that setting, the rest by the method
        by_setting = {"deepspeed": "training.deepspeed", "liger-kernel": "training.use_liger_kernel",
                      "triton": "training.torch_compile"}
        why = ", ".join(sorted({by_setting.get(p, f"method {plan['method']}") for p in missing}))
        raise RunnerError("missing_package", f"{', '.join(missing)} not installed (needed for {why})",
                          pip_hint(*missing), packages=missing)
    if plan["method"] == "qlora":
        try:
            importlib.import_module("bitsandbytes")
        except Exception as exc:  # noqa: BLE001 - a broken install is as good as none
            raise RunnerError("missing_package", f"bitsandbytes does not import: {exc}",
                              pip_hint("-U", "bitsandbytes"), packages=["bitsandbytes"]) from exc


def to_torch_dtype(torch, value):
    """A dtype name ("bfloat16") becomes the torch dtype; "auto" and unknown names pass through."""
    if isinstance(value, str) and value != "auto":
        dt = getattr(torch, value, None)
        if isinstance(dt, torch.dtype):
            return dt
    return value


def version_at_least(version: str, wanted: str) -> bool:
    def parts(v):
        out = []
        for p in v.split(".")[:3]:
            num = "".join(ch for ch in p if ch.isdigit())
            out.append(int(num) if num else 0)
        return out
    return parts(version) >= parts(wanted)


def load_tokenizer(plan, transformers):
    step = plan["steps"]["tokenizer"]
    try:
        tok = transformers.AutoTokenizer.from_pretrained(*step["args"], **step["kwargs"])
    except (OSError, ValueError) as exc:
        raise RunnerError("config", f"cannot load the tokenizer of {step['args'][0]}: {exc}",
                          "check model.name_or_path (a local directory or a hub id) and access to it") from exc
    data = plan["steps"]["data"]
    tmpl = data.get("chat_template") or "model"
    if data["format"] == "messages":
        # set on the tokenizer so that exported tokenizers carry the template trained with
        if data["chat_template_kind"] == "named":
            tok.chat_template = JINJA[tmpl]
        elif data["chat_template_kind"] == "jinja":
            tok.chat_template = tmpl
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    return tok


def add_tokens(plan, tok) -> List[int]:
    """Adds model.add_tokens to the tokenizer; returns their ids (empty if none)."""
    tokens = plan["steps"]["model"].get("add_tokens")
    if not tokens:
        return []
    if isinstance(tokens, str):
        tokens = [tokens]
    tok.add_tokens(list(tokens), special_tokens=True)
    return tok.convert_tokens_to_ids(list(tokens))


def unsplit_marker_warning(data: Dict[str, Any], tok) -> Optional[str]:
    """A built-in template's turn markers should be single tokens; the warning to
    emit when this tokenizer would split some of them, else None."""
    if data["format"] != "messages" or data["chat_template_kind"] != "named":
        return None
    vocab = tok.get_vocab() if hasattr(tok, "get_vocab") else {}
    unknown = [m for m in MARKERS[data["chat_template"]] if m not in vocab]
    if not unknown:
        return None
    return (f"chat template {data['chat_template']}: the tokenizer has no "
            f"single token for {', '.join(unknown)}; they are split into several tokens "
            "(model.add_tokens can add them)")


def load_model(plan, torch, transformers, tok, new_token_ids):
    method = plan["method"]
    step = plan["steps"]["model"]
    kwargs = dict(step["kwargs"])
    if "torch_dtype" in kwargs and version_at_least(transformers.__version__, "4.56"):
        kwargs["dtype"] = kwargs.pop("torch_dtype")  # renamed in 4.56; the old name warns
    for key in ("dtype", "torch_dtype"):
        if key in kwargs:
            kwargs[key] = to_torch_dtype(torch, kwargs[key])
    if method == "qlora":
        qkw = dict(plan["steps"]["quantization"]["kwargs"])
        for key in ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage"):
            if key in qkw:
                qkw[key] = to_torch_dtype(torch, qkw[key])
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(**qkw)
        if kwargs.get("device_map") == {"": 0}:
            kwargs["device_map"] = {"": local_rank()}  # each rank loads onto its own GPU
        elif "device_map" not in kwargs and torch.cuda.is_available():
            # ZeRO-3 takes no device_map: bitsandbytes then quantizes onto the current device
            torch.cuda.set_device(local_rank())
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(*step["args"], **kwargs)
    except TypeError as exc:
        raise RunnerError("config", f"model: {exc}", "check the keys of the model section") from exc
    except (OSError, ValueError) as exc:
        raise RunnerError("config", f"cannot load the model {step['args'][0]}: {exc}",
                          "check model.name_or_path and its files") from exc
    model.config.use_cache = False  # no KV cache in training (and packed rows need none)
    if new_token_ids:
        model.resize_token_embeddings(len(tok))
    return model


def undo_fp32_upcast(model, dtype_name: str) -> None:
    """prepare_model_for_kbit_training upcasts every non-quantized weight (norms,
    embeddings, lm_head) to fp32; cast them back to the model's dtype, so the
    frozen weights train in the precision a LoRA run uses and autocast stops
    casting them on every step (measured: 0.414 s of a 1B QLoRA step against 0.295 s
    without, 29% of it; bench/qlora_profile.py, which calls this)."""
    import torch
    dtype = to_torch_dtype(torch, dtype_name)
    if dtype == torch.float32:
        return  # an fp32 model had nothing upcast
    if not isinstance(dtype, torch.dtype):
        dtype = torch.bfloat16  # "auto": the checkpoints the runner meets are bf16
    for param in model.parameters():
        if param.dtype == torch.float32:  # the 4-bit weights are uint8: untouched
            param.data = param.data.to(dtype)


def prepare_without_cast(model, step) -> None:
    """prepare_model_for_kbit_training less its fp32 cast, for QLoRA sharded by FSDP or
    ZeRO-3 (the plan's kbit_without_cast step says why): the base frozen, gradient
    checkpointing on with its kwargs, inputs that require grad where it is reentrant."""
    for param in model.parameters():
        param.requires_grad = False
    if step["gradient_checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=step["gradient_checkpointing_kwargs"])
    if step["enable_input_require_grads"]:
        model.enable_input_require_grads()


def apply_peft(plan, model, new_token_ids):
    import peft
    prep = plan["steps"]["prepare_model_for_kbit_training"]
    if prep is not None:
        model = peft.prepare_model_for_kbit_training(model, **prep["kwargs"])
        if not prep.get("upcast_to_fp32", True):
            model_kwargs = plan["steps"]["model"]["kwargs"]
            undo_fp32_upcast(model, model_kwargs.get("dtype") or model_kwargs.get("torch_dtype") or "bfloat16")
    if plan["steps"].get("kbit_without_cast"):
        prepare_without_cast(model, plan["steps"]["kbit_without_cast"])
    lkw = dict(plan["steps"]["lora"]["kwargs"])
    if new_token_ids and "trainable_token_indices" not in lkw and "modules_to_save" not in lkw:
        lkw["trainable_token_indices"] = list(new_token_ids)  # else the added tokens' rows stay frozen
    try:
        lora_config = peft.LoraConfig(**lkw)
    except TypeError as exc:
        raise RunnerError("config", f"lora: {exc}", "check the keys of the lora section (peft.LoraConfig)") from exc
    # sharded QLoRA: autocast_adapter_dtype=False (peft >= 0.12) keeps the adapter in the model dtype
    model = peft.get_peft_model(model, lora_config, **plan["steps"]["lora"].get("get_peft_model_kwargs", {}))
    skip_adapter_input_cast_under_autocast(model)
    return model


# the benchmark's A/B switch (runner/bench/throughput.py `peftcast` run): peft's own cast back
PEFT_INPUT_CAST_ENV = "TUNELAB_PEFT_INPUT_CAST"


def skip_adapter_input_cast_under_autocast(model) -> int:
    """peft's LoRA Linear casts its bf16 input to the fp32 adapter's dtype before the
    dropout, and autocast casts it straight back to bf16 for lora_A's matmul: two passes
    over every adapted input (the down projection's is 3.5x the hidden size) that change
    nothing the matmul sees. Under autocast the input now stays as it is, as peft already
    does for its bitsandbytes layers (`requires_conversion = not torch.is_autocast_enabled()`);
    outside autocast (a plain fp32 or bf16 forward) peft's cast stays. Measured:
    runner/README.md, benchmark (the `peftcast` rows). Returns the layers changed."""
    if os.environ.get(PEFT_INPUT_CAST_ENV) == "1":
        return 0
    layers = [m for m in model.modules()
              if getattr(m, "_cast_input_dtype", None) is not None and hasattr(m, "cast_input_dtype_enabled")]
    if not layers:
        return 0  # no peft tuner layer
    import torch  # loaded with the model; looked up once here, not on every forward

    for module in layers:
        module._cast_input_dtype = _cast_unless_autocast(module._cast_input_dtype, torch.is_autocast_enabled)
    return len(layers)


def _cast_unless_autocast(original, autocast_enabled):
    def cast(x, dtype):
        if autocast_enabled(x.device.type):
            return x
        return original(x, dtype)

    return cast


def build_model(plan, torch, transformers, tok, new_token_ids):
    """The model as it trains: loaded, wrapped by peft for lora/qlora, and with
    input grads on where reentrant checkpointing needs them."""
    model = load_model(plan, torch, transformers, tok, new_token_ids)
    if plan["method"] in ("lora", "qlora"):
        model = apply_peft(plan, model, new_token_ids)
    gc = plan["steps"]["gradient_checkpointing"]
    if gc["enable_input_require_grads"] and hasattr(model, "enable_input_require_grads"):
        model.enable_input_require_grads()
    return model


def count_params(model) -> Dict[str, int]:
    if hasattr(model, "get_nb_trainable_parameters"):
        trainable, total = model.get_nb_trainable_parameters()
    else:
        total = sum(p.numel() for p in model.parameters())
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": int(trainable), "total": int(total)}
