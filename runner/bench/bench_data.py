"""The throughput benchmark's inputs: chat data with lognormal token lengths
and Llama-shaped models with random weights (shapes in inputs/shapes.json,
shared with bench/tuneThroughput.ts)."""

from __future__ import annotations

import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM = "You are the support assistant of Acme Telecom. Answer briefly and politely."


def load_shapes():
    with open(os.path.join(HERE, "inputs", "shapes.json")) as fh:
        shapes = json.load(fh)
    return {k: {key: v for key, v in s.items() if not key.startswith("_")} for k, s in shapes.items()}


def make_words(n: int, rng: random.Random):
    syl = ["ka", "to", "ri", "mo", "ne", "sa", "lu", "pe", "di", "ga", "vo", "ti", "ma", "re", "no", "bi", "ze",
           "fu", "ha", "ly", "qu", "xe", "wo", "ju"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syl) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def make_data(path: str, n: int, seed: int = 0, mean_target: float = 448.0, median_target: float = 345.0):
    """Conversations whose token lengths are lognormal (mean ~448, median ~345);
    the same rows for the same seed, so every run and the tune script see one set."""
    rng = random.Random(seed)
    words = make_words(3000, rng)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(words))]  # Zipf-like
    sigma = math.sqrt(2 * math.log(mean_target / median_target))
    mu = math.log(median_target)
    rows = []
    for _ in range(n):
        total = int(min(1900, max(40, rng.lognormvariate(mu, sigma))))
        budget = total - 30  # chat markup and system prompt
        pairs = 2 if rng.random() < 0.25 and budget > 120 else 1
        msgs = [{"role": "system", "content": SYSTEM}]
        for _p in range(pairs):
            share = budget // pairs
            u = max(3, int(share * 0.35))
            a_ = max(3, share - u - 6)
            msgs.append({"role": "user", "content": " ".join(rng.choices(words, weights, k=u))})
            msgs.append({"role": "assistant", "content": " ".join(rng.choices(words, weights, k=a_))})
        rows.append({"messages": msgs})
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    return rows


def make_model(out_dir: str, shape: dict, tok):
    """Random bf16 weights of the shape, built on the GPU and saved once."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    if os.path.exists(os.path.join(out_dir, "config.json")):
        return
    cfg = LlamaConfig(**shape, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    del model
    torch.cuda.empty_cache()


if __name__ == "__main__":
    # `python bench_data.py OUT.jsonl`: the data alone (no torch), for bench/tuneThroughput.ts
    import sys
    make_data(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3000)
