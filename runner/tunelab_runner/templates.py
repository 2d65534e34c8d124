"""Chat templates: the built-in named ones (as Jinja, for the exported tokenizer,
and as pure-Python renderers that also say which characters belong to
assistant turns), and assistant-span finding for any Jinja template by
rendering prefixes of the conversation. No torch, no transformers here."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

Message = Dict[str, str]
Segment = Tuple[str, bool]          # (text, trainable: part of an assistant turn)
Span = Tuple[int, int]              # [start, end) character offsets

# --- Jinja sources (rendered by transformers' apply_chat_template, or jinja2) ---

JINJA: Dict[str, str] = {
    "llama-3": (
        r"{% for message in messages %}"
        r"{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' %}"
        r"{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
        r"{{ content }}"
        r"{% endfor %}"
        r"{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
    ),
    "chatml": (
        r"{% for message in messages %}"
        r"{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
        r"{% endfor %}"
        r"{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
    "mistral": (
        r"{% if messages and messages[0]['role'] == 'system' %}"
        r"{% set system_message = messages[0]['content'] %}{% set loop_messages = messages[1:] %}"
        r"{% else %}{% set system_message = '' %}{% set loop_messages = messages %}{% endif %}"
        r"{{ bos_token }}"
        r"{% for message in loop_messages %}"
        r"{% if message['role'] == 'user' %}"
        r"{% if loop.first and system_message %}{{ '[INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}"
        r"{% else %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endif %}"
        r"{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}"
        r"{% else %}{{ raise_exception('mistral template: only user and assistant roles after an optional system message') }}"
        r"{% endif %}"
        r"{% endfor %}"
    ),
    "gemma": (
        r"{% if messages and messages[0]['role'] == 'system' %}"
        r"{% set system_message = messages[0]['content'] %}{% set loop_messages = messages[1:] %}"
        r"{% else %}{% set system_message = '' %}{% set loop_messages = messages %}{% endif %}"
        r"{{ bos_token }}"
        r"{% for message in loop_messages %}"
        r"{% if message['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
        r"{% if loop.first and system_message and message['role'] == 'user' %}{% set content = system_message + '\n\n' + message['content'] %}"
        r"{% else %}{% set content = message['content'] %}{% endif %}"
        r"{{ '<start_of_turn>' + role + '\n' + content | trim + '<end_of_turn>\n' }}"
        r"{% endfor %}"
        r"{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
    ),
    "phi-3": (
        r"{% for message in messages %}"
        r"{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
        r"{% endfor %}"
        r"{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
    ),
}

# Special tokens each named template relies on (to check the tokenizer knows them).
MARKERS: Dict[str, Tuple[str, ...]] = {
    "llama-3": ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
    "chatml": ("<|im_start|>", "<|im_end|>"),
    "mistral": ("[INST]", "[/INST]"),
    "gemma": ("<start_of_turn>", "<end_of_turn>"),
    "phi-3": ("<|user|>", "<|assistant|>", "<|end|>"),
}


# --- pure-Python renderers, equal to the Jinja above character for character ---

def _split_system(messages: Sequence[Message]) -> Tuple[str, Sequence[Message]]:
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], messages[1:]
    return "", messages


def _llama3(messages, add_generation_prompt, bos, eos) -> List[Segment]:
    out: List[Segment] = []
    for i, m in enumerate(messages):
        head = ("" if i else bos) + "<|start_header_id|>" + m["role"] + "<|end_header_id|>\n\n"
        body = m["content"].strip() + "<|eot_id|>"
        if m["role"] == "assistant":
            out += [(head, False), (body, True)]
        else:
            out.append((head + body, False))
    if add_generation_prompt:
        out.append(("<|start_header_id|>assistant<|end_header_id|>\n\n", False))
    return out


def _chatml(messages, add_generation_prompt, bos, eos) -> List[Segment]:
    out: List[Segment] = []
    for m in messages:
        head = "<|im_start|>" + m["role"] + "\n"
        body = m["content"] + "<|im_end|>"
        if m["role"] == "assistant":
            out += [(head, False), (body, True), ("\n", False)]
        else:
            out.append((head + body + "\n", False))
    if add_generation_prompt:
        out.append(("<|im_start|>assistant\n", False))
    return out


def _mistral(messages, add_generation_prompt, bos, eos) -> List[Segment]:
    system, loop = _split_system(messages)
    out: List[Segment] = [(bos, False)]
    for i, m in enumerate(loop):
        if m["role"] == "user":
            if i == 0 and system:
                out.append(("[INST] " + system + "\n\n" + m["content"] + " [/INST]", False))
            else:
                out.append(("[INST] " + m["content"] + " [/INST]", False))
        elif m["role"] == "assistant":
            out.append((m["content"] + eos, True))
        else:
            raise ValueError("mistral template: only user and assistant roles after an optional system message")
    return out


def _gemma(messages, add_generation_prompt, bos, eos) -> List[Segment]:
    system, loop = _split_system(messages)
    out: List[Segment] = [(bos, False)]
    for i, m in enumerate(loop):
        role = "model" if m["role"] == "assistant" else m["role"]
        content = m["content"]
        if i == 0 and system and m["role"] == "user":
            content = system + "\n\n" + content
        head = "<start_of_turn>" + role + "\n"
        body = content.strip() + "<end_of_turn>"
        if m["role"] == "assistant":
            out += [(head, False), (body, True), ("\n", False)]
        else:
            out.append((head + body + "\n", False))
    if add_generation_prompt:
        out.append(("<start_of_turn>model\n", False))
    return out


def _phi3(messages, add_generation_prompt, bos, eos) -> List[Segment]:
    out: List[Segment] = []
    for m in messages:
        head = "<|" + m["role"] + "|>\n"
        body = m["content"] + "<|end|>"
        if m["role"] == "assistant":
            out += [(head, False), (body, True), ("\n", False)]
        else:
            out.append((head + body + "\n", False))
    if add_generation_prompt:
        out.append(("<|assistant|>\n", False))
    return out


RENDERERS: Dict[str, Callable[..., List[Segment]]] = {
    "llama-3": _llama3, "chatml": _chatml, "mistral": _mistral, "gemma": _gemma, "phi-3": _phi3,
}


def normalize_messages(messages) -> List[Message]:
    """Checks shape; content given as a list of parts keeps its text parts."""
    if not isinstance(messages, list) or not messages:
        raise ValueError("`messages` must be a non-empty list")
    out = []
    for m in messages:
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise ValueError("each message needs `role` and `content`")
        content = m["content"]
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if content is None:
            content = ""
        out.append({"role": str(m["role"]), "content": str(content)})
    return out


def with_system_prompt(messages: List[Message], system_prompt: Optional[str]) -> List[Message]:
    if system_prompt and (not messages or messages[0]["role"] != "system"):
        return [{"role": "system", "content": system_prompt}] + list(messages)
    return list(messages)


def segments_to_spans(segments: Sequence[Segment]) -> Tuple[str, List[Span]]:
    text_parts: List[str] = []
    spans: List[Span] = []
    pos = 0
    for text, trainable in segments:
        if trainable and text:
            if spans and spans[-1][1] == pos:
                spans[-1] = (spans[-1][0], pos + len(text))
            else:
                spans.append((pos, pos + len(text)))
        text_parts.append(text)
        pos += len(text)
    return "".join(text_parts), spans


def render_named(name: str, messages: List[Message], bos_token: str = "", eos_token: str = "",
                 add_generation_prompt: bool = False) -> Tuple[str, List[Span]]:
    return segments_to_spans(RENDERERS[name](messages, add_generation_prompt, bos_token or "", eos_token or ""))


RenderFn = Callable[[List[Message], bool], str]


def _safe_render(render: "RenderFn", messages: List[Message], add_generation_prompt: bool) -> str:
    try:
        return render(messages, add_generation_prompt)
    except Exception:  # noqa: BLE001 - templates may refuse an empty/partial conversation
        return ""


def render_with_spans(render: RenderFn, messages: List[Message]) -> Tuple[str, List[Span]]:
    """Assistant spans for any template: the text a turn adds after the
    generation prompt of the conversation before it. Falls back to finding the
    content in the text where a template renders earlier turns differently."""
    full = render(messages, False)
    spans: List[Span] = []
    search_from = 0
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        prefix = _safe_render(render, messages[:i], True)
        upto = render(messages[: i + 1], False)
        if full.startswith(upto) and upto.startswith(prefix) and len(upto) > len(prefix) \
                and len(prefix) >= search_from:
            start, end = len(prefix), len(upto)
            # The turn's trailing whitespace-only separator is not worth training on,
            # but its end-of-turn marker is: keep everything up to the last non-space.
            while end > start and upto[end - 1] in " \n":
                end -= 1
        else:
            content = m["content"].strip()
            idx = full.find(content, search_from) if content else -1
            if idx < 0:
                continue
            start, end = idx, idx + len(content)
        spans.append((start, end))
        search_from = end
    return full, spans


def jinja_renderer(template: str, **special_tokens: str) -> RenderFn:
    """Renders a chat template with jinja2 the way transformers does
    (trim_blocks, lstrip_blocks, raise_exception). Used where transformers is
    not (tests); the runner itself renders through the tokenizer."""
    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    compiled = env.from_string(template)

    def render(messages: List[Message], add_generation_prompt: bool) -> str:
        return compiled.render(messages=messages, add_generation_prompt=add_generation_prompt, **special_tokens)

    return render
