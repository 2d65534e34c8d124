"""How fast this host drives the GPU from eager PyTorch: recorded beside timed runs.

Small micro-batches (short chats, narrow models) train at the pace of the host, not
the GPU: Python, autograd and the CUDA launches of every op of every layer. This
measures that pace where the GPU waits on the host: a tiny Llama-shaped decoder (built
from a config, no download) trained forward and backward with gradient checkpointing,
as the runner trains, on a batch too small for the GPU to matter.

layer_pass_ms: host milliseconds per decoder layer per micro-step (forward, recompute,
backward); op_us: microseconds per eager CUDA op launched in a loop. The least of a
few repeats (other work on the host only ever adds time); both need a CUDA GPU.

whole_runs.py --host-speed runs it before and after its runs. What it showed (bench/
TIME.md): a core shared with a busy process doubled it and slowed a padded run 2.2x,
but two H100 machines of the same CPU model that read 5.1 and 5.7 ms ran the same
padded runs up to 60% apart, the one that read faster slower. It does not explain the
machine-to-machine spread, so the time estimate does not use it.

  python runner/bench/host_probe.py     (prints one JSON line)
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

LAYERS = 4
BATCH = (2, 32)
REPEATS = 7
ITERATIONS = 10
OP_LOOP = 2000


def _tiny_model(torch, layers: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=layers,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                         attn_implementation="sdpa")
    model = LlamaForCausalLM(config).to(device="cuda", dtype=torch.bfloat16)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    return model


def _layer_pass_seconds(torch, model, layers: int, iterations: int) -> float:
    ids = torch.randint(0, 256, BATCH, device="cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        model.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / (iterations * layers)


def _op_seconds(torch, n: int) -> float:
    x = torch.zeros(16, device="cuda")
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n):
        x.add_(1.0)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / n


def measure_host_speed(repeats: int = REPEATS) -> Optional[Dict[str, Any]]:
    """{"layer_pass_ms", "op_us", "layer_pass_ms_values", "op_us_values"}; None without a CUDA GPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    model = _tiny_model(torch, LAYERS)
    _layer_pass_seconds(torch, model, LAYERS, 3)   # kernels loaded, allocator grown
    _op_seconds(torch, 200)
    layer: List[float] = []
    ops: List[float] = []
    for _ in range(max(1, repeats)):
        layer.append(_layer_pass_seconds(torch, model, LAYERS, ITERATIONS) * 1e3)
        ops.append(_op_seconds(torch, OP_LOOP) * 1e6)
    del model
    torch.cuda.empty_cache()
    return {
        "layer_pass_ms": round(min(layer), 4),
        "op_us": round(min(ops), 3),
        "layer_pass_ms_values": [round(v, 4) for v in layer],
        "op_us_values": [round(v, 3) for v in ops],
    }


def host_speed_report(measure=measure_host_speed) -> Dict[str, Any]:
    """The doctor's entry: the figures, or why there are none (never raises)."""
    try:
        figures = measure()
    except Exception as exc:  # noqa: BLE001 - a failed probe is reported, not raised
        return {"measured": False, "reason": f"{type(exc).__name__}: {exc}"}
    if figures is None:
        return {"measured": False, "reason": "no CUDA GPU"}
    return {"measured": True, **figures}


if __name__ == "__main__":
    import json

    print(json.dumps(host_speed_report()))
