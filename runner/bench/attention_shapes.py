"""What a padded batch of a new shape costs with and without cuDNN's attention.

A Llama-3.2-1B-shaped model (random weights, built from a config: no download) with
LoRA r16 on all linear layers and non-reentrant gradient checkpointing, as the runner
trains it, runs forward and backward on padded batches of 4 rows (attention mask,
lengths 250-600 tokens): 24 micro-steps whose longest row is new each time, then 12 of
shapes already seen. Each setting runs in its own process:

  cudnn     torch's own choice (cuDNN's attention first on an H100)
  no-cudnn  torch.backends.cuda.enable_cudnn_sdp(False), what the runner does for
            padded batches and generation (tunelab_runner/attention_backends.py)

The cudnn process also profiles one micro-step of a new shape and reports the host
time of cuDNN's attention calls, which build a plan per shape.

  python runner/bench/attention_shapes.py [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List

SETTINGS = ("cudnn", "no-cudnn")
BATCH = 4
NEW_SHAPES = 24
REPEATS = 12


def lengths(seed: int = 1) -> List[int]:
    """The longest row of each new-shape micro-step: distinct, as padded chats' are."""
    rng = random.Random(seed)
    return rng.sample(range(250, 601), NEW_SHAPES)


def summary(new_ms: List[float], repeat_ms: List[float]) -> Dict[str, Any]:
    return {"new_shape_ms": [round(x, 1) for x in new_ms], "seen_shape_ms": [round(x, 1) for x in repeat_ms],
            "new_shape_median_ms": round(statistics.median(new_ms), 1),
            "seen_shape_median_ms": round(statistics.median(repeat_ms), 1)}


def measure(setting: str) -> Dict[str, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    if setting == "no-cudnn":
        torch.backends.cuda.enable_cudnn_sdp(False)
    config = LlamaConfig(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=4096,
                         attn_implementation="sdpa", tie_word_embeddings=True)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(device="cuda", dtype=torch.bfloat16)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    rng = random.Random(2)

    def micro_step(longest: int) -> float:
        rows = [longest] + [rng.randint(100, longest) for _ in range(BATCH - 1)]
        ids = torch.randint(0, config.vocab_size, (BATCH, longest))
        mask = torch.zeros(BATCH, longest, dtype=torch.long)
        for i, n in enumerate(rows):
            mask[i, :n] = 1
        batch = {"input_ids": ids.cuda(), "attention_mask": mask.cuda(),
                 "labels": ids.masked_fill(mask == 0, -100).cuda()}
        torch.cuda.synchronize()
        start = time.perf_counter()
        model(**batch).loss.backward()
        torch.cuda.synchronize()
        return (time.perf_counter() - start) * 1e3

    for longest in (200, 201, 202):  # kernels loaded, allocator grown
        micro_step(longest)
    shapes = lengths()
    out = {"setting": setting, "cudnn_sdp_enabled": torch.backends.cuda.cudnn_sdp_enabled(),
           "cudnn_version": torch.backends.cudnn.version(), "torch": torch.__version__,
           "device": torch.cuda.get_device_name(0),
           **summary([micro_step(n) for n in shapes], [micro_step(n) for n in shapes[:REPEATS]])}
    if setting == "cudnn":
        out["profile"] = profile_new_shape(torch, micro_step)
    return out


def profile_new_shape(torch, micro_step) -> Dict[str, Any]:
    """Host time of the attention calls in one micro-step of a shape not seen before."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        micro_step(777)
    rows = {}
    for avg in prof.key_averages():
        if "attention" in avg.key and avg.key.startswith("aten::_"):
            rows[avg.key] = {"calls": avg.count, "host_ms_per_call": round(avg.self_cpu_time_total / avg.count / 1e3, 3),
                             "gpu_ms_per_call": round(getattr(avg, "self_device_time_total", 0) / avg.count / 1e3, 3)}
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="write the JSON here too")
    ap.add_argument("--setting", choices=SETTINGS, default=None, help=argparse.SUPPRESS)  # the child
    a = ap.parse_args()
    if a.setting:
        print(json.dumps(measure(a.setting)))
        return
    results = []
    for setting in SETTINGS:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--setting", setting],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            results.append({"setting": setting, "error": proc.stderr[-2000:]})
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    report = {"script": "runner/bench/attention_shapes.py", "batch": BATCH, "settings": results}
    ok = [r for r in results if "new_shape_median_ms" in r]
    if len(ok) == 2:
        report["new_shape_cudnn_over_no_cudnn"] = round(ok[0]["new_shape_median_ms"] / ok[1]["new_shape_median_ms"], 3)
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
