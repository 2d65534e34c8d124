"""A fake tokenizer with the interface the data pipeline uses (a fast HF
tokenizer's __call__ with offsets), so the pure pipeline runs without torch."""

import re

SPECIALS = ["<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>",
            "<|end_header_id|>", "<|eot_id|>", "<start_of_turn>", "<end_of_turn>", "<bos>",
            "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", "[INST]", "[/INST]"]
_PATTERN = re.compile("|".join(re.escape(s) for s in sorted(SPECIALS, key=len, reverse=True)) + r"|\s*[^\s<\[]+|\s+|.")


class FakeTokenizer:
    """Word-level: special markers are single tokens, a word takes its leading
    whitespace (like sentencepiece/byte-level BPE). Adds <s> when asked."""

    def __init__(self, is_fast=True, bos_token="<s>", eos_token="</s>", chat_template=None):
        self.is_fast = is_fast
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.pad_token = None
        self.chat_template = chat_template
        self.vocab = {s: i for i, s in enumerate(SPECIALS)}
        self.inv = dict(enumerate(SPECIALS))

    @property
    def bos_token_id(self):
        return self.vocab.get(self.bos_token)

    @property
    def eos_token_id(self):
        return self.vocab.get(self.eos_token)

    pad_token_id = None

    def _id(self, piece):
        if piece not in self.vocab:
            self.vocab[piece] = len(self.vocab)
            self.inv[self.vocab[piece]] = piece
        return self.vocab[piece]

    def _one(self, text, add_special_tokens):
        ids, offs = [], []
        if add_special_tokens and self.bos_token:
            ids.append(self.vocab[self.bos_token])
            offs.append((0, 0))
        for m in _PATTERN.finditer(text):
            ids.append(self._id(m.group(0)))
            offs.append((m.start(), m.end()))
        return ids, offs

    def __call__(self, text, add_special_tokens=True, return_offsets_mapping=False):
        if return_offsets_mapping and not self.is_fast:
            raise NotImplementedError("return_offset_mapping is not available when using Python tokenizers")
        batch = isinstance(text, list)
        texts = text if batch else [text]
        all_ids, all_offs = [], []
        for t in texts:
            ids, offs = self._one(t, add_special_tokens)
            all_ids.append(ids)
            all_offs.append(offs)
        out = {"input_ids": all_ids if batch else all_ids[0]}
        if return_offsets_mapping:
            out["offset_mapping"] = all_offs if batch else all_offs[0]
        return out

    def decode(self, ids):
        return "".join(self.inv[i] for i in ids)
