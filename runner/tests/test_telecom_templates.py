"""The shipped telecom templates take the fast exact path: packing, and
evaluation at the training micro-batch. Checked through `plan`, as a user would."""

import json
import os
import subprocess
import sys
import unittest

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TELECOM = os.path.join(os.path.dirname(RUNNER_DIR), "templates", "telecom-support")


class TelecomTemplates(unittest.TestCase):
    """The shipped templates take the packed path and evaluate at the training batch."""

    def plan_cli(self, method):
        path = os.path.join(TELECOM, f"{method}.finetune.yaml")
        out = subprocess.run([sys.executable, "-m", "tunelab_runner", "plan", path], cwd=RUNNER_DIR,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def test_templates_pack_and_evaluate_at_the_training_batch(self):
        for method in ("full", "lora", "qlora"):
            with self.subTest(method=method):
                plan = self.plan_cli(method)
                self.assertEqual(plan["warnings"], [])
                data = plan["steps"]["data"]
                self.assertTrue(data["packing"])
                self.assertEqual(data["collator"]["kind"], "packed")
                t = plan["steps"]["training"]["kwargs"]
                self.assertEqual(t["per_device_eval_batch_size"], t["per_device_train_batch_size"])
                self.assertIs(t["prediction_loss_only"], True)


if __name__ == "__main__":
    unittest.main()
