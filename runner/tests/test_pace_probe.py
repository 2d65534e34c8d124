"""`train CONFIG --probe STEPS` up to where torch starts: the probe's plan trains
the config's own steps and nothing else, in OUTPUT_DIR-pace-probe, and the
command refuses a probe it cannot time or one asked to resume, as events and an
exit code. Pure Python (the GPU test trains a probe for real)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tunelab_runner import run_plan
from tunelab_runner.events import RunnerError, parse_event_line
from tunelab_runner.pace_probe import PROBE_DIR_SUFFIX, probe_plan

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """
method: lora
model: { name_or_path: base-model }
lora: { r: 8 }
data: { train_file: t.jsonl, eval_file: e.jsonl, format: messages, chat_template: chatml }
training:
  output_dir: out/
  max_steps: 500
  eval_strategy: steps
  eval_steps: 50
  save_strategy: steps
  save_steps: 100
  load_best_model_at_end: true
  report_to: wandb
  push_to_hub: true
  hub_model_id: acme/telecom
  logging_dir: logs
  learning_rate: 0.0002
  per_device_train_batch_size: 4
evaluation: { when: end }
"""


class ProbePlan(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.cfg = os.path.join(self.tmp.name, "run.finetune.yaml")
        with open(self.cfg, "w") as fh:
            fh.write(textwrap.dedent(CONFIG))
        self.plan = run_plan.build_plan(self.cfg)

    def tearDown(self):
        self.tmp.cleanup()

    def test_trains_the_configs_steps_and_nothing_else_beside_its_output(self):
        probe = probe_plan(self.plan, 16)
        kwargs = probe["steps"]["training"]["kwargs"]
        out = os.path.join(self.tmp.name, "out" + PROBE_DIR_SUFFIX)
        self.assertEqual(kwargs["output_dir"], out)
        self.assertEqual((probe["output_dir"], probe["events_file"]), (out, os.path.join(out, "events.jsonl")))
        self.assertEqual(kwargs["max_steps"], 16)
        self.assertEqual((kwargs["eval_strategy"], kwargs["save_strategy"]), ("no", "no"))
        self.assertFalse(kwargs["load_best_model_at_end"])
        self.assertEqual(kwargs["report_to"], "none")
        self.assertFalse(kwargs["push_to_hub"])
        for gone in ("eval_steps", "save_steps", "hub_model_id"):
            self.assertNotIn(gone, kwargs)
        self.assertEqual(kwargs["logging_dir"], os.path.join(out, "logs"))
        self.assertIsNone(probe["steps"]["evaluation"])
        self.assertEqual(probe["probe"], {"steps": 16})
        # the step itself is the real run's: batch, learning rate, model, data, method
        real = self.plan["steps"]["training"]["kwargs"]
        for same in ("per_device_train_batch_size", "learning_rate"):
            self.assertEqual(kwargs[same], real[same])
        for step in ("model", "lora", "data", "tokenizer"):
            self.assertEqual(probe["steps"][step], self.plan["steps"][step])
        # and the real run's plan is left as it was
        self.assertEqual(real["output_dir"], os.path.join(self.tmp.name, "out"))
        self.assertEqual(real["max_steps"], 500)
        self.assertIsNotNone(self.plan["steps"]["evaluation"])
        self.assertNotIn("probe", self.plan)

    def test_a_probe_too_short_to_time_or_too_long_is_refused(self):
        for steps in (4, 0, -1, 1001):
            with self.assertRaises(RunnerError) as caught:
                probe_plan(self.plan, steps)
            self.assertIn("5 to 1000", caught.exception.message)
        self.assertEqual(probe_plan(self.plan, 5)["probe"], {"steps": 5})

    def run_command(self, *args):
        env = dict(os.environ, PYTHONPATH=RUNNER_DIR)
        proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "train", *args], cwd=RUNNER_DIR, env=env,
                              capture_output=True, text=True, timeout=60)
        events = [e for e in (parse_event_line(line) for line in proc.stdout.splitlines()) if e]
        return proc.returncode, events

    def test_the_command_refuses_a_short_probe_and_a_resumed_one_as_events(self):
        for args in (["--probe", "2", self.cfg], ["--probe", "16", "--resume", self.cfg]):
            code, events = self.run_command(*args)
            self.assertEqual(code, 2, args)
            self.assertEqual([e["event"] for e in events], ["error", "end"], args)
            self.assertEqual(events[0]["type"], "config")
            self.assertEqual(events[1]["status"], "failed")
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "out" + PROBE_DIR_SUFFIX)))


if __name__ == "__main__":
    unittest.main()
