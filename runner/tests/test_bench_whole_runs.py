"""The pure parts of the whole-run benches (runner/bench/template_runs.py and
whole_runs.py, through their template_run_* modules), on CPU without torch: the
summary of a run's events against what the H100 whole runs recorded
(bench/results/whole-runs-h100.json from whole-runs-h100-events/), the Markdown
reports, the configs, and the plumbing of the model build and the memory-cap
sitecustomize."""

import contextlib
import importlib.util
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
from types import SimpleNamespace
from unittest import mock

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(RUNNER_DIR, "bench")
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import template_run_configs as configs  # noqa: E402
import template_run_model as model  # noqa: E402
import template_run_process as process  # noqa: E402
import template_run_results as results  # noqa: E402
import template_runs  # noqa: E402
import whole_runs  # noqa: E402

RESULTS_DIR = os.path.join(BENCH_DIR, "results")
WHOLE_RUNS_JSON = os.path.join(RESULTS_DIR, "whole-runs-h100.json")
EVENTS_DIR = os.path.join(RESULTS_DIR, "whole-runs-h100-events")
HAVE_YAML = importlib.util.find_spec("yaml") is not None
GIB = 2 ** 30


def load_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_text(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def as_json(value):
    """What the value looks like once written to and read from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def table_rows(markdown):
    """The rows of the Markdown table, header and separator left out."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    return rows[1:]


def cells(row):
    return [c.strip() for c in row.strip().strip("|").split("|")]


class RecordedWholeRuns(unittest.TestCase):
    """summarize() of the recorded events gives the figures whole-runs-h100.json holds."""

    @classmethod
    def setUpClass(cls):
        cls.recorded = load_json(WHOLE_RUNS_JSON)
        cls.runs = cls.recorded["runs"]

    def events_of(self, name):
        events = results.read_events_file(os.path.join(EVENTS_DIR, name + ".events.jsonl"))
        self.assertTrue(events, f"no recorded events for {name}")
        return events

    def assert_same(self, got, want, where):
        if isinstance(want, float) or isinstance(got, float):
            self.assertIsNotNone(got, where)
            self.assertIsNotNone(want, where)
            self.assertTrue(math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {got!r} != {want!r}")
        elif isinstance(want, list) and isinstance(got, list):
            self.assertEqual(len(got), len(want), where)
            for i, (g, w) in enumerate(zip(got, want)):
                self.assert_same(g, w, f"{where}[{i}]")
        elif isinstance(want, dict) and isinstance(got, dict):
            self.assertEqual(sorted(got), sorted(want), where)
            for k in want:
                self.assert_same(got[k], want[k], f"{where}.{k}")
        else:
            self.assertEqual(got, want, where)

    def test_every_recorded_run_has_its_events(self):
        self.assertEqual(len(self.runs), 20)
        names = sorted(f[: -len(".events.jsonl")] for f in os.listdir(EVENTS_DIR) if f.endswith(".events.jsonl"))
        self.assertEqual(names, sorted(r["name"] for r in self.runs))

    def test_summary_matches_the_recorded_figures(self):
        key_figures = {"steps", "train_seconds", "alloc_peak_training_bytes", "alloc_peak_whole_bytes",
                       "reserved_peak_bytes", "tokens_per_second_median", "tokens_per_second_whole_training",
                       "tokens_trained", "eval_seconds", "final_loss", "status"}
        for rec in self.runs:
            with self.subTest(run=rec["name"]):
                summary = results.summarize(self.events_of(rec["name"]))
                shared = [k for k in summary if k in rec]
                self.assertTrue(key_figures <= set(shared), sorted(key_figures - set(shared)))
                for key in shared:
                    self.assert_same(as_json(summary[key]), rec[key], f"{rec['name']}.{key}")

    def test_one_run_figure_by_figure(self):
        # 1b-lora-packed-eval as recorded: 6 steps, an evaluation after step 3 and 6
        summary = results.summarize(self.events_of("1b-lora-packed-eval"))
        self.assertEqual(summary["status"], "completed")
        self.assertEqual(summary["steps"], 6)
        self.assertEqual(summary["train_seconds"], 6.6)
        self.assertEqual(summary["eval_seconds"], [1.19, 0.7, 0.7])
        self.assertEqual(summary["eval_in_training_seconds"], 1.19)
        self.assertEqual(summary["alloc_peak_whole_bytes"], 15951619072)
        self.assertEqual(summary["tokens_trained"], 95128)
        # steps 5 and 6: steps 1-3 are warm-up, step 4's window holds the evaluation
        self.assertEqual(summary["tokens_per_second_values"], 2)
        self.assertAlmostEqual(summary["tokens_per_second_median"], 23675.41, places=2)
        # over the unrounded training seconds (the JSON has them to 0.01 s)
        self.assertTrue(math.isclose(summary["tokens_per_second_whole_training"], 95128 / 6.6, rel_tol=0.005 / 6.6))

    def test_whole_runs_report_is_the_recorded_one(self):
        report = whole_runs.render(self.recorded)
        self.assertEqual(report, read_text(os.path.join(RESULTS_DIR, "whole-runs-h100.md")))
        rows = table_rows(report)
        self.assertEqual([cells(r)[0] for r in rows], [r["name"] for r in self.runs])
        self.assertEqual(cells(rows[0]), ["1b-lora-packed-eval", "14,416", "14.86", "17.90", "18.65", "18", "6.6",
                                          "1.2+0.7+0.7", "completed"])

    def test_whole_runs_matrix_is_the_recorded_order(self):
        jobs = whole_runs.matrix(["1b", "0.5b"], ["lora", "full", "qlora"])
        self.assertEqual([whole_runs.run_name(*j) for j in jobs], [r["name"] for r in self.runs])

    def test_timed_runs_are_one_of_each_training_and_their_report_is_render(self):
        # whole-runs-h100-steps24.json: the time truth held out of the fit (bench/timeWholeRuns.ts)
        timed = load_json(os.path.join(RESULTS_DIR, "whole-runs-h100-steps24.json"))
        names = [r["name"] for r in timed["runs"]]
        trainings = {n.rsplit("-", 1)[0] for n in (r["name"] for r in self.runs)}
        self.assertEqual(sorted(n.rsplit("-", 1)[0] for n in names), sorted(trainings))
        self.assertEqual(names, [whole_runs.run_name(*j) for j in whole_runs.matrix(["1b", "0.5b"],
                                                                                    ["lora", "full", "qlora"],
                                                                                    set(names))])
        for rec in timed["runs"]:
            with self.subTest(run=rec["name"]):
                self.assertEqual((rec["status"], rec["steps"]), ("completed", 24))
                # the timing the bench derives: the first step and 23 later ones fill train_seconds
                later = rec["first_to_last_step_seconds"] - rec["eval_in_training_seconds"]
                self.assertGreater(rec["train_seconds"], later)
        self.assertEqual(whole_runs.render(timed),
                         read_text(os.path.join(RESULTS_DIR, "whole-runs-h100-steps24.md")))

    def test_matrix_keeps_only_the_named_runs_in_order(self):
        names = {"0.5b-qlora-unpacked-eval", "1b-full-packed-noeval", "1b-lora-unpacked-noeval"}
        jobs = whole_runs.matrix(["1b", "0.5b"], ["lora", "full", "qlora"], names)
        self.assertEqual([whole_runs.run_name(*j) for j in jobs],
                         ["1b-lora-unpacked-noeval", "1b-full-packed-noeval", "0.5b-qlora-unpacked-eval"])


class Summarize(unittest.TestCase):
    """summarize() on a small event log made here."""

    T0 = 1_700_000_000.0   # event times are Unix times

    def events(self):
        def step(n, t, alloc):
            return {"event": "step", "time": self.T0 + t, "step": n, "max_steps": 6, "loss": 10.0 - n,
                    "tokens": 1000 * n, "tokens_per_second": 100.0 * n,
                    "gpu_memory": {"peak_allocated_bytes": alloc, "reserved_bytes": alloc + GIB}}
        return [
            {"event": "start", "time": self.T0, "params": {"trainable": 10, "total": 100}, "effective_batch": 8},
            step(1, 1.0, 5 * GIB), step(2, 2.0, 6 * GIB), step(3, 3.0, 6 * GIB),
            {"event": "eval", "time": self.T0 + 4.0, "step": 3, "metrics": {"eval_loss": 7.5}},
            step(4, 5.0, 8 * GIB), step(5, 6.0, 8 * GIB), step(6, 7.0, 8 * GIB),
            {"event": "eval", "time": self.T0 + 8.5, "step": 6, "metrics": {"eval_loss": 4.5}},
            {"event": "end", "time": self.T0 + 9.0, "status": "completed", "exit_code": 0,
             "metrics": {"peak_memory_allocated_bytes": 9 * GIB, "peak_memory_reserved_bytes": 10 * GIB,
                         "train_loss": 6.0, "eval_loss": 4.5}},
        ]

    def test_figures(self):
        s = results.summarize(self.events())
        self.assertEqual(s["status"], "completed")
        self.assertEqual(s["steps"], 6)
        self.assertEqual(s["tokens_per_second_values"], 2)         # steps 5, 6 (4 follows the evaluation)
        self.assertEqual(s["tokens_per_second_median"], 550.0)
        self.assertEqual(s["alloc_peak_training_bytes"], 6 * GIB)   # the last step before the first evaluation
        self.assertEqual(s["alloc_peak_whole_bytes"], 9 * GIB)      # the end event's
        self.assertEqual(s["reserved_training_bytes"], 7 * GIB)
        self.assertEqual(s["reserved_peak_bytes"], 10 * GIB)
        self.assertEqual(s["eval_seconds"], [1.0, 1.5])
        self.assertEqual(s["eval_in_training_seconds"], 1.0)
        self.assertEqual(s["train_seconds"], 6.0)                   # 7 - 0 less the 1 s evaluation
        self.assertEqual(s["first_to_last_step_seconds"], 6.0)
        self.assertEqual(s["after_training_seconds"], 2.0)
        self.assertEqual(s["start_to_end_seconds"], 9.0)
        self.assertEqual(s["tokens_per_second_whole_training"], 6000 / 6.0)
        self.assertEqual((s["first_loss"], s["final_loss"]), (9.0, 4.0))
        self.assertEqual(s["eval_losses"], [(3, 7.5), (6, 4.5)])
        self.assertIsNone(s["error"])

    def test_without_end_and_an_error(self):
        events = [e for e in self.events() if e["event"] != "end"]
        events.append({"event": "error", "time": self.T0 + 9.0, "type": "oom", "message": "CUDA out of memory",
                       "hint": "h"})
        s = results.summarize(events)
        self.assertIsNone(s["status"])
        self.assertEqual(s["error"], {"type": "oom", "message": "CUDA out of memory", "hint": "h"})
        self.assertEqual(s["alloc_peak_whole_bytes"], 8 * GIB)       # no end event: the steps' largest
        self.assertEqual(s["reserved_peak_bytes"], 9 * GIB)

    def test_read_events_file(self):
        self.assertIsNone(results.read_events_file(os.path.join(tempfile.gettempdir(), "no-such-dir", "x.jsonl")))
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "events.jsonl")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write('{"event": "start", "time": 1}\n\nnot json\n{"event": "end", "time": 2}\n')
            self.assertEqual(results.read_events_file(path), [{"event": "start", "time": 1},
                                                              {"event": "end", "time": 2}])


class Report(unittest.TestCase):
    """render() and save() of template_runs' results."""

    def small_results(self):
        return {
            "device": "NVIDIA H100 80GB HBM3", "versions": {"torch": "x"},
            "model": {"params": 1_235_814_400, "tokenizer_vocab": 8000,
                      "train_chat_tokens": {"mean": 250.5, "max": 900}},
            "changes_summary": "max_steps 30",
            "runs": [
                {"method": "lora", "packing": True, "status": "completed", "exit_code": 0,
                 "tokens_per_second_median": 23582.4, "alloc_peak_training_bytes": int(14.86 * GIB),
                 "alloc_peak_whole_bytes": int(15.5 * GIB), "reserved_peak_bytes": int(17.9 * GIB),
                 "smi_peak_gib": 18.65, "train_seconds": 41.83, "steps": 30, "eval_seconds": [1.44, 0.71],
                 "process_seconds": 62.2, "final_loss": 9.1774,
                 "bisect": {"smallest_cap_gib": 17.0, "verified": True, "resolution_gib": 1.0},
                 "estimate": {"per_gpu_bytes": int(18.44 * GIB), "seconds": 81.6}},
                {"method": "qlora", "packing": False, "skipped": "dry run",
                 "estimate": {"per_gpu_bytes": int(11.1 * GIB), "seconds": 247.2},
                 "estimate_here": {"per_gpu_bytes": int(11.2 * GIB), "seconds": 250.0}},
                {"method": "full", "packing": True, "exit_code": 4, "timed_out": False, "steps": 2,
                 "error": {"type": "oom"}, "bisect": {"smallest_cap_gib": 30.0, "verified": False,
                                                      "resolution_gib": 0.5}},
            ],
            "notes": ["dry run: nothing was trained"],
        }

    def test_a_row_per_run_with_its_figures(self):
        text = results.render(self.small_results())
        self.assertTrue(text.startswith("# Telecom-support templates as whole runs\n"))
        self.assertIn("Device: NVIDIA H100 80GB HBM3; {\"torch\": \"x\"}.", text)
        self.assertIn("(1.236 B params, vocab 128256", text)
        self.assertIn("mean 250.5, max 900 tokens", text)
        rows = table_rows(text)
        self.assertEqual(len(rows), 3)
        self.assertEqual(cells(rows[0]), ["lora", "true", "23,582", "14.86", "15.50", "17.90", "18.65", "17 ±1",
                                          "41.8 (30)", "1.4+0.7", "62", "9.177", "18.4", "82", "completed"])
        self.assertEqual(cells(rows[1]), ["qlora", "false"] + ["—"] * 10 + ["11.2", "250", "skipped: dry run"])
        self.assertEqual(cells(rows[2]), ["full", "true", "—", "—", "—", "—", "—", "30 (unverified)", "— (2)",
                                          "—", "—", "—", "—", "—", "exit 4 (oom)"])
        self.assertTrue(text.endswith("\n- dry run: nothing was trained\n"))

    def test_recorded_reports(self):
        # the unpacked report is render()'s alone; the packed one has an analysis added below the table
        for stem, exact in (("template-runs-unpacked-h100", True), ("template-runs-h100", False)):
            with self.subTest(stem=stem):
                text = results.render(load_json(os.path.join(RESULTS_DIR, stem + ".json")))
                recorded = read_text(os.path.join(RESULTS_DIR, stem + ".md"))
                if exact:
                    self.assertEqual(text, recorded)
                else:
                    self.assertTrue(recorded.startswith(text), "the recorded report does not begin with render()'s")

    def test_save_writes_json_and_markdown(self):
        res = self.small_results()
        with tempfile.TemporaryDirectory() as d:
            results.save(res, d, "template_runs-x")
            self.assertEqual(sorted(os.listdir(d)), ["template_runs-x.json", "template_runs-x.md"])
            self.assertEqual(load_json(os.path.join(d, "template_runs-x.json")), as_json(res))
            self.assertEqual(read_text(os.path.join(d, "template_runs-x.md")), results.render(res))


class Configs(unittest.TestCase):
    def test_device_matches(self):
        self.assertTrue(configs.device_matches("NVIDIA H100 80GB HBM3", "H100-80GB"))
        self.assertFalse(configs.device_matches("NVIDIA H200", "H100-80GB"))
        self.assertFalse(configs.device_matches("NVIDIA A100-SXM4-80GB", "H100-80GB"))

    def test_resolve(self):
        self.assertEqual(configs.resolve("data/train.jsonl", "/t/x"), "/t/x/data/train.jsonl")
        self.assertEqual(configs.resolve("/abs/../a.jsonl", "/t/x"), "/a.jsonl")

    @unittest.skipUnless(HAVE_YAML, "PyYAML")
    def test_make_config_changes_only_what_the_bench_says(self):
        a = SimpleNamespace(max_steps=30, eval_steps=20, logging_steps="1", keep_saves=False, keep_evaluation=False)
        _text, template = configs.load_template("lora")
        doc, changes = configs.make_config("lora", False, "/m", "/w/runs/lora-unpacked", a)
        keys = [c["key"] for c in changes]
        self.assertEqual(doc["model"]["name_or_path"], "/m")
        self.assertFalse(doc["data"]["packing"])
        self.assertIn("data.packing", keys)
        self.assertTrue(os.path.isfile(doc["data"]["train_file"]))
        self.assertEqual(doc["training"]["max_steps"], 30)
        self.assertEqual((doc["training"]["eval_strategy"], doc["training"]["eval_steps"]), ("steps", 20))
        self.assertEqual(doc["training"]["logging_steps"], 1)
        self.assertEqual(doc["training"]["save_strategy"], "no")
        self.assertEqual(doc["training"]["output_dir"], "/w/runs/lora-unpacked/out")
        self.assertEqual((doc["export"]["adapter"], doc["export"]["merge"]), (False, False))
        if template.get("evaluation") is not None:
            self.assertNotIn("evaluation", doc)
            self.assertIn("evaluation", keys)
        # what the bench does not name is the template's
        for section in ("lora", "model"):
            for k, v in (template.get(section) or {}).items():
                if f"{section}.{k}" not in keys:
                    self.assertEqual(doc[section][k], v, f"{section}.{k}")
        # the template itself is untouched
        self.assertEqual(configs.load_template("lora")[1], template)
        # packed lora is the template's own packing: no change recorded
        _doc, packed = configs.make_config("lora", True, "/m", "/w/runs/lora-packed", a)
        self.assertEqual("data.packing" in [c["key"] for c in packed], template["data"].get("packing") is not True)

    @unittest.skipUnless(HAVE_YAML, "PyYAML")
    def test_write_config_round_trips(self):
        import yaml
        a = SimpleNamespace(max_steps=6, eval_steps=3, logging_steps="template", keep_saves=True, keep_evaluation=True)
        doc, _ = configs.make_config("full", True, "/m", "/w/r", a)
        with tempfile.TemporaryDirectory() as d:
            path = configs.write_config(doc, os.path.join(d, "configs", "full.finetune.yaml"))
            text = read_text(path)
            self.assertTrue(text.startswith(
                "# written by runner/bench/template_runs.py from templates/telecom-support\n"))
            self.assertEqual(yaml.safe_load(text), doc)


class Plumbing(unittest.TestCase):
    """The child-process build entry and the memory-cap sitecustomize."""

    def test_build_entry_is_template_runs(self):
        self.assertEqual(model.BUILD_ENTRY, os.path.join(BENCH_DIR, "template_runs.py"))
        with tempfile.TemporaryDirectory() as work, mock.patch.object(
                model.subprocess, "run", return_value=SimpleNamespace(returncode=3)) as run, \
                contextlib.redirect_stdout(io.StringIO()):
            with self.assertRaises(SystemExit):
                model.ensure_model(work, 8000, "be brief", False, "0.5b")
            cmd = run.call_args[0][0]
            self.assertEqual(cmd[:3], [sys.executable, os.path.join(BENCH_DIR, "template_runs.py"), "--_build"])
            spec = load_json(cmd[3])
            self.assertEqual(spec["shape"], "0.5b")
            self.assertEqual(spec["model_dir"], os.path.join(work, "model-qwen2.5-0.5b-shape"))

    def test_build_flag_runs_the_child(self):
        with mock.patch.object(template_runs, "build_assets_child", return_value=0) as child:
            self.assertEqual(template_runs.main(["--_build", "/tmp/spec.json"]), 0)
        child.assert_called_once_with("/tmp/spec.json")

    def test_dry_run_model_is_its_config_only(self):
        with tempfile.TemporaryDirectory() as work, contextlib.redirect_stdout(io.StringIO()):
            model_dir, info = model.ensure_model(work, 8000, "", True)
            self.assertIsNone(info)
            self.assertEqual(os.listdir(model_dir), ["config.json"])
            cfg = load_json(os.path.join(model_dir, "config.json"))
            self.assertEqual(cfg["architectures"], ["LlamaForCausalLM"])
            self.assertEqual((cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]), (2048, 16, 128256))

    def test_sitecustomize_chains_to_the_one_it_shadows(self):
        self.assertIn('"%s"' % process.CAP_ENV, process.SITECUSTOMIZE)
        # the line measure() looks for in a capped run's log
        self.assertIn("[template_runs sitecustomize] CUDA memory cap", process.SITECUSTOMIZE)
        with tempfile.TemporaryDirectory() as d:
            cap_dir, other = os.path.join(d, "cap"), os.path.join(d, "other")
            os.makedirs(cap_dir)
            os.makedirs(other)
            with open(os.path.join(cap_dir, "sitecustomize.py"), "w") as fh:
                fh.write(process.SITECUSTOMIZE)
            with open(os.path.join(other, "sitecustomize.py"), "w") as fh:
                fh.write("import sys\nsys.stdout.write('shadowed one ran\\n')\n")
            env = process.runner_env(cap_dir)
            env["PYTHONPATH"] = os.pathsep.join([cap_dir, other])
            proc = subprocess.run([sys.executable, "-c", "import sitecustomize; print(sitecustomize.__file__)"],
                                  env=env, capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            lines = proc.stdout.splitlines()
            self.assertEqual(lines[0], "shadowed one ran")
            self.assertEqual(os.path.dirname(lines[1]), cap_dir)
            self.assertNotIn("failed", proc.stderr)

    def test_runner_env(self):
        with mock.patch.dict(os.environ, {"PYTHONPATH": "/bnb", process.CAP_ENV: "12"}):
            env = process.runner_env("/site")
        self.assertEqual(env["PYTHONPATH"].split(os.pathsep), ["/site", RUNNER_DIR, "/bnb"])
        self.assertNotIn(process.CAP_ENV, env)
        self.assertEqual(env["HF_HUB_OFFLINE"], "1")


if __name__ == "__main__":
    unittest.main()
