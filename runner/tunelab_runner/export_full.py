"""`export` of a full fine-tune: the trained model (or checkpoint-N) saved in
the export dtype, sharded safetensors with the tokenizer and chat template,
and checked like a merge: the saved weights' logits against the source's on a
few eval prompts, within the export dtype's rounding. There is no adapter, so
`--merge` changes nothing: the export is always the whole model."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from .events import EventWriter, RunnerError


def full_export_source(plan: Dict[str, Any], checkpoint: Optional[int]) -> Dict[str, Any]:
    """checkpoint-N/, else the model training wrote (export.output_dir)."""
    from .evaluate import find_tuned
    what = find_tuned(plan, checkpoint, None)
    if not os.path.exists(os.path.join(what["path"], "config.json")):
        raise RunnerError("no_checkpoint", f"{what['path']} holds no model (no config.json)")
    return what


def default_full_out(plan: Dict[str, Any], dtype_name: str, checkpoint: Optional[int]) -> str:
    """<run>/export-<dtype>(-checkpoint-N): never the folder the source is in."""
    suffix = f"-checkpoint-{checkpoint}" if checkpoint is not None else ""
    return os.path.join(plan["output_dir"], f"export-{dtype_name}{suffix}")


def export_full_model(plan, source: str, dtype_name: str, out: str, tok, torch, transformers,
                      writer: EventWriter) -> Dict[str, Any]:
    from . import export_check as X
    from .export import save_pretrained_kwargs
    from .model_loading import to_torch_dtype
    writer.emit("status", stage="loading_model")
    model = transformers.AutoModelForCausalLM.from_pretrained(source, dtype="auto")
    if torch.cuda.is_available():
        model = model.to("cuda")
    writer.emit("status", stage="checking_export")
    texts = X.check_texts(plan, tok)
    ref = X.logits(model, tok, texts, torch)
    source_dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    model = model.to(to_torch_dtype(torch, dtype_name))
    got = X.logits(model, tok, texts, torch)
    # an upcast computes more exactly than the source did: judged by the coarser of the two
    check = X.verdict(X.compare(ref, got, None, torch), X.coarser_dtype(source_dtype, dtype_name))
    writer.emit("status", stage="saving")
    model.config.use_cache = True
    exp = dict(plan["steps"]["export"], safe_serialization=True)
    model.save_pretrained(out, **save_pretrained_kwargs(model, exp))
    tok.save_pretrained(out)
    return check
