"""cuDNN's attention off where batch shapes change (padded training, evaluation, chat)."""

import os
import tempfile
import textwrap
import unittest
from types import SimpleNamespace

from tunelab_runner import run_plan
from tunelab_runner.attention_backends import apply_attention_step, attention_step, use_shape_free_attention

CONFIG = """
method: lora
model: {{ name_or_path: meta-llama/Llama-3.2-1B, dtype: bfloat16{attn} }}
lora: {{ r: 16, lora_alpha: 32, target_modules: all-linear }}
data: {{ train_file: data/train.jsonl, packing: {packing} }}
training: {{ output_dir: runs/x, learning_rate: 2e-4 }}
"""


def fake_torch(with_switch=True):
    """torch.backends.cuda as far as these functions touch it, recording the switch's calls."""
    calls = []
    cuda = SimpleNamespace(enable_cudnn_sdp=calls.append) if with_switch else SimpleNamespace()
    return SimpleNamespace(backends=SimpleNamespace(cuda=cuda)), calls


class PlanStep(unittest.TestCase):
    def plan(self, packing, attn=""):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "a.finetune.yaml")
            with open(path, "w") as fh:
                fh.write(textwrap.dedent(CONFIG.format(packing=packing, attn=attn)))
            return run_plan.build_plan(path)

    def test_padded_sdpa_turns_cudnn_off(self):
        step = self.plan("false", ", attn_implementation: sdpa")["steps"]["attention"]
        self.assertEqual(step["cudnn_sdpa"], False)
        self.assertIn("plan per new shape", step["why"])

    def test_unset_implementation_is_sdpa(self):
        self.assertEqual(self.plan("false")["steps"]["attention"]["cudnn_sdpa"], False)

    def test_packed_rows_keep_torch_choice(self):
        self.assertIsNone(self.plan("true", ", attn_implementation: sdpa")["steps"]["attention"])

    def test_other_implementations_untouched(self):
        for impl in ("eager", "flash_attention_2", "flex_attention"):
            self.assertIsNone(attention_step(impl, packed=False), impl)


class Apply(unittest.TestCase):
    def test_off_step_flips_the_switch(self):
        torch, calls = fake_torch()
        self.assertTrue(apply_attention_step(attention_step("sdpa", packed=False), torch))
        self.assertEqual(calls, [False])

    def test_no_step_leaves_torch_alone(self):
        torch, calls = fake_torch()
        self.assertFalse(apply_attention_step(None, torch))
        self.assertFalse(apply_attention_step({"cudnn_sdpa": True}, torch))
        self.assertEqual(calls, [])

    def test_torch_without_the_switch(self):
        torch, _ = fake_torch(with_switch=False)
        self.assertFalse(use_shape_free_attention(torch))
        self.assertFalse(use_shape_free_attention(SimpleNamespace()))  # a stand-in with no backends

    def test_real_torch_switch(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch not installed")
        before = torch.backends.cuda.cudnn_sdp_enabled()
        try:
            self.assertTrue(use_shape_free_attention(torch))
            self.assertFalse(torch.backends.cuda.cudnn_sdp_enabled())
        finally:
            torch.backends.cuda.enable_cudnn_sdp(before)


if __name__ == "__main__":
    unittest.main()
