import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

from tunelab_runner import config as C
from tunelab_runner import run_plan
from tunelab_runner.events import RunnerError

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LORA = """
method: lora
model:
  name_or_path: meta-llama/Llama-3.2-1B
  dtype: bfloat16
  attn_implementation: sdpa
  architecture: { hidden_size: 2048 }
  add_tokens: ["<|tool|>"]
lora: { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: all-linear }
data:
  train_file: data/train.jsonl
  eval_file: data/eval.jsonl
  general_data: { file: data/general.jsonl, ratio: 0.05 }
  packing: true
training:
  output_dir: runs/x
  learning_rate: 2e-4
  warmup_ratio: 3.0E-2
  num_train_epochs: 3
  gradient_checkpointing: true
  deepspeed: ds.json
export: { merge: true, max_shard_size: 2GB }
"""


def write(tmp, text, name="a.finetune.yaml"):
    path = os.path.join(tmp, name)
    with open(path, "w") as fh:
        fh.write(textwrap.dedent(text))
    return path


class Plan(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def plan(self, text):
        return run_plan.build_plan(write(self.d, text))

    def test_lora_plan(self):
        p = self.plan(LORA)
        s = p["steps"]
        self.assertEqual(p["method"], "lora")
        self.assertEqual(s["model"]["args"], ["meta-llama/Llama-3.2-1B"])
        self.assertEqual(s["model"]["kwargs"], {"dtype": "bfloat16", "attn_implementation": "sdpa"})
        self.assertEqual(s["model"]["add_tokens"], ["<|tool|>"])
        self.assertIsNone(s["quantization"])
        self.assertIsNone(s["prepare_model_for_kbit_training"])
        self.assertEqual(s["lora"]["kwargs"], {"r": 16, "lora_alpha": 32, "lora_dropout": 0.05,
                                               "target_modules": "all-linear", "task_type": "CAUSAL_LM"})
        t = s["training"]["kwargs"]
        self.assertEqual(t["learning_rate"], 2e-4)          # "2e-4" is a string in YAML 1.1
        self.assertIsInstance(t["learning_rate"], float)
        self.assertEqual(t["warmup_ratio"], 0.03)
        self.assertEqual(t["output_dir"], os.path.join(self.d, "runs", "x"))
        self.assertEqual(t["deepspeed"], os.path.join(self.d, "ds.json"))
        self.assertEqual(t["gradient_checkpointing_kwargs"], {"use_reentrant": False})
        self.assertEqual(t["label_names"], ["labels"])
        self.assertFalse(t["logging_nan_inf_filter"])
        self.assertEqual(t["report_to"], "none")
        self.assertIn("report_to", s["training"]["defaults_applied"])
        self.assertFalse(s["gradient_checkpointing"]["enable_input_require_grads"])
        d = s["data"]
        self.assertEqual(d["train_file"], os.path.join(self.d, "data", "train.jsonl"))
        self.assertEqual(d["general_data"]["file"], os.path.join(self.d, "data", "general.jsonl"))
        self.assertEqual(d["collator"]["kind"], "packed")
        self.assertEqual(d["chat_template_kind"], "model")
        e = s["export"]
        self.assertTrue(e["adapter"])
        self.assertTrue(e["merge"])
        self.assertEqual(e["max_shard_size"], "2GB")
        self.assertEqual(e["output_dir"], os.path.join(self.d, "runs", "x", "merged"))
        self.assertEqual(p["events_file"], os.path.join(self.d, "runs", "x", "events.jsonl"))
        json.dumps(p)  # JSON-able

    def test_user_values_win_over_defaults(self):
        p = self.plan(LORA.replace("gradient_checkpointing: true",
                                   "gradient_checkpointing: true\n  gradient_checkpointing_kwargs: {use_reentrant: true}"
                                   "\n  report_to: wandb\n  logging_steps: 1"))
        t = p["steps"]["training"]
        self.assertEqual(t["kwargs"]["report_to"], "wandb")
        self.assertEqual(t["kwargs"]["logging_steps"], 1)
        self.assertNotIn("report_to", t["defaults_applied"])
        # reentrant checkpointing with a frozen base needs inputs that require grad
        self.assertTrue(p["steps"]["gradient_checkpointing"]["enable_input_require_grads"])

    def test_qlora_plan(self):
        p = self.plan("""
            method: qlora
            model: { name_or_path: m, torch_dtype: bfloat16 }
            quantization: { load_in_4bit: true, bnb_4bit_quant_type: nf4, bnb_4bit_compute_dtype: bfloat16 }
            prepare_model_for_kbit_training: { use_gradient_checkpointing: true }
            lora: { r: 8 }
            data: { train_file: t.jsonl, chat_template: llama-3 }
            training: { gradient_checkpointing: true }
        """)
        s = p["steps"]
        self.assertEqual(s["quantization"]["kwargs"]["bnb_4bit_quant_type"], "nf4")
        self.assertEqual(s["model"]["kwargs"]["device_map"], {"": 0})
        self.assertEqual(s["model"]["kwargs"]["torch_dtype"], "bfloat16")  # passed on; renamed at run time
        self.assertEqual(s["prepare_model_for_kbit_training"]["kwargs"],
                         {"use_gradient_checkpointing": True, "gradient_checkpointing_kwargs": {"use_reentrant": False}})
        self.assertEqual(s["data"]["chat_template_kind"], "named")
        self.assertEqual(s["training"]["kwargs"]["output_dir"], os.path.join(self.d, "runs", "a"))
        self.assertIn("bitsandbytes", [pip for _, pip in run_plan.required_packages(p)])
        self.assertTrue(s["prepare_model_for_kbit_training"]["upcast_to_fp32"])  # peft's behaviour by default
        # unsharded: peft's call as before, nothing replaces it, no sharded-QLoRA note
        self.assertIsNone(p["sharding"])
        self.assertIsNone(s["kbit_without_cast"])
        self.assertNotIn("get_peft_model_kwargs", s["lora"])
        self.assertFalse(any("sharded" in w for w in p["warnings"]))

    def test_upcast_to_fp32_is_taken_out_of_peft_s_arguments(self):
        text = """
            method: qlora
            model: { name_or_path: m }
            quantization: { load_in_4bit: true }
            prepare_model_for_kbit_training: { upcast_to_fp32: %s }
            lora: { r: 8 }
            data: { train_file: t.jsonl }
        """
        prep = self.plan(text % "false")["steps"]["prepare_model_for_kbit_training"]
        self.assertFalse(prep["upcast_to_fp32"])
        self.assertNotIn("upcast_to_fp32", prep["kwargs"])  # peft would refuse an unknown keyword
        with self.assertRaises(C.RunnerError):
            self.plan(text % "maybe")

    def test_qlora_without_prepare_warns(self):
        p = self.plan("""
            method: qlora
            model: { name_or_path: m }
            quantization: { load_in_4bit: true }
            lora: { r: 8 }
            data: { train_file: t.jsonl }
        """)
        self.assertIsNone(p["steps"]["prepare_model_for_kbit_training"])
        self.assertTrue(any("prepare_model_for_kbit_training" in w for w in p["warnings"]))

    def test_full_plan(self):
        p = self.plan("""
            method: full
            model: { name_or_path: ./base }
            data: { train_file: t.jsonl, format: text }
        """)
        s = p["steps"]
        self.assertEqual(s["model"]["args"], [os.path.join(self.d, "base")])  # local dir, relative to the file
        self.assertIsNone(s["lora"])
        self.assertFalse(s["export"]["adapter"])
        self.assertTrue(s["export"]["merge"])
        self.assertNotIn("ddp_find_unused_parameters", s["training"]["kwargs"])
        self.assertNotIn("jinja2", [pip for _, pip in run_plan.required_packages(p)])

    def test_errors(self):
        bad = {
            "method: dpo\nmodel: {name_or_path: m}\ndata: {train_file: t}": "method",
            "method: lora\ndata: {train_file: t}\nlora: {r: 8}": "model",
            "method: lora\nmodel: {name_or_path: m}\ndata: {train_file: t}": "lora",
            "method: full\nmodel: {name_or_path: m}\nlora: {r: 8}\ndata: {train_file: t}": "lora",
            "method: lora\nmodel: {name_or_path: m}\nlora: {r: 8}\nquantization: {load_in_4bit: true}\ndata: {train_file: t}": "qlora",
            "method: qlora\nmodel: {name_or_path: m}\nlora: {r: 8}\ndata: {train_file: t}": "quantization",
            "method: full\nmodel: {name_or_path: m}\ndata: {train_file: t, format: chat}": "format",
            "method: full\nmodel: {name_or_path: m}\ndata: {train_file: t, max_length: 1}": "max_length",
            "method: full\nmodel: {name_or_path: m}\ndata: {train_file: t, general_data: {file: g, ratio: 1.5}}": "ratio",
            "method: full\nmodel: {name_or_path: m}\ndata: {train_file: t, chat_template: vicuna}": "chat_template",
            "method: full\nmodel: {name_or_path: m}": "data",
            "- a list": "mapping",
            "method: full\nmodel: {name_or_path: m\n": "YAML",
        }
        for text, needle in bad.items():
            with self.subTest(needle=needle):
                with self.assertRaises(RunnerError) as ctx:
                    self.plan(text)
                self.assertEqual(ctx.exception.type, "config")
                self.assertEqual(ctx.exception.exit_code, 2)
                self.assertIn(needle, ctx.exception.message)

    def test_missing_file(self):
        with self.assertRaises(RunnerError):
            run_plan.build_plan(os.path.join(self.d, "nope.yaml"))

    def test_jinja_string_template(self):
        p = self.plan("""
            method: full
            model: { name_or_path: m }
            data: { train_file: t, chat_template: "{% for m in messages %}{{ m['content'] }}{% endfor %}" }
        """)
        self.assertEqual(p["steps"]["data"]["chat_template_kind"], "jinja")


SHARDED_QLORA = """
method: qlora
model: { name_or_path: m, dtype: bfloat16 }
quantization: { load_in_4bit: true, bnb_4bit_quant_storage: bfloat16 }
prepare_model_for_kbit_training: %(prepare)s
lora: { r: 8 }
data: { train_file: t.jsonl }
training:
  gradient_checkpointing: true
%(training)s
"""


class ShardedQLoRAPlan(unittest.TestCase):
    """QLoRA sharded by FSDP or ZeRO-3: peft's fp32 cast is left out (mixed dtypes
    cannot be flattened); ZeRO-3 takes no device_map. Plans only: no GPU here."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def plan(self, training, prepare="true", launch=""):
        text = SHARDED_QLORA % {"prepare": prepare, "training": training} + launch
        return run_plan.build_plan(write(self.d, text))

    def assert_sharded(self, p, kind):
        s = p["steps"]
        self.assertEqual(p["sharding"]["kind"], kind)
        self.assertIsNone(s["prepare_model_for_kbit_training"])
        kept = s["kbit_without_cast"]
        self.assertTrue(kept["gradient_checkpointing"])
        self.assertEqual(kept["gradient_checkpointing_kwargs"], {"use_reentrant": False})
        self.assertFalse(kept["enable_input_require_grads"])  # non-reentrant needs none (peft's rule)
        self.assertEqual(s["lora"]["get_peft_model_kwargs"], {"autocast_adapter_dtype": False})
        self.assertTrue(any("prepare_model_for_kbit_training is replaced" in w for w in p["warnings"]),
                        p["warnings"])
        json.dumps(p)

    def test_fsdp_keeps_checkpointing_and_the_device_map(self):
        p = self.plan('  fsdp: "full_shard auto_wrap"')
        self.assert_sharded(p, "fsdp")
        self.assertEqual(p["steps"]["model"]["kwargs"]["device_map"], {"": 0})
        self.assertTrue(any("FSDP (`training.fsdp`)" in w for w in p["warnings"]))

    def test_fsdp_as_a_list(self):
        self.assert_sharded(self.plan("  fsdp: [full_shard, auto_wrap]"), "fsdp")

    def test_inline_zero3_has_no_device_map(self):
        p = self.plan("  deepspeed: { zero_optimization: { stage: 3 } }")
        self.assert_sharded(p, "zero3")
        self.assertNotIn("device_map", p["steps"]["model"]["kwargs"])

    def test_zero3_read_from_the_json_file(self):
        # the name says nothing of the stage: the runner reads the file
        with open(os.path.join(self.d, "ds.json"), "w") as fh:
            json.dump({"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}, fh)
        p = self.plan("  deepspeed: ds.json")
        self.assert_sharded(p, "zero3")
        self.assertNotIn("device_map", p["steps"]["model"]["kwargs"])

    def test_zero2_and_an_unreadable_file_are_not_sharded(self):
        with open(os.path.join(self.d, "ds.json"), "w") as fh:
            json.dump({"zero_optimization": {"stage": 2}}, fh)
        for training in ("  deepspeed: ds.json", "  deepspeed: missing.json"):
            with self.subTest(training=training):
                p = self.plan(training)
                self.assertIsNone(p["sharding"])
                self.assertIsNotNone(p["steps"]["prepare_model_for_kbit_training"])
                self.assertIsNone(p["steps"]["kbit_without_cast"])
                self.assertEqual(p["steps"]["model"]["kwargs"]["device_map"], {"": 0})

    def test_reentrant_checkpointing_keeps_input_grads(self):
        p = self.plan('  fsdp: "full_shard auto_wrap"',
                      prepare="{ gradient_checkpointing_kwargs: { use_reentrant: true } }")
        self.assertTrue(p["steps"]["kbit_without_cast"]["enable_input_require_grads"])

    def test_upcast_to_fp32_still_read_when_sharded(self):
        p = self.plan('  fsdp: "full_shard auto_wrap"', prepare="{ upcast_to_fp32: false }")
        self.assertNotIn("upcast_to_fp32", p["steps"]["kbit_without_cast"])
        with self.assertRaises(C.RunnerError):
            self.plan('  fsdp: "full_shard auto_wrap"', prepare="{ upcast_to_fp32: maybe }")

    def test_sharded_without_prepare_is_not_a_warning(self):
        p = self.plan('  fsdp: "full_shard auto_wrap"', prepare="false")
        self.assertIsNone(p["steps"]["kbit_without_cast"])
        self.assertFalse(any("not prepared" in w for w in p["warnings"]))

    def test_launch_backend_alone_does_not_shard(self):
        # tunelab launch only starts torchrun; the Trainer shards with training.fsdp
        p = self.plan("  logging_steps: 1", launch="launch: { distributed: { backend: fsdp, num_processes: 2 } }\n")
        self.assertIsNone(p["sharding"])
        self.assertIsNotNone(p["steps"]["prepare_model_for_kbit_training"])
        self.assertTrue(any("so this run is DDP" in w for w in p["warnings"]))
        both = self.plan('  fsdp: "full_shard auto_wrap"',
                         launch="launch: { distributed: { backend: fsdp, num_processes: 2 } }\n")
        self.assertFalse(any("so this run is DDP" in w for w in both["warnings"]))

    def test_apply_peft_leaves_out_the_cast(self):
        from unittest import mock

        from tunelab_runner import model_loading
        plan = self.plan('  fsdp: "full_shard auto_wrap"',
                         prepare="{ gradient_checkpointing_kwargs: { use_reentrant: true } }")
        fake_peft = mock.MagicMock()
        model = mock.MagicMock()
        param = mock.MagicMock(requires_grad=True)
        model.parameters.return_value = [param]
        with mock.patch.dict(sys.modules, {"peft": fake_peft}):
            model_loading.apply_peft(plan, model, [])
        fake_peft.prepare_model_for_kbit_training.assert_not_called()
        self.assertFalse(param.requires_grad)
        model.gradient_checkpointing_enable.assert_called_once_with(
            gradient_checkpointing_kwargs={"use_reentrant": True})
        model.enable_input_require_grads.assert_called_once_with()
        self.assertEqual(fake_peft.get_peft_model.call_args.kwargs, {"autocast_adapter_dtype": False})

    def test_apply_peft_unsharded_calls_peft_s_prepare(self):
        from unittest import mock

        from tunelab_runner import model_loading
        plan = self.plan("  logging_steps: 1")
        fake_peft = mock.MagicMock()
        with mock.patch.dict(sys.modules, {"peft": fake_peft}):
            model_loading.apply_peft(plan, mock.MagicMock(), [])
        fake_peft.prepare_model_for_kbit_training.assert_called_once()
        self.assertEqual(fake_peft.get_peft_model.call_args.kwargs, {})


class PlanCommand(unittest.TestCase):
    def test_plan_cli_does_not_import_torch(self):
        with tempfile.TemporaryDirectory() as d:
            path = write(d, LORA)
            code = ("import sys, json, io, contextlib\n"
                    "from tunelab_runner.cli import main\n"
                    "buf = io.StringIO()\n"
                    "with contextlib.redirect_stdout(buf):\n"
                    f"    rc = main(['plan', {path!r}])\n"
                    "heavy = [m for m in ('torch', 'transformers', 'peft', 'bitsandbytes') if m in sys.modules]\n"
                    "print(json.dumps({'rc': rc, 'heavy': heavy, 'plan': json.loads(buf.getvalue())}))\n")
            out = subprocess.run([sys.executable, "-c", code], cwd=RUNNER_DIR, capture_output=True, text=True,
                                 timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            res = json.loads(out.stdout)
            self.assertEqual(res["rc"], 0)
            self.assertEqual(res["heavy"], [])
            self.assertEqual(res["plan"]["method"], "lora")

    def test_plan_cli_error_exit_code(self):
        with tempfile.TemporaryDirectory() as d:
            path = write(d, "method: nope\n")
            out = subprocess.run([sys.executable, "-m", "tunelab_runner", "plan", path], cwd=RUNNER_DIR,
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 2)
            self.assertEqual(json.loads(out.stdout)["error"]["type"], "config")



class TrainArguments(unittest.TestCase):
    def test_resume_flags(self):
        from unittest import mock

        from tunelab_runner import cli
        with mock.patch("tunelab_runner.train.run_train", return_value=0) as rt:
            self.assertEqual(cli.main(["train", "--resume", "a.yaml"]), 0)
            rt.assert_called_with("a.yaml", resume="last", probe_steps=None)
            cli.main(["train", "a.yaml"])
            rt.assert_called_with("a.yaml", resume=None, probe_steps=None)
            cli.main(["train", "--resume-from", "out/checkpoint-7", "a.yaml"])
            rt.assert_called_with("a.yaml", resume="out/checkpoint-7", probe_steps=None)
            cli.main(["train", "--probe", "16", "a.yaml"])
            rt.assert_called_with("a.yaml", resume=None, probe_steps=16)


if __name__ == "__main__":
    unittest.main()
