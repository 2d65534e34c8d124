"""The Trainer side of `train`: TrainingArguments from the plan, the collator,
a Trainer subclass that counts real tokens and flags non-finite losses, and the
callback that turns the Trainer's hooks into events (EVENTS.md)."""

from __future__ import annotations

import dataclasses
import math
import os
import signal
import time

from .allocator import allocator_in_use
from .events import EventWriter, RunnerError
from .run_state import RunState
from .step_timing import StepTimer


def build_training_arguments(plan, transformers):
    kwargs = dict(plan["steps"]["training"]["kwargs"])
    known = {f.name for f in dataclasses.fields(transformers.TrainingArguments)}
    for key in plan["steps"]["training"]["defaults_applied"]:
        if key not in known:  # a runner default this transformers release does not have
            kwargs.pop(key, None)
    try:
        return transformers.TrainingArguments(**kwargs)
    except TypeError as exc:
        raise RunnerError("config", f"training: {exc} (transformers {transformers.__version__})",
                          "check the keys of the training section against TrainingArguments") from exc
    except ValueError as exc:
        raise RunnerError("config", f"training: {exc}") from exc


def make_collator(data, tok):
    from .collate import PackedCollator, PaddingCollator  # imports torch
    from .data import pad_token_id
    return PackedCollator() if data.get("packing") else PaddingCollator(pad_token_id(tok))


def make_trainer_class(transformers, torch):
    class RunnerTrainer(transformers.Trainer):
        """Counts real (non-pad) tokens from the collator, and keeps a device-side
        flag of non-finite losses (read every few steps, no sync per step)."""
        tl_tokens = 0
        tl_bad = None

        def training_step(self, model, inputs, *args, **kwargs):
            n = inputs.pop("n_real", None)
            if n is not None:
                self.tl_tokens += int(n)
            loss = super().training_step(model, inputs, *args, **kwargs)
            if isinstance(loss, torch.Tensor):
                bad = ~torch.isfinite(loss.detach()).all()
                self.tl_bad = bad if self.tl_bad is None else (self.tl_bad | bad)
            return loss

        def prediction_step(self, model, inputs, *args, **kwargs):
            inputs.pop("n_real", None)
            return super().prediction_step(model, inputs, *args, **kwargs)

    return RunnerTrainer


def make_events_callback(transformers, torch, writer: EventWriter, run: RunState):
    class EventsCallback(transformers.TrainerCallback):
        NAN_CHECK_EVERY = 10

        def __init__(self):
            self.trainer = None
            self.t_first = None
            self.step_first = None
            self.last_t = None
            self.last_tokens = 0
            self.step_timer = StepTimer()
            run.step_timer = self.step_timer  # train.py puts its summary in the `end` metrics

        def _memory(self):
            if not torch.cuda.is_available():
                return None
            return {"allocated_bytes": torch.cuda.memory_allocated(),
                    "reserved_bytes": torch.cuda.memory_reserved(),
                    "peak_allocated_bytes": torch.cuda.max_memory_allocated()}

        def on_train_begin(self, args, state, control, **kw):
            self.last_t = time.time()
            self.last_tokens = self.trainer.tl_tokens if self.trainer else 0
            run.train_started = self.last_t
            run.step_at_start = state.global_step
            self.step_timer.reset()
            writer.emit("start", method=run.plan["method"], config=run.plan["config"], plan=run.plan,
                        params=run.params, compiled_layers=run.compiled_layers,
                        allocator=allocator_in_use(),
                        estimated_steps=state.max_steps, global_step=state.global_step,
                        num_train_epochs=args.num_train_epochs, data=run.data_stats,
                        world_size=args.world_size, resumed_from=run.resumed_from,
                        effective_batch=args.per_device_train_batch_size * args.gradient_accumulation_steps
                        * args.world_size)

        def _bad_loss(self) -> bool:
            tr = self.trainer
            if tr is None or tr.tl_bad is None:
                return False
            return bool(tr.tl_bad.item())

        def _stop_for_nan(self, state, control, loss=None):
            run.nan_step = state.global_step
            run.nan_loss = loss
            control.should_training_stop = True
            control.should_save = False
            control.should_evaluate = False

        def on_step_end(self, args, state, control, **kw):
            self.step_timer.step_end(time.perf_counter())
            if self.t_first is None:
                self.t_first, self.step_first = time.time(), state.global_step
            stop = run.signals.signum is not None
            if args.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
                # a signal may reach only some ranks; all must save the same step
                flag = torch.tensor([1.0 if stop else 0.0], device=args.device)
                torch.distributed.all_reduce(flag)
                stop = bool(flag.item() > 0)
                if stop and run.signals.signum is None:
                    run.signals.signum = signal.SIGTERM
            if stop:
                run.interrupted_step = state.global_step
                control.should_save = True
                control.should_training_stop = True
                return control
            if state.global_step % self.NAN_CHECK_EVERY == 0 and self._bad_loss():
                self._stop_for_nan(state, control)
            return control

        def on_log(self, args, state, control, logs=None, **kw):
            logs = dict(logs or {})
            if "loss" not in logs:
                return
            def num(key):
                try:
                    return float(logs[key]) if key in logs and logs[key] is not None else None
                except (TypeError, ValueError):
                    return None
            loss = num("loss")
            grad_norm = num("grad_norm")
            now = time.time()
            tokens = self.trainer.tl_tokens if self.trainer else 0
            dt = now - (self.last_t or now)
            tps = (tokens - self.last_tokens) * args.world_size / dt if dt > 0 else None
            self.last_t, self.last_tokens = now, tokens
            eta = None
            if self.t_first is not None and state.global_step > self.step_first:
                per_step = (now - self.t_first) / (state.global_step - self.step_first)
                eta = per_step * max(0, state.max_steps - state.global_step)
            writer.emit("step", step=state.global_step, max_steps=state.max_steps, epoch=num("epoch") or state.epoch,
                        loss=loss, learning_rate=num("learning_rate"), grad_norm=grad_norm,
                        tokens=tokens * args.world_size, tokens_per_second=tps,
                        gpu_memory=self._memory(), eta_seconds=eta,
                        elapsed_seconds=now - (run.train_started or now),
                        # the steady step so far: the editor learns the host's pace mid-run
                        **(self.step_timer.summary() or {}))
            if (loss is not None and not math.isfinite(loss)) or (grad_norm is not None and not math.isfinite(grad_norm)):
                self._stop_for_nan(state, control, loss)

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            self.step_timer.interrupt()
            writer.emit("eval", step=state.global_step, epoch=state.epoch, metrics=dict(metrics or {}))

        def on_save(self, args, state, control, **kw):
            self.step_timer.interrupt()
            path = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
            run.last_checkpoint = path
            writer.emit("checkpoint", step=state.global_step, path=path)

    return EventsCallback()


def build_trainer(run: RunState, torch, transformers, training_args, train_ds, eval_ds):
    """The Trainer with the events callback wired to it; also kept on `run`."""
    tok = run.tokenizer
    collator = make_collator(run.plan["steps"]["data"], tok)
    trainer_cls = make_trainer_class(transformers, torch)
    callback = make_events_callback(transformers, torch, run.writer, run)
    from .forgetting_callback import make_forgetting_callback
    forgetting = make_forgetting_callback(transformers, torch, run)   # before the events callback: it adds metrics
    callbacks = ([forgetting] if forgetting is not None else []) + [callback]
    trainer = trainer_cls(model=run.model, args=training_args, train_dataset=train_ds, eval_dataset=eval_ds,
                          data_collator=collator, processing_class=tok, callbacks=callbacks)
    callback.trainer = trainer
    run.trainer = trainer
    return trainer
