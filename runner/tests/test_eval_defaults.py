"""Evaluation defaults: the eval batch follows the training micro-batch and
evaluation is loss-only, unless the config says otherwise."""

import os
import tempfile
import textwrap
import unittest

from tunelab_runner import run_plan

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BASE = """
method: lora
model: { name_or_path: m }
lora: { r: 8 }
data: { train_file: t.jsonl, eval_file: e.jsonl, packing: true }
training:
"""


class EvalDefaults(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def training(self, *lines):
        path = os.path.join(self.tmp.name, "a.finetune.yaml")
        with open(path, "w") as fh:
            fh.write(textwrap.dedent(BASE) + "".join(f"  {line}\n" for line in lines))
        return run_plan.build_plan(path)["steps"]["training"]

    def test_unset_eval_batch_follows_the_training_micro_batch(self):
        t = self.training("per_device_train_batch_size: 2")
        self.assertEqual(t["kwargs"]["per_device_eval_batch_size"], 2)
        self.assertIn("per_device_eval_batch_size", t["defaults_applied"])
        self.assertIn("per_device_eval_batch_size", t["notes"])

    def test_unset_training_batch_means_hf_training_default_for_both(self):
        t = self.training("learning_rate: 1.0e-4")
        self.assertEqual(t["kwargs"]["per_device_eval_batch_size"], run_plan.HF_TRAIN_BATCH_DEFAULT)

    def test_explicit_eval_batch_is_kept(self):
        t = self.training("per_device_train_batch_size: 2", "per_device_eval_batch_size: 16")
        self.assertEqual(t["kwargs"]["per_device_eval_batch_size"], 16)
        self.assertNotIn("per_device_eval_batch_size", t["defaults_applied"])
        self.assertNotIn("per_device_eval_batch_size", t["notes"])

    def test_evaluation_is_loss_only_by_default(self):
        t = self.training("per_device_train_batch_size: 2")
        self.assertIs(t["kwargs"]["prediction_loss_only"], True)
        self.assertIn("prediction_loss_only", t["defaults_applied"])

    def test_explicit_prediction_loss_only_is_kept(self):
        t = self.training("prediction_loss_only: false")
        self.assertIs(t["kwargs"]["prediction_loss_only"], False)
        self.assertNotIn("prediction_loss_only", t["defaults_applied"])

    def test_metric_settings_keep_predictions(self):
        for line in ("include_for_metrics: [inputs]", "batch_eval_metrics: true",
                     "metric_for_best_model: accuracy"):
            with self.subTest(line=line):
                self.assertNotIn("prediction_loss_only", self.training(line)["kwargs"])

    def test_loss_as_best_metric_stays_loss_only(self):
        t = self.training("metric_for_best_model: eval_loss", "load_best_model_at_end: true")
        self.assertIs(t["kwargs"]["prediction_loss_only"], True)

    def test_eval_accumulation_steps_is_not_set(self):
        # loss-only evaluation gathers no predictions, so there is nothing to offload
        self.assertNotIn("eval_accumulation_steps", self.training("per_device_train_batch_size: 2")["kwargs"])


if __name__ == "__main__":
    unittest.main()
