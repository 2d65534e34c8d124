"""What evaluation computes on a model: token loss over samples (task loss with
training's masking; bits per byte over whole rendered chats on general data),
and greedy (or configured) replies to eval prompts. Samples are built with
data.py exactly as training builds them. torch/transformers come in as
arguments; the row handling above `score_tokens` is pure."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .data import (IGNORE_INDEX, build_samples, detect_format, encode, pad_token_id, read_jsonl,
                   render_row)
from .templates import normalize_messages, with_system_prompt


# ---------------------------------------------------------------- pure: rows -> what is scored

def generation_pairs(rows: Sequence[dict], fmt: str, system_prompt: Optional[str],
                     limit: int) -> List[Tuple[Any, str, str]]:
    """(prompt, reference, shown prompt) for up to `limit` rows: for messages the
    chat up to its last assistant turn (system prompt added like training) and
    that turn's content; for prompt_completion the prompt and completion. `text`
    rows have no reply to compare, so they give nothing."""
    out: List[Tuple[Any, str, str]] = []
    for row in rows:
        if len(out) >= limit:
            break
        if fmt == "messages" and isinstance(row.get("messages"), list):
            msgs = with_system_prompt(normalize_messages(row["messages"]), system_prompt)
            last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
            if last is None:
                continue
            users = [m["content"] for m in msgs[:last] if m["role"] == "user"]
            out.append((msgs[:last], msgs[last]["content"], users[-1] if users else ""))
        elif fmt == "prompt_completion" and isinstance(row.get("prompt"), str):
            out.append((row["prompt"], str(row.get("completion", "")), row["prompt"]))
    return out


def general_samples(rows: Sequence[dict], tok: Any, renderer, max_length: int) -> Tuple[list, int]:
    """The general rows as samples whose every token but the first carries loss
    (the whole rendered chat, chat template applied), and the UTF-8 bytes of the
    text those tokens cover."""
    from .data import Sample
    rendered = []
    for row in rows:
        fmt = detect_format(row)
        if fmt is None:
            continue
        rendered.append(render_row(row, fmt, renderer, None, completion_only_loss=False,
                                   where=f"general:{row.get('_line', '?')}"))
    samples, n_bytes = [], 0
    for r, (ids, _labels) in zip(rendered, encode(tok, rendered)):
        if len(ids) > max_length:
            ids = ids[:max_length]
            n_bytes += len(tok.decode(ids).encode("utf-8"))  # the part of the text that was scored
        else:
            n_bytes += len(r.text.encode("utf-8"))
        if len(ids) < 2:
            continue
        samples.append(Sample(ids, [IGNORE_INDEX] + list(ids[1:])))
    return samples, n_bytes


# ---------------------------------------------------------------- torch

def score_tokens(model, samples: Sequence[Any], pad_id: int, batch_size: int, torch) -> Tuple[float, int]:
    """(summed negative log-likelihood in nats, tokens scored) over the samples'
    loss-carrying labels, longest first in padded batches."""
    device = next(model.parameters()).device
    order = sorted(range(len(samples)), key=lambda i: -len(samples[i]))
    total, count = 0.0, 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), max(1, batch_size)):
            batch = [samples[i] for i in order[start:start + batch_size]]
            longest = max(len(s) for s in batch)
            ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
            labels = torch.full((len(batch), longest), IGNORE_INDEX, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for row, s in enumerate(batch):
                n = len(s)
                ids[row, :n] = torch.tensor(list(s.input_ids), dtype=torch.long)
                labels[row, :n] = torch.tensor(list(s.labels), dtype=torch.long)
                mask[row, :n] = 1
            ids, labels, mask = ids.to(device), labels.to(device), mask.to(device)
            logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
            shifted = labels[:, 1:]
            nll = torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]).float(), shifted.reshape(-1),
                ignore_index=IGNORE_INDEX, reduction="sum")
            total += float(nll.item())
            count += int((shifted != IGNORE_INDEX).sum().item())
            del logits, nll
    return total, count


def task_loss(model, tok, data: Dict[str, Any], renderer, batch_size: int, torch) -> Dict[str, Any]:
    """Loss and perplexity on data.eval_file with training's tokenization and masking."""
    rows = read_jsonl(data["eval_file"], "eval_file")
    samples = build_samples(rows, data, tok, renderer, data["format"], data["eval_file"], data.get("system_prompt"))
    nll, tokens = score_tokens(model, samples, pad_token_id(tok), batch_size, torch)
    loss = nll / tokens if tokens else float("nan")
    return {"loss": loss, "perplexity": math.exp(loss) if tokens and loss < 700 else None,
            "tokens": tokens, "samples": len(samples)}


def general_loss(model, tok, samples: Sequence[Any], n_bytes: int, batch_size: int, torch) -> Dict[str, float]:
    from .eval_report import bits_per_byte
    nll, tokens = score_tokens(model, samples, pad_token_id(tok), batch_size, torch)
    return {"loss": nll / tokens if tokens else float("nan"), "bits_per_byte": bits_per_byte(nll, n_bytes)}


def generate_replies(model, tok, prompts: Sequence[Any], generation: Dict[str, Any], batch_size: int,
                     torch, transformers) -> List[str]:
    """Replies to the prompts (chats get the chat template with the generation
    prompt), left-padded batches, special tokens dropped from the decoded text."""
    kwargs = dict(generation)
    kwargs.setdefault("pad_token_id", pad_token_id(tok))
    if tok.eos_token_id is not None:
        kwargs.setdefault("eos_token_id", tok.eos_token_id)
    kwargs.setdefault("use_cache", True)
    config = transformers.GenerationConfig(**kwargs)
    texts, special = [], []
    for p in prompts:
        if isinstance(p, list):
            texts.append(tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True))
            special.append(False)  # the template writes BOS itself
        else:
            texts.append(p)
            special.append(True)
    device = next(model.parameters()).device
    side = tok.padding_side
    tok.padding_side = "left"  # generated tokens follow the prompt directly
    replies: List[str] = []
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(texts), max(1, batch_size)):
                chunk = texts[start:start + batch_size]
                enc = tok(chunk, return_tensors="pt", padding=True,
                          add_special_tokens=special[start]).to(device)
                out = model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                                     generation_config=config)
                new = out[:, enc["input_ids"].shape[1]:]
                replies += [t.strip() for t in tok.batch_decode(new, skip_special_tokens=True)]
    finally:
        tok.padding_side = side
    return replies
