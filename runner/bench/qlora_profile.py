"""Where QLoRA's time goes against LoRA's (issue 16): one training step of the
runner's packed recipe (2048-token rows, position_ids reset per sample, LoRA
r16 all-linear, gradient checkpointing, fused AdamW) timed and profiled with
torch.profiler, the GPU kernel time summed by kind.

Variants, each in its own process:
  lora        bf16 base
  qlora       NF4 base (double quant, bf16 compute) after peft's
              prepare_model_for_kbit_training, which upcasts every non-quantized
              weight (embeddings, norms, lm_head) to fp32
  qlora-bf16  the same, with those weights cast back to bf16 afterwards (the
              precision the LoRA run trains its frozen weights in)

  python runner/bench/qlora_profile.py --shape 1b --rows 4 --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

VARIANTS = ("lora", "qlora", "qlora-bf16")
KINDS = [  # first match wins
    ("dequantize (bitsandbytes)", re.compile(r"dequant|kQuantize|bnb|nf4", re.I)),
    ("optimizer", re.compile(r"multi_tensor|fused_adam|adam", re.I)),
    ("attention", re.compile(r"flash|fmha|attention|efficient_attn|cutlass.*attn", re.I)),
    ("matmul", re.compile(r"gemm|nvjet|xmma|cutlass|cublas|matmul|splitk", re.I)),
    ("dtype casts and copies", re.compile(r"copy|cast|convert", re.I)),
    ("cross-entropy and softmax", re.compile(r"softmax|nll|cross_entropy|log_softmax", re.I)),
    ("reductions (norms, grad norm)", re.compile(r"reduce|norm", re.I)),
]


def kind_of(name: str) -> str:
    for kind, pattern in KINDS:
        if pattern.search(name):
            return kind
    return "other elementwise"


def packed_batch(torch, rows, length, vocab, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(10, vocab, (rows, length), generator=g)
    pos = torch.zeros(rows, length, dtype=torch.long)
    for r in range(rows):
        start = 0
        while start < length:  # samples of 200-700 tokens, positions restart at each
            n = min(length - start, int(torch.randint(200, 700, (1,), generator=g)))
            pos[r, start:start + n] = torch.arange(n)
            start += n
    return {"input_ids": ids.cuda(), "labels": ids.clone().cuda(), "position_ids": pos.cuda()}


def build(variant, model_dir, torch):
    import peft
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig
    kw = {"dtype": torch.bfloat16, "attn_implementation": "sdpa"}
    if variant.startswith("qlora"):
        kw["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                       bnb_4bit_use_double_quant=True,
                                                       bnb_4bit_compute_dtype=torch.bfloat16)
        kw["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kw)
    if not variant.startswith("qlora"):
        model.cuda()
    model.config.use_cache = False
    if variant.startswith("qlora"):
        model = peft.prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False})
        if variant == "qlora-bf16":
            from tunelab_runner.model_loading import undo_fp32_upcast
            undo_fp32_upcast(model, "bfloat16")  # the runner's upcast_to_fp32: false
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model = peft.get_peft_model(model, peft.LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05,
                                                       target_modules="all-linear", task_type="CAUSAL_LM"))
    return model


def one_variant(variant, model_dir, rows, steps, out_json):
    import torch
    model = build(variant, model_dir, torch)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, fused=True)
    batch = packed_batch(torch, rows, 2048, model.config.vocab_size)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0 = time.time()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    step_s = (time.time() - t0) / steps
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    kinds, top = {}, []
    for ev in prof.key_averages():
        us = ev.device_time_total if hasattr(ev, "device_time_total") else ev.cuda_time_total
        if us <= 0:
            continue
        kinds[kind_of(ev.key)] = kinds.get(kind_of(ev.key), 0.0) + us / 1000
        top.append((us / 1000, ev.key[:120]))
    top.sort(reverse=True)
    result = {"variant": variant, "rows": rows, "step_s": step_s, "tokens_per_second": rows * 2048 / step_s,
              "kernel_ms": {k: round(v, 2) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])},
              "top_kernels": [{"ms": round(ms, 2), "kernel": k} for ms, k in top[:12]],
              "peak_allocated": torch.cuda.max_memory_allocated(),
              "fp32_params": sum(p.numel() for p in model.parameters() if p.dtype == torch.float32)}
    with open(out_json, "w") as fh:
        json.dump(result, fh, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="1b")
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--work", default="/tmp/tunelab-bench")
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "inputs", "throughput-tokenizer"))
    ap.add_argument("--out", default=".")
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--variant-out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    model_dir = os.path.join(a.work, "model-" + a.shape)
    if a.variant:
        return one_variant(a.variant, model_dir, a.rows, a.steps, a.variant_out)
    from transformers import AutoTokenizer
    from bench_data import load_shapes, make_model
    make_model(model_dir, load_shapes()[a.shape], AutoTokenizer.from_pretrained(a.tokenizer))
    os.makedirs(a.out, exist_ok=True)
    results = []
    for variant in VARIANTS:
        out_json = os.path.join(a.out, f"qlora-profile-{a.shape}-{variant}.json")
        proc = subprocess.run([sys.executable, __file__, "--shape", a.shape, "--rows", str(a.rows), "--steps",
                               str(a.steps), "--work", a.work, "--variant", variant, "--variant-out", out_json],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{variant} failed:\n{proc.stderr[-3000:]}", flush=True)
            continue
        results.append(json.load(open(out_json)))
        r = results[-1]
        print(f"[{a.shape}] {variant}: {r['step_s']:.3f} s/step, {r['tokens_per_second']:,.0f} tok/s, "
              f"{r['peak_allocated'] / 2**30:.1f} GiB; kernels {r['kernel_ms']}", flush=True)
    with open(os.path.join(a.out, f"qlora-profile-{a.shape}.json"), "w") as fh:
        json.dump(results, fh, indent=2)
    kinds = sorted({k for r in results for k in r["kernel_ms"]})
    lines = [f"| kernel time per step, ms ({a.shape}, {a.rows} x 2048 tokens) | "
             + " | ".join(r["variant"] for r in results) + " |", "|---|" + "---|" * len(results)]
    lines.append("| step time, s | " + " | ".join(f"{r['step_s']:.3f}" for r in results) + " |")
    lines.append("| tokens/s | " + " | ".join(f"{r['tokens_per_second']:,.0f}" for r in results) + " |")
    for k in kinds:
        lines.append(f"| {k} | " + " | ".join(f"{r['kernel_ms'].get(k, 0):.1f}" for r in results) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    with open(os.path.join(a.out, f"qlora-profile-{a.shape}.md"), "w") as fh:
        fh.write(table)


if __name__ == "__main__":
    main()
