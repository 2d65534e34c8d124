"""Packing and batching, after data.py has made the samples: best-fit decreasing
into fixed-length rows with position_ids reset per sample, the datasets the
Trainer reads (one sample per item, or packed rows), and a padded batch as
plain lists. No torch here (the torch collators are collate.py)."""

from __future__ import annotations

import bisect
from array import array
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .data import IGNORE_INDEX, Sample


# ---------------------------------------------------------------- packing

def pack_bfd(lengths: Sequence[int], capacity: int) -> List[List[int]]:
    """Best-fit decreasing: each sample (longest first) goes into the open row
    with the least room that still fits it. Returns rows of sample indices, in a
    deterministic order. Lengths must be <= capacity."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: List[List[int]] = []
    free_keys: List[Tuple[int, int]] = []  # sorted (remaining room, bin index)
    for i in order:
        n = lengths[i]
        if n > capacity:
            raise ValueError(f"sample {i} is longer ({n}) than a row ({capacity})")
        k = bisect.bisect_left(free_keys, (n, -1))
        if k < len(free_keys):
            room, b = free_keys.pop(k)
            bins[b].append(i)
            room -= n
        else:
            b = len(bins)
            bins.append([i])
            room = capacity - n
        if room > 0:
            bisect.insort(free_keys, (room, b))
    return bins


def position_ids_for(lengths: Sequence[int], row_length: Optional[int] = None) -> List[int]:
    pos: List[int] = []
    for n in lengths:
        pos.extend(range(n))
    if row_length is not None and len(pos) < row_length:
        pos.extend(range(row_length - len(pos)))  # the padding tail is a sequence of its own
    return pos


# ---------------------------------------------------------------- datasets

class SampleDataset:
    """One sample per item; padded per batch by the collator."""

    def __init__(self, samples: List[Sample]):
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> Dict[str, Any]:
        s = self.samples[i]
        return {"input_ids": s.input_ids, "labels": s.labels, "n_real": len(s)}


class PackedDataset:
    """Fixed-length rows: samples concatenated (best-fit decreasing), position_ids
    reset per sample, the tail padded; no attention mask (the model keeps samples
    apart from position_ids)."""

    def __init__(self, samples: List[Sample], row_length: int, pad_id: int):
        self.samples = samples
        self.row_length = row_length
        self.pad_id = pad_id
        self.bins = pack_bfd([len(s) for s in samples], row_length)

    def __len__(self) -> int:
        return len(self.bins)

    def __getitem__(self, i: int) -> Dict[str, Any]:
        members = [self.samples[j] for j in self.bins[i]]
        ids = array("i")
        labels = array("i")
        for s in members:
            ids.extend(s.input_ids)
            labels.extend(s.labels)
        n_real = len(ids)
        tail = self.row_length - n_real
        if tail > 0:
            ids.extend([self.pad_id] * tail)
            labels.extend([IGNORE_INDEX] * tail)
        pos = array("i", position_ids_for([len(s) for s in members], self.row_length))
        return {"input_ids": ids, "labels": labels, "position_ids": pos, "n_real": n_real}

    def efficiency(self) -> float:
        total = sum(len(s) for s in self.samples)
        return total / float(len(self.bins) * self.row_length) if self.bins else 0.0


def pad_batch(items: Sequence[Dict[str, Any]], pad_id: int, pad_to_multiple_of: Optional[int] = None):
    """Lists for a padded batch (right padding): input_ids, labels, attention_mask."""
    longest = max(len(it["input_ids"]) for it in items)
    if pad_to_multiple_of:
        longest = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
    input_ids, labels, mask = [], [], []
    for it in items:
        n = len(it["input_ids"])
        input_ids.append(list(it["input_ids"]) + [pad_id] * (longest - n))
        labels.append(list(it["labels"]) + [IGNORE_INDEX] * (longest - n))
        mask.append([1] * n + [0] * (longest - n))
    return {"input_ids": input_ids, "labels": labels, "attention_mask": mask}
