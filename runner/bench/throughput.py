"""Throughput benchmark: the runner against the plain Trainer LoRA script.

For each model shape (random weights from a config; no Hub):
  plain      bench/plain_lora.py: the usual LoRA recipe, dynamic padding
  runner     the runner with the same settings (packing: false)
  packed     the runner's defaults: packing into fixed max_length rows,
             position_ids reset per sample, no attention mask
on chat data with lognormal lengths (mean ~448 tokens). Figures: real (non-pad)
tokens/s over the steady steps (after --warmup), peak GPU memory, and
MFU = 8 x params x tokens/s / 989e12 (LoRA with gradient checkpointing:
forward 2, backward 4, recompute 2 FLOPs per parameter and token; attention
FLOPs left out; 989 TFLOP/s is the H100's dense bf16 peak).

  python runner/bench/throughput.py --shapes 1b,8b --out DIR
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.dirname(HERE)
sys.path.insert(0, RUNNER_DIR)

from tests.gpu import helpers as H  # noqa: E402

PEAK_FLOPS = 989e12

SHAPES = {
    # Llama-3.2-1B
    "1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
               num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=True, rope_theta=500000.0,
               max_position_embeddings=8192, rms_norm_eps=1e-5, head_dim=64),
    # Llama-3.1-8B
    "8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
               num_key_value_heads=8, vocab_size=128256, tie_word_embeddings=False, rope_theta=500000.0,
               max_position_embeddings=8192, rms_norm_eps=1e-5, head_dim=128),
}
# per shape: (plain/runner batch, packed rows per step, steps)
SETTINGS = {"1b": (8, 4, 30), "8b": (4, 2, 24)}


# ------------------------------------------------------------------ data

def make_words(n: int, rng: random.Random):
    syl = ["ka", "to", "ri", "mo", "ne", "sa", "lu", "pe", "di", "ga", "vo", "ti", "ma", "re", "no", "bi", "ze",
           "fu", "ha", "ly", "qu", "xe", "wo", "ju"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syl) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def make_data(path: str, n: int, seed: int = 0, mean_target: float = 448.0, median_target: float = 345.0):
    """Conversations whose token lengths are lognormal (mean ~448, median ~345)."""
    rng = random.Random(seed)
    words = make_words(3000, rng)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(words))]  # Zipf-like
    sigma = math.sqrt(2 * math.log(mean_target / median_target))
    mu = math.log(median_target)
    rows = []
    system = "You are the support assistant of Acme Telecom. Answer briefly and politely."
    for _ in range(n):
        total = int(min(1900, max(40, rng.lognormvariate(mu, sigma))))
        budget = total - 30  # chat markup and system prompt
        pairs = 2 if rng.random() < 0.25 and budget > 120 else 1
        msgs = [{"role": "system", "content": system}]
        for _p in range(pairs):
            share = budget // pairs
            u = max(3, int(share * 0.35))
            a_ = max(3, share - u - 6)
            msgs.append({"role": "user", "content": " ".join(rng.choices(words, weights, k=u))})
            msgs.append({"role": "assistant", "content": " ".join(rng.choices(words, weights, k=a_))})
        rows.append({"messages": msgs})
    H.write_jsonl(path, rows)
    return rows, words


def make_model(out_dir: str, shape: str, tok):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    if os.path.exists(os.path.join(out_dir, "config.json")):
        return
    cfg = LlamaConfig(**SHAPES[shape], bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    del model
    torch.cuda.empty_cache()


# ------------------------------------------------------------------ runs

def steady(points, warmup):
    """tokens/s between the first logged step >= warmup and the last one."""
    pts = [p for p in points if p["step"] >= warmup]
    if len(pts) < 2:
        return None
    a, b = pts[0], pts[-1]
    return (b["tokens"] - a["tokens"]) / (b["time"] - a["time"])


def run_plain(model_dir, data, batch, steps, warmup, work, log, nan_filter=True):
    report = os.path.join(work, "plain.json")
    cmd = [sys.executable, os.path.join(HERE, "plain_lora.py"), "--model", model_dir, "--data", data,
           "--batch", str(batch), "--steps", str(steps), "--report", report,
           "--output-dir", os.path.join(work, "plain-out")] + ([] if nan_filter else ["--no-nan-inf-filter"])
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=H.runner_env())
    log.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    if proc.returncode != 0:
        raise RuntimeError(f"plain script failed:\n{proc.stderr[-3000:]}")
    with open(report) as fh:
        r = json.load(fh)
    return {"tokens_per_second": steady(r["points"], warmup), "peak_allocated": r["peak_allocated_bytes"],
            "peak_reserved": r["peak_reserved_bytes"], "params": r["params_total"] - r["params_trainable"],
            "wall": time.time() - t0, "last_loss": r["points"][-1]["loss"]}


def run_runner(model_dir, data, batch, steps, warmup, work, log, packing):
    import yaml
    name = "packed" if packing else "runner"
    out = os.path.join(work, name + "-out")
    cfg = {
        "method": "lora",
        "model": {"name_or_path": model_dir, "dtype": "bfloat16", "attn_implementation": "sdpa"},
        "lora": {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear",
                 "task_type": "CAUSAL_LM"},
        "data": {"train_file": data, "format": "messages", "chat_template": "model", "max_length": 2048,
                 "completion_only_loss": True, "packing": packing},
        "training": {"output_dir": out, "per_device_train_batch_size": batch, "gradient_accumulation_steps": 1,
                     "learning_rate": 2e-4, "lr_scheduler_type": "linear", "warmup_steps": 0, "max_steps": steps,
                     "bf16": True, "gradient_checkpointing": True,
                     "gradient_checkpointing_kwargs": {"use_reentrant": False}, "optim": "adamw_torch_fused",
                     "logging_steps": 5, "save_strategy": "no", "report_to": "none",
                     "dataloader_num_workers": 0, "seed": 42},
        "export": {"adapter": False, "merge": False},
    }
    path = os.path.join(work, name + ".finetune.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(cfg, fh, sort_keys=False)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "train", path], cwd=RUNNER_DIR,
                          capture_output=True, text=True, env=H.runner_env())
    log.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    events = H.read_events(os.path.join(out, "events.jsonl"))
    end = events[-1]
    if proc.returncode != 0 or end.get("status") != "completed":
        raise RuntimeError(f"runner failed ({proc.returncode}): {json.dumps(events[-3:])[:3000]}\n{proc.stderr[-3000:]}")
    steps_ev = H.of(events, "step")
    start = H.of(events, "start")[0]
    points = [{"step": e["step"], "time": e["time"], "tokens": e["tokens"]} for e in steps_ev]
    m = end["metrics"]
    return {"tokens_per_second": steady(points, warmup), "peak_allocated": m["peak_memory_allocated_bytes"],
            "peak_reserved": m["peak_memory_reserved_bytes"],
            "params": start["params"]["total"] - start["params"]["trainable"], "wall": time.time() - t0,
            "last_loss": steps_ev[-1]["loss"], "data": start["data"]}


def gib(x):
    return x / 2 ** 30


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="1b,8b")
    ap.add_argument("--runs", default="plain,runner,packed",
                    help="plain, plain-nofilter (plain with logging_nan_inf_filter=False), runner, packed")
    ap.add_argument("--work", default="/tmp/tunelab-bench")
    ap.add_argument("--out", default=".")
    ap.add_argument("--conversations", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--steps", type=int, default=0, help="override the steps per run")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "bench-log.txt"), "a")

    import torch
    data = os.path.join(a.work, "chat.jsonl")
    tok_dir = os.path.join(a.work, "tokenizer")
    rows, words = make_data(data, a.conversations)
    if not os.path.exists(os.path.join(tok_dir, "tokenizer.json")):
        texts = [m["content"] for r in rows[:1500] for m in r["messages"]]
        H.build_tokenizer(tok_dir, texts, vocab_size=8000)
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tok_dir)
    lengths = sorted(len(tok(tok.apply_chat_template(r["messages"], tokenize=False),
                             add_special_tokens=False)["input_ids"]) for r in rows)
    data_stats = {"conversations": len(rows), "mean": round(statistics.mean(lengths), 1),
                  "median": lengths[len(lengths) // 2], "p90": lengths[int(len(lengths) * 0.9)],
                  "max": lengths[-1]}
    print("data token lengths:", data_stats, flush=True)
    device = torch.cuda.get_device_name(0)

    results = {"device": device, "data": data_stats, "peak_flops": PEAK_FLOPS, "shapes": {}}
    for shape in a.shapes.split(","):
        batch, rows_per_step, steps = SETTINGS[shape]
        steps = a.steps or steps
        model_dir = os.path.join(a.work, "model-" + shape)
        t0 = time.time()
        make_model(model_dir, shape, tok)
        print(f"[{shape}] model ready in {time.time() - t0:.0f}s", flush=True)
        res = {"batch": batch, "packed_rows": rows_per_step, "steps": steps}
        for run in a.runs.split(","):
            work = os.path.join(a.work, shape)
            os.makedirs(work, exist_ok=True)
            if run == "plain":
                r = run_plain(model_dir, data, batch, steps, a.warmup, work, log)
            elif run == "plain-nofilter":
                r = run_plain(model_dir, data, batch, steps, a.warmup, work, log, nan_filter=False)
            elif run == "runner":
                r = run_runner(model_dir, data, batch, steps, a.warmup, work, log, packing=False)
            else:
                r = run_runner(model_dir, data, rows_per_step, steps, a.warmup, work, log, packing=True)
            r["mfu"] = 8 * r["params"] * r["tokens_per_second"] / PEAK_FLOPS if r["tokens_per_second"] else None
            res[run] = r
            print(f"[{shape}] {run}: {r['tokens_per_second']:.0f} real tok/s, peak {gib(r['peak_allocated']):.1f} GiB "
                  f"allocated / {gib(r['peak_reserved']):.1f} GiB reserved, MFU {100 * r['mfu']:.1f}%, "
                  f"wall {r['wall']:.0f}s", flush=True)
        results["shapes"][shape] = res
        with open(os.path.join(a.out, "bench.json"), "w") as fh:
            json.dump(results, fh, indent=2, default=str)
    table = render(results)
    print(table)
    with open(os.path.join(a.out, "bench.md"), "w") as fh:
        fh.write(table)


def render(results):
    lines = [f"Device: {results['device']}. Data: {results['data']['conversations']} chat conversations, token "
             f"lengths mean {results['data']['mean']}, median {results['data']['median']}, "
             f"p90 {results['data']['p90']} (lognormal).",
             "MFU = 8 x params x real tokens/s / 989e12.", "",
             "| shape | run | batch | real tokens/s | peak alloc GiB | peak reserved GiB | MFU | vs plain: tok/s | vs plain: memory |",
             "|---|---|---|---|---|---|---|---|---|"]
    for shape, res in results["shapes"].items():
        plain = res.get("plain")
        for run in ("plain", "plain-nofilter", "runner", "packed"):
            r = res.get(run)
            if not r:
                continue
            batch = f"{res['packed_rows']} x 2048 rows" if run == "packed" else f"{res['batch']} samples"
            ratio_t = ratio_m = "-"
            if plain and run != "plain":
                ratio_t = f"{r['tokens_per_second'] / plain['tokens_per_second']:.2f}x"
                ratio_m = f"{r['peak_allocated'] / plain['peak_allocated']:.2f}x"
            lines.append(f"| {shape} | {run} | {batch} | {r['tokens_per_second']:,.0f} | {gib(r['peak_allocated']):.1f} | "
                         f"{gib(r['peak_reserved']):.1f} | {100 * r['mfu']:.1f}% | {ratio_t} | {ratio_m} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
