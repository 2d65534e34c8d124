"""The data pipeline's pure parts: reading rows, rendering them to text with the
characters that carry loss, tokenizing with offsets into input_ids/labels
(-100 where no loss), truncation, general-data mixing, and the datasets built
from the samples (packing them into rows, and the dataset classes: packing.py).

No torch here: the tokenizer is anything callable like a Hugging Face fast
tokenizer (`tok(texts, add_special_tokens=..., return_offsets_mapping=True)`),
so tests run with a fake one."""

from __future__ import annotations

import bisect
import json
import random
from array import array
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from .events import RunnerError
from .templates import (Message, Span, jinja_renderer, normalize_messages, render_named,
                        render_with_spans, with_system_prompt)

IGNORE_INDEX = -100


# ---------------------------------------------------------------- reading rows

def read_jsonl(path: str, what: str = "data file") -> List[dict]:
    rows: List[dict] = []
    try:
        fh = open(path, "r", encoding="utf-8")
    except FileNotFoundError as exc:
        raise RunnerError("data", f"{what} not found: {path}") from exc
    with fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise RunnerError("data", f"{path}:{lineno}: not valid JSON ({exc})") from exc
            if not isinstance(obj, dict):
                raise RunnerError("data", f"{path}:{lineno}: each line must be a JSON object")
            obj["_line"] = lineno
            rows.append(obj)
    if not rows:
        raise RunnerError("data", f"{what} is empty: {path}")
    return rows


def detect_format(row: dict) -> Optional[str]:
    if "messages" in row:
        return "messages"
    if "prompt" in row and "completion" in row:
        return "prompt_completion"
    if "text" in row:
        return "text"
    return None


# ---------------------------------------------------------------- rendering

class Rendered:
    """Text, the character spans that carry loss, and how to tokenize it."""
    __slots__ = ("text", "spans", "add_special_tokens", "append_eos", "all_trainable")

    def __init__(self, text: str, spans: List[Span], add_special_tokens: bool, append_eos: bool,
                 all_trainable: bool = False):
        self.text = text
        self.spans = spans
        self.add_special_tokens = add_special_tokens
        self.append_eos = append_eos
        self.all_trainable = all_trainable


MessagesRenderer = Callable[[List[Message]], Tuple[str, List[Span]]]


def make_messages_renderer(chat_template: str, tokenizer: Any = None) -> MessagesRenderer:
    """chat_template: `model` (the tokenizer's own), a named built-in, or a Jinja string."""
    from .templates import RENDERERS
    bos = getattr(tokenizer, "bos_token", None) or ""
    eos = getattr(tokenizer, "eos_token", None) or ""
    if chat_template in RENDERERS:
        return lambda msgs: render_named(chat_template, msgs, bos, eos)
    if chat_template in (None, "", "model"):
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise RunnerError("config", "the tokenizer has no chat template of its own",
                              "set data.chat_template to llama-3, chatml, mistral, gemma, phi-3 or a Jinja string")
        template = None
    else:
        template = chat_template
    if tokenizer is not None and hasattr(tokenizer, "apply_chat_template"):
        def render(msgs: List[Message], add_generation_prompt: bool) -> str:
            kwargs = {"tokenize": False, "add_generation_prompt": add_generation_prompt}
            if template is not None:
                kwargs["chat_template"] = template
            out = tokenizer.apply_chat_template(msgs, **kwargs)
            return out if isinstance(out, str) else str(out)
    else:
        render = jinja_renderer(template or tokenizer.chat_template, bos_token=bos, eos_token=eos)
    return lambda msgs: render_with_spans(render, msgs)


def render_row(row: dict, fmt: str, messages_renderer: Optional[MessagesRenderer],
               system_prompt: Optional[str], completion_only_loss: bool, where: str = "") -> Rendered:
    try:
        if fmt == "messages":
            if "messages" not in row:
                raise ValueError("missing `messages`")
            msgs = with_system_prompt(normalize_messages(row["messages"]), system_prompt)
            text, spans = messages_renderer(msgs)  # type: ignore[misc]
            if not completion_only_loss:
                return Rendered(text, [(0, len(text))], False, False, all_trainable=True)
            return Rendered(text, spans, False, False)
        if fmt == "prompt_completion":
            prompt, completion = row.get("prompt"), row.get("completion")
            if not isinstance(prompt, str) or not isinstance(completion, str):
                raise ValueError("`prompt` and `completion` must be strings")
            text = prompt + completion
            if not completion_only_loss:
                return Rendered(text, [(0, len(text))], True, True, all_trainable=True)
            return Rendered(text, [(len(prompt), len(text))], True, True)
        if fmt == "text":
            text = row.get("text")
            if not isinstance(text, str):
                raise ValueError("`text` must be a string")
            return Rendered(text, [(0, len(text))], True, True, all_trainable=True)
    except RunnerError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise RunnerError("data", f"{where}: {exc}") from exc
    raise RunnerError("config", f"unknown data format {fmt!r}")


# ---------------------------------------------------------------- tokenizing

def labels_from_offsets(input_ids: Sequence[int], offsets: Sequence[Tuple[int, int]],
                        spans: Sequence[Span], all_trainable: bool = False) -> List[int]:
    """A token carries loss when its characters overlap a trainable span.
    Tokens the tokenizer added (offsets (0, 0)) carry none unless all do."""
    labels = []
    starts = [s for s, _ in spans]
    for tid, (a, b) in zip(input_ids, offsets):
        ok = False
        if all_trainable:
            ok = True
        elif b > a:
            k = bisect.bisect_right(starts, a) - 1
            # overlap with span k (starts <= a) or the next span (start < b)
            if k >= 0 and spans[k][1] > a:
                ok = True
            elif k + 1 < len(spans) and spans[k + 1][0] < b:
                ok = True
        labels.append(tid if ok else IGNORE_INDEX)
    return labels


def _split_by_spans(text: str, spans: Sequence[Span]) -> List[Tuple[str, bool]]:
    pieces: List[Tuple[str, bool]] = []
    pos = 0
    for s, e in spans:
        if s > pos:
            pieces.append((text[pos:s], False))
        if e > s:
            pieces.append((text[s:e], True))
        pos = max(pos, e)
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


def _has_offsets(tok: Any) -> bool:
    if getattr(tok, "is_fast", True) is False:
        return False
    try:
        out = tok(["a"], add_special_tokens=False, return_offsets_mapping=True)
        return "offset_mapping" in out
    except (NotImplementedError, TypeError, ValueError, KeyError):
        return False


def encode(tok: Any, rendered: Sequence[Rendered], batch_size: int = 1000) -> List[Tuple[List[int], List[int]]]:
    """(input_ids, labels) per rendered example, before truncation."""
    out: List[Tuple[List[int], List[int]]] = []
    eos_id = getattr(tok, "eos_token_id", None)
    if _has_offsets(tok):
        i = 0
        while i < len(rendered):
            flag = rendered[i].add_special_tokens
            j = i
            while j < len(rendered) and j - i < batch_size and rendered[j].add_special_tokens == flag:
                j += 1
            chunk = rendered[i:j]
            enc = tok([r.text for r in chunk], add_special_tokens=flag, return_offsets_mapping=True)
            for r, ids, offs in zip(chunk, enc["input_ids"], enc["offset_mapping"]):
                ids = list(ids)
                labels = labels_from_offsets(ids, offs, r.spans, r.all_trainable)
                out.append(_finish(ids, labels, r, eos_id))
            i = j
        return out
    for r in rendered:  # slow tokenizers: tokenize piece by piece
        ids: List[int] = []
        labels: List[int] = []
        pieces = _split_by_spans(r.text, [(0, len(r.text))] if r.all_trainable else r.spans)
        for n, (piece, trainable) in enumerate(pieces):
            pids = list(tok(piece, add_special_tokens=(r.add_special_tokens and n == 0))["input_ids"])
            ids += pids
            labels += pids if trainable else [IGNORE_INDEX] * len(pids)
        if r.add_special_tokens and not pieces:
            ids = list(tok("", add_special_tokens=True)["input_ids"])
            labels = [IGNORE_INDEX] * len(ids)
        out.append(_finish(ids, labels, r, eos_id))
    return out


def _finish(ids: List[int], labels: List[int], r: Rendered, eos_id: Optional[int]):
    if r.append_eos and eos_id is not None and (not ids or ids[-1] != eos_id):
        ids.append(eos_id)
        labels.append(eos_id if (r.all_trainable or r.spans) else IGNORE_INDEX)
    return ids, labels


def truncate(ids: List[int], labels: List[int], max_length: int) -> Tuple[List[int], List[int], bool]:
    if len(ids) > max_length:
        return ids[:max_length], labels[:max_length], True
    return ids, labels, False


class Sample:
    __slots__ = ("input_ids", "labels")

    def __init__(self, input_ids: Sequence[int], labels: Sequence[int]):
        self.input_ids = array("i", input_ids)
        self.labels = array("i", labels)

    def __len__(self) -> int:
        return len(self.input_ids)


def make_samples(encoded: Iterable[Tuple[List[int], List[int]]], max_length: int,
                 stats: Optional[dict] = None) -> List[Sample]:
    """Truncates, masks the first label (no token predicts it; in a packed row
    it would be predicted from the previous sample), drops samples left with no
    loss-carrying token."""
    samples: List[Sample] = []
    st = stats if stats is not None else {}
    st.setdefault("examples", 0)
    st.setdefault("truncated", 0)
    st.setdefault("dropped_no_labels", 0)
    st.setdefault("tokens", 0)
    st.setdefault("trainable_tokens", 0)
    st.setdefault("longest", 0)
    for ids, labels in encoded:
        st["examples"] += 1
        ids, labels, cut = truncate(ids, labels, max_length)
        st["truncated"] += int(cut)
        if labels:
            labels = list(labels)
            labels[0] = IGNORE_INDEX
        n_train = sum(1 for x in labels if x != IGNORE_INDEX)
        if n_train == 0:
            st["dropped_no_labels"] += 1
            continue
        st["tokens"] += len(ids)
        st["trainable_tokens"] += n_train
        st["longest"] = max(st["longest"], len(ids))
        samples.append(Sample(ids, labels))
    st["samples"] = len(samples)
    st["mean_length"] = round(st["tokens"] / len(samples), 1) if samples else 0
    return samples


# ---------------------------------------------------------------- mixing

def general_count(n_task: int, ratio: float) -> int:
    """How many general rows make them `ratio` of the mixed set."""
    if ratio <= 0 or n_task <= 0:
        return 0
    return int(round(n_task * ratio / (1.0 - ratio)))


def mix_general(task_rows: List[Any], general_rows: List[Any], ratio: float, seed: int) -> List[Any]:
    """Task rows plus general rows drawn without replacement (cycling through a
    fresh shuffle when more are needed), shuffled together; deterministic."""
    n = general_count(len(task_rows), ratio)
    if n == 0 or not general_rows:
        return list(task_rows)
    rng = random.Random(seed)
    picked: List[Any] = []
    while len(picked) < n:
        order = list(range(len(general_rows)))
        rng.shuffle(order)
        picked += [general_rows[i] for i in order[: n - len(picked)]]
    mixed = list(task_rows) + picked
    rng.shuffle(mixed)
    return mixed


# ---------------------------------------------------------------- building

def build_samples(rows: List[dict], data: Dict[str, Any], tokenizer: Any,
                  messages_renderer: Optional[MessagesRenderer], fmt: Optional[str],
                  source: str, system_prompt: Optional[str], stats: Optional[dict] = None) -> List[Sample]:
    """fmt None: each row's format is detected from its keys (general data)."""
    rendered = []
    for row in rows:
        where = f"{source}:{row.get('_line', '?')}"
        f = fmt or detect_format(row)
        if f is None:
            raise RunnerError("data", f"{where}: no `messages`, `prompt`/`completion` or `text` key")
        rendered.append(render_row(row, f, messages_renderer, system_prompt,
                                   bool(data.get("completion_only_loss", True)), where=where))
    return make_samples(encode(tokenizer, rendered), int(data["max_length"]), stats)


def build_datasets(data: Dict[str, Any], tokenizer: Any,
                   messages_renderer: Optional[MessagesRenderer] = None):
    """(train dataset, eval dataset or None, stats) from the plan's data step."""
    from .packing import PackedDataset, SampleDataset  # packing.py imports this module
    fmt = data["format"]
    if fmt == "messages" and messages_renderer is None:
        messages_renderer = make_messages_renderer(data.get("chat_template") or "model", tokenizer)
    seed = int(data.get("seed", 42))
    system_prompt = data.get("system_prompt")
    train_file = data["train_file"]
    rows = read_jsonl(train_file, "train_file")
    stats: Dict[str, Any] = {"train": {}, "general": {}}
    samples = build_samples(rows, data, tokenizer, messages_renderer, fmt, train_file, system_prompt,
                            stats["train"])
    gd = data.get("general_data")
    general_rows: List[dict] = []
    if gd:
        general = read_jsonl(gd["file"], "general_data.file")
        for r in general:
            r["_general"] = True
        mixed = mix_general(rows, general, float(gd.get("ratio", 0.05)), seed)
        general_rows = [r for r in mixed if r.get("_general")]
    if general_rows:
        samples += build_samples(general_rows, data, tokenizer, messages_renderer, None, gd["file"], None,
                                 stats["general"])
        random.Random(seed + 1).shuffle(samples)
    if not samples:
        raise RunnerError("data", "no training sample carries loss after masking/truncation",
                          "check completion_only_loss, the chat template and max_length")
    eval_samples = None
    if data.get("eval_file"):
        stats["eval"] = {}
        eval_rows = read_jsonl(data["eval_file"], "eval_file")
        eval_samples = build_samples(eval_rows, data, tokenizer, messages_renderer, fmt, data["eval_file"],
                                     system_prompt, stats["eval"])
    pad_id = pad_token_id(tokenizer)
    if data.get("packing"):
        train_ds: Any = PackedDataset(samples, int(data["max_length"]), pad_id)
        stats["packing"] = {"rows": len(train_ds), "row_length": int(data["max_length"]),
                            "efficiency": round(train_ds.efficiency(), 4)}
        eval_ds = PackedDataset(eval_samples, int(data["max_length"]), pad_id) if eval_samples else None
    else:
        train_ds = SampleDataset(samples)
        eval_ds = SampleDataset(eval_samples) if eval_samples else None
    stats["train_items"] = len(train_ds)
    stats["real_tokens"] = sum(len(s) for s in samples)
    return train_ds, eval_ds, stats


def pad_token_id(tokenizer: Any) -> int:
    for attr in ("pad_token_id", "eos_token_id"):
        v = getattr(tokenizer, attr, None)
        if v is not None:
            return int(v)
    return 0
