"""The `evaluation:` section's checks and plan, bits per byte and the forgetting
verdict, the base model's cache key and files, and eval.json from given results
(docs/evaluation.md). Pure Python."""

import json
import math
import os
import tempfile
import textwrap
import unittest

from tunelab_runner import run_plan
from tunelab_runner import eval_report as R
from tunelab_runner.events import RunnerError

BASE = """
method: lora
model: { name_or_path: m }
lora: { r: 8 }
data:
  train_file: t.jsonl
  eval_file: data/e.jsonl
  general_data: { file: data/general.jsonl, ratio: 0.05 }
"""


class EvaluationSection(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def plan(self, section=""):
        path = os.path.join(self.tmp.name, "a.finetune.yaml")
        with open(path, "w") as fh:
            fh.write(textwrap.dedent(BASE) + textwrap.dedent(section))
        return run_plan.build_plan(path)

    def error(self, section):
        with self.assertRaises(RunnerError) as ctx:
            self.plan(section)
        self.assertEqual(ctx.exception.type, "config")
        return ctx.exception.message

    def test_no_section_means_no_evaluation_in_training(self):
        self.assertIsNone(self.plan()["steps"]["evaluation"])

    def test_empty_section_gives_the_documented_defaults(self):
        ev = self.plan("evaluation: {}\n")["steps"]["evaluation"]
        self.assertEqual(ev["when"], "end")
        self.assertEqual(ev["task"]["metrics"], ["exact_match", "chrf", "bleu", "rouge_l"])
        self.assertEqual(ev["task"]["max_samples"], 50)
        self.assertEqual(ev["task"]["file"], os.path.join(self.tmp.name, "data", "e.jsonl"))
        self.assertEqual(ev["generation"], {"max_new_tokens": 256, "do_sample": False})
        self.assertEqual(ev["forgetting"], {"file": os.path.join(self.tmp.name, "data", "general.jsonl"),
                                            "max_samples": 200, "threshold": 0.05})
        self.assertIsNone(ev["lm_eval"])

    def test_full_section_is_resolved(self):
        ev = self.plan("""
            evaluation:
              when: every_eval
              task: { max_samples: 0, metrics: [exact_match, json_valid, json_schema], json_schema: s.json }
              generation: { max_new_tokens: 32, do_sample: true, temperature: 0.7 }
              forgetting: { file: held/out.jsonl, max_samples: 10, threshold: 0.1 }
              lm_eval: { tasks: [mmlu], limit: 100 }
            """)["steps"]["evaluation"]
        self.assertEqual(ev["when"], "every_eval")
        self.assertEqual(ev["task"]["json_schema"], os.path.join(self.tmp.name, "s.json"))
        self.assertEqual(ev["generation"]["max_new_tokens"], 32)
        self.assertEqual(ev["generation"]["temperature"], 0.7)
        self.assertEqual(ev["forgetting"]["file"], os.path.join(self.tmp.name, "held", "out.jsonl"))
        self.assertEqual(ev["forgetting"]["threshold"], 0.1)
        self.assertEqual(ev["lm_eval"], {"tasks": ["mmlu"], "limit": 100, "batch_size": 8})

    def test_forgetting_false_turns_it_off(self):
        self.assertIsNone(self.plan("evaluation: { forgetting: false }\n")["steps"]["evaluation"]["forgetting"])

    def test_wrong_values_are_clear_errors(self):
        cases = {
            "evaluation: [end]\n": "`evaluation` must be a mapping",
            "evaluation: { when: always }\n": "`evaluation.when` must be one of end, every_eval, on_demand",
            "evaluation: { task: { metrics: [exact_match, accuracy] } }\n": "unknown metric 'accuracy'",
            "evaluation: { task: { metrics: exact_match } }\n": "must be a list of metric names",
            "evaluation: { task: { max_samples: -1 } }\n": "`evaluation.task.max_samples` must be an integer >= 0",
            "evaluation: { task: { max_samples: ten } }\n": "must be an integer >= 0",
            "evaluation: { task: { metrics: [json_schema] } }\n": "needs `evaluation.task.json_schema`",
            "evaluation: { forgetting: { threshold: 0 } }\n": "threshold` must be a number > 0",
            "evaluation: { forgetting: { threshold: '5%' } }\n": "threshold` must be a number > 0",
            "evaluation: { forgetting: 3 }\n": "`evaluation.forgetting` must be a mapping",
            "evaluation: { generation: 256 }\n": "`evaluation.generation` must be a mapping",
            "evaluation: { lm_eval: { tasks: [] } }\n": "non-empty list of task names",
            "evaluation: { lm_eval: { tasks: [mmlu], batch_size: 0 } }\n": "positive integer or auto",
        }
        for section, expected in cases.items():
            with self.subTest(section=section):
                self.assertIn(expected, self.error(section))

    def test_unknown_keys_are_warnings(self):
        warnings = self.plan("""
            evaluation:
              every: 3
              task: { metric: [bleu] }
              forgetting: { files: x }
            """)["warnings"]
        for key in ("evaluation.every", "evaluation.task.metric", "evaluation.forgetting.files"):
            self.assertTrue(any(key in w for w in warnings), (key, warnings))
        self.assertFalse(any("top-level" in w for w in warnings), warnings)

    def test_build_plan_from_a_copy_resolves_paths_from_the_original_directory(self):
        original = os.path.join(self.tmp.name, "a.finetune.yaml")
        with open(original, "w") as fh:
            fh.write(textwrap.dedent(BASE) + "evaluation: {}\n")
        run_dir = os.path.join(self.tmp.name, "runs", "x")
        os.makedirs(run_dir)
        copy = os.path.join(run_dir, "tunelab-config.yaml")
        with open(original) as src, open(copy, "w") as dst:
            dst.write(src.read())
        plan = run_plan.build_plan(copy, base_dir=self.tmp.name)
        self.assertEqual(plan["steps"]["data"]["eval_file"], os.path.join(self.tmp.name, "data", "e.jsonl"))


class PromptsAndRunDir(unittest.TestCase):
    def test_generation_pairs_cut_at_the_last_assistant_turn(self):
        from tunelab_runner.eval_scoring import generation_pairs
        rows = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                              {"role": "user", "content": "Bill?"}, {"role": "assistant", "content": "12 EUR"}]},
                {"messages": [{"role": "user", "content": "no reply"}]},
                {"messages": [{"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2"}]}]
        pairs = generation_pairs(rows, "messages", "Be brief.", limit=5)
        self.assertEqual(len(pairs), 2)
        prompt, reference, shown = pairs[0]
        self.assertEqual([m["role"] for m in prompt], ["system", "user", "assistant", "user"])
        self.assertEqual((reference, shown), ("12 EUR", "Bill?"))
        self.assertEqual(len(generation_pairs(rows, "messages", None, limit=1)), 1)
        self.assertEqual(generation_pairs([{"prompt": "2+2=", "completion": "4"}], "prompt_completion", None, 3),
                         [("2+2=", "4", "2+2=")])

    def test_evaluate_run_dir_reads_the_config_copy_with_its_original_paths(self):
        from tunelab_runner.evaluate import CONFIG_COPY, plan_for, save_config_copy
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "a.finetune.yaml")
            with open(cfg, "w") as fh:
                fh.write(textwrap.dedent(BASE) + "training: { output_dir: runs/a }\nevaluation: {}\n")
            run_dir = os.path.join(d, "runs", "a")
            save_config_copy(cfg, run_dir)
            with open(os.path.join(run_dir, CONFIG_COPY), "rb") as fh, open(cfg, "rb") as src:
                self.assertEqual(fh.read(), src.read())
            with open(os.path.join(run_dir, "tunelab-config.json")) as fh:
                self.assertEqual(json.load(fh)["sha256"], "sha256:" + R.file_sha256(cfg))
            moved = os.path.join(d, "elsewhere")
            os.rename(run_dir, moved)
            plan = plan_for(moved, None)
            self.assertEqual(plan["output_dir"], moved)
            self.assertEqual(plan["steps"]["data"]["eval_file"], os.path.join(d, "data", "e.jsonl"))
            with self.assertRaises(RunnerError):
                plan_for(d, None)  # a directory without a config copy


class BitsPerByteAndVerdict(unittest.TestCase):
    def test_bits_per_byte(self):
        # 100 bytes scored at a total of 100 * ln 2 nats: one bit per byte
        self.assertAlmostEqual(R.bits_per_byte(100 * math.log(2), 100), 1.0)
        self.assertAlmostEqual(R.bits_per_byte(3.0, 8), 3.0 / math.log(2) / 8)
        with self.assertRaises(ValueError):
            R.bits_per_byte(1.0, 0)

    def test_verdict_bounds(self):
        self.assertEqual(R.verdict(-0.2, 0.05), "pass")
        self.assertEqual(R.verdict(0.05, 0.05), "pass")
        self.assertEqual(R.verdict(0.0501, 0.05), "warn")
        self.assertEqual(R.verdict(0.10, 0.05), "warn")
        self.assertEqual(R.verdict(0.1001, 0.05), "fail")

    def test_forgetting_section(self):
        f = R.forgetting_section("g.jsonl", 200, {"loss": 2.1, "bits_per_byte": 0.91},
                                 {"loss": 2.2, "bits_per_byte": 0.95}, 0.05, base_cached=True)
        self.assertAlmostEqual(f["change"], (0.95 - 0.91) / 0.91)
        self.assertEqual(f["verdict"], "pass")
        self.assertTrue(f["base_cached"])


class BaseCache(unittest.TestCase):
    def test_key_changes_with_model_data_and_settings_only(self):
        model = {"path": "meta-llama/Llama-3.2-1B", "revision": None, "dtype": "bfloat16"}
        settings = {"max_samples": 200, "max_length": 2048, "chat_template": "llama-3"}
        key = R.base_cache_key(model, "ab" * 32, settings)
        self.assertEqual(key, R.base_cache_key(dict(model), "ab" * 32, dict(settings)))
        self.assertEqual(len(key), 64)
        self.assertNotEqual(key, R.base_cache_key({**model, "revision": "main"}, "ab" * 32, settings))
        self.assertNotEqual(key, R.base_cache_key(model, "cd" * 32, settings))
        self.assertNotEqual(key, R.base_cache_key(model, "ab" * 32, {**settings, "max_samples": 100}))

    def test_cache_dir_from_environment(self):
        self.assertEqual(R.cache_dir({"TUNELAB_CACHE": "/c"}), os.path.join("/c", "eval"))
        self.assertTrue(R.cache_dir({}).endswith(os.path.join(".cache", "tunelab", "eval")))

    def test_write_then_read_and_damaged_files(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertIsNone(R.read_cached("k", d))
            R.write_cached("k", {"loss": 2.0, "bits_per_byte": float("nan")}, d)
            self.assertEqual(R.read_cached("k", d), {"loss": 2.0, "bits_per_byte": None})
            with open(os.path.join(d, "base-k.json"), "w") as fh:
                fh.write("{half")
            self.assertIsNone(R.read_cached("k", d))

    def test_file_sha256_and_local_fingerprint(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "g.jsonl")
            with open(path, "wb") as fh:
                fh.write(b"abc")
            self.assertEqual(R.file_sha256(path),
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            with open(os.path.join(d, "config.json"), "w") as fh:
                fh.write("{}")
            self.assertEqual(list(R.local_model_fingerprint(d)), ["config.json"])
            self.assertIsNone(R.local_model_fingerprint("meta-llama/Llama-3.2-1B"))


class EvalJson(unittest.TestCase):
    def test_written_file_and_event_payload(self):
        samples = [{"prompt": f"p{i}", "reference": "r", "prediction": "r", "exact_match": True} for i in range(8)]
        result = R.build_eval_json(
            config_hash="sha256:00", model={"base": "b", "method": "lora", "kind": "adapter", "path": "a",
                                            "checkpoint": None},
            versions={"torch": "2.11"}, seconds={"total": 1.5, "task": 1.0, "forgetting": 0.5, "lm_eval": None},
            task={"file": "e.jsonl", "loss": 1.0, "perplexity": math.e, "tokens": 10, "samples": 2,
                  "generation": None},
            forgetting=None, lm_eval={"skipped": "lm_eval is not installed", "install": "pip install lm-eval"},
            samples=samples, created="2026-12-06T10:00:00Z")
        with tempfile.TemporaryDirectory() as d:
            path = R.write_eval_json(os.path.join(d, "sub", "eval.json"), result)
            with open(path) as fh:
                back = json.load(fh)
        self.assertEqual(back["format"], 1)
        self.assertEqual(back["created"], "2026-12-06T10:00:00Z")
        self.assertIsNone(back["forgetting"])
        self.assertAlmostEqual(back["task"]["perplexity"], math.e)
        self.assertEqual(len(back["samples"]), 8)
        payload = R.event_payload(back)
        self.assertEqual([s["prompt"] for s in payload["samples"]], ["p0", "p1", "p2", "p3", "p4"])
        self.assertEqual(len(back["samples"]), 8)  # the payload is a copy

    def test_non_finite_numbers_become_null(self):
        result = R.build_eval_json(config_hash=None, model={}, versions={}, seconds={"total": float("inf")},
                                   task={"loss": float("nan")}, forgetting=None, lm_eval=None, samples=[])
        self.assertIsNone(result["seconds"]["total"])
        self.assertIsNone(result["task"]["loss"])
        json.dumps(result, allow_nan=False)


if __name__ == "__main__":
    unittest.main()
