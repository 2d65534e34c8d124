"""The check of a merged export: the merged model's logits against base +
adapter (unmerged, the same 16-bit base) on a few eval prompts. The merge
folds B·A into W and rounds it to the export dtype once, so the two differ
only by that rounding: a difference beyond a few units of the dtype's
precision means the merge went wrong (wrong base, wrong scaling, a quantized
base). The adapter's own effect (base with and without it) is reported beside
it, to show the check would see a lost adapter. The verdict is pure Python."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

# Machine epsilon of each export dtype (the gap between 1 and the next value).
EPSILON = {"bfloat16": 2.0 ** -7, "float16": 2.0 ** -10, "float32": 2.0 ** -23}
# Allowed max |Δlogit|, in epsilons of the dtype times the largest |logit| (at least 1):
# rounding errors of a few layers add up to a few epsilons; 8 leaves room, a missing
# or doubled adapter is far beyond it.
EPSILONS_ALLOWED = 8
FLOOR = 1e-4  # float32 still sums in a different order: never ask for less than this
CHECK_PROMPTS = 4
CHECK_TOKENS = 128


def coarser_dtype(a: str, b: str) -> str:
    """Of two dtype names, the one with the larger epsilon (unknown names count as bfloat16)."""
    return max((a, b), key=lambda d: EPSILON.get(d, EPSILON["bfloat16"]))


def tolerance(dtype: str, ref_max_abs: float) -> float:
    return max(EPSILONS_ALLOWED * EPSILON.get(dtype, EPSILON["bfloat16"]), FLOOR) * max(1.0, ref_max_abs)


def verdict(stats: Dict[str, Any], dtype: str) -> Dict[str, Any]:
    """stats: max_abs_diff, mean_abs_diff, ref_max_abs, top1_agreement, positions,
    adapter_max_abs (base vs base + adapter). Adds tolerance and passed."""
    tol = tolerance(dtype, float(stats["ref_max_abs"]))
    out = dict(stats)
    out["dtype"] = dtype
    out["tolerance"] = tol
    out["passed"] = stats["positions"] > 0 and float(stats["max_abs_diff"]) <= tol
    return out


def summary_line(check: Dict[str, Any]) -> str:
    mark = "pass" if check["passed"] else "FAIL"
    adapter = check.get("adapter_max_abs")
    moved = f"; the adapter itself moves logits by {adapter:.4g}" if adapter is not None else ""
    return (f"export check: max |Δlogit| {check['max_abs_diff']:.4g} (tolerance {check['tolerance']:.4g}, "
            f"{check['dtype']}) over {check['positions']} positions of {check['prompts']} prompts; "
            f"top-1 agreement {check['top1_agreement']:.1%}{moved}: {mark}")


def check_texts(plan: Dict[str, Any], tok, limit: int = CHECK_PROMPTS) -> List[str]:
    """Whole rows of the eval file (else the train file), rendered as training
    renders them: the reply's tokens are where an adapter shows."""
    from .data import detect_format, read_jsonl
    from .templates import normalize_messages, with_system_prompt
    data = plan["steps"]["data"]
    path: Optional[str] = data.get("eval_file") or data.get("train_file")
    if not path or not os.path.exists(path):
        return ["Hello, I have a question about my account."]
    texts: List[str] = []
    from .chat import template_source
    template = template_source(data)
    for row in read_jsonl(path, "data file"):
        if len(texts) >= limit:
            break
        fmt = detect_format(row)
        if fmt == "messages":
            msgs = with_system_prompt(normalize_messages(row["messages"]), data.get("system_prompt"))
            kwargs = {"chat_template": template} if template is not None else {}
            try:
                texts.append(tok.apply_chat_template(msgs, tokenize=False, **kwargs))
            except Exception:  # noqa: BLE001 - no template: the contents still make a prompt
                texts.append("\n".join(m["content"] for m in msgs))
        elif fmt == "prompt_completion":
            texts.append(str(row["prompt"]) + str(row.get("completion", "")))
        elif fmt == "text":
            texts.append(str(row["text"]))
    return texts or ["Hello, I have a question about my account."]


def logits(model, tok, texts: List[str], torch) -> List[Any]:
    device = next(model.parameters()).device
    out = []
    model.eval()
    with torch.inference_mode():
        for text in texts:
            enc = tok(text, return_tensors="pt", add_special_tokens=False, truncation=True,
                      max_length=CHECK_TOKENS).to(device)
            out.append(model(**enc).logits[0].float().cpu())
    return out


def compare(ref: List[Any], got: List[Any], base: List[Any], torch) -> Dict[str, Any]:
    diffs = [(r - g).abs() for r, g in zip(ref, got)]
    positions = sum(int(r.shape[0]) for r in ref)
    agree = sum(int((r.argmax(-1) == g.argmax(-1)).sum()) for r, g in zip(ref, got))
    return {
        "prompts": len(ref),
        "positions": positions,
        "max_abs_diff": max(float(d.max()) for d in diffs) if diffs else 0.0,
        "mean_abs_diff": float(sum(float(d.sum()) for d in diffs) / max(1, sum(d.numel() for d in diffs))),
        "ref_max_abs": max(float(r.abs().max()) for r in ref) if ref else 0.0,
        "top1_agreement": agree / positions if positions else 0.0,
        # None when there is no adapter to compare with (a full fine-tune's export)
        "adapter_max_abs": max(float((r - b).abs().max()) for r, b in zip(ref, base)) if base else None,
    }
