"""The plan's export step: the adapter and/or the merged model (or, for `full`,
the trained model), each announced with an `export` event. And the `export`
command: a trained run's adapter (or checkpoint-N's) exported alone or merged
into the base, the merge checked against base + adapter (export_check.py)."""

from __future__ import annotations

import inspect
import os
import shutil
import sys
from typing import Any, Dict, Optional

from .distributed import world_size
from .export_full import default_full_out, export_full_model, full_export_source
from .events import EXIT_OK, EventWriter, RunnerError, is_main_process, pip_hint
from .model_loading import to_torch_dtype, version_at_least
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


def _on_gpu_if_it_fits(model, torch):
    """The merged model goes where evaluation after training runs it: the GPU,
    when its weights fit in what is free with a tenth to spare (the base was
    reloaded on the CPU, where a 70B model still fits and a GPU may not)."""
    if not torch.cuda.is_available() or next(model.parameters()).is_cuda:
        return model
    need = sum(p.numel() * p.element_size() for p in model.parameters())
    free, _total = torch.cuda.mem_get_info()
    return model.to("cuda") if need * 1.1 < free else model


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
            merged = _on_gpu_if_it_fits(merged.to(dtype), torch)
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


# ---------------------------------------------------------------- `export` (after training)

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "README.md")
X_DTYPES = ("bfloat16", "float16", "float32")
CHECK_FAILED_EXIT = 1  # the merged files are written (to inspect) but are not trusted


def export_source(plan: Dict[str, Any], checkpoint: Optional[int]) -> Dict[str, Any]:
    """The adapter to export: checkpoint-N/ or the run's adapter/."""
    from .evaluate import find_tuned
    if plan["method"] not in ("lora", "qlora"):
        raise RunnerError("config", f"method {plan['method']}: there is no adapter to merge or export",
                          "training already wrote the whole model to export.output_dir")
    what = find_tuned(plan, checkpoint, None)
    if what["kind"] != "adapter":
        raise RunnerError("no_checkpoint", f"{what['path']} holds no LoRA adapter (no adapter_config.json)")
    return what


def default_out(plan: Dict[str, Any], merge: bool, checkpoint: Optional[int]) -> str:
    """merged: export.output_dir (-checkpoint-N); adapter: <run>/export-adapter (-checkpoint-N)."""
    suffix = f"-checkpoint-{checkpoint}" if checkpoint is not None else ""
    if merge:
        merged = plan["steps"]["export"]["output_dir"]
        trained_in = plan["steps"]["training"]["kwargs"].get("output_dir") or ""
        if os.path.abspath(merged) == os.path.abspath(os.path.join(trained_in, "merged")):
            merged = os.path.join(plan["output_dir"], "merged")  # the default follows the run dir given
        return merged + suffix
    return os.path.join(plan["output_dir"], "export-adapter" + suffix)


def _require(*modules: str) -> None:
    import importlib.util
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise RunnerError("missing_package", f"{', '.join(missing)} not installed (needed to export)",
                          pip_hint(*missing), packages=missing)


def copy_adapter(src: str, out: str, torch) -> None:
    """The adapter's files in safetensors (an old .bin adapter is converted)."""
    os.makedirs(out, exist_ok=True)
    for name in ADAPTER_FILES:
        if name != "adapter_model.bin" and os.path.exists(os.path.join(src, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
    if not os.path.exists(os.path.join(src, "adapter_model.safetensors")):
        from safetensors.torch import save_file
        state = torch.load(os.path.join(src, "adapter_model.bin"), map_location="cpu", weights_only=True)
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(out, "adapter_model.safetensors"))


def merge_adapter(plan, adapter_dir: str, dtype_name: str, out: str, tok, torch, transformers,
                  writer: EventWriter) -> Dict[str, Any]:
    """The base reloaded unquantized in `dtype` (a QLoRA adapter is merged into
    16-bit weights, never into 4-bit ones), the adapter merged, checked, saved."""
    import peft
    from . import export_check as X
    dtype = to_torch_dtype(torch, dtype_name)
    step = plan["steps"]["model"]
    kwargs = {k: v for k, v in step["kwargs"].items()
              if k not in ("quantization_config", "device_map", "torch_dtype", "dtype")}
    kwargs["dtype" if version_at_least(transformers.__version__, "4.56") else "torch_dtype"] = dtype
    writer.emit("status", stage="loading_model")
    base = transformers.AutoModelForCausalLM.from_pretrained(*step["args"], **kwargs)
    if len(tok) > base.get_input_embeddings().weight.shape[0]:
        base.resize_token_embeddings(len(tok))
    if torch.cuda.is_available():
        base = base.to("cuda")
    model = peft.PeftModel.from_pretrained(base, adapter_dir)
    writer.emit("status", stage="checking_export")
    texts = X.check_texts(plan, tok)
    ref = X.logits(model, tok, texts, torch)
    with model.disable_adapter():
        without = X.logits(model, tok, texts, torch)
    writer.emit("status", stage="merging")
    merged = model.merge_and_unload().to(dtype)
    got = X.logits(merged, tok, texts, torch)
    check = X.verdict(X.compare(ref, got, without, torch), dtype_name)
    writer.emit("status", stage="saving")
    merged.config.use_cache = True
    exp = dict(plan["steps"]["export"], safe_serialization=True)
    merged.save_pretrained(out, **save_pretrained_kwargs(merged, exp))
    tok.save_pretrained(out)  # with the chat template training used (load_tokenizer set it)
    return check


def _checked_end(writer: EventWriter, check: Dict[str, Any], outputs: Dict[str, str]) -> int:
    """The check's line on stderr; a failed check is an error (files kept to inspect)."""
    from .export_check import summary_line
    print(summary_line(check), file=sys.stderr, flush=True)
    if not check["passed"]:
        hint = ("the merged model differs from base + adapter: check the base model (model.name_or_path) "
                "is the one the adapter was trained on") if "merged" in outputs else \
            "the saved model differs from the trained one beyond the dtype's rounding"
        raise RunnerError("export_check", summary_line(check), hint, exit_code=CHECK_FAILED_EXIT)
    writer.emit("end", status="completed", exit_code=EXIT_OK, outputs=outputs)
    return EXIT_OK


def run_export(target: str, merge: bool = False, dtype: Optional[str] = None, checkpoint: Optional[int] = None,
               out: Optional[str] = None, config: Optional[str] = None, stdout=None) -> int:
    from .evaluate import run_planned

    def body(plan, writer) -> int:
        dtype_name = dtype or plan["steps"]["export"]["dtype"]
        if dtype_name not in X_DTYPES:
            raise RunnerError("config", f"--dtype must be one of {', '.join(X_DTYPES)}, got {dtype_name}")
        full = plan["method"] == "full"
        if full:
            what = full_export_source(plan, checkpoint)
            out_dir = os.path.abspath(out or default_full_out(plan, dtype_name, checkpoint))
        else:
            what = export_source(plan, checkpoint)
            out_dir = os.path.abspath(out or default_out(plan, merge, checkpoint))
        if os.path.abspath(what["path"]) == out_dir:
            raise RunnerError("config", f"--out {out_dir} is the {'model' if full else 'adapter'} being exported")
        writer.emit("start", command="export", method=plan["method"], config=plan["config_path"],
                    source=what, merge=merge, dtype=dtype_name if merge or full else None, out=out_dir)
        _require("torch", "transformers", "peft", "safetensors")
        writer.emit("status", stage="importing")
        import torch
        import transformers
        from .model_loading import add_tokens, load_tokenizer
        writer.emit("status", stage="loading_tokenizer")
        tok = load_tokenizer(plan, transformers)
        add_tokens(plan, tok)
        if full:
            check = export_full_model(plan, what["path"], dtype_name, out_dir, tok, torch, transformers, writer)
            writer.emit("export", kind="model", path=out_dir, dtype=dtype_name, source=what["path"],
                        checkpoint=checkpoint, check=check, **directory_summary(out_dir))
            return _checked_end(writer, check, {"model": out_dir})
        if not merge:
            copy_adapter(what["path"], out_dir, torch)
            tok.save_pretrained(out_dir)
            writer.emit("export", kind="adapter", path=out_dir, source=what["path"], checkpoint=checkpoint,
                        **directory_summary(out_dir))
            writer.emit("end", status="completed", exit_code=EXIT_OK, outputs={"adapter": out_dir})
            return EXIT_OK
        check = merge_adapter(plan, what["path"], dtype_name, out_dir, tok, torch, transformers, writer)
        writer.emit("export", kind="merged", path=out_dir, dtype=dtype_name, source=what["path"],
                    checkpoint=checkpoint, check=check, **directory_summary(out_dir))
        return _checked_end(writer, check, {"merged": out_dir})

    return run_planned(target, config, stdout, body)
