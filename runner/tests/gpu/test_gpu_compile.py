"""GPU: `training.torch_compile` through the runner trains the same LoRA as eager
(one decoder layer at a time compiled in place), and the adapter it saves has
peft's own keys. Skipped without CUDA."""

from __future__ import annotations

import os
import shutil
import tempfile
import unittest

from . import helpers as H

REASON = H.cuda_reason()


@unittest.skipIf(REASON is not None, REASON or "")
class CompiledLayers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tunelab-gpu-compile-")
        cls.fx = H.make_fixture(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def train(self, name, **training):
        # lora_dropout 0 (the fixture's): compiled dropout draws other random numbers
        cfg = H.write_config(os.path.join(self.tmp, name, "run.finetune.yaml"), self.fx,
                             data={"packing": True, "max_length": 256},
                             training={"max_steps": 30, "per_device_train_batch_size": 2,
                                       "gradient_checkpointing": False, "logging_steps": 1,
                                       "learning_rate": 1e-3, **training})
        rc, events, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        losses = [e["loss"] for e in H.of(events, "step") if e.get("loss") is not None]
        return H.of(events, "start")[0], losses, H.of(events, "export")

    def test_compiled_training_matches_eager(self):
        from safetensors import safe_open

        start_e, eager, _ = self.train("eager")
        start_c, compiled, exports = self.train("compiled", torch_compile=True)
        self.assertEqual(start_e["compiled_layers"], 0)
        self.assertEqual(start_c["compiled_layers"], 2)  # the fixture's two decoder layers
        self.assertEqual(start_c["plan"]["steps"]["training"]["kwargs"]["torch_compile"], False)
        self.assertEqual(len(compiled), len(eager))
        worst = max(abs(c - e) / e for c, e in zip(compiled, eager))
        print(f"\ncompiled vs eager loss: {eager[0]:.3f} -> {eager[-1]:.3f} eager, "
              f"{compiled[0]:.3f} -> {compiled[-1]:.3f} compiled, worst relative step gap {worst:.4f}")
        self.assertLess(compiled[-1], 0.7 * compiled[0], "the compiled run did not learn")
        self.assertLess(worst, 0.05, "compiled and eager runs drifted apart")
        adapter = next(e["path"] for e in exports if e["kind"] == "adapter")
        with safe_open(os.path.join(adapter, "adapter_model.safetensors"), "pt") as fh:
            keys = list(fh.keys())
        self.assertTrue(keys)
        self.assertFalse([k for k in keys if "_orig_mod" in k], "compiled wrapper names reached the adapter")


if __name__ == "__main__":
    unittest.main()
