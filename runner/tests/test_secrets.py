"""A token written in a config (training.hub_token, an env value) reaches the
run but is never echoed: not in events (file or stdout), not in `plan`."""

import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tunelab_runner.events import EventWriter, redact_secrets

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2"


class Redaction(unittest.TestCase):
    def test_secret_keys_and_token_shaped_values_are_redacted(self):
        plan = {"training": {"hub_token": "anything", "output_dir": "out"},
                "env": {"WANDB_API_KEY": "x" * 40, "NOTE": TOKEN, "TOKENIZERS_PARALLELISM": "false"},
                "tokenizer": {"pad_token": "<pad>", "eos_token": "</s>"},
                "steps": [{"tokens_per_second": 12.5, "max_tokens": 10}]}
        out = redact_secrets(plan)
        self.assertEqual(out["training"], {"hub_token": "***", "output_dir": "out"})
        self.assertEqual(out["env"], {"WANDB_API_KEY": "***", "NOTE": "***", "TOKENIZERS_PARALLELISM": "false"})
        self.assertEqual(out["tokenizer"], {"pad_token": "<pad>", "eos_token": "</s>"})
        self.assertEqual(out["steps"], plan["steps"])

    def test_events_never_carry_the_token(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "events.jsonl")
            stdout = io.StringIO()
            writer = EventWriter(path, stdout=stdout, enabled=True)
            writer.emit("start", plan={"training": {"hub_token": TOKEN}}, message=f"pushing with {TOKEN}")
            writer.close()
            with open(path, encoding="utf-8") as fh:
                written = fh.read()
            for text in (written, stdout.getvalue()):
                self.assertNotIn(TOKEN, text)
                self.assertIn("***", text)

    def test_plan_prints_no_token(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "data"))
            with open(os.path.join(d, "data", "train.jsonl"), "w") as fh:
                fh.write(json.dumps({"messages": [{"role": "user", "content": "hi"},
                                                  {"role": "assistant", "content": "hello"}]}) + "\n")
            config = os.path.join(d, "run.finetune.yaml")
            with open(config, "w") as fh:
                fh.write(textwrap.dedent(f"""\
                    method: lora
                    model:
                      name_or_path: meta-llama/Llama-3.2-1B
                    lora:
                      r: 8
                    data:
                      train_file: data/train.jsonl
                      format: messages
                    training:
                      output_dir: out
                      hub_token: {TOKEN}
                    """))
            result = subprocess.run([sys.executable, "-m", "tunelab_runner", "plan", config],
                                    cwd=RUNNER_DIR, capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertNotIn(TOKEN, result.stdout + result.stderr)
            self.assertIn('"hub_token": "***"', result.stdout)


if __name__ == "__main__":
    unittest.main()
