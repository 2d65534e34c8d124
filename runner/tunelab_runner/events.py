"""Progress events: one JSON object per line, to <output_dir>/events.jsonl and to
stdout behind a prefix (see EVENTS.md). Also the runner's exit codes and its
error type. Pure Python: no torch import here."""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from typing import Any, Optional, TextIO

EVENTS_VERSION = 1
STDOUT_PREFIX = "@tunelab "

# Exit codes (documented in EVENTS.md and README.md).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_MISSING_PACKAGE = 3
EXIT_OOM = 4
EXIT_NAN_LOSS = 5
EXIT_DATA = 6
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

EXIT_CODES = {
    "config": EXIT_CONFIG,
    "no_checkpoint": EXIT_CONFIG,
    "missing_package": EXIT_MISSING_PACKAGE,
    "oom": EXIT_OOM,
    "nan_loss": EXIT_NAN_LOSS,
    "data": EXIT_DATA,
    "internal": EXIT_INTERNAL,
}


class RunnerError(Exception):
    """An error the runner reports as an `error` event with a type and a hint."""

    def __init__(self, type_: str, message: str, hint: Optional[str] = None,
                 exit_code: Optional[int] = None, **extra: Any):
        super().__init__(message)
        self.type = type_
        self.message = message
        self.hint = hint
        self.exit_code = exit_code if exit_code is not None else EXIT_CODES.get(type_, EXIT_INTERNAL)
        self.extra = extra

    def as_event(self) -> dict:
        out = {"type": self.type, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        out.update(self.extra)
        out["exit_code"] = self.exit_code
        return out


def pip_hint(*packages: str) -> str:
    return "pip install " + " ".join(packages)


# A config may carry a token (`training.hub_token`, an env value): the run
# needs it, but no event, log line or printed plan may repeat it.
REDACTED = "***"
_SECRET_KEY = re.compile(r"(^|_)(token|api_key|apikey|password|passwd|secret|access_key)$", re.I)
# Special tokens of a tokenizer are text like "<pad>", not secrets.
_SPECIAL_TOKEN_KEYS = {"pad_token", "eos_token", "bos_token", "unk_token", "sep_token",
                       "cls_token", "mask_token", "additional_special_tokens"}
_SECRET_VALUE = re.compile(r"\b(hf_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,})\b")


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and key.lower() not in _SPECIAL_TOKEN_KEYS


def redact_secrets(value: Any, key: str = "") -> Any:
    """`value` with every string under a secret-named key replaced by ***, and
    every token-shaped word in any other string."""
    if isinstance(value, str):
        if key and is_secret_key(key) and value:
            return REDACTED
        return _SECRET_VALUE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: redact_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_secrets(v, key) for v in value]
    return value


def sanitize(value: Any) -> Any:
    """JSON has no NaN/Infinity: non-finite floats become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [sanitize(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    # numpy / torch scalars and anything else
    for attr in ("item",):
        if hasattr(value, attr):
            try:
                return sanitize(value.item())
            except Exception:  # noqa: BLE001
                break
    return str(value)


def is_main_process() -> bool:
    """Rank 0 (or not distributed). torchrun and accelerate set RANK."""
    rank = os.environ.get("RANK")
    if rank is None:
        return True
    try:
        return int(rank) == 0
    except ValueError:
        return True


class EventWriter:
    """Writes events on rank 0 only; other ranks' writers are silent."""

    def __init__(self, path: Optional[str], stdout: Optional[TextIO] = None,
                 enabled: Optional[bool] = None, append: bool = False,
                 clock=time.time):
        self.enabled = is_main_process() if enabled is None else enabled
        self.path = path
        self.stdout = sys.stdout if stdout is None else stdout
        self.clock = clock
        self._fh = None
        self.history: list = []  # events emitted in this process (for the end event / tests)
        if self.enabled and path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self._fh = open(path, "a" if append else "w", encoding="utf-8")

    def emit(self, event: str, **fields: Any) -> Optional[dict]:
        if not self.enabled:
            return None
        record = {"event": event, "time": round(self.clock(), 3), "v": EVENTS_VERSION}
        record.update(fields)
        record = redact_secrets(sanitize(record))
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        if self._fh is not None:
            self._fh.write(line + "\n")
            self._fh.flush()
        if self.stdout is not None:
            try:
                self.stdout.write(STDOUT_PREFIX + line + "\n")
                self.stdout.flush()
            except (OSError, ValueError):
                pass
        self.history.append(record)
        return record

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def parse_event_line(line: str) -> Optional[dict]:
    """Reads one line of a log (prefixed or not); None when it is no event."""
    line = line.strip()
    if line.startswith(STDOUT_PREFIX.strip()):
        line = line[len(STDOUT_PREFIX.strip()):].strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) and "event" in obj else None
