"""One benchmark run in its own process: the plain script (plain_lora.py) or
the runner with a config built here. Returns tokens/s over the steady steps,
peak memory and the parameters MFU counts."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER_DIR = os.path.dirname(HERE)
if RUNNER_DIR not in sys.path:
    sys.path.insert(0, RUNNER_DIR)

from tests.gpu import helpers as H  # noqa: E402

QUANTIZATION = {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": "bfloat16",
                "bnb_4bit_use_double_quant": True}


def steady(points, warmup):
    """tokens/s between the first logged step >= warmup and the last one."""
    pts = [p for p in points if p["step"] >= warmup]
    if len(pts) < 2:
        return None
    a, b = pts[0], pts[-1]
    return (b["tokens"] - a["tokens"]) / (b["time"] - a["time"])


def run_plain(model_dir, data, method, batch, accum, steps, warmup, work, log):
    report = os.path.join(work, "plain.json")
    cmd = [sys.executable, os.path.join(HERE, "plain_lora.py"), "--model", model_dir, "--data", data,
           "--batch", str(batch), "--accum", str(accum), "--steps", str(steps), "--report", report,
           "--logging-steps", "1", "--output-dir", os.path.join(work, "plain-out")]
    if method == "qlora":
        cmd.append("--qlora")
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=H.runner_env())
    log.write(f"=== plain {method}\n" + proc.stdout[-4000:] + proc.stderr[-4000:])
    if proc.returncode != 0:
        raise RuntimeError(f"plain script failed:\n{proc.stderr[-3000:]}")
    with open(report) as fh:
        r = json.load(fh)
    return {"tokens_per_second": steady(r["points"], warmup), "peak_allocated": r["peak_allocated_bytes"],
            "peak_reserved": r["peak_reserved_bytes"], "params": r["params_total"] - r["params_trainable"],
            "wall": time.time() - t0, "last_loss": r["points"][-1]["loss"], "recompute": True,
            "first_loss": r["points"][0]["loss"]}


def base_config(model_dir, data, method, packing, batch, accum, steps, out):
    cfg = {
        "method": method,
        "model": {"name_or_path": model_dir, "dtype": "bfloat16", "attn_implementation": "sdpa"},
        "lora": {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": "all-linear",
                 "task_type": "CAUSAL_LM"},
        "data": {"train_file": data, "format": "messages", "chat_template": "model", "max_length": 2048,
                 "completion_only_loss": True, "packing": packing},
        "training": {"output_dir": out, "per_device_train_batch_size": batch,
                     "gradient_accumulation_steps": accum, "learning_rate": 2e-4, "lr_scheduler_type": "linear",
                     "warmup_steps": 0, "max_steps": steps, "bf16": True, "gradient_checkpointing": True,
                     "gradient_checkpointing_kwargs": {"use_reentrant": False}, "optim": "adamw_torch_fused",
                     "logging_steps": 1, "save_strategy": "no", "report_to": "none",
                     "dataloader_num_workers": 0, "seed": 42},
        "export": {"adapter": False, "merge": False},
    }
    if method == "qlora":
        cfg["quantization"] = dict(QUANTIZATION)
        cfg["prepare_model_for_kbit_training"] = True
    return cfg


def apply_changes(cfg, changes):
    """{"training.gradient_checkpointing": false, ...} onto the config; a section
    written as a switch (`prepare_model_for_kbit_training: true`) takes its mapping form."""
    cfg = copy.deepcopy(cfg)
    for dotted, value in changes.items():
        section, key = dotted.split(".", 1)
        if not isinstance(cfg.get(section), dict):
            cfg[section] = {}
        cfg[section][key] = value
    return cfg


def run_runner(model_dir, data, method, name, packing, batch, accum, steps, warmup, changes, work, log,
               env=None):
    import yaml
    out = os.path.join(work, name + "-out")
    cfg = apply_changes(base_config(model_dir, data, method, packing, batch, accum, steps, out), changes)
    path = os.path.join(work, name + ".finetune.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(cfg, fh, sort_keys=False)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "train", path], cwd=RUNNER_DIR,
                          capture_output=True, text=True, env={**H.runner_env(), **(env or {})})
    log.write(f"=== {name} {method}\n" + proc.stdout[-4000:] + proc.stderr[-4000:])
    events = H.read_events(os.path.join(out, "events.jsonl")) if os.path.exists(
        os.path.join(out, "events.jsonl")) else []
    end = events[-1] if events else {}
    if proc.returncode != 0 or end.get("status") != "completed":
        raise RuntimeError(f"runner failed ({proc.returncode}): {json.dumps(events[-3:])[:2000]}\n"
                           f"{proc.stderr[-3000:]}")
    steps_ev = H.of(events, "step")
    start = H.of(events, "start")[0]
    points = [{"step": e["step"], "time": e["time"], "tokens": e["tokens"]} for e in steps_ev]
    m = end["metrics"]
    t = cfg["training"]
    return {"tokens_per_second": steady(points, warmup), "peak_allocated": m["peak_memory_allocated_bytes"],
            "peak_reserved": m["peak_memory_reserved_bytes"],
            "params": start["params"]["total"] - start["params"]["trainable"], "wall": time.time() - t0,
            "first_loss": steps_ev[0]["loss"], "last_loss": steps_ev[-1]["loss"],
            "recompute": bool(t.get("gradient_checkpointing")),
            "batch": f"{t['per_device_train_batch_size']} x {t['gradient_accumulation_steps']} "
                     + (f"rows of {cfg['data']['max_length']}" if packing else "conversations"),
            "config": {k: v for k, v in cfg.items()
                       if k in ("model", "training", "data", "prepare_model_for_kbit_training")}}


if __name__ == "__main__":
    # `python bench_runs.py MODEL DATA METHOD BATCH ACCUM OUT`: the packed runner config as JSON (the
    # `defaults` run), for bench/tuneThroughput.ts to tune exactly what the benchmark trains
    import sys as _sys
    m, d, meth, b, acc, o = _sys.argv[1:7]
    print(json.dumps(base_config(m, d, meth, True, int(b), int(acc), 10, o)))
