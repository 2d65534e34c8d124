"""The steady step time of the `end` event: StepTimer, and its wiring in the events
callback and the end metrics (with stand-ins for transformers and torch)."""

import io
import json
import unittest
from types import SimpleNamespace
from unittest import mock

from tunelab_runner import trainer as trainer_module
from tunelab_runner.events import EventWriter
from tunelab_runner.run_state import RunState
from tunelab_runner.signals import SignalState
from tunelab_runner.step_timing import StepTimer
from tunelab_runner.train import _run_metrics


def timed(step_ends):
    timer = StepTimer()
    for t in step_ends:
        timer.step_end(t)
    return timer


class StepTimerTest(unittest.TestCase):
    def test_median_of_the_steady_intervals(self):
        s = timed([0.0, 1.0, 1.5, 2.0, 2.6, 2.7]).summary()
        self.assertEqual(s, {"steady_step_seconds": 0.5, "steady_step_intervals": 5})
        self.assertEqual(timed([0.0, 1 / 3, 2 / 3, 1.0]).summary()["steady_step_seconds"], 0.3333)

    def test_the_first_step_is_never_counted(self):
        # the first step's 100 s of warm-up end at t=100: only the reference
        timer = timed([100.0, 101.0, 102.0, 103.0])
        self.assertEqual(timer.intervals, [1.0, 1.0, 1.0])
        self.assertEqual(timer.summary()["steady_step_intervals"], 3)

    def test_an_interval_with_an_interrupt_is_dropped(self):
        timer = timed([0.0, 1.0, 2.0])
        timer.interrupt()          # an evaluation after step 3
        timer.step_end(50.0)       # step 4 ends after it: dropped
        timer.step_end(51.0)       # step 5: counted again
        self.assertEqual(timer.intervals, [1.0, 1.0, 1.0])
        self.assertEqual(timer.summary()["steady_step_seconds"], 1.0)

    def test_fewer_than_three_intervals_give_none(self):
        self.assertIsNone(StepTimer().summary())
        self.assertIsNone(timed([0.0]).summary())
        self.assertIsNone(timed([0.0, 1.0, 2.0]).summary())
        timer = timed([0.0, 1.0, 2.0])
        timer.interrupt()
        timer.step_end(3.0)
        self.assertIsNone(timer.summary())

    def test_reset_starts_over(self):
        timer = timed([0.0, 1.0, 2.0, 3.0])
        timer.reset()
        timer.step_end(10.0)
        self.assertEqual(timer.intervals, [])


class EventsCallbackWiring(unittest.TestCase):
    def setUp(self):
        self.run = RunState({"method": "lora", "config": "/c.yaml"},
                            EventWriter(None, stdout=io.StringIO(), enabled=True), SignalState())
        self.torch = SimpleNamespace(cuda=SimpleNamespace(is_available=lambda: False))
        transformers = SimpleNamespace(TrainerCallback=object)
        self.cb = trainer_module.make_events_callback(transformers, self.torch, self.run.writer, self.run)
        self.args = SimpleNamespace(world_size=1, num_train_epochs=1, per_device_train_batch_size=1,
                                    gradient_accumulation_steps=1, output_dir="/out")
        self.state = SimpleNamespace(global_step=0, max_steps=10, epoch=0.0)
        self.control = SimpleNamespace(should_training_stop=False, should_save=False, should_evaluate=False)

    def step(self, t):
        self.state.global_step += 1
        with mock.patch.object(trainer_module.time, "perf_counter", return_value=t):
            self.cb.on_step_end(self.args, self.state, self.control)

    def test_evaluation_and_saves_are_left_out_and_the_end_metrics_carry_the_median(self):
        self.cb.on_train_begin(self.args, self.state, self.control)
        self.assertIs(self.run.step_timer, self.cb.step_timer)
        for t in (30.0, 31.0, 32.0):
            self.step(t)
        self.cb.on_evaluate(self.args, self.state, self.control, metrics={"eval_loss": 1.0})
        self.step(60.0)
        self.step(61.5)
        self.cb.on_save(self.args, self.state, self.control)
        self.step(90.0)
        self.step(91.0)
        self.assertEqual(self.run.step_timer.intervals, [1.0, 1.0, 1.5, 1.0])

        run_trainer = SimpleNamespace(tl_tokens=100)
        metrics = _run_metrics(self.run, run_trainer, self.args, self.torch)
        self.assertEqual(metrics["steady_step_seconds"], 1.0)
        self.assertEqual(metrics["steady_step_intervals"], 4)

    def test_each_step_event_carries_the_steady_step_so_far(self):
        out = io.StringIO()
        self.run.writer.stdout = out
        self.cb.on_train_begin(self.args, self.state, self.control)
        logs = {"loss": 2.0, "learning_rate": 1e-4}

        def logged():
            self.cb.on_log(self.args, self.state, self.control, logs=logs)
            return json.loads(out.getvalue().strip().splitlines()[-1].split(" ", 1)[1])

        self.step(10.0)
        self.step(11.0)
        self.step(12.0)
        early = logged()
        self.assertEqual(early["event"], "step")
        self.assertNotIn("steady_step_seconds", early)  # two intervals: too few to tell
        self.step(13.5)
        self.step(14.5)
        later = logged()
        self.assertEqual(later["steady_step_seconds"], 1.0)
        self.assertEqual(later["steady_step_intervals"], 4)

    def test_too_short_a_run_has_no_steady_step_in_its_metrics(self):
        self.cb.on_train_begin(self.args, self.state, self.control)
        self.step(5.0)
        self.step(6.0)
        metrics = _run_metrics(self.run, SimpleNamespace(tl_tokens=100), self.args, self.torch)
        self.assertNotIn("steady_step_seconds", metrics)
        self.assertNotIn("steady_step_intervals", metrics)


if __name__ == "__main__":
    unittest.main()
