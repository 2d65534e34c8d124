"""The allocator default: expandable segments unless the environment chose a setting."""

import contextlib
import io
import os
import unittest

from tunelab_runner.allocator import (DEFAULT_SETTING, allocator_setting, apply_allocator_default,
                                      expandable_segments)
from tunelab_runner.cli import main


class ExpandableSegmentsTest(unittest.TestCase):
    def test_parses_the_option_among_others(self):
        self.assertTrue(expandable_segments("expandable_segments:True"))
        self.assertTrue(expandable_segments("max_split_size_mb:128, expandable_segments:true"))
        self.assertFalse(expandable_segments("expandable_segments:False"))
        self.assertFalse(expandable_segments("max_split_size_mb:128"))
        self.assertFalse(expandable_segments(""))


class AllocatorDefaultTest(unittest.TestCase):
    def test_sets_expandable_segments_when_nothing_is_set(self):
        env = {}
        setting = apply_allocator_default(env)
        self.assertEqual(env, {"PYTORCH_CUDA_ALLOC_CONF": DEFAULT_SETTING})
        self.assertEqual(setting["source"], "runner default")
        self.assertTrue(setting["expandable_segments"])

    def test_keeps_a_setting_the_user_made(self):
        for key in ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF"):
            env = {key: "max_split_size_mb:256"}
            setting = apply_allocator_default(env)
            self.assertEqual(env, {key: "max_split_size_mb:256"}, key)
            self.assertEqual((setting["variable"], setting["source"]), (key, "environment"))
            self.assertFalse(setting["expandable_segments"])

    def test_an_empty_variable_counts_as_unset(self):
        env = {"PYTORCH_CUDA_ALLOC_CONF": ""}
        apply_allocator_default(env)
        self.assertEqual(env["PYTORCH_CUDA_ALLOC_CONF"], DEFAULT_SETTING)
        self.assertEqual(allocator_setting(env)["source"], "environment")


class CliAppliesTheDefaultTest(unittest.TestCase):
    def test_plan_leaves_the_environment_alone_and_train_sets_it(self):
        saved = {k: os.environ.pop(k, None) for k in ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF")}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                main(["plan", "/nonexistent/config.yaml"])
                self.assertNotIn("PYTORCH_CUDA_ALLOC_CONF", os.environ)
                main(["train", "/nonexistent/config.yaml"])   # fails on the config, after the default
            self.assertEqual(os.environ.get("PYTORCH_CUDA_ALLOC_CONF"), DEFAULT_SETTING)
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None)
                if value is not None:
                    os.environ[key] = value


if __name__ == "__main__":
    unittest.main()
