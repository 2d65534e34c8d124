"""GPU tests of `evaluate` (docs/evaluation.md) on the tiny Llama: LoRA (in
training with `when: end`, then from the run dir with the cached base, and a
checkpoint), a merged export, full fine-tuning, QLoRA, and a metric package
that does not import. Skipped without CUDA like the other GPU tests."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from . import helpers as H

REASON = H.cuda_reason()


def read_json(path):
    with open(path) as fh:
        return json.load(fh)


@unittest.skipIf(REASON is not None, REASON or "")
class Evaluate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tunelab-eval-")
        cls.fx = H.make_fixture(cls.tmp)
        cls.old_cache = os.environ.get("TUNELAB_CACHE")
        os.environ["TUNELAB_CACHE"] = os.path.join(cls.tmp, "cache")  # runner_env() passes it on

    @classmethod
    def tearDownClass(cls):
        if cls.old_cache is None:
            os.environ.pop("TUNELAB_CACHE", None)
        else:
            os.environ["TUNELAB_CACHE"] = cls.old_cache
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def cfg(self, name, method="lora", when="end", metrics=("exact_match", "json_valid"), **kw):
        evaluation = (f"evaluation:\n  when: {when}\n  task: {{ max_samples: 6, metrics: [{', '.join(metrics)}] }}\n"
                      "  generation: { max_new_tokens: 40 }\n"
                      f"  forgetting: {{ file: {os.path.join(self.fx['data'], 'general.jsonl')}, threshold: 0.05 }}\n")
        data = {"eval_file": os.path.join(self.fx["data"], "eval.jsonl")}
        return H.write_config(os.path.join(self.tmp, name, "run.finetune.yaml"), self.fx, method=method,
                              data=data, extra=evaluation, **kw)

    def check_eval(self, result, kind):
        self.assertEqual(result["format"], 1)
        self.assertEqual(result["model"]["kind"], kind)
        self.assertTrue(result["config_hash"].startswith("sha256:"))
        task = result["task"]
        self.assertTrue(math.isfinite(task["loss"]) and task["loss"] > 0, task)
        self.assertAlmostEqual(task["perplexity"], math.exp(task["loss"]), places=4)
        self.assertGreater(task["tokens"], 0)
        gen = task["generation"]
        self.assertEqual(gen["samples"], 6)
        self.assertIn("exact_match", gen["metrics"])
        self.assertEqual(len(result["samples"]), 6)
        self.assertTrue(all(isinstance(s["prediction"], str) for s in result["samples"]))
        f = result["forgetting"]
        for side in ("base", "tuned"):
            self.assertGreater(f[side]["bits_per_byte"], 0)
        self.assertAlmostEqual(f["change"], (f["tuned"]["bits_per_byte"] - f["base"]["bits_per_byte"])
                               / f["base"]["bits_per_byte"])
        self.assertIn(f["verdict"], ("pass", "warn", "fail"))
        self.assertGreater(result["seconds"]["total"], 0)
        return task, f

    def test_lora_end_of_training_then_run_dir_with_cached_base_and_checkpoint(self):
        cfg = self.cfg("lora", training={"max_steps": 40, "save_strategy": "steps", "save_steps": 20})
        rc, events, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        out = os.path.join(os.path.dirname(cfg), "out")
        self.assertTrue(os.path.exists(os.path.join(out, "tunelab-config.yaml")))
        end = events[-1]
        self.assertEqual(end["status"], "completed", log)
        self.assertEqual(end["outputs"]["eval"], os.path.join(out, "eval.json"), log)
        ev_events = H.of(events, "eval_result")
        self.assertEqual(len(ev_events), 1)
        self.assertLessEqual(len(ev_events[0]["samples"]), 5)
        in_training = read_json(os.path.join(out, "eval.json"))
        # export.merge merged the adapter into the model in memory: that model is evaluated
        task, f = self.check_eval(in_training, "merged")
        print(f"\nLoRA eval (in training): loss {task['loss']:.3f}, exact match "
              f"{task['generation']['metrics']['exact_match']:.2f}, bits/byte {f['base']['bits_per_byte']:.3f} -> "
              f"{f['tuned']['bits_per_byte']:.3f} ({f['change']:+.1%}, {f['verdict']}), "
              f"{in_training['seconds']['total']:.1f} s")
        # the adapter made a difference the measure sees
        self.assertNotAlmostEqual(f["base"]["bits_per_byte"], f["tuned"]["bits_per_byte"], places=4)

        again_path = os.path.join(self.tmp, "lora-again.json")
        rc, events, log = H.run_runner(["evaluate", out, "--out", again_path], timeout=600)
        self.assertEqual(rc, 0, log)
        again = read_json(again_path)
        task2, f2 = self.check_eval(again, "adapter")
        self.assertTrue(f2["base_cached"], "the base's result was computed again")
        self.assertEqual(f2["base"], f["base"])
        # the adapter reloaded from disk scores like the one in memory (bf16 noise only)
        self.assertAlmostEqual(task2["loss"], task["loss"], delta=0.02 * task["loss"])
        self.assertAlmostEqual(f2["tuned"]["bits_per_byte"], f["tuned"]["bits_per_byte"],
                               delta=0.02 * f["tuned"]["bits_per_byte"])

        ckpt_path = os.path.join(self.tmp, "lora-ckpt20.json")
        rc, _, log = H.run_runner(["evaluate", out, "--checkpoint", "20", "--no-generation", "--out", ckpt_path])
        self.assertEqual(rc, 0, log)
        ckpt = read_json(ckpt_path)
        self.assertEqual((ckpt["model"]["kind"], ckpt["model"]["checkpoint"]), ("adapter", 20))
        self.assertIsNone(ckpt["task"]["generation"])
        self.assertNotAlmostEqual(ckpt["task"]["loss"], task["loss"], places=4)  # an earlier state

        merged_path = os.path.join(self.tmp, "lora-merged.json")
        rc, _, log = H.run_runner(["evaluate", out, "--model", os.path.join(out, "merged"), "--out", merged_path])
        self.assertEqual(rc, 0, log)
        merged = read_json(merged_path)
        task3, f3 = self.check_eval(merged, "merged")
        self.assertTrue(f3["base_cached"])
        self.assertAlmostEqual(task3["loss"], task["loss"], delta=0.03 * task["loss"])

    def test_every_eval_adds_the_forgetting_measure_to_each_evaluation(self):
        cfg = self.cfg("every", when="every_eval",
                       training={"max_steps": 30, "eval_strategy": "steps", "eval_steps": 10})
        rc, events, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        base = [e for e in H.of(events, "status") if e.get("stage") == "forgetting_base"]
        self.assertEqual(len(base), 1, log)
        evals = [e["metrics"] for e in H.of(events, "eval")]
        self.assertGreaterEqual(len(evals), 3, log)   # steps 10, 20, 30 (+ the end)
        for m in evals:
            bpb = m["eval_forgetting_bits_per_byte"]
            self.assertAlmostEqual(m["eval_forgetting_change"],
                                   (bpb - base[0]["bits_per_byte"]) / base[0]["bits_per_byte"])
            self.assertIn(m["eval_forgetting_verdict"], ("pass", "warn", "fail"))
        # training moved the model: the measure changes between evaluations
        self.assertNotAlmostEqual(evals[0]["eval_forgetting_bits_per_byte"],
                                  evals[-1]["eval_forgetting_bits_per_byte"], places=5)
        # and every_eval also evaluates at the end, like `end`
        self.assertEqual(len(H.of(events, "eval_result")), 1, log)

    def test_full_fine_tuning_on_demand(self):
        cfg = self.cfg("full", method="full", when="on_demand", training={"max_steps": 30, "learning_rate": 1e-3})
        rc, events, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        self.assertFalse(H.of(events, "eval_result"), "on_demand evaluated during training")
        rc, events, log = H.run_runner(["evaluate", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        result = read_json(os.path.join(os.path.dirname(cfg), "out", "eval.json"))
        task, f = self.check_eval(result, "model")
        print(f"\nfull eval: loss {task['loss']:.3f}, bits/byte change {f['change']:+.1%} ({f['verdict']})")
        self.assertEqual([e["event"] for e in events][-2:], ["eval_result", "end"])

    def test_qlora(self):
        reason = H.bitsandbytes_reason()
        if reason:
            self.skipTest(reason)
        cfg = self.cfg("qlora", method="qlora", when="on_demand", training={"max_steps": 20})
        rc, _, log = H.run_runner(["train", cfg], timeout=600)
        self.assertEqual(rc, 0, log)
        out = os.path.join(os.path.dirname(cfg), "out")
        rc, _, log = H.run_runner(["evaluate", out], timeout=600)
        self.assertEqual(rc, 0, log)
        task, f = self.check_eval(read_json(os.path.join(out, "eval.json")), "adapter")
        print(f"\nQLoRA eval: loss {task['loss']:.3f}, bits/byte change {f['change']:+.1%}")

    def test_a_metric_package_that_does_not_import_is_reported(self):
        cfg = self.cfg("nometric", when="on_demand", metrics=("exact_match", "bleu", "rouge_l"),
                       training={"max_steps": 5})
        rc, _, log = H.run_runner(["train", cfg])
        self.assertEqual(rc, 0, log)
        shim = os.path.join(self.tmp, "broken-packages")
        for name in ("sacrebleu", "rouge_score"):
            os.makedirs(os.path.join(shim, name), exist_ok=True)
            with open(os.path.join(shim, name, "__init__.py"), "w") as fh:
                fh.write(f"raise ImportError('{name} made unimportable by the test')\n")
        env = H.runner_env()
        env["PYTHONPATH"] = shim + os.pathsep + env["PYTHONPATH"]
        proc = subprocess.run([sys.executable, "-m", "tunelab_runner", "evaluate", cfg, "--no-forgetting"],
                              cwd=H.RUNNER_DIR, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr[-4000:])
        gen = read_json(os.path.join(os.path.dirname(cfg), "out", "eval.json"))["task"]["generation"]
        self.assertEqual(set(gen["metrics"]), {"exact_match"})
        self.assertEqual({m["metric"]: m["install"] for m in gen["missing"]},
                         {"bleu": "pip install sacrebleu", "rouge_l": "pip install rouge-score"})


if __name__ == "__main__":
    unittest.main()
