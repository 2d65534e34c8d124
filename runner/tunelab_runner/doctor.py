"""`doctor`: a JSON report of the host (GPUs, driver/CUDA, Python, packages, and
what each method lacks). Works without torch: then GPUs come from nvidia-smi
and the report says torch is missing."""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional

from .allocator import allocator_setting
from .jit_cache import jit_cache_report

# distribution name -> import name
PACKAGES = {
    "torch": "torch",
    "transformers": "transformers",
    "peft": "peft",
    "accelerate": "accelerate",
    "safetensors": "safetensors",
    "PyYAML": "yaml",
    "bitsandbytes": "bitsandbytes",
    "tokenizers": "tokenizers",
    "jinja2": "jinja2",
    "deepspeed": "deepspeed",
    "flash-attn": "flash_attn",
    "trl": "trl",
    "datasets": "datasets",
}

# Evaluation's optional packages: import name, what needs it, install command.
# Missing ones only drop their metric (docs/evaluation.md).
OPTIONAL = {
    "sacrebleu": ("sacrebleu", "chrf and bleu metrics", "pip install sacrebleu"),
    "rouge-score": ("rouge_score", "rouge_l metric", "pip install rouge-score"),
    "jsonschema": ("jsonschema", "json_schema metric", "pip install jsonschema"),
    "lm-eval": ("lm_eval", "evaluation.lm_eval tasks", "pip install lm-eval"),
}

# Training's optional speed-ups: a run fails early only when its config asks
# for one that is missing (run_plan.required_packages).
OPTIONAL_TRAINING = {
    "liger-kernel": ("liger_kernel", "training.use_liger_kernel (fused loss, RMSNorm, SwiGLU, RoPE)",
                     "pip install liger-kernel"),
    "triton": ("triton", "training.torch_compile (the inductor backend compiles the layers with Triton)",
               "pip install triton"),
}

NEEDS = {
    "full": ["torch", "transformers", "accelerate", "safetensors", "PyYAML", "jinja2"],
    "lora": ["torch", "transformers", "accelerate", "safetensors", "PyYAML", "jinja2", "peft"],
    "qlora": ["torch", "transformers", "accelerate", "safetensors", "PyYAML", "jinja2", "peft", "bitsandbytes"],
}


def package_versions(find_spec: Callable[[str], Any] = importlib.util.find_spec) -> Dict[str, Optional[str]]:
    from importlib import metadata
    out: Dict[str, Optional[str]] = {}
    for dist, mod in PACKAGES.items():
        if find_spec(mod) is None:
            out[dist] = None
            continue
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def optional_packages(find_spec: Callable[[str], Any] = importlib.util.find_spec,
                      table: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Each optional package (evaluation's by default): version (None when missing), what it is for,
    install command."""
    from importlib import metadata
    out: Dict[str, Any] = {}
    for dist, (mod, purpose, install) in (OPTIONAL if table is None else table).items():
        version = None
        if find_spec(mod) is not None:
            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                version = "unknown"  # importable without metadata (a source checkout on PYTHONPATH)
        out[dist] = {"version": version, "for": purpose, "install": None if version else install}
    return out


def nvidia_smi(runner: Callable[..., Any] = subprocess.run) -> Optional[Dict[str, Any]]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        res = runner([exe, "--query-gpu=index,name,memory.total,driver_version,compute_cap",
                      "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": str(exc), "gpus": []}
    if res.returncode != 0:
        return {"error": (res.stderr or res.stdout).strip(), "gpus": []}
    return parse_nvidia_smi(res.stdout)


def parse_nvidia_smi(text: str) -> Dict[str, Any]:
    gpus, driver = [], None
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 5:
            continue
        idx, name, mem_mib, drv, cc = parts[:5]
        driver = drv
        try:
            major, minor = (int(x) for x in cc.split("."))
        except ValueError:
            major, minor = 0, 0
        gpus.append({
            "index": int(idx) if idx.isdigit() else idx,
            "name": name,
            "memory_bytes": int(float(mem_mib) * 1024 * 1024) if mem_mib.replace(".", "").isdigit() else None,
            "compute_capability": f"{major}.{minor}",
            "bf16": major >= 8,
        })
    return {"driver_version": driver, "gpus": gpus}


def torch_report() -> Dict[str, Any]:
    import torch
    info: Dict[str, Any] = {"installed": True, "version": torch.__version__,
                            "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            gpus.append({"index": i, "name": p.name, "memory_bytes": int(p.total_memory),
                         "compute_capability": f"{p.major}.{p.minor}", "bf16": p.major >= 8,
                         "multiprocessors": p.multi_processor_count})
        try:
            info["nccl"] = ".".join(str(x) for x in torch.cuda.nccl.version())
        except Exception:  # noqa: BLE001
            pass
    info["gpus"] = gpus
    return info


def report(find_spec: Callable[[str], Any] = importlib.util.find_spec,
           smi: Callable[[], Optional[Dict[str, Any]]] = nvidia_smi,
           probe_torch: Optional[Callable[[], Dict[str, Any]]] = None) -> Dict[str, Any]:
    packages = package_versions(find_spec)
    smi_info = smi()
    out: Dict[str, Any] = {
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "ok": sys.version_info >= (3, 10)},
        "platform": {"system": platform.system(), "machine": platform.machine(), "release": platform.release()},
        "packages": packages,
        "driver_version": smi_info.get("driver_version") if smi_info else None,
    }
    if packages.get("torch") is None:
        out["torch"] = {"installed": False,
                        "message": "torch is not installed: training is not possible here (pip install torch)"}
        gpus = (smi_info or {}).get("gpus", [])
        out["gpus_source"] = "nvidia-smi" if smi_info else None
    else:
        try:
            t = (probe_torch or torch_report)()
        except Exception as exc:  # noqa: BLE001 - a broken torch is reported, not raised
            t = {"installed": True, "error": f"{type(exc).__name__}: {exc}", "gpus": []}
        gpus = t.pop("gpus", [])
        out["torch"] = t
        out["gpus_source"] = "torch"
        if not gpus and smi_info and smi_info.get("gpus"):
            gpus = smi_info["gpus"]
            out["gpus_source"] = "nvidia-smi"
    out["gpus"] = gpus
    # what a training run here would use (allocator.py): the runner's default unless this environment set one
    out["allocator"] = allocator_setting()
    out["cuda_version"] = out["torch"].get("cuda") if isinstance(out["torch"], dict) else None
    out["cuda_jit_cache"] = jit_cache = jit_cache_report()
    methods: Dict[str, Any] = {}
    for method, needs in NEEDS.items():
        missing = [p for p in needs if packages.get(p) is None]
        notes: List[str] = []
        if method == "qlora" and not gpus:
            notes.append("QLoRA (bitsandbytes 4-bit) needs a CUDA GPU")
        elif not gpus:
            notes.append("no GPU found: training would run on the CPU (slow)")
        if gpus and not any(g.get("bf16") for g in gpus):
            notes.append("no GPU with bf16: use fp16 (training.fp16: true) instead of bf16")
        if gpus and jit_cache["note"]:
            notes.append(jit_cache["note"])
        methods[method] = {
            "ready": not missing and not (method == "qlora" and not gpus),
            "missing": missing,
            "install": ("pip install " + " ".join(missing)) if missing else None,
            "notes": notes,
        }
    out["methods"] = methods
    out["optional"] = optional_packages(find_spec)
    out["optional_training"] = optional_packages(find_spec, OPTIONAL_TRAINING)
    out["distributed"] = {
        "ddp": packages.get("torch") is not None,
        "fsdp": packages.get("torch") is not None and packages.get("accelerate") is not None,
        "deepspeed": packages.get("deepspeed") is not None,
        "gpus": len(gpus),
    }
    out["env"] = {k: os.environ[k] for k in ("CUDA_VISIBLE_DEVICES", "HF_HOME", "WORLD_SIZE") if k in os.environ}
    return out
