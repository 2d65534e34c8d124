"""The plain Hugging Face Trainer script of the usual LoRA recipe: the baseline
the runner is measured against (bench/throughput.py). LoRA r16 all-linear,
bf16, sdpa, fused AdamW, gradient checkpointing (non-reentrant), the chat
template, loss on assistant turns only, dynamic padding (DataCollatorForSeq2Seq).
With --qlora, the QLoRA recipe: the base loaded in 4-bit NF4 with double
quantization and bf16 compute, then peft's prepare_model_for_kbit_training.

Besides training, it writes what the benchmark needs to --report: the time and
real (non-pad) tokens at every logging step, and peak GPU memory."""

import argparse
import json
import time

import torch
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import (AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, DataCollatorForSeq2Seq, Trainer,
                          TrainerCallback, TrainingArguments)


def tokenize(tok, messages, max_length):
    text = tok.apply_chat_template(messages, tokenize=False)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    labels = [-100] * len(ids)
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        start = len(tok(tok.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True),
                        add_special_tokens=False)["input_ids"])
        end = len(tok(tok.apply_chat_template(messages[: i + 1], tokenize=False),
                      add_special_tokens=False)["input_ids"])
        labels[start:end] = ids[start:end]
    return {"input_ids": ids[:max_length], "attention_mask": [1] * min(len(ids), max_length),
            "labels": labels[:max_length]}


class Meter(TrainerCallback):
    def __init__(self, counter):
        self.counter = counter
        self.points = []

    def on_log(self, args, state, control, logs=None, **kw):
        if logs and "loss" in logs:
            self.points.append({"step": state.global_step, "time": time.time(), "tokens": self.counter["tokens"],
                                "loss": float(logs["loss"])})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--accum", type=int, default=1)
    ap.add_argument("--qlora", action="store_true")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--max-length", type=int, default=2048)
    ap.add_argument("--logging-steps", type=int, default=5)
    ap.add_argument("--output-dir", default="/tmp/plain-lora")
    ap.add_argument("--report", required=True)
    ap.add_argument("--no-nan-inf-filter", action="store_true",
                    help="logging_nan_inf_filter=False (Trainer's default True syncs with the GPU every step)")
    a = ap.parse_args()

    tok = AutoTokenizer.from_pretrained(a.model)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    with open(a.data) as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    train = [tokenize(tok, r["messages"], a.max_length) for r in rows]

    extra = {}
    if a.qlora:
        extra = {"quantization_config": BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16), "device_map": {"": 0}}
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16, attn_implementation="sdpa",
                                                 **extra)
    model.config.use_cache = False
    if a.qlora:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                                gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))

    counter = {"tokens": 0}
    pad = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)

    def collate(features):
        batch = pad(features)
        counter["tokens"] += int(batch["attention_mask"].sum())
        return batch

    args = TrainingArguments(
        output_dir=a.output_dir, per_device_train_batch_size=a.batch, gradient_accumulation_steps=a.accum,
        learning_rate=2e-4, lr_scheduler_type="linear", warmup_steps=0, max_steps=a.steps, bf16=True,
        gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False},
        optim="adamw_torch_fused", logging_steps=a.logging_steps, save_strategy="no", report_to="none",
        remove_unused_columns=False, dataloader_num_workers=0, seed=42,
        logging_nan_inf_filter=not a.no_nan_inf_filter)
    meter = Meter(counter)
    trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=collate, callbacks=[meter])
    torch.cuda.reset_peak_memory_stats()
    trainer.train()
    total, trainable = sum(p.numel() for p in model.parameters()), \
        sum(p.numel() for p in model.parameters() if p.requires_grad)
    with open(a.report, "w") as fh:
        json.dump({"points": meter.points, "peak_allocated_bytes": torch.cuda.max_memory_allocated(),
                   "peak_reserved_bytes": torch.cuda.max_memory_reserved(),
                   "params_total": total, "params_trainable": trainable}, fh)


if __name__ == "__main__":
    main()
