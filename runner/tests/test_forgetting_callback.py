"""The every_eval forgetting measure's settings and metrics (pure parts; the callback
itself runs in runner/tests/gpu/test_evaluate.py)."""

import unittest

from tunelab_runner.forgetting_callback import forgetting_metrics, forgetting_settings


def plan(when, forgetting):
    return {"steps": {"evaluation": {"when": when, "forgetting": forgetting}}}


class ForgettingCallbackSettings(unittest.TestCase):
    def test_only_every_eval_with_a_file_asks_for_it(self):
        f = {"file": "/data/general.jsonl", "threshold": 0.05}
        self.assertEqual(forgetting_settings(plan("every_eval", f)), f)
        self.assertIsNone(forgetting_settings(plan("end", f)))
        self.assertIsNone(forgetting_settings(plan("on_demand", f)))
        self.assertIsNone(forgetting_settings(plan("every_eval", {})))
        self.assertIsNone(forgetting_settings(plan("every_eval", None)))
        self.assertIsNone(forgetting_settings({"steps": {}}))

    def test_metrics_against_the_base_with_the_verdict(self):
        m = forgetting_metrics(1.04, 1.0, 0.05)
        self.assertAlmostEqual(m["eval_forgetting_change"], 0.04)
        self.assertEqual(m["eval_forgetting_verdict"], "pass")
        self.assertEqual(forgetting_metrics(1.08, 1.0, 0.05)["eval_forgetting_verdict"], "warn")
        self.assertEqual(forgetting_metrics(1.2, 1.0, 0.05)["eval_forgetting_verdict"], "fail")
        self.assertEqual(forgetting_metrics(0.9, 1.0, 0.05)["eval_forgetting_verdict"], "pass")

    def test_without_a_base_only_the_measure(self):
        self.assertEqual(forgetting_metrics(0.7, None, 0.05), {"eval_forgetting_bits_per_byte": 0.7})


if __name__ == "__main__":
    unittest.main()
