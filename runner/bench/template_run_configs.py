"""The configs of the template runs: loads a shipped telecom-support template, applies
the bench's changes (make_config, with the list of what changed) and writes the YAML
back (write_config), checks a config with `python -m tunelab_runner plan`
(check_plan), and records Tunelab's own `tunelab estimate` of it (tunelab_estimate;
device_matches says whether the estimate's GPU is this one)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Optional, Tuple

from template_run_common import REPO_ROOT, RUNNER_DIR, TEMPLATE_DIR
from template_run_process import runner_env


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


def device_matches(device: str, est_gpu_id: str) -> bool:
    """Whether the estimate's GPU (catalog id like H100-80GB) is this device (nvidia-smi name)."""
    key = est_gpu_id.split("-")[0].lower()   # "h100"
    return bool(key) and key in device.lower()
