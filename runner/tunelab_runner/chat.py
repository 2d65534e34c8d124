"""`python -m tunelab_runner chat RUN_DIR|CONFIG [--adapter NAME=PATH]...`
(runner/CHAT.md): the base loaded once (as training loaded it: QLoRA stays
4-bit) with zero or more named LoRA adapters, answering the JSON-line requests
of chat_protocol.py with streamed tokens. This module is the torch side: loading
and one generation (TextIteratorStreamer on the caller's thread, generate() on
its own, a StoppingCriteria reading the session's stop flag)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from .attention_backends import use_shape_free_attention
from .chat_protocol import Session, line, sampling_kwargs
from .events import EXIT_OK, EventWriter, RunnerError
from .templates import JINJA


def parse_adapter_specs(specs: List[str]) -> List[Tuple[str, str]]:
    """NAME=PATH pairs; names unique, paths existing adapter directories."""
    out: List[Tuple[str, str]] = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise RunnerError("config", f"--adapter {spec}: expected NAME=PATH")
        if any(name == n for n, _ in out):
            raise RunnerError("config", f"--adapter {name} is given twice")
        path = os.path.abspath(path)
        if not os.path.exists(os.path.join(path, "adapter_config.json")):
            raise RunnerError("no_checkpoint", f"--adapter {name}: {path} has no adapter_config.json")
        out.append((name, path))
    return out


def template_source(data: Dict[str, Any]) -> Optional[str]:
    """The Jinja the config trains with: a named built-in's, a Jinja string, or
    None for the tokenizer's own (`model`)."""
    tmpl = data.get("chat_template") or "model"
    if tmpl == "model":
        return None
    return JINJA.get(tmpl, tmpl)


def classify(exc: BaseException) -> str:
    return "oom" if "out of memory" in str(exc).lower() else "generation"


class Generator:
    """One model (a PeftModel when adapters are loaded), one request at a time."""

    def __init__(self, model, tok, adapters: List[str], torch, transformers):
        self.model, self.tok, self.adapters = model, tok, adapters
        self.torch, self.transformers = torch, transformers
        self.device = next(model.parameters()).device

    def adapter_context(self, name: Optional[str]):
        if not self.adapters:
            return contextlib.nullcontext()
        if name is None:
            return self.model.disable_adapter()  # the base column: the same weights, LoRA off
        self.model.set_adapter(name)
        return contextlib.nullcontext()

    def warm_up(self) -> None:
        """Two greedy tokens from each column before `ready`, so that the first
        prompt does not pay for CUDA loading its kernels and cuBLAS choosing its
        algorithms (measured on an H100, 1B: 3.4 s to the first text of the first
        answer, 0.2-1.9 s for the next ones)."""
        torch, tok = self.torch, self.tok
        enc = tok("Hello", return_tensors="pt").to(self.device)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        for name in [None, *self.adapters]:
            with self.adapter_context(name), torch.inference_mode():
                self.model.generate(**enc, max_new_tokens=2, do_sample=False, pad_token_id=pad)

    def __call__(self, req, prompt: str, should_stop):
        torch, transformers, tok = self.torch, self.transformers, self.tok
        # a chat template writes BOS itself; raw text gets the tokenizer's specials
        enc = tok(prompt, return_tensors="pt", add_special_tokens=req.prompt is not None).to(self.device)
        prompt_len = enc["input_ids"].shape[1]
        count = [0]

        class Stop(transformers.StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                count[0] = input_ids.shape[1] - prompt_len
                return torch.full((input_ids.shape[0],), bool(should_stop()), dtype=torch.bool,
                                  device=input_ids.device)

        streamer = transformers.TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        kwargs = sampling_kwargs(req)
        kwargs.update(pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
                      streamer=streamer, stopping_criteria=transformers.StoppingCriteriaList([Stop()]))
        if tok.eos_token_id is not None:
            kwargs["eos_token_id"] = tok.eos_token_id
        failure: List[BaseException] = []

        def work():
            try:
                with torch.inference_mode():
                    out = self.model.generate(**enc, **kwargs)
                count[0] = out.shape[1] - prompt_len
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                failure.append(exc)
                streamer.end()  # else the loop below waits for text forever

        with self.adapter_context(req.adapter):
            thread = threading.Thread(target=work, name="chat-generate", daemon=True)
            thread.start()
            for piece in streamer:
                yield piece, count[0]
            thread.join()
        if failure:
            raise failure[0]
        yield "", count[0]


def load(plan, adapters: List[Tuple[str, str]], torch, transformers, writer: EventWriter):
    from .evaluate import find_tuned, load_base
    from .model_loading import add_tokens, load_tokenizer
    writer.emit("status", stage="loading_tokenizer")
    tok = load_tokenizer(plan, transformers)
    add_tokens(plan, tok)
    writer.emit("status", stage="loading_model")
    model = load_base(plan, torch, transformers, tok)
    if not adapters and plan["method"] in ("lora", "qlora"):
        try:
            what = find_tuned(plan, None, None)
            if what["kind"] == "adapter":
                adapters = [("tuned", what["path"])]  # the run's own adapter, when none is named
        except RunnerError:
            pass  # not trained yet: chat with the base alone
    if adapters:
        import peft
        name, path = adapters[0]
        model = peft.PeftModel.from_pretrained(model, path, adapter_name=name)
        for name, path in adapters[1:]:
            model.load_adapter(path, adapter_name=name)
    model.eval()
    model.config.use_cache = True  # training turned the KV cache off
    use_shape_free_attention(torch)  # the key length grows every token (attention_backends.py)
    return model, tok, [n for n, _ in adapters], {n: p for n, p in adapters}


def run_chat(target: str, adapter_specs: List[str], config: Optional[str] = None,
             stdin=None, stdout=None) -> int:
    """Protocol lines go to `stdout`; loading events (`@tunelab` lines) and any
    library output go to stderr, so stdout carries nothing but the protocol."""
    from .evaluate import plan_for
    from .train import _unexpected_error
    proto = stdout or sys.stdout
    stdin = stdin or sys.stdin
    writer = EventWriter(None, stdout=sys.stderr)
    torch = None
    t0 = time.monotonic()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            plan = plan_for(target, config)
            adapters = parse_adapter_specs(adapter_specs)
            from .model_loading import check_packages
            check_packages(plan)
            writer.emit("status", stage="importing")
            import torch  # noqa: F811
            import transformers
            model, tok, names, paths = load(plan, adapters, torch, transformers, writer)
            data = plan["steps"]["data"]
            template = template_source(data)

            def render(msgs):
                if template is None and not getattr(tok, "chat_template", None):
                    raise ValueError("the tokenizer has no chat template: send `prompt` instead of `messages`")
                kwargs = {"chat_template": template} if template is not None else {}
                return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True, **kwargs)

            generator = Generator(model, tok, names, torch, transformers)
            writer.emit("status", stage="warming_up")
            generator.warm_up()
    except RunnerError as err:
        proto.write(line(None, "error", **err.as_event()) + "\n")
        proto.flush()
        return err.exit_code
    except Exception as exc:  # noqa: BLE001
        err = _unexpected_error(exc, torch)
        proto.write(line(None, "error", **{k: v for k, v in err.as_event().items() if k != "traceback"}) + "\n")
        proto.flush()
        return err.exit_code
    session = Session(stdin, proto, generator, render, names, data.get("system_prompt"), classify_error=classify)
    ready = {"base": plan["steps"]["model"]["args"][0], "method": plan["method"], "adapter_paths": paths,
             "system_prompt": data.get("system_prompt"), "chat_template": data.get("chat_template") or "model",
             "load_seconds": round(time.monotonic() - t0, 3)}
    with contextlib.redirect_stdout(sys.stderr):  # a library's print() must not break a protocol line
        session.run(ready)
    return EXIT_OK
