"""training.use_liger_kernel: passed to TrainingArguments as written, the
runner stops before loading anything when liger-kernel is missing, and the
doctor lists it as an optional package with its install command."""

import importlib.util
import os
import tempfile
import textwrap
import unittest
from unittest import mock

from tunelab_runner import run_plan
from tunelab_runner import doctor
from tunelab_runner.events import RunnerError
from tunelab_runner.model_loading import check_packages

REAL_FIND_SPEC = importlib.util.find_spec


def find_spec_without(*absent):
    """Every package is there except `absent`: the check under test sees only liger's absence."""
    def find_spec(name, *args):
        if name.split(".")[0] in absent:
            return None
        return REAL_FIND_SPEC(name, *args) or mock.sentinel.spec
    return find_spec


def plan_for(training: str):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "train.jsonl"), "w") as fh:
            fh.write('{"text": "hello"}\n')
        path = os.path.join(d, "run.finetune.yaml")
        with open(path, "w") as fh:
            fh.write("method: lora\nmodel:\n  name_or_path: meta-llama/Llama-3.2-1B\n"
                     "lora:\n  r: 16\ndata:\n  train_file: train.jsonl\n  format: text\n"
                     "training:\n" + textwrap.indent(training, "  ") + "\n")
        return run_plan.build_plan(path)


class LigerKernel(unittest.TestCase):
    def test_passes_through_to_training_arguments(self):
        plan = plan_for("use_liger_kernel: true\nliger_kernel_config: {rope: false}")
        kwargs = plan["steps"]["training"]["kwargs"]
        self.assertIs(kwargs["use_liger_kernel"], True)
        self.assertEqual(kwargs["liger_kernel_config"], {"rope": False})
        self.assertIn(("liger_kernel", "liger-kernel"), run_plan.required_packages(plan))

    def test_not_required_when_off(self):
        for training in ("use_liger_kernel: false", "bf16: true"):
            plan = plan_for(training)
            self.assertNotIn("liger_kernel", [m for m, _ in run_plan.required_packages(plan)])

    def test_missing_package_fails_early(self):
        plan = plan_for("use_liger_kernel: true")
        with mock.patch("importlib.util.find_spec", find_spec_without("liger_kernel")):
            with self.assertRaises(RunnerError) as ctx:
                check_packages(plan)
        err = ctx.exception
        self.assertEqual(err.type, "missing_package")
        self.assertEqual(err.extra["packages"], ["liger-kernel"])
        self.assertIn("liger-kernel", str(err))
        self.assertIn("needed for training.use_liger_kernel", str(err))
        self.assertIn("pip install", err.hint)

    def test_present_package_passes(self):
        plan = plan_for("use_liger_kernel: true")
        with mock.patch("importlib.util.find_spec", find_spec_without()):
            check_packages(plan)  # no raise (method lora: nothing else is checked by import)

    def test_doctor_lists_it_as_optional(self):
        report = doctor.report(find_spec=find_spec_without("liger_kernel"), smi=lambda: None,
                               probe_torch=lambda: {"installed": True, "gpus": []})
        self.assertNotIn("liger-kernel", report["optional"])  # evaluation's packages stay apart
        missing = report["optional_training"]["liger-kernel"]
        self.assertIsNone(missing["version"])
        self.assertEqual(missing["install"], "pip install liger-kernel")
        self.assertIn("use_liger_kernel", missing["for"])


if __name__ == "__main__":
    unittest.main()
