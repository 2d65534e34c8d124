import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from unittest import mock

from tunelab_runner import doctor, jit_cache
from tunelab_runner.events import STDOUT_PREFIX, EventWriter, RunnerError, parse_event_line

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_TORCH = importlib.util.find_spec("torch") is not None


class Events(unittest.TestCase):
    def test_writer_file_and_stdout(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "out", "events.jsonl")
            out = io.StringIO()
            w = EventWriter(path, stdout=out, enabled=True, clock=lambda: 12.5)
            w.emit("step", step=3, loss=float("nan"), grad_norm=float("inf"), lr=1e-4)
            w.emit("end", status="completed", exit_code=0)
            w.close()
            with open(path) as fh:
                lines = fh.read().splitlines()
            self.assertEqual(len(lines), 2)
            ev = json.loads(lines[0])
            self.assertEqual(ev, {"event": "step", "time": 12.5, "v": 1, "step": 3, "loss": None,
                                  "grad_norm": None, "lr": 1e-4})
            printed = out.getvalue().splitlines()
            self.assertTrue(all(l.startswith(STDOUT_PREFIX) for l in printed))
            self.assertEqual(parse_event_line(printed[1])["status"], "completed")
            self.assertIsNone(parse_event_line("{'loss': '12.11'}"))
            # resume appends
            w = EventWriter(path, stdout=io.StringIO(), enabled=True, append=True)
            w.emit("start")
            w.close()
            with open(path) as fh:
                self.assertEqual(len(fh.read().splitlines()), 3)

    def test_only_rank_zero_writes(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "events.jsonl")
            with mock.patch.dict(os.environ, {"RANK": "1"}):
                out = io.StringIO()
                w = EventWriter(path, stdout=out)
                self.assertIsNone(w.emit("step", step=1))
                w.close()
            self.assertFalse(os.path.exists(path))
            self.assertEqual(out.getvalue(), "")
            with mock.patch.dict(os.environ, {"RANK": "0"}):
                w = EventWriter(path, stdout=io.StringIO())
                self.assertIsNotNone(w.emit("step", step=1))
                w.close()

    def test_error_event(self):
        err = RunnerError("missing_package", "bitsandbytes not installed", "pip install bitsandbytes")
        self.assertEqual(err.exit_code, 3)
        self.assertEqual(err.as_event(), {"type": "missing_package", "message": "bitsandbytes not installed",
                                          "hint": "pip install bitsandbytes", "exit_code": 3})
        self.assertEqual(RunnerError("oom", "x").exit_code, 4)
        self.assertEqual(RunnerError("nan_loss", "x").exit_code, 5)


SMI = "0, NVIDIA H100 80GB HBM3, 81559, 580.159.04, 9.0\n1, Tesla T4, 15360, 580.159.04, 7.5\n"


class Doctor(unittest.TestCase):
    def test_without_torch(self):
        def find_spec(mod):
            return None if mod in ("torch", "bitsandbytes", "peft") else importlib.util.find_spec("json")
        rep = doctor.report(find_spec=find_spec, smi=lambda: doctor.parse_nvidia_smi(SMI))
        self.assertFalse(rep["torch"]["installed"])
        self.assertIn("torch is not installed", rep["torch"]["message"])
        self.assertEqual(rep["gpus_source"], "nvidia-smi")
        self.assertEqual(rep["driver_version"], "580.159.04")
        self.assertEqual([g["name"] for g in rep["gpus"]], ["NVIDIA H100 80GB HBM3", "Tesla T4"])
        self.assertEqual([g["bf16"] for g in rep["gpus"]], [True, False])
        self.assertEqual(rep["gpus"][0]["compute_capability"], "9.0")
        self.assertEqual(rep["gpus"][0]["memory_bytes"], 81559 * 1024 * 1024)
        self.assertFalse(rep["methods"]["full"]["ready"])
        self.assertIn("torch", rep["methods"]["full"]["missing"])
        self.assertEqual(rep["methods"]["qlora"]["missing"], ["torch", "peft", "bitsandbytes"])
        self.assertEqual(rep["methods"]["qlora"]["install"], "pip install torch peft bitsandbytes")
        self.assertIsNone(rep["packages"]["torch"])
        json.dumps(rep)

    def test_no_gpu_no_torch(self):
        rep = doctor.report(find_spec=lambda m: None, smi=lambda: None)
        self.assertEqual(rep["gpus"], [])
        self.assertFalse(rep["methods"]["qlora"]["ready"])
        self.assertIn("needs a CUDA GPU", rep["methods"]["qlora"]["notes"][0])

    def test_with_fake_torch(self):
        def probe():
            return {"installed": True, "version": "2.11.0", "cuda": "13.0", "cuda_available": True,
                    "gpus": [{"index": 0, "name": "NVIDIA H100", "memory_bytes": 80 << 30,
                              "compute_capability": "9.0", "bf16": True}]}
        rep = doctor.report(find_spec=lambda m: importlib.util.find_spec("json"), smi=lambda: None,
                            probe_torch=probe)
        self.assertTrue(rep["methods"]["qlora"]["ready"])
        self.assertEqual(rep["cuda_version"], "13.0")
        self.assertEqual(rep["gpus_source"], "torch")

    def test_cli_doctor(self):
        out = subprocess.run([sys.executable, "-m", "tunelab_runner", "doctor"], cwd=RUNNER_DIR,
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        rep = json.loads(out.stdout)
        self.assertIn("methods", rep)
        self.assertEqual(rep["torch"]["installed"], HAVE_TORCH)
        self.assertIsNotNone(rep["packages"]["PyYAML"])
        # the doctor reports the allocator a run would use, and sets nothing itself
        self.assertIn(rep["allocator"]["source"], ("runner default", "environment"))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF")}
        env["PYTORCH_ALLOC_CONF"] = "expandable_segments:False"
        out = subprocess.run([sys.executable, "-m", "tunelab_runner", "doctor"], cwd=RUNNER_DIR,
                             capture_output=True, text=True, timeout=120, env=env)
        chosen = json.loads(out.stdout)["allocator"]
        self.assertEqual((chosen["variable"], chosen["source"], chosen["expandable_segments"]),
                         ("PYTORCH_ALLOC_CONF", "environment", False))


@unittest.skipIf(HAVE_TORCH, "torch is installed here: the missing-package path is tested on GPU machines with qlora")
class TrainWithoutTorch(unittest.TestCase):
    def test_missing_package_event_and_exit_code(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "a.finetune.yaml")
            with open(cfg, "w") as fh:
                fh.write(textwrap.dedent("""
                    method: qlora
                    model: { name_or_path: m }
                    quantization: { load_in_4bit: true }
                    prepare_model_for_kbit_training: true
                    lora: { r: 8 }
                    data: { train_file: t.jsonl }
                    training: { output_dir: out }
                """))
            out = subprocess.run([sys.executable, "-m", "tunelab_runner", "train", cfg], cwd=RUNNER_DIR,
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 3, out.stdout + out.stderr)
            events = [parse_event_line(l) for l in out.stdout.splitlines()]
            events = [e for e in events if e]
            err = [e for e in events if e["event"] == "error"][0]
            self.assertEqual(err["type"], "missing_package")
            self.assertTrue(err["hint"].startswith("pip install "))
            self.assertIn("bitsandbytes", err["hint"])
            self.assertEqual(events[-1]["event"], "end")
            self.assertEqual(events[-1]["status"], "failed")
            with open(os.path.join(d, "out", "events.jsonl")) as fh:
                self.assertEqual(len(fh.read().splitlines()), len(events))


class JitCache(unittest.TestCase):
    """The doctor says when CUDA's JIT cache is off or cannot be written (jit_cache.py)."""

    def test_default_path_in_a_writable_home_is_fine(self):
        with tempfile.TemporaryDirectory() as home:
            rep = jit_cache.jit_cache_report(env={}, home=home)
            self.assertEqual(rep["path"], os.path.join(home, ".nv", "ComputeCache"))
            self.assertTrue(rep["enabled"])
            self.assertTrue(rep["writable"])   # not there yet: the home it would be made in is writable
            self.assertIsNone(rep["note"])

    def test_disabled_by_the_environment(self):
        with tempfile.TemporaryDirectory() as home:
            rep = jit_cache.jit_cache_report(env={"CUDA_CACHE_DISABLE": "1"}, home=home)
            self.assertFalse(rep["enabled"])
            self.assertIn("CUDA_CACHE_DISABLE=1", rep["note"])

    def test_a_file_where_the_directory_should_be_is_not_writable(self):
        with tempfile.TemporaryDirectory() as root:
            blocker = os.path.join(root, "nv")
            open(blocker, "w").close()
            rep = jit_cache.jit_cache_report(env={"CUDA_CACHE_PATH": os.path.join(blocker, "cache")}, home=root)
            self.assertFalse(rep["writable"])
            self.assertIn("cannot be written", rep["note"])

    def test_the_report_carries_it_and_methods_note_it_on_a_gpu_host(self):
        def probe():
            return {"installed": True, "version": "2.11.0", "cuda": "13.0", "cuda_available": True,
                    "gpus": [{"index": 0, "name": "NVIDIA H100", "memory_bytes": 80 << 30,
                              "compute_capability": "9.0", "bf16": True}]}
        env = {k: v for k, v in os.environ.items() if k not in ("CUDA_CACHE_DISABLE", "CUDA_CACHE_PATH")}
        report = lambda: doctor.report(find_spec=lambda m: importlib.util.find_spec("json"), smi=lambda: None,
                                       probe_torch=probe)
        with mock.patch.dict(os.environ, {**env, "CUDA_CACHE_DISABLE": "1"}, clear=True):
            rep = report()
        self.assertFalse(rep["cuda_jit_cache"]["enabled"])
        self.assertTrue(any("JIT cache is off" in n for n in rep["methods"]["lora"]["notes"]))
        with tempfile.TemporaryDirectory() as cache, \
                mock.patch.dict(os.environ, {**env, "CUDA_CACHE_PATH": cache}, clear=True):
            rep = report()
        self.assertIsNone(rep["cuda_jit_cache"]["note"])
        self.assertFalse(any("JIT cache" in n for n in rep["methods"]["lora"]["notes"]))


if __name__ == "__main__":
    unittest.main()
