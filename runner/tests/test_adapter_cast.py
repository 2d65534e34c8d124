"""The runner keeps peft's LoRA input in bf16 under autocast
(model_loading.skip_adapter_input_cast_under_autocast), on CPU with a fake torch:
peft's cast is skipped only while autocast is on, other modules are left alone, and
the benchmark's switch gives peft's cast back."""

import os
import sys
import types
import unittest
from unittest import mock

from tunelab_runner import model_loading


class FakeTensor:
    def __init__(self, dtype):
        self.dtype = dtype
        self.device = types.SimpleNamespace(type="cuda")


class TunerLayer:
    """The two members of peft's BaseTunerLayer that the runner reads."""

    cast_input_dtype_enabled = True

    def _cast_input_dtype(self, x, dtype):
        return FakeTensor(dtype) if x.dtype != dtype else x


class Model:
    def __init__(self, modules):
        self._modules = modules

    def modules(self):
        return iter(self._modules)


def fake_torch(autocast_on):
    return types.SimpleNamespace(is_autocast_enabled=lambda device_type: autocast_on)


class SkipCast(unittest.TestCase):
    def setUp(self):
        self.layer, self.plain = TunerLayer(), object()
        self.model = Model([self.layer, self.plain])

    def test_under_autocast_the_input_keeps_its_dtype(self):
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop(model_loading.PEFT_INPUT_CAST_ENV, None)
            with mock.patch.dict(sys.modules, {"torch": fake_torch(True)}):
                self.assertEqual(model_loading.skip_adapter_input_cast_under_autocast(self.model), 1)
        x = FakeTensor("bfloat16")
        self.assertIs(self.layer._cast_input_dtype(x, "float32"), x)

    def test_without_autocast_peft_casts_as_before(self):
        os.environ.pop(model_loading.PEFT_INPUT_CAST_ENV, None)
        with mock.patch.dict(sys.modules, {"torch": fake_torch(False)}):
            model_loading.skip_adapter_input_cast_under_autocast(self.model)
        out = self.layer._cast_input_dtype(FakeTensor("bfloat16"), "float32")
        self.assertEqual(out.dtype, "float32")

    def test_the_benchmark_switch_keeps_pefts_cast(self):
        with mock.patch.dict(os.environ, {model_loading.PEFT_INPUT_CAST_ENV: "1"}):
            self.assertEqual(model_loading.skip_adapter_input_cast_under_autocast(self.model), 0)
        self.assertNotIn("_cast_input_dtype", vars(self.layer))


if __name__ == "__main__":
    unittest.main()
