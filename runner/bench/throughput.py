"""Throughput benchmark: the plain Trainer recipe, the runner's defaults and
faster runner settings, for LoRA and QLoRA on Llama-3.2-1B and Llama-3.1-8B
shapes (random weights from a config; no Hub), on chat data with lognormal
lengths (mean ~452 tokens). Every row of a shape and method trains on the same
data with the same effective batch (about 16k tokens per optimizer step: 36
conversations unpacked, 8 packed rows of 2048 tokens), each in its own process.

Runs (--runs):
  plain     bench/plain_lora.py: the usual Trainer LoRA/QLoRA script, dynamic padding
  runner    the runner with the plain script's settings (packing: false)
  defaults  the runner's defaults: exact packing into 2048-token rows, sdpa,
            gradient checkpointing
  liger     defaults + training.use_liger_kernel (fused linear cross-entropy,
            RMSNorm, SwiGLU, RoPE; needs liger-kernel on the path)
  fast      defaults + liger + gradient checkpointing off
  flex      defaults + model.attn_implementation: flex_attention
  fastflex  fast + flex attention
  fastflex2x fastflex with twice the rows per micro-batch (half the accumulation)
  peftcast  fast with peft's own cast of every adapted input to the fp32 adapter
            dtype (TUNELAB_PEFT_INPUT_CAST=1): the A/B of the runner skipping it
            under autocast (model_loading.skip_adapter_input_cast_under_autocast)
  compile   defaults + training.torch_compile (the runner compiles each decoder layer
            in place: tunelab_runner/compile_layers.py)
  fastcompile fastflex + training.torch_compile: Liger's kernels inside the compiled layers
  compileloss fastflex + training.torch_compile with Liger's fused loss only (its
            RMSNorm, SwiGLU and RoPE off: the compiler fuses those layers' elementwise work)
  leancompile lean + flex attention + training.torch_compile (checkpointed layers compiled)
  compilelean lean's rows and checkpointing, flex, compiled layers, Liger's fused loss only;
            QLoRA with upcast_to_fp32: false
  compileone compileloss with one row per micro-batch (eight accumulated), QLoRA with
            upcast_to_fp32: false: the least memory without recomputation
  lean      defaults + liger, twice the rows per micro-batch (half the
            accumulation), and for QLoRA prepare_model_for_kbit_training with
            upcast_to_fp32: false (norms, embeddings and lm_head stay bf16: a
            change of precision, not only of speed): the least memory at speed
  tuned     defaults + the changes `tunelab tune` proposed (--tuned FILE, made by
            bench/tuneThroughput.ts), with its predicted tokens/s and peak

Figures: real (non-pad) tokens/s over the steps after --warmup, peak allocated
and reserved memory, and MFU against the H100's dense bf16 peak (989 TFLOP/s):
  LoRA with recomputation:    MFU = 6 x N x tokens/s / 989e12
  LoRA without recomputation: MFU = 4 x N x tokens/s / 989e12
(N = the base model's parameters; forward 2N, backward 2N for the activations'
gradients, none for the frozen weights, recompute 2N; the adapter's own FLOPs
and attention are left out.)

  python runner/bench/throughput.py --shapes 1b,8b --methods lora,qlora --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.dirname(HERE)
sys.path.insert(0, RUNNER_DIR)
sys.path.insert(0, HERE)

from bench_data import load_shapes, make_data, make_model  # noqa: E402
from bench_runs import run_plain, run_runner  # noqa: E402

PEAK_FLOPS = 989e12
ROW = 2048
# per shape: micro-batch of the plain script and gradient accumulation (36
# conversations per step), packed rows per micro-batch and accumulation (8 rows
# per step), optimizer steps of a run
SETTINGS = {
    "1b": {"plain": (9, 4), "packed": (4, 2), "steps": 12},
    "8b": {"plain": (4, 9), "packed": (2, 4), "steps": 10},
}
RUNS = ("plain", "runner", "defaults", "liger", "fast", "flex", "fastflex", "fastflex2x", "peftcast", "compile",
        "fastcompile", "compileloss", "lean", "leancompile", "compilelean", "compileone", "tuned")
# the compiler's recompilations and graph breaks reach the bench log
COMPILE_LOGS = {"TORCH_LOGS": "recompiles,graph_breaks"}
# runs that differ from another by the environment only: {run: {variable: value}}
RUN_ENV = {"peftcast": {"TUNELAB_PEFT_INPUT_CAST": "1"},
           **{run: COMPILE_LOGS for run in RUNS if "compile" in run}}
# Liger with its fused linear cross-entropy only
LIGER_LOSS_ONLY = {"rms_norm": False, "swiglu": False, "rope": False, "cross_entropy": False,
                   "fused_linear_cross_entropy": True}


def runner_overrides(run: str, tuned: dict | None, method: str = "lora", packed=(4, 2)):
    """(config changes on top of the defaults, whether it packs, (rows, accumulation))
    for a runner run; `packed` is the shape's packed rows per micro-batch and accumulation."""
    if run == "runner":
        return {}, False, None
    liger = {"training.use_liger_kernel": True}
    flex = {"model.attn_implementation": "flex_attention"}
    fast = {**liger, "training.gradient_checkpointing": False}
    compiled_loss = {**fast, **flex, "training.torch_compile": True, "training.liger_kernel_config": LIGER_LOSS_ONLY}
    changes = {
        "defaults": {},
        "liger": liger,
        "fast": fast,
        "fastflex": {**fast, **flex},
        "peftcast": fast,   # differs by RUN_ENV only
        "fastflex2x": {**fast, **flex},
        "flex": flex,
        "compile": {"training.torch_compile": True},
        "fastcompile": {**fast, **flex, "training.torch_compile": True},
        "compileloss": compiled_loss,
        "lean": liger,
        "leancompile": {**liger, **flex, "training.torch_compile": True},
        "compilelean": {**compiled_loss, "training.gradient_checkpointing": True},
        "compileone": compiled_loss,
    }.get(run)
    batch, accum = packed
    if run in ("lean", "leancompile", "compilelean", "fastflex2x") and accum % 2 == 0:  # the same rows per step
        batch, accum = batch * 2, accum // 2
    if run == "compileone":
        batch, accum = 1, batch * accum
    if run in ("lean", "leancompile", "compilelean", "compileone") and method == "qlora":
        changes = {**changes, "prepare_model_for_kbit_training.upcast_to_fp32": False}
    if run == "tuned":
        if not tuned:
            raise RuntimeError("no tuned settings for this shape and method (--tuned)")
        changes = tuned["config"]
    if changes is None:
        raise ValueError(f"unknown run {run!r} (one of {', '.join(RUNS)})")
    return changes, True, (batch, accum)


def mfu(params: int, tokens_per_second: float, recompute: bool) -> float:
    return (6 if recompute else 4) * params * tokens_per_second / PEAK_FLOPS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="1b,8b")
    ap.add_argument("--methods", default="lora,qlora")
    ap.add_argument("--runs", default="plain,runner,defaults,liger,fast,tuned")
    ap.add_argument("--tuned", default=os.path.join(HERE, "inputs", "tuned.json"))
    ap.add_argument("--tokenizer", default=os.path.join(HERE, "inputs", "throughput-tokenizer"),
                    help="a saved tokenizer (made here when the folder has none)")
    ap.add_argument("--work", default="/tmp/tunelab-bench")
    ap.add_argument("--out", default=".")
    ap.add_argument("--conversations", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="override the optimizer steps per run")
    ap.add_argument("--plain-steps", type=int, default=0, help="steps of the plain script (slowest run)")
    ap.add_argument("--print-settings", action="store_true", help="print SETTINGS as JSON (bench/tuneThroughput.ts)")
    a = ap.parse_args()
    if a.print_settings:
        print(json.dumps(SETTINGS))
        return
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "bench-log.txt"), "a")
    json_path = os.path.join(a.out, "bench.json")
    results = json.load(open(json_path)) if os.path.exists(json_path) else {"rows": []}

    import torch
    data = os.path.join(a.work, "chat.jsonl")
    rows = make_data(data, a.conversations)
    tok = ensure_tokenizer(a.tokenizer, rows)
    lengths = sorted(len(tok(tok.apply_chat_template(r["messages"], tokenize=False),
                             add_special_tokens=False)["input_ids"]) for r in rows)
    results["data"] = {"conversations": len(rows), "mean": round(statistics.mean(lengths), 1),
                       "median": lengths[len(lengths) // 2], "p90": lengths[int(len(lengths) * 0.9)],
                       "max": lengths[-1]}
    results["device"] = torch.cuda.get_device_name(0)
    print("data token lengths:", results["data"], flush=True)
    tuned_all = json.load(open(a.tuned)) if os.path.exists(a.tuned) else {}

    for shape in a.shapes.split(","):
        s = SETTINGS[shape]
        model_dir = os.path.join(a.work, "model-" + shape)
        t0 = time.time()
        make_model(model_dir, load_shapes()[shape], tok)
        print(f"[{shape}] model ready in {time.time() - t0:.0f}s", flush=True)
        for method in a.methods.split(","):
            for run in a.runs.split(","):
                work = os.path.join(a.work, f"{shape}-{method}")
                os.makedirs(work, exist_ok=True)
                row = {"shape": shape, "method": method, "run": run}
                try:
                    if run == "plain":
                        batch, accum = s["plain"]
                        steps = a.plain_steps or a.steps or s["steps"]
                        r = run_plain(model_dir, data, method, batch, accum, steps, min(a.warmup, steps - 2),
                                      work, log)
                        r["batch"] = f"{batch} x {accum} conversations"
                    else:
                        tuned = tuned_all.get(f"{shape}-{method}")
                        changes, packing, rows = runner_overrides(run, tuned, method, s["packed"])
                        batch, accum = rows if packing else s["plain"]
                        r = run_runner(model_dir, data, method, run, packing, batch, accum,
                                       a.steps or s["steps"], a.warmup, changes, work, log,
                                       env=RUN_ENV.get(run))
                        if run == "tuned":
                            r["predicted"] = tuned["predicted"]
                    row.update(r)
                    row["mfu"] = mfu(r["params"], r["tokens_per_second"], r["recompute"])
                    print(f"[{shape} {method}] {run}: {r['tokens_per_second']:.0f} real tok/s, peak "
                          f"{gib(r['peak_allocated']):.1f} GiB allocated / {gib(r['peak_reserved']):.1f} GiB "
                          f"reserved, MFU {100 * row['mfu']:.1f}%, wall {r['wall']:.0f}s", flush=True)
                except Exception as exc:  # noqa: BLE001 - a failed run is a row of the table, not the end
                    row["error"] = str(exc)[-1500:]
                    print(f"[{shape} {method}] {run} FAILED: {str(exc)[-600:]}", flush=True)
                results["rows"] = [x for x in results["rows"]
                                   if (x["shape"], x["method"], x["run"]) != (shape, method, run)] + [row]
                with open(json_path, "w") as fh:
                    json.dump(results, fh, indent=2, default=str)
    table = render(results)
    print(table)
    with open(os.path.join(a.out, "bench.md"), "w") as fh:
        fh.write(table)


def ensure_tokenizer(path: str, rows):
    from transformers import AutoTokenizer
    from tests.gpu import helpers as H
    if not os.path.exists(os.path.join(path, "tokenizer.json")):
        texts = [m["content"] for r in rows[:1500] for m in r["messages"]]
        H.build_tokenizer(path, texts, vocab_size=8000)
    return AutoTokenizer.from_pretrained(path)


def gib(x):
    return x / 2 ** 30


def render(results):
    d = results["data"]
    lines = [f"Device: {results['device']}. Data: {d['conversations']} chat conversations, token lengths mean "
             f"{d['mean']}, median {d['median']}, p90 {d['p90']} (lognormal). About 16k tokens per optimizer "
             "step in every row.",
             "MFU = 6 x N x tokens/s / 989e12 with gradient checkpointing, 4 x N without (N = base parameters).",
             "",
             "| shape | method | run | batch x accumulation | real tokens/s | peak alloc GiB | peak reserved GiB | MFU "
             "| vs plain: tok/s | vs plain: reserved | predicted tok/s, peak GiB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["rows"]:
        if "error" in r:
            lines.append(f"| {r['shape']} | {r['method']} | {r['run']} | - | failed: "
                         f"{r['error'].splitlines()[-1][:120] if r['error'] else ''} | | | | | | |")
            continue
        plain = next((x for x in results["rows"] if x["shape"] == r["shape"] and x["method"] == r["method"]
                      and x["run"] == "plain" and "error" not in x), None)
        vs_t = vs_m = "-"
        if plain and r["run"] != "plain":
            vs_t = f"{r['tokens_per_second'] / plain['tokens_per_second']:.2f}x"
            vs_m = f"{r['peak_reserved'] / plain['peak_reserved']:.2f}x"
        pred = r.get("predicted")
        pred_s = (f"{pred['tokensPerSecond']:,.0f}, {gib(pred['peakBytes']):.1f}" if pred else "")
        lines.append(f"| {r['shape']} | {r['method']} | {r['run']} | {r['batch']} | {r['tokens_per_second']:,.0f} | "
                     f"{gib(r['peak_allocated']):.1f} | {gib(r['peak_reserved']):.1f} | {100 * r['mfu']:.1f}% | "
                     f"{vs_t} | {vs_m} | {pred_s} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
