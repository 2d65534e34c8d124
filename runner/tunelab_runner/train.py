"""`train`: runs a config with transformers, peft and (for QLoRA) bitsandbytes.

Steps (each one's keyword arguments are what `plan` prints):
tokenizer -> model (+ BitsAndBytesConfig) -> prepare_model_for_kbit_training ->
get_peft_model(LoraConfig) -> datasets -> Trainer(TrainingArguments) -> export.
Events go to <output_dir>/events.jsonl and stdout (rank 0 only)."""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any, Dict, List, Optional

from . import config as cfg
from .data import build_datasets, make_messages_renderer
from .events import (EXIT_NAN_LOSS, EXIT_OK, EXIT_SIGINT, EXIT_SIGTERM, EventWriter, RunnerError,
                     is_main_process, pip_hint)
from .templates import JINJA, MARKERS

OOM_HINT = ("lower training.per_device_train_batch_size (raise gradient_accumulation_steps to keep the "
            "effective batch), lower data.max_length, set training.gradient_checkpointing: true, "
            "or use method: qlora")


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SignalState:
    """First SIGTERM/SIGINT while training: finish the step, save a checkpoint,
    stop. Outside training, or a second signal: stop at once."""

    def __init__(self) -> None:
        self.signum: Optional[int] = None
        self.count = 0
        self.phase = "setup"
        self._old: Dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for s in (signal.SIGTERM, signal.SIGINT):
            self._old[s] = signal.signal(s, self._handle)

    def restore(self) -> None:
        for s, h in self._old.items():
            try:
                signal.signal(s, h)
            except (ValueError, TypeError):
                pass

    def _handle(self, signum, frame) -> None:  # noqa: ARG002
        self.count += 1
        self.signum = signum
        if self.phase != "training" or self.count > 1:
            raise Interrupted(signum)


def exit_code_for(signum: int) -> int:
    return EXIT_SIGTERM if signum == signal.SIGTERM else EXIT_SIGINT if signum == signal.SIGINT else 128 + signum


def check_packages(plan: Dict[str, Any]) -> None:
    missing = [pip for mod, pip in cfg.required_packages(plan) if importlib.util.find_spec(mod) is None]
    if missing:
        why = f"method {plan['method']}" if missing != ["deepspeed"] else "training.deepspeed"
        raise RunnerError("missing_package", f"{', '.join(missing)} not installed (needed for {why})",
                          pip_hint(*missing), packages=missing)
    if plan["method"] == "qlora":
        try:
            importlib.import_module("bitsandbytes")
        except Exception as exc:  # noqa: BLE001 - a broken install is as good as none
            raise RunnerError("missing_package", f"bitsandbytes does not import: {exc}",
                              pip_hint("-U", "bitsandbytes"), packages=["bitsandbytes"]) from exc


def _to_dtype(torch, value):
    if isinstance(value, str) and value != "auto":
        dt = getattr(torch, value, None)
        if isinstance(dt, torch.dtype):
            return dt
    return value


def _version_ge(version: str, wanted: str) -> bool:
    def parts(v):
        out = []
        for p in v.split(".")[:3]:
            num = "".join(ch for ch in p if ch.isdigit())
            out.append(int(num) if num else 0)
        return out
    return parts(version) >= parts(wanted)


def world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def local_rank() -> int:
    try:
        return int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        return 0


# ------------------------------------------------------------------ loading

def load_tokenizer(plan, transformers):
    step = plan["steps"]["tokenizer"]
    try:
        tok = transformers.AutoTokenizer.from_pretrained(*step["args"], **step["kwargs"])
    except (OSError, ValueError) as exc:
        raise RunnerError("config", f"cannot load the tokenizer of {step['args'][0]}: {exc}",
                          "check model.name_or_path (a local directory or a hub id) and access to it") from exc
    data = plan["steps"]["data"]
    tmpl = data.get("chat_template") or "model"
    if data["format"] == "messages":
        if data["chat_template_kind"] == "named":
            tok.chat_template = JINJA[tmpl]
        elif data["chat_template_kind"] == "jinja":
            tok.chat_template = tmpl
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    return tok


def add_tokens(plan, tok) -> List[int]:
    tokens = plan["steps"]["model"].get("add_tokens")
    if not tokens:
        return []
    if isinstance(tokens, str):
        tokens = [tokens]
    tok.add_tokens(list(tokens), special_tokens=True)
    return tok.convert_tokens_to_ids(list(tokens))


def load_model(plan, torch, transformers, tok, new_token_ids):
    method = plan["method"]
    step = plan["steps"]["model"]
    kwargs = dict(step["kwargs"])
    if "torch_dtype" in kwargs and _version_ge(transformers.__version__, "4.56"):
        kwargs["dtype"] = kwargs.pop("torch_dtype")
    for key in ("dtype", "torch_dtype"):
        if key in kwargs:
            kwargs[key] = _to_dtype(torch, kwargs[key])
    if method == "qlora":
        qkw = dict(plan["steps"]["quantization"]["kwargs"])
        for key in ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage"):
            if key in qkw:
                qkw[key] = _to_dtype(torch, qkw[key])
        kwargs["quantization_config"] = transformers.BitsAndBytesConfig(**qkw)
        if kwargs.get("device_map") == {"": 0}:
            kwargs["device_map"] = {"": local_rank()}
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(*step["args"], **kwargs)
    except TypeError as exc:
        raise RunnerError("config", f"model: {exc}", "check the keys of the model section") from exc
    except (OSError, ValueError) as exc:
        raise RunnerError("config", f"cannot load the model {step['args'][0]}: {exc}",
                          "check model.name_or_path and its files") from exc
    model.config.use_cache = False  # no KV cache in training (and packed rows need none)
    if new_token_ids:
        model.resize_token_embeddings(len(tok))
    return model


def apply_peft(plan, model, new_token_ids):
    import peft
    prep = plan["steps"]["prepare_model_for_kbit_training"]
    if prep is not None:
        model = peft.prepare_model_for_kbit_training(model, **prep["kwargs"])
    lkw = dict(plan["steps"]["lora"]["kwargs"])
    if new_token_ids and "trainable_token_indices" not in lkw and "modules_to_save" not in lkw:
        lkw["trainable_token_indices"] = list(new_token_ids)
    try:
        lora_config = peft.LoraConfig(**lkw)
    except TypeError as exc:
        raise RunnerError("config", f"lora: {exc}", "check the keys of the lora section (peft.LoraConfig)") from exc
    return peft.get_peft_model(model, lora_config)


def count_params(model) -> Dict[str, int]:
    if hasattr(model, "get_nb_trainable_parameters"):
        trainable, total = model.get_nb_trainable_parameters()
    else:
        total = sum(p.numel() for p in model.parameters())
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable": int(trainable), "total": int(total)}


# ------------------------------------------------------------------ trainer

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


def make_callback(transformers, torch, writer: EventWriter, run: "Run"):
    class EventsCallback(transformers.TrainerCallback):
        NAN_CHECK_EVERY = 10

        def __init__(self):
            self.trainer = None
            self.t_first = None
            self.step_first = None
            self.last_t = None
            self.last_tokens = 0

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
            writer.emit("start", method=run.plan["method"], config=run.plan["config"], plan=run.plan,
                        params=run.params, estimated_steps=state.max_steps, global_step=state.global_step,
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
            if self.t_first is None:
                self.t_first, self.step_first = time.time(), state.global_step
            stop = run.signals.signum is not None
            if args.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
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
                        elapsed_seconds=now - (run.train_started or now))
            if (loss is not None and not math.isfinite(loss)) or (grad_norm is not None and not math.isfinite(grad_norm)):
                self._stop_for_nan(state, control, loss)

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            writer.emit("eval", step=state.global_step, epoch=state.epoch, metrics=dict(metrics or {}))

        def on_save(self, args, state, control, **kw):
            path = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
            run.last_checkpoint = path
            writer.emit("checkpoint", step=state.global_step, path=path)

    return EventsCallback()


# ------------------------------------------------------------------ export

def _dir_summary(path: str) -> Dict[str, Any]:
    files, total = [], 0
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(full):
            files.append(name)
            total += os.path.getsize(full)
    return {"files": files, "bytes": total}


def _save_kwargs(model, export: Dict[str, Any]) -> Dict[str, Any]:
    import inspect
    params = inspect.signature(model.save_pretrained).parameters
    out: Dict[str, Any] = {}
    if "max_shard_size" in params:
        out["max_shard_size"] = export["max_shard_size"]
    if "safe_serialization" in params:
        out["safe_serialization"] = bool(export["safe_serialization"])
    return out


def export_outputs(run: "Run", torch, transformers) -> Dict[str, str]:
    plan, writer = run.plan, run.writer
    exp = plan["steps"]["export"]
    method = plan["method"]
    trainer, model, tok = run.trainer, run.model, run.tokenizer
    dtype = _to_dtype(torch, exp["dtype"])
    distributed = world_size() > 1 or bool(getattr(trainer, "is_fsdp_enabled", False)) \
        or bool(getattr(trainer, "is_deepspeed_enabled", False))
    outputs: Dict[str, str] = {}
    main = is_main_process()
    if method in ("lora", "qlora"):
        adapter_dir = exp["adapter_dir"]
        need_adapter = exp["adapter"] or (exp["merge"] and (method == "qlora" or distributed))
        if need_adapter:
            if distributed:
                trainer.save_model(adapter_dir)
            elif main:
                model.save_pretrained(adapter_dir)
                tok.save_pretrained(adapter_dir)
            if main:
                outputs["adapter"] = adapter_dir
                writer.emit("export", kind="adapter", path=adapter_dir, **_dir_summary(adapter_dir))
        if distributed:
            trainer.accelerator.wait_for_everyone()
        if exp["merge"] and main:
            if method == "lora" and not distributed:
                merged = model.merge_and_unload()
            else:
                import peft
                step = plan["steps"]["model"]
                kwargs = {k: v for k, v in step["kwargs"].items()
                          if k not in ("quantization_config", "device_map", "torch_dtype", "dtype")}
                kwargs["dtype"] = dtype
                del run.trainer, run.model
                trainer = model = None
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                base = transformers.AutoModelForCausalLM.from_pretrained(*step["args"], **kwargs)
                if len(tok) > base.get_input_embeddings().weight.shape[0]:
                    base.resize_token_embeddings(len(tok))
                merged = peft.PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
            merged = merged.to(dtype)
            merged.config.use_cache = True
            out = exp["output_dir"]
            merged.save_pretrained(out, **_save_kwargs(merged, exp))
            tok.save_pretrained(out)
            outputs["merged"] = out
            writer.emit("export", kind="merged", path=out, dtype=exp["dtype"], **_dir_summary(out))
    elif exp.get("merge", True):
        out = exp["output_dir"]
        if distributed:
            trainer.save_model(out)
            if main:
                writer.emit("export", kind="model", path=out, dtype="as trained", **_dir_summary(out))
        elif main:
            model = model.to(dtype)
            model.config.use_cache = True
            model.save_pretrained(out, **_save_kwargs(model, exp))
            tok.save_pretrained(out)
            writer.emit("export", kind="model", path=out, dtype=exp["dtype"], **_dir_summary(out))
        outputs["model"] = out
    return outputs


# ------------------------------------------------------------------ the run

class Run:
    def __init__(self, plan, writer, signals):
        self.plan = plan
        self.writer = writer
        self.signals = signals
        self.params: Dict[str, int] = {}
        self.data_stats: Dict[str, Any] = {}
        self.resumed_from: Optional[Dict[str, Any]] = None
        self.train_started: Optional[float] = None
        self.step_at_start = 0
        self.interrupted_step: Optional[int] = None
        self.nan_step: Optional[int] = None
        self.nan_loss = None
        self.last_checkpoint: Optional[str] = None
        self.trainer = None
        self.model = None
        self.tokenizer = None


def _find_checkpoint(output_dir: str, resume) -> Optional[str]:
    if resume in (None, False):
        return None
    if isinstance(resume, str) and resume not in ("", "last", "true", "True"):
        path = resume if os.path.isabs(resume) else os.path.abspath(resume)
        if not os.path.isdir(path):
            raise RunnerError("no_checkpoint", f"checkpoint not found: {path}")
        return path
    from transformers.trainer_utils import get_last_checkpoint
    last = get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None
    if last is None:
        raise RunnerError("no_checkpoint", f"no checkpoint to resume from in {output_dir}",
                          "run without --resume to start over")
    return last


def _step_of(checkpoint: str) -> Optional[int]:
    tail = os.path.basename(checkpoint.rstrip("/"))
    if tail.startswith("checkpoint-"):
        try:
            return int(tail.split("-", 1)[1])
        except ValueError:
            return None
    return None


def run_train(config_path: str, resume=None, stdout=None) -> int:
    signals = SignalState()
    writer: Optional[EventWriter] = None
    try:
        plan = cfg.build_plan(config_path, local_rank=local_rank())
    except RunnerError as err:
        writer = EventWriter(None, stdout=stdout)
        writer.emit("error", **err.as_event())
        writer.emit("end", status="failed", exit_code=err.exit_code)
        return err.exit_code
    writer = EventWriter(plan["events_file"], stdout=stdout, append=bool(resume))
    run = Run(plan, writer, signals)
    signals.install()
    torch = None
    try:
        for w in plan["warnings"]:
            writer.emit("warning", message=w)
        check_packages(plan)
        writer.emit("status", stage="importing")
        import torch  # noqa: F811
        import transformers
        output_dir = plan["output_dir"]
        checkpoint = _find_checkpoint(output_dir, resume)
        if checkpoint:
            run.resumed_from = {"path": checkpoint, "step": _step_of(checkpoint)}

        writer.emit("status", stage="loading_tokenizer")
        tok = load_tokenizer(plan, transformers)
        new_ids = add_tokens(plan, tok)
        run.tokenizer = tok

        writer.emit("status", stage="tokenizing")
        data = plan["steps"]["data"]
        if data["format"] == "messages" and data["chat_template_kind"] == "named":
            vocab = tok.get_vocab() if hasattr(tok, "get_vocab") else {}
            unknown = [m for m in MARKERS[data["chat_template"]] if m not in vocab]
            if unknown:
                writer.emit("warning", message=f"chat template {data['chat_template']}: the tokenizer has no "
                            f"single token for {', '.join(unknown)}; they are split into several tokens "
                            "(model.add_tokens can add them)")
        renderer = make_messages_renderer(data.get("chat_template") or "model", tok) \
            if data["format"] == "messages" else None
        train_ds, eval_ds, stats = build_datasets(data, tok, renderer)
        run.data_stats = stats

        writer.emit("status", stage="loading_model")
        model = load_model(plan, torch, transformers, tok, new_ids)
        if plan["method"] in ("lora", "qlora"):
            model = apply_peft(plan, model, new_ids)
        gc = plan["steps"]["gradient_checkpointing"]
        if gc["enable_input_require_grads"] and hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
        run.model = model
        run.params = count_params(model)

        targs_kwargs = dict(plan["steps"]["training"]["kwargs"])
        import dataclasses
        known = {f.name for f in dataclasses.fields(transformers.TrainingArguments)}
        for key in plan["steps"]["training"]["defaults_applied"]:
            if key not in known:  # a runner default this transformers release does not have
                targs_kwargs.pop(key, None)
        try:
            targs = transformers.TrainingArguments(**targs_kwargs)
        except TypeError as exc:
            raise RunnerError("config", f"training: {exc} (transformers {transformers.__version__})",
                              "check the keys of the training section against TrainingArguments") from exc
        except ValueError as exc:
            raise RunnerError("config", f"training: {exc}") from exc

        from .collate import PackedCollator, PaddingCollator
        from .data import pad_token_id
        collator = PackedCollator() if data.get("packing") else PaddingCollator(pad_token_id(tok))
        trainer_cls = make_trainer_class(transformers, torch)
        callback = make_callback(transformers, torch, writer, run)
        trainer = trainer_cls(model=model, args=targs, train_dataset=train_ds, eval_dataset=eval_ds,
                              data_collator=collator, processing_class=tok, callbacks=[callback])
        callback.trainer = trainer
        run.trainer = trainer
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

        signals.phase = "training"
        writer.emit("status", stage="training")
        result = trainer.train(resume_from_checkpoint=checkpoint)
        signals.phase = "finishing"

        if run.signals.signum is not None:
            code = exit_code_for(run.signals.signum)
            writer.emit("end", status="interrupted", signal=signal.Signals(run.signals.signum).name,
                        exit_code=code, step=trainer.state.global_step, checkpoint=run.last_checkpoint,
                        resume_hint="python -m tunelab_runner train --resume CONFIG")
            return code
        if run.nan_step is not None or (trainer.tl_bad is not None and bool(trainer.tl_bad.item())):
            err = RunnerError("nan_loss", f"loss became NaN/inf by step {run.nan_step or trainer.state.global_step}; "
                              "training stopped", "lower the learning rate, check max_grad_norm, use bf16 rather "
                              "than fp16, and look for empty or broken rows in the data",
                              exit_code=EXIT_NAN_LOSS, step=run.nan_step)
            raise err

        metrics = dict(result.metrics)
        if eval_ds is not None:
            writer.emit("status", stage="evaluating")
            metrics.update(trainer.evaluate())
        elapsed = time.time() - (run.train_started or time.time())
        tokens = trainer.tl_tokens * max(1, targs.world_size)
        metrics["tokens"] = tokens
        metrics["tokens_per_second"] = tokens / elapsed if elapsed > 0 else None
        if torch.cuda.is_available():
            metrics["peak_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
            metrics["peak_memory_reserved_bytes"] = torch.cuda.max_memory_reserved()
        metrics["trainable_params"] = run.params.get("trainable")
        metrics["total_params"] = run.params.get("total")

        writer.emit("status", stage="exporting")
        outputs = export_outputs(run, torch, transformers)
        writer.emit("end", status="completed", exit_code=EXIT_OK, step=result.global_step, metrics=metrics,
                    outputs=outputs)
        return EXIT_OK
    except Interrupted as intr:
        code = exit_code_for(intr.signum)
        writer.emit("end", status="interrupted", signal=signal.Signals(intr.signum).name, exit_code=code,
                    checkpoint=run.last_checkpoint, step=None)
        return code
    except RunnerError as err:
        writer.emit("error", **err.as_event())
        writer.emit("end", status="failed", exit_code=err.exit_code)
        return err.exit_code
    except Exception as exc:  # noqa: BLE001
        oom = torch is not None and isinstance(exc, getattr(torch, "OutOfMemoryError", ())) \
            or "out of memory" in str(exc).lower()
        if oom:
            err = RunnerError("oom", f"out of GPU memory: {str(exc).splitlines()[0]}", OOM_HINT)
        else:
            err = RunnerError("internal", f"{type(exc).__name__}: {exc}",
                              "see the traceback in the log", traceback=traceback.format_exc(limit=8))
            traceback.print_exc(file=sys.stderr)
        writer.emit("error", **err.as_event())
        writer.emit("end", status="failed", exit_code=err.exit_code)
        return err.exit_code
    finally:
        signals.restore()
        writer.close()
        _close_process_group(torch)


def _close_process_group(torch) -> None:
    """Under torchrun, leave the NCCL group cleanly (torch warns about leaked resources otherwise)."""
    dist = getattr(torch, "distributed", None) if torch is not None else None
    if dist is not None and dist.is_available() and dist.is_initialized():
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - a failing teardown must not change the run's exit code
            pass
