"""Re-measures the shipped telecom-support templates as whole runs of the runner.

For each template (lora, full, qlora; qlora is skipped, with the reason, when
bitsandbytes does not import) and each data.packing value (--packing
both|true|false), the template's YAML is loaded and written back with PyYAML,
every setting kept except:

  model.name_or_path          a local random-init model of the Llama-3.2-1B shape
                              (hidden 2048, 16 layers, 32 heads, 8 kv heads,
                              intermediate 8192, vocab 128256, tied embeddings,
                              rope_theta 500000, max_position_embeddings 131072),
                              saved once in bf16 with a byte-level BPE tokenizer
                              (~8k tokens) trained here on the template's train data
  data.train_file, data.eval_file, data.general_data.file
                              absolute paths to templates/telecom-support/data/
  data.packing                true / false
  training.max_steps          30 (--max-steps); num_train_epochs is left in place
                              (max_steps wins)
  training.eval_strategy/eval_steps   steps / 20 (--eval-steps)
  training.logging_steps      1 (--logging-steps; `template` keeps the template's 10):
                              one step event per optimizer step, so that tokens/s
                              is a median over steps, not 3 windows of 10
  training.save_strategy      "no" unless --keep-saves: with `steps` the Trainer also
                              saves a checkpoint at the last step (max_steps), which
                              for full fine-tuning writes ~7 GB and is no part of
                              what is measured here
  training.output_dir         a temporary directory (deleted after each run)
  export.adapter/merge        false (nothing is exported); export.output_dir under
                              the temporary directory
  evaluation                  removed unless --keep-evaluation: its generation after
                              training outlasts the 30 steps on a random model
The chat format stays the template's (data.chat_template: llama-3): the tokenizer
carries <|begin_of_text|>, <|end_of_text|>, <|start_header_id|>, <|end_header_id|>
and <|eot_id|> as single special tokens, bos/eos ids in the model config are the
tokenizer's, and like the real Llama-3.2-1B base there is no pad token (the runner
pads with eos) and no pad_token_id in the model config (no zeroed embedding row).

Each run is one `python -m tunelab_runner train CFG` process (cwd runner/) while a
thread samples `nvidia-smi --query-gpu=memory.used` every 0.2 s. From the events
(runner/EVENTS.md):
  tok/s          median of the step events' tokens_per_second for steps > 3,
                 leaving out the step right after an evaluation (its window holds
                 the evaluation)
  alloc train    gpu_memory.peak_allocated_bytes of the last step event before the
                 first eval event (the runner resets the peak just before training)
  alloc whole    max of every step's peak and the end event's
                 metrics.peak_memory_allocated_bytes (training + both evaluations)
  reserved       end metrics.peak_memory_reserved_bytes (else the largest step
                 reserved_bytes)
  nvidia-smi     the largest memory.used sampled during the process (whole GPU)
  train s        30 steps: last step event - start event, less the in-training
                 evaluation (eval event - the step event it follows); JSON also has
                 first-to-last step event, evaluation, after-training and process seconds
  final loss     loss of the last step event (JSON: also train_loss and eval_loss)
--bisect: the smallest per-process cap (GiB, --bisect-step 0.5) the run completes
in, set through TUNELAB_BENCH_MEMORY_CAP_GIB read by a sitecustomize.py in a temp
dir put first on PYTHONPATH (torch.cuda.set_per_process_memory_fraction). Bisects
between the whole-run allocated peak (fails) and the nvidia-smi peak + 1 GiB
(assumed to pass), at most --bisect-runs capped runs per config; a run that
exits 4 (oom) is below the cap. The cap bounds PyTorch's caching allocator only:
the CUDA context and QLoRA's paged 8-bit optimizer states (CUDA managed memory)
are outside it.
When `node` and dist/cli.js are there, `tunelab estimate --format json --offline`
of each config is recorded too (and, when the config's hardware.gpu is another
GPU, the same estimate with --gpu <this GPU's name>).

Run (one GPU; no network needed):
  python runner/bench/template_runs.py [--out DIR] [--packing both|true|false]
      [--methods lora,full,qlora] [--bisect] [--work DIR] [--dry-run]
  --dry-run writes the configs, checks each with `python -m tunelab_runner plan`,
  records the estimates and prints the commands; it needs neither torch nor a GPU.
Results: DIR/template_runs.json and DIR/template_runs.md (DIR: --out, else $OUT,
else runner/bench/results), rewritten after every run; each run's config, full log
and events in DIR/template_runs-logs/.

Time: Tunelab's own estimate (dry run, H100) of the 30 training steps is 81 s
lora packed, 88 s lora unpacked, 59 s / 63 s full, 150 s / 247 s qlora, plus
~35 s per process for imports, tokenizing, loading and the two evaluations:
~15 min for all six. To stay within 10-minute commands, split the runs and reuse
the model with one --work folder, e.g.
  python runner/bench/template_runs.py --methods lora,full --work /tmp/tl-bench --budget-s 560
  PYTHONPATH=/path/to/bitsandbytes python runner/bench/template_runs.py --methods qlora \
      --work /tmp/tl-bench --tag qlora --budget-s 560
--budget-s skips a run that would not end in time (estimate x1 + 35 s); --bisect
adds up to --bisect-runs whole runs per config, so use it on one config at a time
(e.g. --methods lora --packing true --bisect).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(RUNNER_DIR)
TEMPLATE_DIR = os.path.join(REPO_ROOT, "templates", "telecom-support")
if RUNNER_DIR not in sys.path:
    sys.path.insert(0, RUNNER_DIR)

from tunelab_runner.events import EXIT_OOM, parse_event_line  # noqa: E402  (pure Python)

METHODS = ("lora", "full", "qlora")
GIB = 2 ** 30

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
CAP_ENV = "TUNELAB_BENCH_MEMORY_CAP_GIB"
PROCESS_OVERHEAD_S = 35   # per runner process besides training: imports, tokenizing, loading, 2 evaluations

SITECUSTOMIZE = '''"""Written by runner/bench/template_runs.py: caps this process's PyTorch CUDA memory to
$%(env)s GiB (torch.cuda.set_per_process_memory_fraction), then runs any sitecustomize
this one shadows."""
import os as _os
import sys as _sys


def _tunelab_cap():
    cap = _os.environ.get("%(env)s")
    if not cap:
        return
    try:
        import torch
        if not torch.cuda.is_available():
            return
        total = torch.cuda.get_device_properties(0).total_memory
        frac = min(1.0, float(cap) * %(gib)d / total)
        torch.cuda.set_per_process_memory_fraction(frac, 0)
        _sys.stderr.write("[template_runs sitecustomize] CUDA memory cap %%s GiB = %%.4f of %%.1f GiB\\n"
                          %% (cap, frac, total / %(gib)d))
    except Exception as exc:  # never break the runner
        _sys.stderr.write("[template_runs sitecustomize] memory cap not set: %%r\\n" %% (exc,))


def _tunelab_chain():
    import importlib.machinery
    import importlib.util
    here = _os.path.dirname(_os.path.abspath(__file__))
    rest = [p for p in _sys.path if _os.path.abspath(p or _os.getcwd()) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)


_tunelab_cap()
try:
    _tunelab_chain()
except Exception as _exc:
    _sys.stderr.write("[template_runs sitecustomize] shadowed sitecustomize failed: %%r\\n" %% (_exc,))
''' % {"env": CAP_ENV, "gib": GIB}


def say(*parts: Any) -> None:
    print(*parts, flush=True)


def gib(x: Optional[float]) -> Optional[float]:
    return None if x is None else x / GIB


def fmt(x: Optional[float], spec: str = ".1f", dash: str = "—") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return dash
    return format(x, spec)


# ------------------------------------------------------------------ environment

def runner_env(extra_pythonpath: Optional[str] = None) -> Dict[str, str]:
    env = dict(os.environ)
    parts = ([extra_pythonpath] if extra_pythonpath else []) + [RUNNER_DIR]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])   # e.g. a bitsandbytes build
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")       # no Hub: fail fast, never wait on the network
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    env.setdefault("HF_DATASETS_OFFLINE", "1")
    env.pop(CAP_ENV, None)
    return env


def bitsandbytes_reason() -> Optional[str]:
    """None when bitsandbytes imports in a fresh process with the runner's environment.
    A subprocess, so that this process never imports torch or touches the GPU (its
    CUDA context would show in nvidia-smi during the runs)."""
    try:
        proc = subprocess.run([sys.executable, "-c", "import bitsandbytes, sys; sys.stdout.write(bitsandbytes.__version__)"],
                              cwd=RUNNER_DIR, env=runner_env(), capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return "importing bitsandbytes took over 180 s"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"bitsandbytes is not importable ({last[:300]}); set PYTHONPATH to a build to include QLoRA"
    return None


def gpu_index() -> str:
    cvd = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    return cvd.split(",")[0].strip() if cvd else "0"


def nvidia_smi(query: str) -> Optional[str]:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        proc = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader,nounits",
                               "-i", gpu_index()], capture_output=True, text=True, timeout=10)
    except (subprocess.TimeoutExpired, OSError):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return proc.stdout.strip().splitlines()[0].strip()


class SmiSampler(threading.Thread):
    """Samples nvidia-smi memory.used (MiB) every `period` s; keeps the max."""

    def __init__(self, period: float = 0.2):
        super().__init__(daemon=True)
        self.period = period
        self.stop_flag = threading.Event()
        self.peak_mib: Optional[int] = None
        self.samples = 0
        self.available = shutil.which("nvidia-smi") is not None

    def run(self) -> None:
        if not self.available:
            return
        while not self.stop_flag.is_set():
            t0 = time.time()
            out = nvidia_smi("memory.used")
            if out is not None:
                try:
                    v = int(float(out))
                    self.samples += 1
                    self.peak_mib = v if self.peak_mib is None else max(self.peak_mib, v)
                except ValueError:
                    pass
            self.stop_flag.wait(max(0.0, self.period - (time.time() - t0)))

    def stop(self) -> None:
        self.stop_flag.set()
        self.join(timeout=15)


# ------------------------------------------------------------------ model + tokenizer (child process)

def template_path(method: str) -> str:
    return os.path.join(TEMPLATE_DIR, f"{method}.finetune.yaml")


def load_template(method: str) -> Tuple[str, Dict[str, Any]]:
    import yaml
    with open(template_path(method), encoding="utf-8") as fh:
        text = fh.read()
    return text, yaml.safe_load(text)


def resolve(path: str, base: str) -> str:
    path = os.path.expanduser(str(path))
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base, path))


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
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_build", spec], cwd=RUNNER_DIR,
                          env=runner_env(), timeout=900)
    if proc.returncode != 0 or not os.path.exists(done):
        raise SystemExit(f"building the model failed (exit {proc.returncode})")
    with open(done) as fh:
        info = json.load(fh)
    say(f"model: ready in {time.time() - t0:.0f}s")
    return model_dir, info


# ------------------------------------------------------------------ configs

def make_config(method: str, packing: bool, model_dir: str, run_dir: str, a) -> Tuple[Dict[str, Any], List[Dict]]:
    """The template's document with the bench's changes; also the list of changes."""
    _text, doc = load_template(method)
    doc = copy.deepcopy(doc)
    changes: List[Dict] = []

    def setp(path: str, value: Any) -> None:
        keys = path.split(".")
        node = doc
        for k in keys[:-1]:
            if not isinstance(node.get(k), dict):
                node[k] = {}
            node = node[k]
        old = node.get(keys[-1], "<unset>")
        if old != value:
            changes.append({"key": path, "template": old, "bench": value})
        node[keys[-1]] = value

    setp("model.name_or_path", model_dir)
    data = doc.get("data") or {}
    for key in ("train_file", "eval_file"):
        if data.get(key):
            setp(f"data.{key}", resolve(data[key], TEMPLATE_DIR))
    gd = data.get("general_data")
    if isinstance(gd, dict) and gd.get("file"):
        setp("data.general_data.file", resolve(gd["file"], TEMPLATE_DIR))
    setp("data.packing", bool(packing))
    setp("training.max_steps", int(a.max_steps))
    setp("training.eval_strategy", "steps")
    setp("training.eval_steps", int(a.eval_steps))
    if a.logging_steps != "template":
        setp("training.logging_steps", int(a.logging_steps))
    if not a.keep_saves:
        setp("training.save_strategy", "no")
    setp("training.output_dir", os.path.join(run_dir, "out"))
    # nothing exported (keeps each run short); adapter defaults to true for lora/qlora
    if method != "full":
        setp("export.adapter", False)
    setp("export.merge", False)
    setp("export.output_dir", os.path.join(run_dir, "out", "export"))
    # the evaluation after training generates the task's replies: on a random model that
    # never says EOS, 50 × 256 tokens took longer than the 30 training steps (H100, 2026-12-06)
    if doc.get("evaluation") is not None and not a.keep_evaluation:
        changes.append({"key": "evaluation", "template": "as shipped", "bench": "<removed>"})
        doc.pop("evaluation")
    return doc, changes


def write_config(doc: Dict[str, Any], path: str) -> str:
    import yaml
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# written by runner/bench/template_runs.py from templates/telecom-support\n")
        yaml.safe_dump(doc, fh, sort_keys=False, allow_unicode=True, width=100)
    return path


def check_plan(cfg: str) -> Tuple[bool, str]:
    """`python -m tunelab_runner plan CFG` (no torch): the config is valid for the runner."""
    proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "plan", cfg], cwd=RUNNER_DIR, env=runner_env(),
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return False, (proc.stdout + proc.stderr)[-2000:]
    try:
        plan = json.loads(proc.stdout)
    except ValueError:
        return False, proc.stdout[-2000:]
    warnings = plan.get("warnings") or []
    tkw = plan["steps"]["training"]["kwargs"]
    summary = (f"plan ok: max_steps {tkw.get('max_steps')}, eval {tkw.get('eval_strategy')}/{tkw.get('eval_steps')}, "
               f"batch {tkw.get('per_device_train_batch_size')}x{tkw.get('gradient_accumulation_steps', 1)}, "
               f"eval batch {tkw.get('per_device_eval_batch_size')}, packing {plan['steps']['data']['packing']}, "
               f"chat_template {plan['steps']['data']['chat_template']}, save {tkw.get('save_strategy')}, "
               f"export adapter {plan['steps']['export']['adapter']} merge {plan['steps']['export']['merge']}")
    if warnings:
        summary += "; warnings: " + " | ".join(warnings)
    return True, summary


def tunelab_estimate(cfg: str, gpu: Optional[str] = None) -> Dict[str, Any]:
    node = shutil.which("node")
    cli = os.path.join(REPO_ROOT, "dist", "cli.js")
    if node is None or not os.path.exists(cli):
        return {"skipped": f"{'node' if node is None else 'dist/cli.js'} not found"}
    cmd = [node, cli, "estimate", "--offline", "--format", "json"] + (["--gpu", gpu] if gpu else []) + [cfg]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return {"error": "estimate timed out"}
    try:
        est = json.loads(proc.stdout)
    except ValueError:
        return {"error": f"exit {proc.returncode}: {(proc.stdout + proc.stderr)[-500:]}"}
    tt = est.get("train_time") or {}
    return {"per_gpu_bytes": est.get("per_gpu_bytes"), "seconds": tt.get("seconds_estimate"),
            "tokens": tt.get("tokens"), "steps": tt.get("steps"), "gpu": (est.get("gpu") or {}).get("id"), "peak_phase": est.get("peak_phase"),
            "json": est}


# ------------------------------------------------------------------ one run

def run_once(cfg: str, log_path: str, timeout: int, cap_gib: Optional[float] = None,
             site_dir: Optional[str] = None, quiet: bool = False, sample_smi: bool = True) -> Dict[str, Any]:
    env = runner_env(site_dir if cap_gib is not None else None)
    if cap_gib is not None:
        env[CAP_ENV] = f"{cap_gib:g}"
    cmd = [sys.executable, "-m", "tunelab_runner", "train", cfg]
    baseline = nvidia_smi("memory.used")
    sampler = SmiSampler(0.2)
    sampler.available = sampler.available and sample_smi   # concurrent runs: the whole GPU's figure means nothing
    sampler.start()
    t0 = time.time()
    events: List[Dict] = []
    timed_out = {"v": False}
    with open(log_path, "w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + (f"   ({CAP_ENV}={cap_gib:g})" if cap_gib is not None else "") + "\n")
        log.flush()
        # same process group as this script: whatever kills this script's group kills the run too
        proc = subprocess.Popen(cmd, cwd=RUNNER_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, errors="replace")

        def kill(why_timeout: bool = True):
            timed_out["v"] = timed_out["v"] or why_timeout
            try:
                proc.kill()
            except OSError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                ev = parse_event_line(line) if line.startswith("@tunelab") else None
                if ev is None:
                    continue
                events.append(ev)
                if not quiet:
                    live(ev)
            rc = proc.wait()
        except KeyboardInterrupt:
            kill(False)
            proc.wait()
            raise
        finally:
            timer.cancel()
            sampler.stop()
    wall = time.time() - t0
    return {"exit_code": rc, "timed_out": timed_out["v"], "process_seconds": round(wall, 2), "events": events,
            "smi_peak_mib": sampler.peak_mib, "smi_samples": sampler.samples,
            "smi_baseline_mib": int(float(baseline)) if baseline else None}


def live(ev: Dict[str, Any]) -> None:
    kind = ev.get("event")
    if kind == "status":
        say(f"    . {ev.get('stage')}")
    elif kind == "warning":
        say(f"    ! warning: {ev.get('message')}")
    elif kind == "start":
        d = ev.get("data") or {}
        pk = d.get("packing")
        say(f"    . start: {ev.get('params')}, {ev.get('estimated_steps')} steps, effective batch "
            f"{ev.get('effective_batch')}, train {d.get('train', {}).get('samples')} samples "
            f"(mean {d.get('train', {}).get('mean_length')} tokens)" + (f", packed rows {pk}" if pk else ""))
    elif kind == "step":
        step, mx = ev.get("step"), ev.get("max_steps")
        if step in (1, 2, 3) or step == mx or (isinstance(step, int) and step % 5 == 0):
            mem = ev.get("gpu_memory") or {}
            say(f"    step {step}/{mx} loss {fmt(ev.get('loss'), '.3f')} tok/s {fmt(ev.get('tokens_per_second'), ',.0f')} "
                f"peak alloc {fmt(gib(mem.get('peak_allocated_bytes')), '.2f')} GiB reserved "
                f"{fmt(gib(mem.get('reserved_bytes')), '.2f')} GiB")
    elif kind == "eval":
        say(f"    eval at step {ev.get('step')}: eval_loss {fmt((ev.get('metrics') or {}).get('eval_loss'), '.3f')}")
    elif kind == "error":
        say(f"    ! error {ev.get('type')}: {str(ev.get('message'))[:400]}")
    elif kind == "end":
        say(f"    . end: {ev.get('status')} (exit {ev.get('exit_code')})")


def read_events_file(path: str) -> Optional[List[Dict]]:
    if not os.path.exists(path):
        return None
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def summarize(events: List[Dict], warmup_steps: int = 3) -> Dict[str, Any]:
    """The figures of one run from its events (EVENTS.md field names)."""
    steps = [e for e in events if e.get("event") == "step"]
    evals = [e for e in events if e.get("event") == "eval"]
    start = next((e for e in events if e.get("event") == "start"), None)
    end = next((e for e in reversed(events) if e.get("event") == "end"), None)
    error = next((e for e in events if e.get("event") == "error"), None)

    # step events before the first eval, and steps whose window holds an eval
    before_eval: List[Dict] = []
    after_eval_steps = set()
    seen_eval = False
    pending_eval = False
    for e in events:
        if e.get("event") == "eval":
            seen_eval = True
            pending_eval = True
        elif e.get("event") == "step":
            if not seen_eval:
                before_eval.append(e)
            if pending_eval:
                after_eval_steps.add(e.get("step"))
                pending_eval = False
    tps = [e["tokens_per_second"] for e in steps
           if isinstance(e.get("step"), int) and e["step"] > warmup_steps and e.get("step") not in after_eval_steps
           and e.get("tokens_per_second") is not None]

    def mem(e, key):
        return (e.get("gpu_memory") or {}).get(key)

    train_set = before_eval or steps
    alloc_train = mem(train_set[-1], "peak_allocated_bytes") if train_set else None
    reserved_train = max([mem(e, "reserved_bytes") or 0 for e in train_set] or [0]) or None
    metrics = (end or {}).get("metrics") or {}
    allocs = [mem(e, "peak_allocated_bytes") for e in steps] + [metrics.get("peak_memory_allocated_bytes")]
    allocs = [x for x in allocs if x is not None]
    reserved_whole = metrics.get("peak_memory_reserved_bytes")
    if reserved_whole is None:
        res = [mem(e, "reserved_bytes") for e in steps if mem(e, "reserved_bytes") is not None]
        reserved_whole = max(res) if res else None

    # times
    t_start = start["time"] if start else None
    t_first = steps[0]["time"] if steps else None
    t_last = steps[-1]["time"] if steps else None
    eval_in_train = 0.0
    eval_durations = []
    prev_time = None
    for e in events:
        if e.get("event") == "eval":
            if prev_time is not None:
                eval_durations.append(round(e["time"] - prev_time, 2))
                if t_last is not None and e["time"] <= t_last:
                    eval_in_train += e["time"] - prev_time
        if e.get("event") in ("step", "eval", "start"):
            prev_time = e.get("time")
    train_s = (t_last - t_start - eval_in_train) if (t_start is not None and t_last is not None) else None
    tokens = steps[-1].get("tokens") if steps else None
    losses = [e.get("loss") for e in steps if e.get("loss") is not None]
    return {
        "status": (end or {}).get("status"), "end_exit_code": (end or {}).get("exit_code"),
        "error": {k: error.get(k) for k in ("type", "message", "hint")} if error else None,
        "steps": steps[-1].get("step") if steps else 0,
        "tokens_per_second_median": statistics.median(tps) if tps else None,
        "tokens_per_second_values": len(tps),
        "tokens_per_second_whole_training": (tokens / train_s) if (tokens and train_s) else None,
        "tokens_trained": tokens,
        "alloc_peak_training_bytes": alloc_train,
        "alloc_peak_whole_bytes": max(allocs) if allocs else None,
        "reserved_training_bytes": reserved_train,
        "reserved_peak_bytes": reserved_whole,
        "train_seconds": round(train_s, 2) if train_s is not None else None,
        "first_to_last_step_seconds": round(t_last - t_first, 2) if (t_first and t_last) else None,
        "eval_in_training_seconds": round(eval_in_train, 2),
        "eval_seconds": eval_durations,
        "after_training_seconds": round(end["time"] - t_last, 2) if (end and t_last) else None,
        "start_to_end_seconds": round(end["time"] - t_start, 2) if (end and t_start) else None,
        "final_loss": losses[-1] if losses else None,
        "first_loss": losses[0] if losses else None,
        "train_loss": metrics.get("train_loss"),
        "eval_loss": metrics.get("eval_loss"),
        "eval_losses": [(e.get("step"), (e.get("metrics") or {}).get("eval_loss")) for e in evals],
        "params": (start or {}).get("params"),
        "effective_batch": (start or {}).get("effective_batch"),
        "data": (start or {}).get("data"),
        "end_metrics": metrics or None,
    }


def measure(name: str, cfg: str, out_dir: str, logs: str, a, cap_gib: Optional[float] = None,
            site_dir: Optional[str] = None, quiet: bool = False, sample_smi: bool = True) -> Dict[str, Any]:
    tag = name + (f"-cap{cap_gib:g}" if cap_gib is not None else "")
    log_path = os.path.join(logs, tag + ".log")
    stale = os.path.join(out_dir, "events.jsonl")
    if os.path.exists(stale):
        os.remove(stale)
    res = run_once(cfg, log_path, a.timeout, cap_gib, site_dir, quiet, sample_smi)
    # events.jsonl is the record; what stdout carried is the fallback (e.g. a run killed early)
    events = read_events_file(os.path.join(out_dir, "events.jsonl")) or res["events"]
    if events:
        with open(os.path.join(logs, tag + ".events.jsonl"), "w") as fh:
            for e in events:
                fh.write(json.dumps(e) + "\n")
    summary = summarize(events)
    res.pop("events")
    summary.update(res)
    summary["smi_peak_gib"] = summary["smi_peak_mib"] / 1024 if summary["smi_peak_mib"] is not None else None
    summary["log"] = os.path.relpath(log_path, os.path.dirname(logs))
    if cap_gib is not None:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            summary["cap_applied"] = "[template_runs sitecustomize] CUDA memory cap" in fh.read()
    if not a.keep_outputs:
        shutil.rmtree(out_dir, ignore_errors=True)
    return summary


def bisect_cap(name: str, cfg: str, out_dir: str, logs: str, a, base: Dict[str, Any], site_dir: str,
               t_begin: float) -> Dict[str, Any]:
    step = a.bisect_step
    alloc = gib(base.get("alloc_peak_whole_bytes"))
    if alloc is None:
        return {"skipped": "no allocated peak from the uncapped run"}
    upper_src = base.get("smi_peak_gib")
    if upper_src is None:
        upper_src = gib(base.get("reserved_peak_bytes"))
    if upper_src is None:
        return {"skipped": "no nvidia-smi or reserved peak from the uncapped run"}
    lo = math.floor(alloc / step) * step          # below the allocated peak: cannot pass
    hi = math.ceil((upper_src + 1.0) / step) * step  # above what the uncapped run held: assumed to pass
    trials = []
    hi_verified = False
    while hi - lo > step + 1e-9 and len(trials) < a.bisect_runs:
        if a.budget_s and time.time() - t_begin + base["process_seconds"] > a.budget_s:
            break
        mid = lo + max(1, round((hi - lo) / step / 2)) * step
        if mid >= hi:
            mid = hi - step
        say(f"    bisect [{lo:g}, {hi:g}] GiB: try {mid:g} GiB")
        r = measure(name, cfg, out_dir, logs, a, cap_gib=mid, site_dir=site_dir, quiet=True)
        ok = r["exit_code"] == 0 and r.get("status") == "completed"
        oom = r["exit_code"] == EXIT_OOM or ((r.get("error") or {}).get("type") == "oom") or (
            r["exit_code"] == 1 and "out of memory" in str((r.get("error") or {}).get("message", "")).lower())
        trials.append({"cap_gib": mid, "exit_code": r["exit_code"], "completed": ok, "oom": oom,
                       "process_seconds": r["process_seconds"], "error": r.get("error"),
                       "alloc_peak_whole_gib": gib(r.get("alloc_peak_whole_bytes")),
                       "reserved_peak_gib": gib(r.get("reserved_peak_bytes"))})
        say(f"      -> {'completed' if ok else 'OOM' if oom else 'failed'} (exit {r['exit_code']}, "
            f"{r['process_seconds']:.0f}s)")
        if not r.get("cap_applied"):
            return {"smallest_cap_gib": None, "stopped": "the sitecustomize did not set the cap (see the capped "
                    "run's log)", "lo": lo, "hi": hi, "trials": trials}
        if ok:
            hi, hi_verified = mid, True
        elif oom:
            lo = mid
        else:
            return {"smallest_cap_gib": None, "stopped": "a capped run failed for another reason than OOM",
                    "lo": lo, "hi": hi, "trials": trials}
    return {"smallest_cap_gib": hi, "verified": hi_verified, "resolution_gib": round(hi - lo, 3),
            "largest_failing_gib": lo, "trials": trials,
            "note": None if hi_verified else "upper bound (nvidia-smi peak + 1 GiB) not run: assumed to pass"}


# ------------------------------------------------------------------ report

def render(results: Dict[str, Any]) -> str:
    m = results.get("model") or {}
    tok = m.get("train_chat_tokens") or {}
    built = (f"{fmt((m.get('params') or 0) / 1e9, '.3f')} B params" if m.get("params") else "not built")
    lines = [
        "# Telecom-support templates as whole runs",
        "",
        f"Device: {results.get('device') or '?'}; {json.dumps(results.get('versions') or {})}.",
        f"Model: random-init Llama-3.2-1B shape ({built}, vocab 128256, "
        f"tied embeddings, bf16), BPE tokenizer of {m.get('tokenizer_vocab', '?')} tokens trained on the train chats "
        f"(chat with system prompt: mean {tok.get('mean', '?')}, max {tok.get('max', '?')} tokens).",
        f"Changes to each template: {results.get('changes_summary')}.",
        "tok/s: median real tokens/s of steps > 3 (the step after an evaluation left out). Allocated peak: training = "
        "last step before the first evaluation; whole = max with the end event (incl. both evaluations). "
        "nvidia-smi: max memory.used during the process (whole GPU). Train s: start to last step, less the "
        "in-training evaluation. Estimate: `tunelab estimate` of the same config on this GPU.",
        "",
        "| template | packing | tok/s | alloc peak training GiB | alloc peak whole run GiB | reserved GiB | "
        "nvidia-smi GiB | smallest cap GiB | train s (steps) | eval s | process s | final loss | estimate GiB | "
        "estimate s | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results.get("runs", []):
        est = r.get("estimate_here") or r.get("estimate") or {}
        est_cols = f"{fmt(gib(est.get('per_gpu_bytes')), '.1f')} | {fmt(est.get('seconds'), '.0f')}"
        if r.get("skipped"):
            lines.append(f"| {r['method']} | {str(r['packing']).lower()} | — | — | — | — | — | — | — | — | — | — | "
                         f"{est_cols} | skipped: {r['skipped']} |")
            continue
        b = r.get("bisect") or {}
        cap = b.get("smallest_cap_gib")
        cap_s = "—" if cap is None else (f"{cap:g}" + ("" if b.get("verified") else " (unverified)")
                                         + (f" ±{b['resolution_gib']:g}" if b.get("resolution_gib", 0) > 0.5 + 1e-9 else ""))
        status = r.get("status") or f"exit {r.get('exit_code')}"
        if r.get("timed_out"):
            status = "timed out"
        if r.get("error"):
            status += f" ({r['error'].get('type')})"
        lines.append(
            f"| {r['method']} | {str(r['packing']).lower()} | {fmt(r.get('tokens_per_second_median'), ',.0f')} | "
            f"{fmt(gib(r.get('alloc_peak_training_bytes')), '.2f')} | {fmt(gib(r.get('alloc_peak_whole_bytes')), '.2f')} | "
            f"{fmt(gib(r.get('reserved_peak_bytes')), '.2f')} | {fmt(r.get('smi_peak_gib'), '.2f')} | {cap_s} | "
            f"{fmt(r.get('train_seconds'), '.1f')} ({r.get('steps')}) | "
            f"{'+'.join(fmt(x, '.1f') for x in r.get('eval_seconds') or []) or '—'} | "
            f"{fmt(r.get('process_seconds'), '.0f')} | {fmt(r.get('final_loss'), '.3f')} | "
            f"{est_cols} | {status} |")
    notes = results.get("notes") or []
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def save(results: Dict[str, Any], out: str, stem: str) -> None:
    with open(os.path.join(out, stem + ".json"), "w") as fh:
        json.dump(results, fh, indent=2, default=str)
    with open(os.path.join(out, stem + ".md"), "w") as fh:
        fh.write(render(results))


# ------------------------------------------------------------------ main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packing", choices=("both", "true", "false"), default="both")
    ap.add_argument("--methods", default="lora,full,qlora", help="comma-separated subset of lora,full,qlora")
    ap.add_argument("--out", default=None, help="results folder (default $OUT, else runner/bench/results)")
    ap.add_argument("--tag", default="", help="suffix of the result files: template_runs-TAG.{json,md}")
    ap.add_argument("--work", default=None, help="work folder (model, configs, run outputs); default a new temp dir. "
                    "Reused when given: the model is built once")
    ap.add_argument("--max-steps", type=int, default=30)
    ap.add_argument("--eval-steps", type=int, default=20)
    ap.add_argument("--logging-steps", default="1", help="an integer, or `template` to keep the template's")
    ap.add_argument("--keep-saves", action="store_true", help="keep the template's save_strategy (a checkpoint at the "
                    "last step)")
    ap.add_argument("--keep-evaluation", action="store_true",
                    help="keep the template's `evaluation:` (generation after training; slow on a random model)")
    ap.add_argument("--keep-outputs", action="store_true", help="keep each run's output_dir")
    ap.add_argument("--vocab-size", type=int, default=8000, help="tokenizer vocabulary (the model's stays 128256)")
    ap.add_argument("--timeout", type=int, default=480, help="seconds per runner process before it is killed")
    ap.add_argument("--budget-s", type=float, default=0,
                    help="skip a run when the time used so far plus its expected length exceeds this (0: no limit)")
    ap.add_argument("--bisect", action="store_true", help="also find the smallest memory cap each run completes in (slow)")
    ap.add_argument("--bisect-runs", type=int, default=5, help="capped runs per config at most")
    ap.add_argument("--bisect-step", type=float, default=0.5, help="GiB")
    ap.add_argument("--dry-run", action="store_true", help="write the configs, check them with `plan`, record the "
                    "estimates and print the commands; no torch, no GPU")
    ap.add_argument("--_build", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.logging_steps != "template":
        try:
            if int(a.logging_steps) < 1:
                raise ValueError
        except ValueError:
            ap.error("--logging-steps: a positive integer or `template`")
    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        ap.error(f"--methods: unknown {bad}")
    a.method_list = [m for m in METHODS if m in methods]
    return a


def main(argv=None) -> int:
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        pass
    a = parse_args(argv)
    if a._build:
        return build_assets_child(a._build)

    def on_term(signum, frame):  # a SIGTERM stops the current run too (run_once kills it), results so far stay
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)

    t_begin = time.time()
    out = os.path.abspath(a.out or os.environ.get("OUT") or os.path.join(HERE, "results"))
    stem = "template_runs" + (f"-{a.tag}" if a.tag else "")
    logs = os.path.join(out, stem + "-logs")
    os.makedirs(logs, exist_ok=True)
    work = os.path.abspath(a.work) if a.work else tempfile.mkdtemp(prefix="tunelab-template-runs-")
    os.makedirs(work, exist_ok=True)
    try:
        return run_all(a, out, stem, logs, work, t_begin)
    finally:
        if not a.work and not a.keep_outputs:
            shutil.rmtree(work, ignore_errors=True)   # a temp work dir (model included) goes; configs are in logs


def run_all(a, out: str, stem: str, logs: str, work: str, t_begin: float) -> int:
    packings = {"both": [True, False], "true": [True], "false": [False]}[a.packing]
    say(f"template_runs: methods {a.method_list}, packing {packings}, max_steps {a.max_steps}, "
        f"eval every {a.eval_steps}, logging_steps {a.logging_steps}, bisect {a.bisect}; work {work}; out {out}")

    device = nvidia_smi("name")
    total_mib = nvidia_smi("memory.total")
    if device is None and not a.dry_run:
        say("warning: nvidia-smi not found or failed: no nvidia-smi peaks, no device name")

    _t, lora_doc = load_template("lora")
    system_prompt = (lora_doc.get("data") or {}).get("system_prompt") or ""
    model_dir, model_info = ensure_model(work, a.vocab_size, system_prompt, a.dry_run)

    bnb_reason = None
    if "qlora" in a.method_list:
        bnb_reason = "dry run: not checked" if a.dry_run else bitsandbytes_reason()
        if bnb_reason and not a.dry_run:
            say(f"qlora: skipped: {bnb_reason}")

    site_dir = None
    if a.bisect:
        site_dir = os.path.join(work, "sitecustomize-cap")
        os.makedirs(site_dir, exist_ok=True)
        with open(os.path.join(site_dir, "sitecustomize.py"), "w") as fh:
            fh.write(SITECUSTOMIZE)

    results: Dict[str, Any] = {
        "script": "runner/bench/template_runs.py", "argv": sys.argv[1:], "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "device": device, "gpu_memory_total_mib": int(float(total_mib)) if total_mib else None,
        "versions": (model_info or {}).get("versions"), "model": model_info, "work": work,
        "changes_summary": (f"model.name_or_path -> the local model; data files -> absolute paths; max_steps "
                            f"{a.max_steps}; eval_strategy steps, eval_steps {a.eval_steps}; "
                            + (f"logging_steps {a.logging_steps}; " if a.logging_steps != "template" else "")
                            + ("" if a.keep_saves else "save_strategy no; ")
                            + "output_dir -> temp; export adapter/merge false; "
                            + ("" if a.keep_evaluation else "the evaluation after training removed; ")
                            + "everything else as shipped"),
        "runs": [], "notes": [],
    }
    if a.dry_run:
        results["notes"].append("dry run: nothing was trained")

    # pass 1: configs, plan check, estimates (no GPU)
    est_gpu = device or "H100-80GB"   # a dry run without nvidia-smi estimates for an H100
    jobs = []
    for method in a.method_list:
        for packing in packings:
            name = f"{method}-{'packed' if packing else 'unpacked'}"
            run_dir = os.path.join(work, "runs", name)
            doc, changes = make_config(method, packing, model_dir, run_dir, a)
            cfg = write_config(doc, os.path.join(work, "configs", name + ".finetune.yaml"))
            shutil.copy(cfg, os.path.join(logs, name + ".finetune.yaml"))
            rec: Dict[str, Any] = {"method": method, "packing": packing, "config": cfg,
                                   "hardware": doc.get("hardware"), "changes": changes}
            say(f"\n== {name}: {cfg}")
            for c in changes:
                say(f"    {c['key']}: {json.dumps(c['template'], default=str)} -> {json.dumps(c['bench'], default=str)}")
            ok, msg = check_plan(cfg)
            say(f"    {msg}" if ok else f"    ! plan failed: {msg}")
            rec["plan"] = msg
            rec["estimate"] = tunelab_estimate(cfg)
            if "skipped" not in rec["estimate"] and rec["estimate"].get("gpu") \
                    and not device_matches(est_gpu, rec["estimate"]["gpu"]):
                rec["estimate_here"] = tunelab_estimate(cfg, gpu=est_gpu)
            est = rec.get("estimate_here") or rec["estimate"]
            if "skipped" in est:
                say(f"    estimate: skipped ({est['skipped']})")
            elif "error" in est:
                say(f"    estimate: failed ({est['error'][:300]})")
            else:
                say(f"    estimate ({est.get('gpu')}): {fmt(gib(est.get('per_gpu_bytes')), '.1f')} GiB per GPU, "
                    f"{fmt(est.get('seconds'), '.0f')} s for {fmt(est.get('steps'), '.0f')} steps, "
                    f"{fmt(est.get('tokens'), ',.0f')} tokens (peak phase {est.get('peak_phase')})")
            if method == "qlora" and bnb_reason and not a.dry_run:
                rec["skipped"] = bnb_reason
            elif not ok:
                rec["skipped"] = "the runner's plan rejects the config"
            jobs.append((name, cfg, run_dir, rec, est))
    to_run = [j for j in jobs if not j[3].get("skipped")]
    expected = {j[0]: (j[4].get("seconds") or 90) + PROCESS_OVERHEAD_S for j in to_run}
    if to_run:
        total = sum(expected.values())
        say(f"\nexpected: ~{total / 60:.1f} min for {len(to_run)} runs (Tunelab's time estimate + "
            f"~{PROCESS_OVERHEAD_S} s start-up and evaluation each)"
            + (f"; with --bisect up to {a.bisect_runs} more runs each" if a.bisect else ""))
        if total > 480 and not a.budget_s:
            say("  note: over 8 minutes; split with --methods (e.g. lora,full then qlora, same --work) "
                "or pass --budget-s")

    # pass 2: the runs
    try:
        run_jobs(jobs, expected, results, a, out, stem, logs, site_dir, t_begin)
    except KeyboardInterrupt as exc:
        results["notes"].append(f"interrupted ({exc or 'SIGINT'}): the runs after the last row did not run")
        say(f"\ninterrupted ({exc or 'SIGINT'}); writing what was measured")

    results["seconds_total"] = round(time.time() - t_begin, 1)
    if a.bisect:
        results["notes"].append("smallest cap: torch.cuda.set_per_process_memory_fraction bounds PyTorch's caching "
                                "allocator only (no CUDA context, no paged 8-bit optimizer states of QLoRA)")
    save(results, out, stem)
    say("\n" + render(results))
    say(f"wrote {os.path.join(out, stem + '.json')} and {stem}.md; logs in {logs}; total {results['seconds_total']:.0f}s")
    return 0


def run_jobs(jobs, expected, results, a, out, stem, logs, site_dir, t_begin) -> None:
    """Pass 2 of main: runs each job (measure, then bisect), saving the results after each."""
    for name, cfg, run_dir, rec, est in jobs:
        if rec.get("skipped"):
            say(f"\n== {name}: skipped: {rec['skipped']}")
            results["runs"].append(rec)
            save(results, out, stem)
            continue
        cmd = f"cd {RUNNER_DIR} && {sys.executable} -m tunelab_runner train {cfg}"
        if a.dry_run:
            say(f"\n== {name}: would run: {cmd}   (nvidia-smi sampled every 0.2 s)")
            if a.bisect:
                say(f"    would bisect: up to {a.bisect_runs} runs with {CAP_ENV}=<GiB> and "
                    f"PYTHONPATH={site_dir}:...")
            rec["skipped"] = "dry run"
            results["runs"].append(rec)
            save(results, out, stem)
            continue
        if a.budget_s:
            used = time.time() - t_begin
            if used + expected[name] > a.budget_s:
                rec["skipped"] = f"budget: {used:.0f}s used + ~{expected[name]:.0f}s expected > {a.budget_s:.0f}s"
                say(f"\n== {name}: skipped: {rec['skipped']}")
                results["runs"].append(rec)
                save(results, out, stem)
                continue
        say(f"\n== {name}: {cmd}")
        r = measure(name, cfg, os.path.join(run_dir, "out"), logs, a)
        rec.update(r)
        say(f"    => {r.get('status')} exit {r['exit_code']} in {r['process_seconds']:.0f}s: "
            f"tok/s {fmt(r.get('tokens_per_second_median'), ',.0f')}, alloc peak training "
            f"{fmt(gib(r.get('alloc_peak_training_bytes')), '.2f')} / whole {fmt(gib(r.get('alloc_peak_whole_bytes')), '.2f')} GiB, "
            f"reserved {fmt(gib(r.get('reserved_peak_bytes')), '.2f')} GiB, nvidia-smi {fmt(r.get('smi_peak_gib'), '.2f')} GiB, "
            f"train {fmt(r.get('train_seconds'), '.1f')}s, final loss {fmt(r.get('final_loss'), '.3f')}")
        if r["exit_code"] != 0:
            say(f"    ! failed: {r.get('error')}; log {os.path.join(out, r['log'])}")
        elif a.bisect:
            if a.budget_s and time.time() - t_begin + r["process_seconds"] > a.budget_s:
                rec["bisect"] = {"skipped": "budget"}
            else:
                rec["bisect"] = bisect_cap(name, cfg, os.path.join(run_dir, "out"), logs, a, r, site_dir,
                                           t_begin)
                b = rec["bisect"]
                say(f"    smallest cap: {b.get('smallest_cap_gib')} GiB "
                    f"({'verified' if b.get('verified') else 'not verified'}; resolution {b.get('resolution_gib')})")
        results["runs"].append(rec)
        save(results, out, stem)


def device_matches(device: str, est_gpu_id: str) -> bool:
    """Whether the estimate's GPU (catalog id like H100-80GB) is this device (nvidia-smi name)."""
    key = est_gpu_id.split("-")[0].lower()   # "h100"
    return bool(key) and key in device.lower()


if __name__ == "__main__":
    sys.exit(main())
