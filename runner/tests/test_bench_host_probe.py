"""The host probe of the timed whole runs (runner/bench/host_probe.py, whole_runs.py
--host-speed) and the padded warm-up, with the probe and the runs mocked; and the
three results files recorded with them (bench/TIME.md)."""

import contextlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import unittest
from types import SimpleNamespace
from unittest import mock

from tests.test_bench_whole_runs import BENCH_DIR, RESULTS_DIR, load_json, read_text

import host_probe  # noqa: E402  (runner/bench on sys.path: the import above puts it there)
import template_run_results as results  # noqa: E402
import whole_runs  # noqa: E402


class HostSpeed(unittest.TestCase):
    """host_probe's report, whole_runs' host_speed() and warm_up(), with the probe and the runs mocked."""

    def test_report_of_an_injected_measure(self):
        self.assertEqual(host_probe.host_speed_report(lambda: None), {"measured": False, "reason": "no CUDA GPU"})

        def broken():
            raise RuntimeError("CUDA error: no kernel image")
        self.assertEqual(host_probe.host_speed_report(broken),
                         {"measured": False, "reason": "RuntimeError: CUDA error: no kernel image"})
        figures = {"layer_pass_ms": 5.1, "op_us": 6.8, "layer_pass_ms_values": [5.1, 5.3], "op_us_values": [6.8, 7.0]}
        self.assertEqual(host_probe.host_speed_report(lambda: dict(figures)), {"measured": True, **figures})

    def test_probe_imports_without_torch(self):
        # torch only inside measure_host_speed(): a fresh import with torch unimportable, and its report says why
        spec = importlib.util.spec_from_file_location("host_probe_no_torch", os.path.join(BENCH_DIR, "host_probe.py"))
        fresh = importlib.util.module_from_spec(spec)
        with mock.patch.dict(sys.modules, {"torch": None}):
            spec.loader.exec_module(fresh)
            report = fresh.host_speed_report()
        self.assertFalse(report["measured"])
        self.assertTrue(report["reason"].startswith("ModuleNotFoundError: "), report["reason"])

    def probe(self, **run):
        with mock.patch.object(whole_runs.subprocess, "run", **run) as fake:
            got = whole_runs.host_speed()
        cmd = fake.call_args[0][0]
        self.assertEqual(cmd, [sys.executable, os.path.join(BENCH_DIR, "host_probe.py")])
        return got

    def test_host_speed_parses_the_last_line(self):
        line = {"measured": True, "layer_pass_ms": 5.6, "op_us": 6.9}
        out = "Loading weights...\n{\"not\": \"this one\"}\n" + json.dumps(line) + "\n"
        self.assertEqual(self.probe(return_value=SimpleNamespace(stdout=out, stderr="", returncode=0)), line)

    def test_host_speed_without_output_or_in_time(self):
        empty = self.probe(return_value=SimpleNamespace(stdout="", stderr="Traceback ...", returncode=1))
        self.assertFalse(empty["measured"])
        self.assertTrue(empty["reason"].startswith("IndexError"), empty["reason"])
        late = self.probe(side_effect=subprocess.TimeoutExpired(["host_probe.py"], 180))
        self.assertFalse(late["measured"])
        self.assertTrue(late["reason"].startswith("TimeoutExpired"), late["reason"])

    def warm_up(self, jobs):
        a = SimpleNamespace(work="/w")
        res = {}
        r = {"status": "completed", "train_seconds": 9.5, "process_seconds": 30.0, "steps": 24}
        with mock.patch.object(whole_runs, "write_run_config", return_value=("/w/cfg.yaml", [])) as wrc, \
                mock.patch.object(whole_runs, "measure", return_value=r) as meas, \
                contextlib.redirect_stdout(io.StringIO()):
            whole_runs.warm_up(a, jobs, {"1b": "/m1", "0.5b": "/m05"}, res, "/logs")
        name = res["warm_up"].pop("name")
        self.assertEqual(res["warm_up"], {"status": "completed", "train_seconds": 9.5, "process_seconds": 30.0})
        meas.assert_called_once_with(name + "-warm-up", "/w/cfg.yaml", os.path.join("/w", "runs", name, "out"),
                                     "/logs", a)
        return name, wrc.call_args[0]

    def test_warm_up_takes_the_first_padded_job(self):
        names = {"1b-lora-packed-eval", "1b-full-packed-eval", "0.5b-full-unpacked-eval", "0.5b-lora-unpacked-eval"}
        jobs = whole_runs.matrix(["1b", "0.5b"], ["lora", "full"], names)
        name, args = self.warm_up(jobs)
        self.assertEqual(name, "0.5b-lora-unpacked-eval")
        self.assertEqual(args[:6], ("0.5b", "lora", False, True, "/m05", "/w"))

    def test_warm_up_with_packed_jobs_only_takes_the_first(self):
        jobs = whole_runs.matrix(["1b"], ["full", "lora"], {"1b-lora-packed-noeval", "1b-full-packed-eval"})
        name, args = self.warm_up(jobs)
        self.assertEqual(name, "1b-full-packed-eval")
        self.assertEqual(args[:6], ("1b", "full", True, True, "/m1", "/w"))


class RecordedHostSpeedRuns(unittest.TestCase):
    """whole-runs-h100-steps24-eval-host{,2,3}.json: timed runs with the host probe before and after."""

    STEMS = ("whole-runs-h100-steps24-eval-host", "whole-runs-h100-steps24-eval-host2",
             "whole-runs-h100-steps24-eval-host3")

    def test_runs_events_probes_and_report(self):
        for stem in self.STEMS:
            with self.subTest(stem=stem):
                rec = load_json(os.path.join(RESULTS_DIR, stem + ".json"))
                events_dir = os.path.join(RESULTS_DIR, stem + "-events")
                completed = [r for r in rec["runs"] if r["status"] == "completed"]
                self.assertEqual(len(completed), len(rec["runs"]))
                self.assertEqual(len(completed), 9)
                for run in completed:
                    self.assertEqual(run["steps"], 24, run["name"])
                    events = results.read_events_file(os.path.join(events_dir, run["name"] + ".events.jsonl"))
                    self.assertTrue(events, f"no events for {run['name']}")
                    self.assertEqual(results.summarize(events)["steps"], 24, run["name"])
                self.assertEqual(len(rec["host_speed"]), 2)
                for probe in rec["host_speed"]:
                    self.assertIs(probe["measured"], True)
                    self.assertGreater(probe["layer_pass_ms"], 0)
                    self.assertGreater(probe["op_us"], 0)
                    if stem != self.STEMS[0]:   # the first file's probe still reported the median
                        self.assertEqual(probe["layer_pass_ms"], min(probe["layer_pass_ms_values"]))
                        self.assertEqual(probe["op_us"], min(probe["op_us_values"]))
                self.assertEqual(whole_runs.render(rec), read_text(os.path.join(RESULTS_DIR, stem + ".md")))

    def test_later_files_warmed_up_with_the_first_padded_run(self):
        for stem in self.STEMS[1:]:
            with self.subTest(stem=stem):
                rec = load_json(os.path.join(RESULTS_DIR, stem + ".json"))
                first_padded = next(r["name"] for r in rec["runs"] if not r["packing"])
                self.assertEqual(rec["warm_up"]["name"], first_padded)
                self.assertTrue(os.path.isfile(os.path.join(RESULTS_DIR, stem + "-events",
                                                            first_padded + "-warm-up.events.jsonl")))


if __name__ == "__main__":
    unittest.main()
