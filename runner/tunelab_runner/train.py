"""`train`: runs a config with transformers, peft and (for QLoRA) bitsandbytes.

Steps (each one's keyword arguments are what `plan` prints):
tokenizer -> model (+ BitsAndBytesConfig) -> prepare_model_for_kbit_training ->
get_peft_model(LoraConfig) -> datasets -> Trainer(TrainingArguments) -> export.
Events go to <output_dir>/events.jsonl and stdout (rank 0 only).

This module runs the steps in order and turns every outcome into an `end` event
and an exit code. The steps themselves live in model_loading (tokenizer, model,
peft), data, trainer (TrainingArguments, Trainer, events callback) and export;
signals and checkpoints handle stopping and resuming."""

from __future__ import annotations

import gc
import signal
import sys
import time
import traceback
from typing import Any, Dict

from .attention_backends import apply_attention_step
from .checkpoints import checkpoint_step, find_checkpoint
from .compile_layers import compile_layers, uncompile_layers
from .data import build_datasets, make_messages_renderer
from .distributed import close_process_group, local_rank, world_size
from .events import EXIT_NAN_LOSS, EXIT_OK, EventWriter, RunnerError
from .export import export_outputs
from .model_loading import add_tokens, build_model, check_packages, count_params, load_tokenizer, \
    unsplit_marker_warning
from .pace_probe import probe_plan
from .run_plan import build_plan
from .run_state import RunState
from .signals import Interrupted, SignalState, exit_code_for
from .trainer import build_trainer, build_training_arguments

OOM_HINT = ("lower training.per_device_train_batch_size (raise gradient_accumulation_steps to keep the "
            "effective batch), lower data.max_length, set training.gradient_checkpointing: true, "
            "or use method: qlora")


def run_train(config_path: str, resume=None, stdout=None, probe_steps=None) -> int:
    """Runs the config; returns the exit code. `resume`: None, "last", or a checkpoint directory.
    `probe_steps`: only time this host with that many training steps (pace_probe.py)."""
    signals = SignalState()
    try:
        plan = build_plan(config_path, local_rank=local_rank())
        if probe_steps is not None:
            if resume:
                raise RunnerError("config", "--probe times a fresh run: it does not resume")
            plan = probe_plan(plan, probe_steps)
    except RunnerError as err:
        # no output_dir known yet: the events go to stdout only
        return _fail(EventWriter(None, stdout=stdout), err)
    writer = EventWriter(plan["events_file"], stdout=stdout, append=bool(resume))
    if writer.enabled:
        # `evaluate RUN_DIR` reads the settings (and config_hash) from this copy
        from .evaluate import save_config_copy
        save_config_copy(plan["config"], plan["output_dir"])
    run = RunState(plan, writer, signals)
    signals.install()
    torch = None
    try:
        for w in plan["warnings"]:
            writer.emit("warning", message=w)
        check_packages(plan)
        writer.emit("status", stage="importing")
        import torch  # noqa: F811
        import transformers
        checkpoint = find_checkpoint(plan["output_dir"], resume)
        if checkpoint:
            run.resumed_from = {"path": checkpoint, "step": checkpoint_step(checkpoint)}

        trainer, training_args, eval_ds = _prepare(run, torch, transformers)

        signals.phase = "training"
        writer.emit("status", stage="training")
        result = trainer.train(resume_from_checkpoint=checkpoint)
        signals.phase = "finishing"
        return _finish(run, trainer, result, training_args, eval_ds, torch, transformers)
    except Interrupted as intr:
        code = exit_code_for(intr.signum)
        writer.emit("end", status="interrupted", signal=signal.Signals(intr.signum).name, exit_code=code,
                    checkpoint=run.last_checkpoint, step=None)
        return code
    except RunnerError as err:
        return _fail(writer, err)
    except Exception as exc:  # noqa: BLE001
        return _fail(writer, _unexpected_error(exc, torch))
    finally:
        signals.restore()
        writer.close()
        close_process_group(torch)


def _prepare(run: RunState, torch, transformers):
    """Tokenizer, datasets, model and Trainer; returns (trainer, training arguments, eval dataset or None)."""
    plan, writer = run.plan, run.writer
    writer.emit("status", stage="loading_tokenizer")
    tok = load_tokenizer(plan, transformers)
    new_ids = add_tokens(plan, tok)
    run.tokenizer = tok

    writer.emit("status", stage="tokenizing")
    data = plan["steps"]["data"]
    warning = unsplit_marker_warning(data, tok)
    if warning:
        writer.emit("warning", message=warning)
    renderer = make_messages_renderer(data.get("chat_template") or "model", tok) \
        if data["format"] == "messages" else None
    train_ds, eval_ds, stats = build_datasets(data, tok, renderer)
    run.data_stats = stats

    writer.emit("status", stage="loading_model")
    # TrainingArguments first: under ZeRO-3, from_pretrained partitions the weights as it
    # loads (zero.Init) only when the DeepSpeed config is already registered
    training_args = build_training_arguments(plan, transformers)
    run.model = build_model(plan, torch, transformers, tok, new_ids)
    run.params = count_params(run.model)

    apply_attention_step(plan["steps"].get("attention"), torch)
    trainer = build_trainer(run, torch, transformers, training_args, train_ds, eval_ds)
    # after the Trainer: Liger patches the layers there, and compiling traces them at the first step
    run.compiled_layers = compile_layers(run.model, plan["steps"].get("compile"))
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    return trainer, training_args, eval_ds


def _finish(run: RunState, trainer, result, training_args, eval_ds, torch, transformers) -> int:
    """After trainer.train(): the interrupted or NaN outcome, else final eval, metrics and export."""
    writer, signals = run.writer, run.signals
    uncompile_layers(run.model)  # evaluation, generation and export run eager
    if signals.signum is not None:
        code = exit_code_for(signals.signum)
        writer.emit("end", status="interrupted", signal=signal.Signals(signals.signum).name,
                    exit_code=code, step=trainer.state.global_step, checkpoint=run.last_checkpoint,
                    resume_hint="python -m tunelab_runner train --resume CONFIG")
        return code
    # the flag is only polled every few steps: check it once more for the last ones
    if run.nan_step is not None or (trainer.tl_bad is not None and bool(trainer.tl_bad.item())):
        raise RunnerError("nan_loss", f"loss became NaN/inf by step {run.nan_step or trainer.state.global_step}; "
                          "training stopped", "lower the learning rate, check max_grad_norm, use bf16 rather "
                          "than fp16, and look for empty or broken rows in the data",
                          exit_code=EXIT_NAN_LOSS, step=run.nan_step)

    metrics = dict(result.metrics)
    probe = run.plan.get("probe")
    if eval_ds is not None and not probe:
        writer.emit("status", stage="evaluating")
        metrics.update(trainer.evaluate())
    metrics.update(_run_metrics(run, trainer, training_args, torch))
    if probe:
        # a probe only times the host: nothing is exported, no model is kept
        writer.emit("end", status="completed", exit_code=EXIT_OK, step=result.global_step, metrics=metrics,
                    outputs={}, probe=probe)
        return EXIT_OK

    writer.emit("status", stage="exporting")
    outputs = export_outputs(run, torch, transformers)
    evaluated = _evaluate_at_end(run, trainer, torch, transformers)
    if evaluated:
        outputs["eval"] = evaluated
    if torch.cuda.is_available():
        # the peaks above are training's (and the Trainer's evaluation); these add export and
        # the evaluation after training: the whole run's
        metrics["run_peak_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
        metrics["run_peak_memory_reserved_bytes"] = torch.cuda.max_memory_reserved()
    writer.emit("end", status="completed", exit_code=EXIT_OK, step=result.global_step, metrics=metrics,
                outputs=outputs)
    return EXIT_OK


def _evaluate_at_end(run: RunState, trainer, torch, transformers):
    """evaluation.when: end: evaluate the exported run in this process. A failed
    evaluation is a warning: the training and its exports stand."""
    ev = run.plan["steps"].get("evaluation")
    if not ev or ev["when"] not in ("end", "every_eval") or not run.writer.enabled:   # every_eval: also at the end
        return None
    if world_size() > 1:
        run.writer.emit("warning", message="evaluation after a multi-process run is not done in-process; run "
                        "python -m tunelab_runner evaluate " + run.plan["output_dir"])
        return None
    # the optimizer's states and the gradients are not needed any more: room for evaluation
    trainer.optimizer = None
    trainer.lr_scheduler = None
    accelerator = getattr(trainer, "accelerator", None)
    if accelerator is not None:
        accelerator.free_memory()  # it keeps its own references to the optimizer
    model = getattr(run, "model", None)
    if model is not None:
        model.zero_grad(set_to_none=True)
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    run.writer.emit("status", stage="evaluating_run")
    from .evaluate import evaluate_after_training
    try:
        return evaluate_after_training(run, torch, transformers)
    except Exception as exc:  # noqa: BLE001
        traceback.print_exc(file=sys.stderr)
        run.writer.emit("warning", message=f"evaluation failed: {type(exc).__name__}: {exc}; run "
                        f"python -m tunelab_runner evaluate {run.plan['output_dir']}")
        return None


def _run_metrics(run: RunState, trainer, training_args, torch) -> Dict[str, Any]:
    """Real-token throughput, the steady step time, peak GPU memory and parameter counts
    for the `end` event."""
    metrics: Dict[str, Any] = {}
    elapsed = time.time() - (run.train_started or time.time())
    tokens = trainer.tl_tokens * max(1, training_args.world_size)
    metrics["tokens"] = tokens
    metrics["tokens_per_second"] = tokens / elapsed if elapsed > 0 else None
    steady = run.step_timer.summary() if run.step_timer else None
    if steady:
        metrics.update(steady)
    if torch.cuda.is_available():
        metrics["peak_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
        metrics["peak_memory_reserved_bytes"] = torch.cuda.max_memory_reserved()
    metrics["trainable_params"] = run.params.get("trainable")
    metrics["total_params"] = run.params.get("total")
    return metrics


def _unexpected_error(exc: Exception, torch) -> RunnerError:
    """An exception the steps did not turn into a RunnerError: out of memory, or internal.
    Called inside the `except` block, so the traceback is the current one."""
    oom = torch is not None and isinstance(exc, getattr(torch, "OutOfMemoryError", ())) \
        or "out of memory" in str(exc).lower()
    if oom:
        return RunnerError("oom", f"out of GPU memory: {str(exc).splitlines()[0]}", OOM_HINT)
    err = RunnerError("internal", f"{type(exc).__name__}: {exc}",
                      "see the traceback in the log", traceback=traceback.format_exc(limit=8))
    traceback.print_exc(file=sys.stderr)
    return err


def _fail(writer: EventWriter, err: RunnerError) -> int:
    writer.emit("error", **err.as_event())
    writer.emit("end", status="failed", exit_code=err.exit_code)
    return err.exit_code
