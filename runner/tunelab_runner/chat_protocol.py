"""The `chat` command's protocol (runner/CHAT.md) without torch: requests read
and checked from JSON lines, a request turned into the prompt text (the
config's chat template and system prompt), the sampling settings, the output
lines, and the session loop (stdin read on a thread so that a `stop` reaches
the generation in progress). The generation itself is passed in
(chat.py: transformers on the GPU; tests: a stand-in)."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, TextIO, Union

from .templates import normalize_messages, with_system_prompt

# Large enough for a chat answer, small enough that a typo cannot hold the GPU for minutes.
MAX_NEW_TOKENS_LIMIT = 8192
DEFAULT_MAX_NEW_TOKENS = 256
REQUEST_KEYS = {"id", "messages", "prompt", "adapter", "max_new_tokens", "temperature", "top_p",
                "system_prompt", "event"}


class ProtocolError(ValueError):
    """A line that is no valid request: answered with an `error` line, the session goes on."""

    def __init__(self, message: str, request_id: Any = None):
        super().__init__(message)
        self.request_id = request_id


class Request:
    __slots__ = ("id", "messages", "prompt", "adapter", "max_new_tokens", "temperature", "top_p",
                 "system_prompt")

    def __init__(self, id: Any, messages: Optional[List[Dict[str, str]]], prompt: Optional[str],
                 adapter: Optional[str], max_new_tokens: int, temperature: float, top_p: float,
                 system_prompt: Optional[str]):
        self.id, self.messages, self.prompt, self.adapter = id, messages, prompt, adapter
        self.max_new_tokens, self.temperature, self.top_p = max_new_tokens, temperature, top_p
        self.system_prompt = system_prompt


class Stop:
    __slots__ = ("id",)

    def __init__(self, id: Any):
        self.id = id


def _number(obj: Dict[str, Any], key: str, default: float, low: float, high: float, rid: Any,
            integer: bool = False) -> Any:
    value = obj.get(key)
    if value is None:
        return default
    # bool is an int in Python: `true` is no token count
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        raise ProtocolError(f"`{key}` must be a {'whole ' if integer else ''}number, got {json.dumps(value)}", rid)
    if not low <= value <= high:
        raise ProtocolError(f"`{key}` must be between {low} and {high}, got {value}", rid)
    return value


def parse_line(line: str, adapters: Iterable[str]) -> Union[Request, Stop, None]:
    """One input line: a Request, a Stop, None for a blank line; ProtocolError otherwise."""
    line = line.strip()
    if not line:
        return None
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ProtocolError("a request is a JSON object")
    rid = obj.get("id")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or rid == "":
        known_id = rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
        raise ProtocolError("`id` must be a non-empty string or an integer", known_id)
    if obj.get("event") == "stop":
        return Stop(rid)
    if obj.get("event") is not None:
        raise ProtocolError(f"unknown event {json.dumps(obj.get('event'))} (only `stop` is read)", rid)
    unknown = sorted(set(obj) - REQUEST_KEYS)
    if unknown:
        raise ProtocolError(f"unknown keys: {', '.join(unknown)}", rid)
    has_messages, has_prompt = obj.get("messages") is not None, obj.get("prompt") is not None
    if has_messages == has_prompt:
        raise ProtocolError("give exactly one of `messages` and `prompt`", rid)
    messages = prompt = None
    if has_messages:
        try:
            messages = normalize_messages(obj["messages"])
        except ValueError as exc:
            raise ProtocolError(str(exc), rid) from exc
        if messages[-1]["role"] == "assistant":
            raise ProtocolError("the last message is the assistant's: nothing to answer", rid)
    else:
        if not isinstance(obj["prompt"], str):
            raise ProtocolError("`prompt` must be a string", rid)
        prompt = obj["prompt"]
    adapter = obj.get("adapter")
    known = list(adapters)
    if adapter is not None and (not isinstance(adapter, str) or adapter not in known):
        have = ", ".join(known) if known else "none loaded"
        raise ProtocolError(f"unknown adapter {json.dumps(adapter)} (adapters: {have}; null for the base)", rid)
    system_prompt = obj.get("system_prompt")
    if system_prompt is not None and not isinstance(system_prompt, str):
        raise ProtocolError("`system_prompt` must be a string", rid)
    return Request(
        id=rid, messages=messages, prompt=prompt, adapter=adapter,
        max_new_tokens=_number(obj, "max_new_tokens", DEFAULT_MAX_NEW_TOKENS, 1, MAX_NEW_TOKENS_LIMIT, rid,
                               integer=True),
        temperature=float(_number(obj, "temperature", 0.0, 0.0, 10.0, rid)),
        top_p=float(_number(obj, "top_p", 1.0, 0.0, 1.0, rid)),
        system_prompt=system_prompt)


def prompt_text(req: Request, render: Callable[[List[Dict[str, str]]], str],
                default_system_prompt: Optional[str]) -> str:
    """The text the model continues. Messages: the system prompt (the request's,
    else the config's; "" for none) and the chat template with the generation
    prompt, as training rendered them. A `prompt` is raw text, continued as is
    (prompt/completion and text runs)."""
    if req.prompt is not None:
        return req.prompt
    system = default_system_prompt if req.system_prompt is None else req.system_prompt
    return render(with_system_prompt(list(req.messages or []), system))


def sampling_kwargs(req: Request) -> Dict[str, Any]:
    """generate() keyword arguments: temperature 0 is greedy (no sampling flags,
    so transformers does not warn about unused ones)."""
    out: Dict[str, Any] = {"max_new_tokens": req.max_new_tokens}
    if req.temperature > 0:
        out.update(do_sample=True, temperature=req.temperature, top_p=req.top_p)
    else:
        out["do_sample"] = False
    return out


def line(request_id: Any, event: str, **fields: Any) -> str:
    record = {"id": request_id, "event": event}
    record.update(fields)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# A generation: (request, prompt text, should_stop) -> an iterator of (text piece, tokens so far).
Generate = Callable[[Request, str, Callable[[], bool]], Iterable[Any]]


class Session:
    """Reads requests on a thread, answers them one at a time (one model, one GPU).
    `stop` for the request being answered sets its flag (the generation checks it
    between tokens); `stop` for a queued one drops it."""

    def __init__(self, stdin: TextIO, stdout: TextIO, generate: Generate,
                 render: Callable[[List[Dict[str, str]]], str], adapters: List[str],
                 system_prompt: Optional[str], classify_error: Callable[[BaseException], str] = lambda e: "generation",
                 clock: Callable[[], float] = time.monotonic):
        self.stdin, self.stdout, self.generate, self.render = stdin, stdout, generate, render
        self.adapters, self.system_prompt, self.classify_error, self.clock = adapters, system_prompt, classify_error, clock
        self.pending: "queue.Queue[Optional[Request]]" = queue.Queue()
        self.lock = threading.Lock()
        self.current: Any = None
        self.stop_current = threading.Event()
        self.dropped: set = set()
        self.write_lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.write_lock:
            self.stdout.write(text + "\n")
            self.stdout.flush()

    def read_loop(self) -> None:
        try:
            for raw in self.stdin:
                try:
                    item = parse_line(raw, self.adapters)
                except ProtocolError as err:
                    self.write(line(err.request_id, "error", type="protocol", message=str(err)))
                    continue
                if isinstance(item, Stop):
                    with self.lock:
                        if item.id == self.current:
                            self.stop_current.set()
                        else:
                            self.dropped.add(item.id)
                elif item is not None:
                    self.pending.put(item)
        finally:
            self.pending.put(None)  # end of input: answer what is queued, then end

    def answer(self, req: Request) -> None:
        start = self.clock()
        first = None
        tokens = 0
        try:
            prompt = prompt_text(req, self.render, self.system_prompt)
            for piece, count in self.generate(req, prompt, self.stop_current.is_set):
                tokens = count
                if piece:
                    if first is None:
                        first = self.clock() - start
                    self.write(line(req.id, "token", text=piece))
        except Exception as exc:  # noqa: BLE001 - one failed answer does not end the session
            self.write(line(req.id, "error", type=self.classify_error(exc), message=f"{type(exc).__name__}: {exc}"))
            return
        self.write(line(req.id, "done", tokens=tokens, seconds=round(self.clock() - start, 4),
                        first_token_seconds=None if first is None else round(first, 4),
                        stopped=self.stop_current.is_set()))

    def run(self, ready_fields: Optional[Dict[str, Any]] = None) -> int:
        self.write(line(None, "ready", adapters=self.adapters, **(ready_fields or {})))
        reader = threading.Thread(target=self.read_loop, name="chat-stdin", daemon=True)
        reader.start()
        while True:
            req = self.pending.get()
            if req is None:
                return 0
            with self.lock:
                if req.id in self.dropped:
                    self.dropped.discard(req.id)
                    skip = True
                else:
                    skip = False
                    self.current = req.id
                    self.stop_current.clear()
            if skip:
                self.write(line(req.id, "done", tokens=0, seconds=0.0, first_token_seconds=None, stopped=True))
                continue
            try:
                self.answer(req)
            finally:
                with self.lock:
                    self.current = None
