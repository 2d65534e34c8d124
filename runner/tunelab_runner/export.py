"""The plan's export step: the adapter and/or the merged model (or, for `full`,
the trained model), each announced with an `export` event."""

from __future__ import annotations

import inspect
import os
from typing import Any, Dict

from .distributed import world_size
from .events import is_main_process
from .model_loading import to_torch_dtype
from .run_state import RunState


def directory_summary(path: str) -> Dict[str, Any]:
    files, total = [], 0
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(full):
            files.append(name)
            total += os.path.getsize(full)
    return {"files": files, "bytes": total}


def save_pretrained_kwargs(model, export: Dict[str, Any]) -> Dict[str, Any]:
    """export.max_shard_size / safe_serialization, where this save_pretrained takes them."""
    params = inspect.signature(model.save_pretrained).parameters
    out: Dict[str, Any] = {}
    if "max_shard_size" in params:
        out["max_shard_size"] = export["max_shard_size"]
    if "safe_serialization" in params:
        out["safe_serialization"] = bool(export["safe_serialization"])
    return out


def export_outputs(run: RunState, torch, transformers) -> Dict[str, str]:
    plan, writer = run.plan, run.writer
    exp = plan["steps"]["export"]
    method = plan["method"]
    trainer, model, tok = run.trainer, run.model, run.tokenizer
    dtype = to_torch_dtype(torch, exp["dtype"])
    # sharded weights (FSDP/ZeRO) must be gathered through trainer.save_model
    distributed = world_size() > 1 or bool(getattr(trainer, "is_fsdp_enabled", False)) \
        or bool(getattr(trainer, "is_deepspeed_enabled", False))
    outputs: Dict[str, str] = {}
    main = is_main_process()
    if method in ("lora", "qlora"):
        adapter_dir = exp["adapter_dir"]
        # merging a quantized or sharded model goes through the saved adapter
        need_adapter = exp["adapter"] or (exp["merge"] and (method == "qlora" or distributed))
        if need_adapter:
            if distributed:
                trainer.save_model(adapter_dir)
            elif main:
                model.save_pretrained(adapter_dir)
                tok.save_pretrained(adapter_dir)
            if main:
                outputs["adapter"] = adapter_dir
                writer.emit("export", kind="adapter", path=adapter_dir, **directory_summary(adapter_dir))
        if distributed:
            trainer.accelerator.wait_for_everyone()
        if exp["merge"] and main:
            if method == "lora" and not distributed:
                merged = model.merge_and_unload()
            else:
                import peft
                step = plan["steps"]["model"]
                kwargs = {k: v for k, v in step["kwargs"].items()
                          if k not in ("quantization_config", "device_map", "torch_dtype", "dtype")}
                kwargs["dtype"] = dtype
                # free the trained model's GPU memory before loading the base again
                del run.trainer, run.model
                trainer = model = None
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                base = transformers.AutoModelForCausalLM.from_pretrained(*step["args"], **kwargs)
                if len(tok) > base.get_input_embeddings().weight.shape[0]:
                    base.resize_token_embeddings(len(tok))
                merged = peft.PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
            merged = merged.to(dtype)
            merged.config.use_cache = True
            run.model = merged  # the adapter is merged in: evaluation after export sees this model
            out = exp["output_dir"]
            merged.save_pretrained(out, **save_pretrained_kwargs(merged, exp))
            tok.save_pretrained(out)
            outputs["merged"] = out
            writer.emit("export", kind="merged", path=out, dtype=exp["dtype"], **directory_summary(out))
    elif exp.get("merge", True):
        out = exp["output_dir"]
        if distributed:
            trainer.save_model(out)
            if main:
                writer.emit("export", kind="model", path=out, dtype="as trained", **directory_summary(out))
        elif main:
            model = model.to(dtype)
            model.config.use_cache = True
            model.save_pretrained(out, **save_pretrained_kwargs(model, exp))
            tok.save_pretrained(out)
            writer.emit("export", kind="model", path=out, dtype=exp["dtype"], **directory_summary(out))
        outputs["model"] = out
    return outputs
