"""The model and tokenizer the template runs train: the shapes (SHAPES: random-init
Llama-3.2-1B and Qwen2.5-0.5B), build_assets_child (run in its own process as
`template_runs.py --_build SPEC`: trains the byte-level BPE tokenizer on the template's
train chats, builds and saves the bf16 model, checks both as the runner loads them,
writes MODEL_DONE), and ensure_model, which reuses a built model dir, writes only its
config.json in a dry run, or starts that child process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Dict, Optional, Tuple

from template_run_common import HERE, RUNNER_DIR, TEMPLATE_DIR, say
from template_run_process import runner_env

BUILD_ENTRY = os.path.join(HERE, "template_runs.py")   # its --_build SPEC runs build_assets_child

# Llama-3.2-1B (meta-llama/Llama-3.2-1B config.json; its llama3 rope scaling is left out:
# it changes the rotary frequencies, not the cost or the memory of a step).
SHAPE_1B = dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                num_key_value_heads=8, head_dim=64, vocab_size=128256, tie_word_embeddings=True,
                rope_theta=500000.0, max_position_embeddings=131072, rms_norm_eps=1e-5, hidden_act="silu")
# Qwen2.5-0.5B (Qwen/Qwen2.5-0.5B config.json): the second shape of runner/bench/whole_runs.py, another
# family (biased q/k/v, 2 kv heads, a 152k vocabulary) at half the size.
SHAPE_05B = dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True, rope_theta=1000000.0,
                 max_position_embeddings=32768, rms_norm_eps=1e-6, hidden_act="silu")
# shape name -> (model_type, architecture, shape, model dir name)
SHAPES = {"1b": ("llama", "LlamaForCausalLM", SHAPE_1B, "model-llama-3.2-1b-shape"),
          "0.5b": ("qwen2", "Qwen2ForCausalLM", SHAPE_05B, "model-qwen2.5-0.5b-shape")}
# Llama-3 style special tokens; ids 0..4 in the trained tokenizer.
BOS, EOS = "<|begin_of_text|>", "<|end_of_text|>"
SPECIAL_TOKENS = [BOS, EOS, "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
MODEL_DONE = ".template_runs_complete"   # written last: a half-built model dir is rebuilt


def build_assets_child(spec_path: str) -> int:
    """Runs in its own process (--_build SPEC): trains the tokenizer, builds and saves
    the model, checks both as the runner will load them, writes MODEL_DONE."""
    with open(spec_path) as fh:
        spec = json.load(fh)
    model_dir = spec["model_dir"]
    os.makedirs(model_dir, exist_ok=True)
    t0 = time.time()
    import torch
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, LlamaConfig, PreTrainedTokenizerFast

    from tunelab_runner.templates import JINJA, MARKERS, normalize_messages, render_named, with_system_prompt

    rows = []
    with open(spec["train_file"], encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
    system_prompt = spec.get("system_prompt") or ""
    texts = [m["content"] for r in rows for m in r.get("messages", []) if isinstance(m.get("content"), str)]
    texts += [system_prompt] * 20 + ["system", "user", "assistant"] * 20
    tk = Tokenizer(models.BPE(unk_token=None))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=int(spec["vocab_size"]), special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tk.train_from_iterator(texts, trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token=BOS, eos_token=EOS)
    tok.chat_template = JINJA["llama-3"]
    tok.save_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)   # as the runner loads it
    problems = []
    for marker in MARKERS["llama-3"] + (BOS, EOS):
        ids = tok(marker, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            problems.append(f"{marker} -> {ids}")
    if tok.bos_token_id is None or tok.eos_token_id is None:
        problems.append(f"bos/eos ids {tok.bos_token_id}/{tok.eos_token_id}")
    if problems:
        raise SystemExit("tokenizer check failed: " + "; ".join(problems))
    say(f"[build] tokenizer: {len(tok)} tokens, bos {tok.bos_token_id}, eos {tok.eos_token_id}, "
        f"pad {tok.pad_token_id} ({time.time() - t0:.0f}s)")

    model_type, _arch, shape, _dir = SHAPES[spec.get("shape", "1b")]
    config_class = LlamaConfig
    if model_type == "qwen2":
        from transformers import Qwen2Config
        config_class = Qwen2Config
    config = config_class(**shape, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                          pad_token_id=None)
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    n_params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(model_dir)
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    saved = AutoConfig.from_pretrained(model_dir)
    # the special-token ids must be the tokenizer's (fatal); the shape is checked as a warning
    for key, want, fatal in (("bos_token_id", tok.bos_token_id, True), ("eos_token_id", tok.eos_token_id, True),
                             ("vocab_size", shape["vocab_size"], True), ("tie_word_embeddings", True, False),
                             ("hidden_size", shape["hidden_size"], False),
                             ("num_hidden_layers", shape["num_hidden_layers"], False),
                             ("num_key_value_heads", shape["num_key_value_heads"], False),
                             ("max_position_embeddings", shape["max_position_embeddings"], False)):
        got = getattr(saved, key, None)
        if got != want:
            if fatal:
                raise SystemExit(f"saved config {key} = {got!r}, expected {want!r}")
            say(f"[build] warning: saved config {key} = {got!r}, expected {want!r}")
    if getattr(saved, "pad_token_id", None) is not None:
        say(f"[build] warning: saved config has pad_token_id {saved.pad_token_id} (expected none, as Llama-3.2-1B)")
    say(f"[build] rope: {getattr(saved, 'rope_parameters', None) or getattr(saved, 'rope_theta', None)}")

    lengths = []
    for r in rows:
        msgs = with_system_prompt(normalize_messages(r["messages"]), system_prompt or None)
        text, _ = render_named("llama-3", msgs, tok.bos_token, tok.eos_token)
        lengths.append(len(tok(text, add_special_tokens=False)["input_ids"]))
    lengths.sort()
    versions = {"torch": torch.__version__, "transformers": transformers.__version__,
                "cuda": torch.version.cuda,
                "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    for mod in ("peft", "tokenizers", "accelerate"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            versions[mod] = None
    info = {"model_dir": model_dir, "params": n_params, "shape": shape, "model_type": model_type, "tokenizer_vocab": len(tok),
            "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id, "pad_token_id": None,
            "train_chat_tokens": {"mean": round(statistics.mean(lengths), 1), "median": lengths[len(lengths) // 2],
                                  "max": lengths[-1], "total": sum(lengths)},
            "versions": versions, "build_seconds": round(time.time() - t0, 1)}
    with open(os.path.join(model_dir, MODEL_DONE), "w") as fh:
        json.dump(info, fh, indent=2)
    say(f"[build] model {n_params / 1e9:.3f} B params saved in {model_dir}; train chats "
        f"{info['train_chat_tokens']} tokens ({time.time() - t0:.0f}s)")
    return 0


def ensure_model(work: str, vocab_size: int, system_prompt: str, dry_run: bool,
                 shape_name: str = "1b") -> Tuple[str, Optional[Dict]]:
    model_type, arch, shape, dir_name = SHAPES[shape_name]
    model_dir = os.path.join(work, dir_name)
    done = os.path.join(model_dir, MODEL_DONE)
    if os.path.exists(done):
        with open(done) as fh:
            info = json.load(fh)
        say(f"model: reusing {model_dir}")
        return model_dir, info
    if dry_run:
        # only so that `tunelab estimate` can read the shape; a real run rebuilds (no MODEL_DONE)
        os.makedirs(model_dir, exist_ok=True)
        cfg = dict(shape, architectures=[arch], model_type=model_type, bos_token_id=0,
                   eos_token_id=1, dtype="bfloat16")
        with open(os.path.join(model_dir, "config.json"), "w") as fh:
            json.dump(cfg, fh, indent=2)
        say(f"model (dry run): would build into {model_dir}; wrote its config.json only")
        return model_dir, None
    spec = os.path.join(work, f"build-spec-{dir_name}.json")   # one per shape: built side by side
    with open(spec, "w") as fh:
        json.dump({"model_dir": model_dir, "train_file": os.path.join(TEMPLATE_DIR, "data", "train.jsonl"),
                   "system_prompt": system_prompt, "vocab_size": vocab_size, "shape": shape_name}, fh)
    say(f"model: building tokenizer + {dir_name} into {model_dir}")
    t0 = time.time()
    proc = subprocess.run([sys.executable, BUILD_ENTRY, "--_build", spec], cwd=RUNNER_DIR,
                          env=runner_env(), timeout=900)
    if proc.returncode != 0 or not os.path.exists(done):
        raise SystemExit(f"building the model failed (exit {proc.returncode})")
    with open(done) as fh:
        info = json.load(fh)
    say(f"model: ready in {time.time() - t0:.0f}s")
    return model_dir, info
