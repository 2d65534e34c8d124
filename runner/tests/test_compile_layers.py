"""training.torch_compile: the plan moves the compile from Trainer (whole model)
to the runner (each decoder layer in place), keeps Trainer's compile for sharded
runs, and compile_layers compiles the largest block of same-class layers and
nothing else; uncompile_layers takes the layers back to eager. CPU, fake torch."""

import sys
import types
import unittest
from unittest import mock

from tests.test_liger import find_spec_without, plan_for
from tunelab_runner import compile_layers as C
from tunelab_runner import doctor, run_plan
from tunelab_runner.events import RunnerError
from tunelab_runner.model_loading import check_packages


class Plan(unittest.TestCase):
    def test_compile_moves_from_trainer_to_the_layers(self):
        plan = plan_for("torch_compile: true\nbf16: true")
        self.assertIs(plan["steps"]["training"]["kwargs"]["torch_compile"], False)
        self.assertEqual(plan["steps"]["compile"]["kwargs"], {"backend": "inductor"})
        self.assertIn("torch_compile", plan["steps"]["training"]["notes"])

    def test_backend_and_mode_pass_to_the_layers(self):
        plan = plan_for("torch_compile_mode: max-autotune-no-cudagraphs\ntorch_compile_backend: aot_eager")
        kwargs = plan["steps"]["training"]["kwargs"]
        self.assertNotIn("torch_compile_mode", kwargs)
        self.assertNotIn("torch_compile_backend", kwargs)
        self.assertEqual(plan["steps"]["compile"]["kwargs"],
                         {"backend": "aot_eager", "mode": "max-autotune-no-cudagraphs"})

    def test_the_inductor_backend_needs_triton_and_the_run_stops_early_without_it(self):
        plan = plan_for("torch_compile: true")
        self.assertIn(("triton", "triton"), run_plan.required_packages(plan))
        with mock.patch("importlib.util.find_spec", find_spec_without("triton")):
            with self.assertRaises(RunnerError) as ctx:
                check_packages(plan)
        self.assertIn("training.torch_compile", str(ctx.exception))
        self.assertEqual(ctx.exception.extra["packages"], ["triton"])
        other = plan_for("torch_compile_backend: aot_eager")
        self.assertNotIn(("triton", "triton"), run_plan.required_packages(other))
        report = doctor.optional_packages(lambda name: None, doctor.OPTIONAL_TRAINING)
        self.assertEqual(report["triton"]["install"], "pip install triton")

    def test_off_by_default(self):
        for training in ("bf16: true", "torch_compile: false"):
            self.assertIsNone(plan_for(training)["steps"]["compile"])

    def test_sharded_runs_keep_trainers_compile(self):
        plan = plan_for("torch_compile: true\nfsdp: full_shard auto_wrap")
        self.assertIsNone(plan["steps"]["compile"])
        self.assertIs(plan["steps"]["training"]["kwargs"]["torch_compile"], True)


class ModuleList:
    def __init__(self, children):
        self._children = children

    def children(self):
        return iter(self._children)


class Layer:
    def __init__(self):
        self.compiled_with = None
        self._compiled_call_impl = None

    def compile(self, **kwargs):
        self.compiled_with = kwargs
        self._compiled_call_impl = object()

    def children(self):
        return iter(())


class Norm(Layer):
    pass


class Model:
    """embeddings' ModuleList of two mixed modules, a decoder of four same-class layers"""

    def __init__(self):
        self.layers = [Layer() for _ in range(4)]
        self.mixed = ModuleList([Layer(), Norm()])
        self.decoder = ModuleList(self.layers)
        self.pair = ModuleList([Layer(), Layer()])

    def modules(self):
        return iter([self, self.mixed, *self.mixed._children, self.decoder, *self.layers,
                     self.pair, *self.pair._children])


FAKE_TORCH = types.SimpleNamespace(nn=types.SimpleNamespace(ModuleList=ModuleList))


class CompileLayers(unittest.TestCase):
    def setUp(self):
        patcher = mock.patch.dict(sys.modules, {"torch": FAKE_TORCH})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.model = Model()

    def test_the_decoder_layers_are_compiled_and_nothing_else(self):
        n = C.compile_layers(self.model, {"kwargs": {"backend": "inductor"}})
        self.assertEqual(n, 4)
        self.assertEqual([l.compiled_with for l in self.model.layers], [{"backend": "inductor"}] * 4)
        others = [*self.model.mixed._children, *self.model.pair._children]
        self.assertEqual([l.compiled_with for l in others], [None] * 4)

    def test_no_step_compiles_nothing(self):
        self.assertEqual(C.compile_layers(self.model, None), 0)
        self.assertEqual([l.compiled_with for l in self.model.layers], [None] * 4)

    def test_uncompile_returns_the_layers_to_eager(self):
        C.compile_layers(self.model, {"kwargs": {}})
        self.assertEqual(C.uncompile_layers(self.model), 4)
        self.assertEqual([l._compiled_call_impl for l in self.model.layers], [None] * 4)
        self.assertEqual(C.uncompile_layers(self.model), 0)


if __name__ == "__main__":
    unittest.main()
