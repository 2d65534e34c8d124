"""Which kernels PyTorch's scaled_dot_product_attention may pick, per run.

On an H100, torch 2.11 picks cuDNN's attention first. cuDNN builds (and compiles,
through the driver's JIT cache) an execution plan for every new shape: 2.6 ms of host
time per attention call of a Llama-3.2-1B-shaped layer, while the kernel runs 0.2 ms.
Padded batches change length every micro-step and generation grows the key length every
token, so they would pay it on every layer of every step: a 1B LoRA micro-step of four
padded chats took 268 ms with cuDNN and 144 ms with the memory-efficient kernel, which
needs no plan (132 and 134 ms on shapes seen before). Packed rows have one shape: one
plan, built once, kept. Measured: runner/bench/results/attention-shapes-h100-first/
(runner/bench/attention_shapes.py measures the same).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

WHY_OFF = ("batches change shape every step (padding to the longest sample, or generation): cuDNN's "
           "attention builds a plan per new shape, the memory-efficient kernel none")


def attention_step(attn_implementation: Optional[str], packed: bool) -> Optional[Dict[str, Any]]:
    """The plan's `attention` step: cuDNN's SDPA kernel off for padded (changing-shape)
    batches under sdpa (transformers' default when unset); None leaves torch's choice."""
    if packed or (attn_implementation not in (None, "sdpa")):
        return None
    return {"cudnn_sdpa": False, "why": WHY_OFF}


def apply_attention_step(step: Optional[Dict[str, Any]], torch) -> bool:
    """Applies the plan's step to this process; True when cuDNN's attention was turned off."""
    if not step or step.get("cudnn_sdpa", True):
        return False
    return use_shape_free_attention(torch)


def use_shape_free_attention(torch) -> bool:
    """cuDNN's SDPA off for this process (generation, padded batches); the flash,
    memory-efficient and math kernels stay as torch orders them. False where this torch
    has no such switch (before 2.5, when cuDNN attention was never picked on its own)."""
    switch = getattr(getattr(getattr(torch, "backends", None), "cuda", None), "enable_cudnn_sdp", None)
    if switch is None:
        return False
    switch(False)
    return True
