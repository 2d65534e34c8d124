"""Builds what the GPU tests need without the Hub: a tokenizer trained here with
`tokenizers` (wrapped as PreTrainedTokenizerFast with a chat template), a tiny
Llama-architecture model from LlamaConfig, telecom-support chat data, configs,
and a way to run the runner as a subprocess and read its events."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from typing import Dict, List, Optional, Tuple

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if RUNNER_DIR not in sys.path:
    sys.path.insert(0, RUNNER_DIR)

from tunelab_runner.events import parse_event_line  # noqa: E402
from tunelab_runner.templates import JINJA  # noqa: E402


def have(mod: str) -> bool:
    return importlib.util.find_spec(mod) is not None


def cuda_reason() -> Optional[str]:
    """None when torch, transformers, peft and a CUDA GPU are there; else why not."""
    for mod in ("torch", "transformers", "peft", "tokenizers"):
        if not have(mod):
            return f"{mod} is not installed: GPU tests need torch, transformers, peft, tokenizers and a CUDA GPU"
    import torch
    if not torch.cuda.is_available():
        return "no CUDA GPU (torch.cuda.is_available() is False)"
    return None


def bitsandbytes_reason() -> Optional[str]:
    try:
        import bitsandbytes  # noqa: F401
    except Exception as exc:  # noqa: BLE001
        return f"bitsandbytes is not importable ({type(exc).__name__}: {exc}): QLoRA run skipped"
    return None


# ------------------------------------------------------------------ data

ISSUES = [
    ("My internet has been down since this morning.",
     "I am sorry about that. I see an outage in your area; it should be fixed within two hours."),
    ("My bill is higher than usual this month.",
     "I checked your account: there is a roaming charge of 12 euros from last week."),
    ("How do I activate roaming before my trip?",
     "Roaming is active on your plan. Restart your phone when you land to connect."),
    ("My SIM card is not detected by the phone.",
     "Please take the SIM out, clean it, and put it back. If it still fails we will send a new one for free."),
    ("Can I get 5G on my current plan?",
     "Yes, your plan includes 5G. Turn it on in the mobile network settings of your phone."),
    ("The router light is blinking red.",
     "A red light means no signal on the line. Unplug the router for thirty seconds and plug it back in."),
    ("I want to cancel my contract.",
     "I can help with that. Your contract ends next month, so there is no cancellation fee."),
    ("My calls keep dropping at home.",
     "I have enabled WiFi calling on your line; calls will use your home internet from now on."),
]
NAMES = ["Anna", "Ben", "Chloe", "David", "Emma", "Farid"]
FOLLOW = [("Thank you, that helps.", "You are welcome. Is there anything else I can do for you?"),
          ("Will this happen again?", "We are replacing the equipment in your area next week, so it should not.")]


def telecom_conversations(n: int = 48, seed: int = 0) -> List[Dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        q, a = ISSUES[i % len(ISSUES)]
        name = NAMES[i % len(NAMES)]
        msgs = [{"role": "user", "content": f"Hello, this is {name}. {q}"},
                {"role": "assistant", "content": a}]
        if i % 3 == 0:
            fq, fa = FOLLOW[rng.randrange(len(FOLLOW))]
            msgs += [{"role": "user", "content": fq}, {"role": "assistant", "content": fa}]
        rows.append({"messages": msgs})
    return rows


def write_jsonl(path: str, rows: List[Dict]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    return path


# ------------------------------------------------------------------ tokenizer / model

SPECIAL = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(out_dir: str, texts: List[str], vocab_size: int = 800):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    tk = Tokenizer(models.BPE(unk_token=None))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(texts, trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="<|im_end|>", pad_token="<pad>")
    tok.chat_template = JINJA["chatml"]
    tok.save_pretrained(out_dir)
    return tok


def build_model(out_dir: str, tok, hidden: int = 512, layers: int = 2):
    """hidden 512: with a frozen random lm_head (std 0.02) the largest logit a
    LoRA can reach is about 0.02 x hidden, so a narrower model caps how far a
    LoRA loss can fall (hidden 128 plateaus near 4.5 nats on 800 tokens)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=8, num_key_value_heads=4,
                         max_position_embeddings=1024, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                         tie_word_embeddings=False)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(out_dir)
    return model


def make_fixture(root: str) -> Dict[str, str]:
    """Tokenizer + model in root/base, data in root/data."""
    base = os.path.join(root, "base")
    data = os.path.join(root, "data")
    os.makedirs(base, exist_ok=True)
    os.makedirs(data, exist_ok=True)
    rows = telecom_conversations(48)
    texts = [m["content"] for r in rows for m in r["messages"]] * 4
    texts += ["Acme Telecom support: mobile, internet, TV and billing."] * 4
    tok = build_tokenizer(base, texts)
    build_model(base, tok)
    write_jsonl(os.path.join(data, "train.jsonl"), rows)
    write_jsonl(os.path.join(data, "eval.jsonl"), telecom_conversations(8, seed=1))
    write_jsonl(os.path.join(data, "general.jsonl"),
                [{"text": f"Acme Telecom was founded in {1990 + i}. It serves mobile and fixed lines."}
                 for i in range(10)])
    return {"root": root, "base": base, "data": data}


def write_config(path: str, fixture: Dict[str, str], method: str = "lora", training: Optional[Dict] = None,
                 data: Optional[Dict] = None, export: Optional[Dict] = None, extra: str = "") -> str:
    import yaml
    doc = {
        "method": method,
        "model": {"name_or_path": fixture["base"], "dtype": "bfloat16", "attn_implementation": "sdpa"},
        "data": {"train_file": os.path.join(fixture["data"], "train.jsonl"), "format": "messages",
                 "chat_template": "model", "system_prompt": "You are the support assistant of Acme Telecom.",
                 "max_length": 256, "completion_only_loss": True, "packing": False},
        "training": {"output_dir": os.path.join(os.path.dirname(path), "out"), "max_steps": 40,
                     "per_device_train_batch_size": 8, "learning_rate": 3e-3, "lr_scheduler_type": "constant",
                     "logging_steps": 5, "save_strategy": "no", "bf16": True, "gradient_checkpointing": True,
                     "optim": "adamw_torch_fused", "seed": 0, "dataloader_num_workers": 0},
        "export": {"adapter": True, "merge": True, "dtype": "bfloat16", "max_shard_size": "5GB"},
    }
    if method in ("lora", "qlora"):
        doc["lora"] = {"r": 16, "lora_alpha": 32, "lora_dropout": 0.0, "target_modules": "all-linear"}
    if method == "qlora":
        doc["quantization"] = {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                               "bnb_4bit_compute_dtype": "bfloat16", "bnb_4bit_use_double_quant": True}
        doc["prepare_model_for_kbit_training"] = True
    if method == "full":
        doc["export"] = {"merge": True, "dtype": "bfloat16"}
    doc["training"].update(training or {})
    doc["data"].update(data or {})
    if export is not None:
        doc["export"] = export
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        yaml.safe_dump(doc, fh, sort_keys=False)
        fh.write(extra)
    return path


def runner_env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = RUNNER_DIR + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")  # no Hub on the GPU machines: fail fast, never wait on the network
    return env


def run_runner(args: List[str], timeout: int = 300) -> Tuple[int, List[Dict], str]:
    proc = subprocess.run([sys.executable, "-m", "tunelab_runner"] + args, cwd=RUNNER_DIR, env=runner_env(),
                          capture_output=True, text=True, timeout=timeout)
    events = [e for e in (parse_event_line(l) for l in proc.stdout.splitlines()) if e]
    return proc.returncode, events, proc.stdout + "\n--- stderr ---\n" + proc.stderr[-6000:]


def read_events(path: str) -> List[Dict]:
    with open(path) as fh:
        return [json.loads(l) for l in fh if l.strip()]


def of(events: List[Dict], kind: str) -> List[Dict]:
    return [e for e in events if e["event"] == kind]
