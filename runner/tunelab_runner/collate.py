"""Torch collators for the runner's datasets (see packing.py)."""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import torch

from .data import IGNORE_INDEX


def _t(buf) -> torch.Tensor:
    """array('i') -> int64 tensor without going through Python ints."""
    if isinstance(buf, torch.Tensor):
        return buf.long()
    try:
        return torch.frombuffer(buf, dtype=torch.int32).long()
    except (TypeError, ValueError):
        return torch.tensor(list(buf), dtype=torch.long)


class PaddingCollator:
    """Dynamic padding to the longest sample of the batch (right side)."""

    def __init__(self, pad_id: int, pad_to_multiple_of: Optional[int] = None):
        self.pad_id = pad_id
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, items: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        longest = max(len(it["input_ids"]) for it in items)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            longest = -(-longest // m) * m
        b = len(items)
        input_ids = torch.full((b, longest), self.pad_id, dtype=torch.long)
        labels = torch.full((b, longest), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((b, longest), dtype=torch.long)
        real = 0
        for i, it in enumerate(items):
            n = len(it["input_ids"])
            input_ids[i, :n] = _t(it["input_ids"])
            labels[i, :n] = _t(it["labels"])
            mask[i, :n] = 1
            real += n
        return {"input_ids": input_ids, "attention_mask": mask, "labels": labels, "n_real": real}


class PackedCollator:
    """Stacks fixed-length packed rows; position_ids reset per sample, no
    attention mask, so the model builds a block-diagonal causal mask."""

    def __call__(self, items: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
        return {
            "input_ids": torch.stack([_t(it["input_ids"]) for it in items]),
            "labels": torch.stack([_t(it["labels"]) for it in items]),
            "position_ids": torch.stack([_t(it["position_ids"]) for it in items]),
            "n_real": sum(int(it["n_real"]) for it in items),
        }
