"""Issue 14's experiment, one command, one GPU, no network: does LoRA forget less
than full fine-tuning?

1. A BPE tokenizer (4096 tokens) trained here on templates/telecom-support's
   train and general chats, and a tiny Llama (hidden 512, 8 layers, ~23M
   parameters) from LlamaConfig.
2. The "base": that model pretrained by the runner on general chats. general.jsonl
   has only 300 chats, so 240 are pretrained on (many epochs: the base knows them
   well) and 60 are held out: the forgetting measure (bits per byte) is taken on
   those 60, which neither the base nor the fine-tunes saw.
3. Fine-tuning on the 1,200 telecom chats with the templates' two methods: full
   (with the template's 5% general-data mix, drawn from the 240) and LoRA (r 16,
   all-linear). The learning rates are the templates' times 5 (2e-5 -> 1e-4,
   2e-4 -> 1e-3): a 23M model needs larger steps; micro-batch 8 without
   accumulation (more steps on this small set); epochs as the templates (2, 3).
4. `evaluation: when: end` in each config: the runner evaluates in-process
   (task loss, generation metrics on 50 eval prompts, forgetting against the
   base) and writes eval.json.

    python runner/bench/forgetting_demo.py [--out DIR] [--fixtures DIR] [--work DIR]

Writes forgetting-demo.json and .md to --out (default $OUT, else
runner/bench/results/), prints the table, and with --fixtures copies each run's
eval.json and config as lora.eval.json, full.eval.json, lora.finetune.yaml,
full.finetune.yaml."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(RUNNER_DIR)
DATA = os.path.join(REPO, "templates", "telecom-support", "data")
sys.path.insert(0, RUNNER_DIR)

from tests.gpu import helpers as H  # noqa: E402  (tokenizer and model builders shared with the GPU tests)
from tunelab_runner.events import parse_event_line  # noqa: E402

HELD_OUT = 60
SPECIAL_EXTRA = ["<|im_start|>", "<|im_end|>"]


def read_rows(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def build_base_model(work):
    """Tokenizer + random tiny Llama in work/init; data splits in work/data."""
    train = read_rows(os.path.join(DATA, "train.jsonl"))
    general = read_rows(os.path.join(DATA, "general.jsonl"))
    random.Random(0).shuffle(general)
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    files = {
        "train": write_rows(os.path.join(data, "train.jsonl"), train),
        "eval": shutil.copy(os.path.join(DATA, "eval.jsonl"), os.path.join(data, "eval.jsonl")),
        "general_pretrain": write_rows(os.path.join(data, "general-pretrain.jsonl"), general[HELD_OUT:]),
        "general_heldout": write_rows(os.path.join(data, "general-heldout.jsonl"), general[:HELD_OUT]),
    }
    texts = [m["content"] for r in train + general for m in r["messages"]]
    init = os.path.join(work, "init")
    os.makedirs(init, exist_ok=True)
    tok = H.build_tokenizer(init, texts, vocab_size=4096)
    model = H.build_model(init, tok, hidden=512, layers=8)
    params = sum(p.numel() for p in model.parameters())
    return files, init, params


def config_text(method, model_dir, files, out_dir, training, data_extra="", extra=""):
    lora = "lora: { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: all-linear, bias: none }\n" \
        if method == "lora" else ""
    train_kv = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in training.items())
    return f"""method: {method}
model: {{ name_or_path: {model_dir}, dtype: bfloat16, attn_implementation: sdpa }}
{lora}data:
  train_file: {files['train_file']}
  eval_file: {files['eval']}
  format: messages
  chat_template: chatml
  system_prompt: {json.dumps(files['system_prompt'])}
  max_length: 1024
  completion_only_loss: {str(files['completion_only']).lower()}
  packing: true
{data_extra}training:
  output_dir: {out_dir}
  bf16: true
  optim: adamw_torch_fused
  lr_scheduler_type: cosine
  warmup_steps: 0.03
  max_grad_norm: 1.0
  logging_steps: 10
  save_strategy: "no"
  seed: 0
  dataloader_num_workers: 0
{train_kv}
export: {{ adapter: {str(method != 'full').lower()}, merge: true, dtype: bfloat16 }}
{extra}"""


def run_train(config, log_path, timeout=240):
    env = H.runner_env()
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "train", config], cwd=RUNNER_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout)
    with open(log_path, "w") as fh:
        fh.write(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    events = [e for e in (parse_event_line(l) for l in proc.stdout.splitlines()) if e]
    if proc.returncode != 0:
        raise RuntimeError(f"{config}: exit {proc.returncode}; log {log_path}\n{proc.stderr[-3000:]}")
    return events, time.time() - t0


def fmt(value, pattern="{:.3f}"):
    return "-" if value is None else pattern.format(value)


def table(results):
    head = ("| run | train s | task loss | task ppl | exact match | chrF | ROUGE-L | base bits/byte | "
            "tuned bits/byte | change | verdict | eval s |")
    lines = [head, "|" + "---|" * 12]
    for name, r in results.items():
        ev = r.get("eval")
        if not ev:
            lines.append(f"| {name} | {fmt(r.get('train_seconds'), '{:.0f}')} | failed: {r.get('error', '?')[:80]} |")
            continue
        task, f = ev.get("task") or {}, ev.get("forgetting") or {}
        m = ((task.get("generation") or {}).get("metrics")) or {}
        lines.append("| " + " | ".join([
            name, fmt(r.get("train_seconds"), "{:.0f}"), fmt(task.get("loss")), fmt(task.get("perplexity"), "{:.2f}"),
            fmt(m.get("exact_match"), "{:.2f}"), fmt(m.get("chrf"), "{:.1f}"), fmt(m.get("rouge_l"), "{:.3f}"),
            fmt((f.get("base") or {}).get("bits_per_byte")), fmt((f.get("tuned") or {}).get("bits_per_byte")),
            fmt(f.get("change"), "{:+.1%}"), f.get("verdict") or "-", fmt(ev["seconds"].get("total"), "{:.1f}")]) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.environ.get("OUT") or os.path.join(HERE, "results"))
    ap.add_argument("--fixtures", default=None)
    ap.add_argument("--work", default=None)
    args = ap.parse_args(argv)
    reason = H.cuda_reason()
    if reason:
        print(f"forgetting demo needs a CUDA GPU: {reason}")
        return 2
    work = args.work or tempfile.mkdtemp(prefix="tunelab-forgetting-")
    os.makedirs(args.out, exist_ok=True)
    os.environ.setdefault("TUNELAB_CACHE", os.path.join(work, "cache"))
    t_start = time.time()
    files, init, params = build_base_model(work)
    print(f"tiny Llama: {params / 1e6:.1f}M parameters; work dir {work}", flush=True)

    system_general = "You are a helpful, concise assistant."
    with open(os.path.join(REPO, "templates", "telecom-support", "full.finetune.yaml"), encoding="utf-8") as fh:
        import yaml
        system_telecom = yaml.safe_load(fh)["data"]["system_prompt"]

    # 2. the base: pretrained on 240 general chats, every token (no eval split of its own)
    pre_files = {"train_file": files["general_pretrain"], "eval": files["general_heldout"],
                 "system_prompt": system_general, "completion_only": False}
    pre_cfg = os.path.join(work, "pretrain.finetune.yaml")
    with open(pre_cfg, "w") as fh:
        fh.write(config_text("full", init, pre_files, os.path.join(work, "pretrain"),
                             {"num_train_epochs": 40, "learning_rate": 1e-3, "per_device_train_batch_size": 8,
                              "weight_decay": 0.0}))
    _, pre_seconds = run_train(pre_cfg, os.path.join(work, "pretrain.log"))
    base = os.path.join(work, "pretrain", "merged")
    print(f"base pretrained in {pre_seconds:.0f} s -> {base}", flush=True)

    evaluation = ("evaluation:\n  when: end\n  task: { max_samples: 50, metrics: [exact_match, chrf, bleu, rouge_l] }\n"
                  "  generation: { max_new_tokens: 128, do_sample: false }\n"
                  f"  forgetting: {{ file: {files['general_heldout']}, max_samples: {HELD_OUT}, threshold: 0.05 }}\n")
    ft_files = {"train_file": files["train"], "eval": files["eval"], "system_prompt": system_telecom,
                "completion_only": True}
    runs = {
        "full": ("full", {"num_train_epochs": 2, "learning_rate": 1e-4, "per_device_train_batch_size": 8,
                          "weight_decay": 0.0},
                 f"  general_data: {{ file: {files['general_pretrain']}, ratio: 0.05 }}\n"),
        "lora": ("lora", {"num_train_epochs": 3, "learning_rate": 1e-3, "per_device_train_batch_size": 8}, ""),
    }
    results = {}
    for name, (method, training, data_extra) in runs.items():
        cfg = os.path.join(work, f"{name}.finetune.yaml")
        with open(cfg, "w") as fh:
            fh.write(config_text(method, base, ft_files, os.path.join(work, name), training, data_extra, evaluation))
        entry = {"config": cfg}
        try:
            events, seconds = run_train(cfg, os.path.join(work, f"{name}.log"))
            entry["train_seconds"] = seconds
            end = events[-1]
            entry["train_metrics"] = {k: end.get("metrics", {}).get(k) for k in ("train_loss", "eval_loss")}
            eval_path = os.path.join(work, name, "eval.json")
            with open(eval_path) as fh:
                entry["eval"] = json.load(fh)
            entry["eval_path"] = eval_path
        except Exception as exc:  # noqa: BLE001 - the other run still reports
            entry["error"] = str(exc)
            print(f"{name} failed: {exc}", flush=True)
        results[name] = entry
        print(f"{name} done", flush=True)

    def change(name):
        return ((results[name].get("eval") or {}).get("forgetting") or {}).get("change")
    full_c, lora_c = change("full"), change("lora")
    verdict = ("not measured" if full_c is None or lora_c is None else
               f"LoRA forgot {'less' if lora_c < full_c else 'more' if lora_c > full_c else 'as much'} than full "
               f"fine-tuning (bits per byte on held-out general chats: LoRA {lora_c:+.1%}, full {full_c:+.1%})")
    md = "\n".join([
        "# Forgetting demo (issue 14)", "",
        f"Tiny Llama {params / 1e6:.1f}M parameters, base pretrained on {300 - HELD_OUT} general chats "
        f"({pre_seconds:.0f} s), forgetting on the {HELD_OUT} held-out ones; fine-tuned on 1,200 telecom chats.", "",
        table(results), "", verdict, "",
        f"Total {time.time() - t_start:.0f} s.", ""])
    print("\n" + md)
    summary = {"params": params, "pretrain_seconds": pre_seconds, "verdict": verdict, "lora_change": lora_c,
               "full_change": full_c, "runs": results, "total_seconds": time.time() - t_start}
    with open(os.path.join(args.out, "forgetting-demo.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    with open(os.path.join(args.out, "forgetting-demo.md"), "w") as fh:
        fh.write(md)
    if args.fixtures:
        os.makedirs(args.fixtures, exist_ok=True)
        for name, entry in results.items():
            if entry.get("eval_path"):
                shutil.copy(entry["eval_path"], os.path.join(args.fixtures, f"{name}.eval.json"))
                shutil.copy(entry["config"], os.path.join(args.fixtures, f"{name}.finetune.yaml"))
    return 0 if all(r.get("eval") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
