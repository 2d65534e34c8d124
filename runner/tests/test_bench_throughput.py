"""The throughput benchmark's run settings (runner/bench/throughput.py and
bench_runs.py), on CPU without torch: what each run changes on top of the
runner's defaults, and that the written config is what the runner's plan reads."""

import os
import sys
import unittest

RUNNER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(RUNNER_DIR, "bench")
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)

import bench_runs  # noqa: E402
import throughput  # noqa: E402
from tunelab_runner.run_plan import _kbit_steps  # noqa: E402


class RunSettings(unittest.TestCase):
    def test_every_run_keeps_the_rows_per_optimizer_step(self):
        for shape, s in throughput.SETTINGS.items():
            rows = s["packed"][0] * s["packed"][1]
            for run in throughput.RUNS:
                if run in ("plain", "runner"):
                    continue
                tuned = {"config": {}} if run == "tuned" else None
                for method in ("lora", "qlora"):
                    _, packing, (batch, accum) = throughput.runner_overrides(run, tuned, method, s["packed"])
                    self.assertTrue(packing, run)
                    self.assertEqual(batch * accum, rows, f"{shape} {run} {method}")

    def test_lean_doubles_the_rows_per_micro_batch_and_keeps_qloras_weights_in_bf16(self):
        lora, _, rows = throughput.runner_overrides("lean", None, "lora", (2, 4))
        self.assertEqual(rows, (4, 2))
        self.assertEqual(lora, {"training.use_liger_kernel": True})
        qlora, _, _ = throughput.runner_overrides("lean", None, "qlora", (2, 4))
        self.assertIs(qlora["prepare_model_for_kbit_training.upcast_to_fp32"], False)
        # odd accumulation: the rows stay as they are
        self.assertEqual(throughput.runner_overrides("lean", None, "lora", (4, 1))[2], (4, 1))

    def test_peftcast_is_fast_with_pefts_cast_back_and_fastflex_adds_flex(self):
        fast, _, rows = throughput.runner_overrides("fast", None, "lora", (2, 4))
        peftcast, _, cast_rows = throughput.runner_overrides("peftcast", None, "lora", (2, 4))
        self.assertEqual((peftcast, cast_rows), (fast, rows))
        self.assertEqual(throughput.RUN_ENV["peftcast"], {"TUNELAB_PEFT_INPUT_CAST": "1"})
        self.assertNotIn("fast", throughput.RUN_ENV)
        from tunelab_runner.model_loading import PEFT_INPUT_CAST_ENV
        self.assertIn(PEFT_INPUT_CAST_ENV, throughput.RUN_ENV["peftcast"])
        flex, _, _ = throughput.runner_overrides("fastflex", None, "lora", (2, 4))
        self.assertEqual(flex, {**fast, "model.attn_implementation": "flex_attention"})
        # twice the rows; QLoRA keeps peft's upcast (only `lean` turns it off)
        wide, _, wide_rows = throughput.runner_overrides("fastflex2x", None, "qlora", (2, 4))
        self.assertEqual((wide, wide_rows), (flex, (4, 2)))

    def test_compile_runs_are_fastflex_compiled_and_log_the_compiler(self):
        flex, _, rows = throughput.runner_overrides("fastflex", None, "lora", (2, 4))
        compiled, _, compiled_rows = throughput.runner_overrides("fastcompile", None, "lora", (2, 4))
        self.assertEqual((compiled, compiled_rows), ({**flex, "training.torch_compile": True}, rows))
        loss_only, _, _ = throughput.runner_overrides("compileloss", None, "lora", (2, 4))
        self.assertEqual(loss_only["training.liger_kernel_config"],
                         {"rms_norm": False, "swiglu": False, "rope": False, "cross_entropy": False,
                          "fused_linear_cross_entropy": True})
        lean, _, lean_rows = throughput.runner_overrides("lean", None, "qlora", (2, 4))
        lean_compiled, _, rows_compiled = throughput.runner_overrides("leancompile", None, "qlora", (2, 4))
        self.assertEqual((lean_compiled, rows_compiled),
                         ({**lean, "model.attn_implementation": "flex_attention", "training.torch_compile": True},
                          lean_rows))
        for run in ("compile", "fastcompile", "compileloss", "leancompile"):
            self.assertIn("recompiles", throughput.RUN_ENV[run]["TORCH_LOGS"])

    def test_compilelean_and_compileone_are_the_configs_measured(self):
        # the 8B rows of results/throughput-h100-compile.json ran these changes from --tuned files
        loss_only = {"training.use_liger_kernel": True, "training.liger_kernel_config": throughput.LIGER_LOSS_ONLY,
                     "model.attn_implementation": "flex_attention", "training.torch_compile": True}
        one, _, one_rows = throughput.runner_overrides("compileone", None, "qlora", (2, 4))
        self.assertEqual(one, {**loss_only, "training.gradient_checkpointing": False,
                               "prepare_model_for_kbit_training.upcast_to_fp32": False})
        self.assertEqual(one_rows, (1, 8))
        lean, _, lean_rows = throughput.runner_overrides("compilelean", None, "lora", (2, 4))
        self.assertEqual((lean, lean_rows), ({**loss_only, "training.gradient_checkpointing": True}, (4, 2)))
        qlean, _, _ = throughput.runner_overrides("compilelean", None, "qlora", (2, 4))
        self.assertIs(qlean["prepare_model_for_kbit_training.upcast_to_fp32"], False)

    def test_runner_run_is_unpacked_and_unknown_runs_are_refused(self):
        self.assertEqual(throughput.runner_overrides("runner", None), ({}, False, None))
        with self.assertRaises(ValueError):
            throughput.runner_overrides("nope", None)

    def test_a_switch_section_takes_its_mapping_form_and_the_plan_reads_it(self):
        cfg = {"prepare_model_for_kbit_training": True, "training": {"gradient_checkpointing": True}}
        out = bench_runs.apply_changes(cfg, {"prepare_model_for_kbit_training.upcast_to_fp32": False,
                                             "training.use_liger_kernel": True})
        self.assertEqual(out["prepare_model_for_kbit_training"], {"upcast_to_fp32": False})
        self.assertEqual(out["training"], {"gradient_checkpointing": True, "use_liger_kernel": True})
        self.assertIs(cfg["prepare_model_for_kbit_training"], True, "the input is not changed")
        step, _ = _kbit_steps(out, out["training"], None, [])
        self.assertEqual(step["call"], "peft.prepare_model_for_kbit_training")
        self.assertIs(step["upcast_to_fp32"], False)


if __name__ == "__main__":
    unittest.main()
