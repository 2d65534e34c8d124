"""`python -m tunelab_runner export` and `chat` up to where torch starts: which
adapter a run dir gives, where the export goes, the refusals (no adapter, a
full fine-tuning, a missing checkpoint, a bad --adapter), each as the events or
protocol lines the CLI reads; and the export check's verdict, whose tolerance
must let bf16 rounding pass and a lost adapter fail. Pure Python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tunelab_runner import export as E
from tunelab_runner import export_check as X
from tunelab_runner.evaluate import CONFIG_COPY, plan_for
from tunelab_runner.events import RunnerError, parse_event_line

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """
method: {method}
model: {{ name_or_path: base-model }}
{lora}
data: {{ train_file: t.jsonl, format: messages, chat_template: chatml }}
training: {{ output_dir: out }}
export: {{ dtype: float16 }}
"""


def runner(*args):
    env = dict(os.environ, PYTHONPATH=RUNNER_DIR)
    proc = subprocess.run([sys.executable, "-m", "tunelab_runner", *args], cwd=RUNNER_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    return proc


class ExportCommand(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def run_dir(self, method="lora", adapter=True, checkpoints=()):
        lora = "lora: { r: 8 }" if method != "full" else ""
        cfg = os.path.join(self.root, "run.finetune.yaml")
        with open(cfg, "w") as fh:
            fh.write(textwrap.dedent(CONFIG.format(method=method, lora=lora)))
        out = os.path.join(self.root, "out")
        os.makedirs(out, exist_ok=True)
        with open(cfg) as src, open(os.path.join(out, CONFIG_COPY), "w") as dst:
            dst.write(src.read())
        if adapter:
            os.makedirs(os.path.join(out, "adapter"))
            open(os.path.join(out, "adapter", "adapter_config.json"), "w").write("{}")
        for step in checkpoints:
            os.makedirs(os.path.join(out, f"checkpoint-{step}"))
            open(os.path.join(out, f"checkpoint-{step}", "adapter_config.json"), "w").write("{}")
        return out

    def test_the_source_and_where_the_export_goes(self):
        out = self.run_dir(checkpoints=(20,))
        plan = plan_for(out, None)
        self.assertEqual(E.export_source(plan, None)["path"], os.path.join(out, "adapter"))
        self.assertEqual(E.export_source(plan, 20)["path"], os.path.join(out, "checkpoint-20"))
        self.assertEqual(E.default_out(plan, True, None), os.path.join(out, "merged"))
        self.assertEqual(E.default_out(plan, True, 20), os.path.join(out, "merged-checkpoint-20"))
        self.assertEqual(E.default_out(plan, False, None), os.path.join(out, "export-adapter"))

    def test_refusals(self):
        out = self.run_dir(adapter=False)
        with self.assertRaises(RunnerError) as ctx:
            E.export_source(plan_for(out, None), None)
        self.assertEqual(ctx.exception.type, "no_checkpoint")
        with self.assertRaises(RunnerError) as ctx:
            E.export_source(plan_for(out, None), 7)
        self.assertEqual(ctx.exception.type, "no_checkpoint")
        full = self.run_dir(method="full", adapter=False)
        with self.assertRaises(RunnerError) as ctx:
            E.export_source(plan_for(full, None), None)
        self.assertEqual(ctx.exception.type, "config")

    def test_the_command_reports_a_refusal_as_events_and_an_exit_code(self):
        out = self.run_dir(adapter=False)
        proc = runner("export", out, "--merge")
        events = [e for e in map(parse_event_line, proc.stdout.splitlines()) if e]
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual([e["event"] for e in events], ["error", "end"])
        self.assertEqual(events[0]["type"], "no_checkpoint")
        # appended to the run's own events, like evaluate
        with open(os.path.join(out, "events.jsonl")) as fh:
            self.assertIn('"no_checkpoint"', fh.read())
        self.assertEqual(runner("export", out, "--dtype", "int8").returncode, 2)

    def test_chat_refuses_a_bad_adapter_on_its_protocol_line(self):
        out = self.run_dir()
        for spec, kind in (("noequals", "config"), ("x=" + os.path.join(self.root, "nowhere"), "no_checkpoint")):
            proc = runner("chat", out, "--adapter", spec)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            lines = proc.stdout.splitlines()
            self.assertEqual(len(lines), 1, proc.stdout)  # nothing but the protocol on stdout
            self.assertEqual(json.loads(lines[0])["type"], kind)
            self.assertEqual(json.loads(lines[0])["event"], "error")


class CheckVerdict(unittest.TestCase):
    def stats(self, diff, ref=12.0, adapter=2.0):
        return {"prompts": 4, "positions": 200, "max_abs_diff": diff, "mean_abs_diff": diff / 10,
                "ref_max_abs": ref, "top1_agreement": 1.0, "adapter_max_abs": adapter}

    def test_bf16_rounding_passes_and_a_lost_adapter_fails(self):
        # one bf16 step on the largest logit (12 * 2^-7 ≈ 0.09) is rounding; the adapter's 2.0 is not
        self.assertTrue(X.verdict(self.stats(0.09), "bfloat16")["passed"])
        self.assertFalse(X.verdict(self.stats(2.0), "bfloat16")["passed"])
        # float16 and float32 are stricter
        self.assertFalse(X.verdict(self.stats(0.2), "float16")["passed"])
        self.assertTrue(X.verdict(self.stats(0.0005), "float32")["passed"])
        self.assertFalse(X.verdict(self.stats(0.01), "float32")["passed"])
        # nothing compared is no pass
        self.assertFalse(X.verdict(dict(self.stats(0.0), positions=0), "bfloat16")["passed"])

    def test_summary_line(self):
        line = X.summary_line(X.verdict(self.stats(0.05), "bfloat16"))
        self.assertIn("max |Δlogit| 0.05 (tolerance 0.75, bfloat16) over 200 positions of 4 prompts", line)
        self.assertTrue(line.endswith(": pass"))
        self.assertIn("the adapter itself moves logits by 2", line)

    def test_an_upcast_is_judged_by_the_source_dtype(self):
        self.assertEqual(X.coarser_dtype("bfloat16", "float32"), "bfloat16")
        self.assertEqual(X.coarser_dtype("float32", "float16"), "float16")
        # measured on the H100: a bf16 checkpoint exported as float32 moved logits by 0.0147 (max |logit| 3.9)
        stats = dict(self.stats(0.0147, ref=3.9, adapter=None))
        self.assertFalse(X.verdict(stats, "float32")["passed"])
        self.assertTrue(X.verdict(stats, X.coarser_dtype("bfloat16", "float32"))["passed"])

    def test_summary_line_of_a_full_model_names_no_adapter(self):
        line = X.summary_line(X.verdict(self.stats(0.0, adapter=None), "bfloat16"))
        self.assertNotIn("adapter", line)
        self.assertTrue(line.endswith("top-1 agreement 100.0%: pass"), line)


if __name__ == "__main__":
    unittest.main()
