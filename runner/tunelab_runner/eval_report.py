"""The pure arithmetic and files of evaluation (docs/evaluation.md): bits per
byte, the forgetting verdict, the base model's cache (key, read, write) and
eval.json (format 1). No torch here, so CI tests all of it."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
from typing import Any, Dict, Optional

from .events import sanitize

EVAL_FORMAT = 1
EVENT_SAMPLES = 5
CACHE_VERSION = 1  # bump when the scoring changes, so old base results are not reused


def bits_per_byte(nll_nats: float, n_bytes: int) -> float:
    """Summed token negative log-likelihood (nats) / ln 2 / UTF-8 bytes of the scored text."""
    if n_bytes <= 0:
        raise ValueError("bits per byte of an empty text")
    return nll_nats / math.log(2) / n_bytes


def relative_change(base: float, tuned: float) -> float:
    return (tuned - base) / base


def verdict(change: float, threshold: float) -> str:
    """pass up to the threshold, warn up to twice it, else fail."""
    if change <= threshold:
        return "pass"
    if change <= 2 * threshold:
        return "warn"
    return "fail"


def forgetting_section(file: str, samples: int, base: Dict[str, float], tuned: Dict[str, float],
                       threshold: float, base_cached: bool) -> Dict[str, Any]:
    change = relative_change(base["bits_per_byte"], tuned["bits_per_byte"])
    return {"file": file, "samples": samples, "base": base, "tuned": tuned, "change": change,
            "threshold": threshold, "verdict": verdict(change, threshold), "base_cached": base_cached}


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_cache_key(model: Dict[str, Any], data_sha256: str, settings: Dict[str, Any]) -> str:
    """The key of a base model's results: the model (path or hub id, revision,
    dtype, quantization, and for a local directory its config/weights' sizes and
    times), the data file's sha256 and every setting that changes the numbers."""
    blob = json.dumps({"v": CACHE_VERSION, "model": model, "data": data_sha256, "settings": settings},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def local_model_fingerprint(path: str) -> Optional[Dict[str, Any]]:
    """Size and mtime of a local model directory's files: a retrained base in the
    same directory gets a new key. None for a hub id."""
    if not os.path.isdir(path):
        return None
    out = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(full) and (name.endswith((".safetensors", ".bin", ".json", ".model"))):
            st = os.stat(full)
            out[name] = [st.st_size, int(st.st_mtime)]
    return out


def cache_dir(env: Optional[Dict[str, str]] = None) -> str:
    env = os.environ if env is None else env
    root = env.get("TUNELAB_CACHE")
    return os.path.join(root, "eval") if root else os.path.join(os.path.expanduser("~"), ".cache", "tunelab", "eval")


def read_cached(key: str, directory: Optional[str] = None) -> Optional[Dict[str, Any]]:
    path = os.path.join(directory or cache_dir(), f"base-{key}.json")
    try:
        with open(path, "r", encoding="utf-8") as fh:
            value = json.load(fh)
    except (OSError, ValueError):
        return None  # absent or damaged: computed again
    return value if isinstance(value, dict) else None


def write_cached(key: str, value: Dict[str, Any], directory: Optional[str] = None) -> str:
    directory = directory or cache_dir()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"base-{key}.json")
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(sanitize(value), fh)
    os.replace(tmp, path)  # atomic: a parallel evaluate never reads half a file
    return path


def now_utc() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_eval_json(*, config_hash: Optional[str], model: Dict[str, Any], versions: Dict[str, Any],
                    seconds: Dict[str, Optional[float]], task: Optional[Dict[str, Any]],
                    forgetting: Optional[Dict[str, Any]], lm_eval: Optional[Dict[str, Any]],
                    samples: list, created: Optional[str] = None) -> Dict[str, Any]:
    """eval.json, format 1; a part not asked for is None."""
    return sanitize({
        "format": EVAL_FORMAT,
        "created": created or now_utc(),
        "config_hash": config_hash,
        "model": model,
        "versions": versions,
        "seconds": seconds,
        "task": task,
        "forgetting": forgetting,
        "lm_eval": lm_eval,
        "samples": samples,
    })


def write_eval_json(path: str, result: Dict[str, Any]) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)
    return path


def event_payload(result: Dict[str, Any]) -> Dict[str, Any]:
    """The eval_result event's fields: eval.json with samples cut to 5."""
    out = dict(result)
    out["samples"] = list(result.get("samples") or [])[:EVENT_SAMPLES]
    return out
