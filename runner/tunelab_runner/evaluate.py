"""`evaluate` (docs/evaluation.md): loads a run's model (base + adapter, a full
fine-tuning's model, a checkpoint or a merged export), scores the task and the
forgetting measure, generates replies for the task metrics, writes eval.json and
events. `train` calls `evaluate_after_training` with the model it has in memory."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import time
from typing import Any, Dict, Optional

from . import eval_report as R
from .attention_backends import use_shape_free_attention
from .eval_config import resolve_evaluation
from .events import EXIT_OK, EventWriter, RunnerError
from .metrics import compute as compute_metrics, package_versions
from .run_plan import build_plan

CONFIG_COPY = "tunelab-config.yaml"
CONFIG_META = "tunelab-config.json"
LM_EVAL_INSTALL = "pip install lm-eval"


# ---------------------------------------------------------------- the config copy

def config_hash(path: str) -> str:
    return "sha256:" + R.file_sha256(path)


def save_config_copy(config_path: str, output_dir: str) -> str:
    """<output_dir>/tunelab-config.yaml (the config's bytes) and tunelab-config.json
    (its sha256 and where it lived: its relative paths start there)."""
    os.makedirs(output_dir, exist_ok=True)
    with open(config_path, "rb") as fh:
        blob = fh.read()
    with open(os.path.join(output_dir, CONFIG_COPY), "wb") as fh:
        fh.write(blob)
    meta = {"sha256": config_hash(config_path), "source": os.path.abspath(config_path),
            "base_dir": os.path.dirname(os.path.abspath(config_path))}
    with open(os.path.join(output_dir, CONFIG_META), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2)
    return os.path.join(output_dir, CONFIG_COPY)


def plan_for(target: str, config: Optional[str]) -> Dict[str, Any]:
    """The plan of RUN_DIR (its config copy, or --config) or of CONFIG; its
    output_dir is the run directory evaluated."""
    if os.path.isdir(target):
        run_dir = os.path.abspath(target)
        path = config or os.path.join(run_dir, CONFIG_COPY)
        if not os.path.exists(path):
            raise RunnerError("config", f"{run_dir} has no {CONFIG_COPY}",
                              "pass the run's config with --config CONFIG")
        base_dir = None
        meta_path = os.path.join(run_dir, CONFIG_META)
        if config is None and os.path.exists(meta_path):
            with open(meta_path, encoding="utf-8") as fh:
                base_dir = json.load(fh).get("base_dir")
        plan = build_plan(path, base_dir=base_dir)
        plan["output_dir"] = run_dir
    else:
        path = config or target
        plan = build_plan(path)
    plan["config_path"] = os.path.abspath(path)
    return plan


def settings_for(plan: Dict[str, Any], max_samples: Optional[int] = None, no_forgetting: bool = False,
                 no_generation: bool = False) -> Dict[str, Any]:
    data = plan["steps"]["data"]
    ev = plan["steps"].get("evaluation") or resolve_evaluation(None, data, os.path.dirname(plan["config"]))
    ev = json.loads(json.dumps(ev))  # a copy the flags may change
    if max_samples is not None:
        ev["task"]["max_samples"] = max_samples
    if no_generation:
        ev["task"]["max_samples"] = 0
    if no_forgetting:
        ev["forgetting"] = None
    return ev


# ---------------------------------------------------------------- loading

def _free(torch) -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def find_tuned(plan: Dict[str, Any], checkpoint: Optional[int], model_path: Optional[str]) -> Dict[str, Any]:
    """What to load: {kind: adapter|model|merged|checkpoint, path, checkpoint}."""
    run_dir, method = plan["output_dir"], plan["method"]
    if model_path:
        return {"kind": "merged", "path": os.path.abspath(model_path), "checkpoint": None}
    if checkpoint is not None:
        path = os.path.join(run_dir, f"checkpoint-{checkpoint}")
        if not os.path.isdir(path):
            raise RunnerError("no_checkpoint", f"no checkpoint {path}")
        adapter = os.path.exists(os.path.join(path, "adapter_config.json"))
        return {"kind": "adapter" if adapter else "checkpoint", "path": path, "checkpoint": checkpoint}
    export = plan["steps"]["export"]
    if method in ("lora", "qlora"):
        for path in (os.path.join(run_dir, "adapter"), export["adapter_dir"]):
            if os.path.exists(os.path.join(path, "adapter_config.json")):
                return {"kind": "adapter", "path": path, "checkpoint": None}
    for path in (export["output_dir"], os.path.join(run_dir, "merged")):
        if os.path.exists(os.path.join(path, "config.json")):
            return {"kind": "model" if method == "full" else "merged", "path": path, "checkpoint": None}
    raise RunnerError("no_checkpoint", f"nothing to evaluate in {run_dir}: no adapter/ and no exported model",
                      "train the run first, or pass --checkpoint N or --model PATH")


def load_base(plan, torch, transformers, tok):
    """The base as training loaded it (QLoRA: quantized), resized for added tokens."""
    from .model_loading import load_model
    model = load_model(plan, torch, transformers, tok, [])
    if len(tok) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tok))
    if not getattr(model, "hf_device_map", None) and torch.cuda.is_available():
        model = model.to("cuda")
    return model


def load_tuned(plan, what, torch, transformers, tok):
    if what["kind"] == "adapter":
        import peft
        return peft.PeftModel.from_pretrained(load_base(plan, torch, transformers, tok), what["path"])
    dtype = plan["steps"]["model"]["kwargs"].get("dtype") or plan["steps"]["model"]["kwargs"].get("torch_dtype")
    from .model_loading import to_torch_dtype
    kwargs = {"dtype": to_torch_dtype(torch, dtype)} if dtype else {}
    model = transformers.AutoModelForCausalLM.from_pretrained(what["path"], **kwargs)
    return model.to("cuda") if torch.cuda.is_available() else model


def is_adapter_model(model) -> bool:
    return hasattr(model, "disable_adapter") and hasattr(model, "peft_config")


# ---------------------------------------------------------------- the evaluation

class Evaluation:
    """One evaluation of `tuned` against the plan's base."""

    def __init__(self, plan, settings, tok, tuned, what, writer: EventWriter, torch, transformers):
        self.plan, self.settings, self.tok, self.tuned, self.what = plan, settings, tok, tuned, what
        self.writer, self.torch, self.transformers = writer, torch, transformers
        use_shape_free_attention(torch)  # padded batches and generation change shape (attention_backends.py)
        data = plan["steps"]["data"]
        self.data = data
        self.batch = int(plan["steps"]["training"]["kwargs"].get("per_device_eval_batch_size") or 8)
        from .data import make_messages_renderer
        try:
            self.renderer = make_messages_renderer(data.get("chat_template") or "model", tok)
        except RunnerError:
            self.renderer = None  # no chat template: only prompt/completion and text rows can be read

    @contextlib.contextmanager
    def base_model(self):
        """The base: the adapter switched off (no second model), else loaded from the plan."""
        if is_adapter_model(self.tuned):
            with self.tuned.disable_adapter():
                yield self.tuned
            return
        base = load_base(self.plan, self.torch, self.transformers, self.tok)
        try:
            yield base
        finally:
            del base
            _free(self.torch)

    def task(self) -> Optional[Dict[str, Any]]:
        from .eval_scoring import generate_replies, generation_pairs, task_loss
        from .data import read_jsonl
        task = self.settings["task"]
        if not task.get("file"):
            return None
        self.writer.emit("status", stage="scoring_task")
        out = task_loss(self.tuned, self.tok, self.data, self.renderer, self.batch, self.torch)
        out = {"file": task["file"], **out, "generation": None}
        self.samples = []
        if task["max_samples"] > 0:
            self.writer.emit("status", stage="generating")
            rows = read_jsonl(task["file"], "eval_file")
            pairs = generation_pairs(rows, self.data["format"], self.data.get("system_prompt"), task["max_samples"])
            replies = generate_replies(self.tuned, self.tok, [p for p, _, _ in pairs], self.settings["generation"],
                                       self.batch, self.torch, self.transformers)
            refs = [r for _, r, _ in pairs]
            schema = task.get("json_schema")
            if isinstance(schema, str):
                with open(schema, encoding="utf-8") as fh:
                    schema = json.load(fh)
            scored = compute_metrics(replies, refs, task["metrics"], json_schema=schema)
            out["generation"] = {"samples": len(pairs), **scored}
            from .metrics import exact_match
            self.samples = [{"prompt": shown, "reference": ref, "prediction": pred,
                             "exact_match": exact_match(pred, ref)}
                            for (_, ref, shown), pred in zip(pairs, replies)]
        return out

    def forgetting(self) -> Optional[Dict[str, Any]]:
        from .data import read_jsonl
        from .eval_scoring import general_loss, general_samples
        f = self.settings.get("forgetting")
        if not f or not f.get("file"):
            return None
        self.writer.emit("status", stage="scoring_forgetting")
        rows = read_jsonl(f["file"], "evaluation.forgetting.file")[: f["max_samples"] or None]
        max_length = int(self.data["max_length"])
        samples, n_bytes = general_samples(rows, self.tok, self.renderer, max_length)
        tuned = general_loss(self.tuned, self.tok, samples, n_bytes, self.batch, self.torch)
        key = self.base_key(f, max_length)
        base = R.read_cached(key)
        cached = base is not None and base.get("bits_per_byte") is not None
        if not cached:
            with self.base_model() as model:
                base = general_loss(model, self.tok, samples, n_bytes, self.batch, self.torch)
            R.write_cached(key, base)
        return R.forgetting_section(f["file"], len(samples), {"loss": base["loss"], "bits_per_byte":
                                    base["bits_per_byte"]}, tuned, f["threshold"], cached)

    def base_key(self, f: Dict[str, Any], max_length: int) -> str:
        step = self.plan["steps"]["model"]
        path = step["args"][0]
        model = {"path": path, "fingerprint": R.local_model_fingerprint(path),
                 "kwargs": {k: v for k, v in step["kwargs"].items() if k != "device_map"},
                 "quantization": (self.plan["steps"].get("quantization") or {}).get("kwargs"),
                 "vocab": len(self.tok)}
        settings = {"max_samples": f["max_samples"], "max_length": max_length,
                    "chat_template": self.data.get("chat_template"), "measure": "bits_per_byte"}
        return R.base_cache_key(model, R.file_sha256(f["file"]), settings)

    def lm_eval(self) -> Optional[Dict[str, Any]]:
        settings = self.settings.get("lm_eval")
        if not settings:
            return None
        if importlib.util.find_spec("lm_eval") is None:
            return {"skipped": "lm_eval is not installed", "install": LM_EVAL_INSTALL}
        self.writer.emit("status", stage="lm_eval")
        from .eval_lm import run_lm_eval
        return run_lm_eval(self, settings)

    def run(self) -> Dict[str, Any]:
        t0 = time.time()
        task = self.task()
        t1 = time.time()
        forgetting = self.forgetting()
        t2 = time.time()
        lm = self.lm_eval()
        t3 = time.time()
        versions = {m: _version(m) for m in ("torch", "transformers", "peft", "bitsandbytes")}
        versions.update(package_versions(self.settings["task"]["metrics"]))
        step = self.plan["steps"]["model"]
        return R.build_eval_json(
            config_hash=config_hash(self.plan["config_path"]) if os.path.exists(self.plan["config_path"]) else None,
            model={"base": step["args"][0], "method": self.plan["method"], "kind": self.what["kind"],
                   "path": self.what.get("path"), "checkpoint": self.what.get("checkpoint")},
            versions=versions,
            seconds={"total": t3 - t0, "task": t1 - t0 if task else None,
                     "forgetting": t2 - t1 if forgetting else None,
                     "lm_eval": t3 - t2 if lm and "skipped" not in lm else None},
            task=task, forgetting=forgetting, lm_eval=lm, samples=getattr(self, "samples", []))


def _version(dist: str) -> Optional[str]:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def finish(result: Dict[str, Any], out_path: str, writer: EventWriter) -> str:
    path = R.write_eval_json(out_path, result)
    writer.emit("eval_result", path=path, **R.event_payload(result))
    return path


def evaluate_after_training(run, torch, transformers) -> str:
    """`when: end`: the trained model as it is in memory (the optimizer freed by
    the caller); reloaded from disk when the export let go of it (QLoRA merge)."""
    plan = dict(run.plan)
    plan["config_path"] = plan["config"]
    settings = settings_for(plan)
    model = getattr(run, "model", None)
    if model is None:
        what = find_tuned(plan, None, None)
        model = load_tuned(plan, what, torch, transformers, run.tokenizer)
    else:
        kind = "adapter" if is_adapter_model(model) else ("model" if plan["method"] == "full" else "merged")
        what = {"kind": kind, "path": None, "checkpoint": None}
    ev = Evaluation(plan, settings, run.tokenizer, model, what, run.writer, torch, transformers)
    return finish(ev.run(), os.path.join(plan["output_dir"], "eval.json"), run.writer)


def run_planned(target: str, config: Optional[str], stdout, body) -> int:
    """A command on a run (evaluate, export): the plan of RUN_DIR|CONFIG, its events
    appended to the run's events.jsonl, and `body(plan, writer)`'s exit code; an
    error becomes an `error` event and its exit code (out of memory named as such)."""
    import sys
    from .train import _fail, _unexpected_error
    try:
        plan = plan_for(target, config)
    except RunnerError as err:
        return _fail(EventWriter(None, stdout=stdout), err)
    writer = EventWriter(os.path.join(plan["output_dir"], "events.jsonl"), stdout=stdout, append=True)
    try:
        return body(plan, writer)
    except RunnerError as err:
        return _fail(writer, err)
    except Exception as exc:  # noqa: BLE001 - torch is in sys.modules once a body imported it
        return _fail(writer, _unexpected_error(exc, sys.modules.get("torch")))
    finally:
        writer.close()


def run_evaluate(target: str, checkpoint: Optional[int] = None, config: Optional[str] = None,
                 model_path: Optional[str] = None, max_samples: Optional[int] = None, no_forgetting: bool = False,
                 no_generation: bool = False, out: Optional[str] = None, stdout=None) -> int:
    def body(plan, writer) -> int:
        for w in plan["warnings"]:
            writer.emit("warning", message=w)
        settings = settings_for(plan, max_samples, no_forgetting, no_generation)
        what = find_tuned(plan, checkpoint, model_path)
        writer.emit("start", command="evaluate", method=plan["method"], config=plan["config_path"],
                    model=what, settings=settings)
        from .model_loading import add_tokens, check_packages, load_tokenizer
        check_packages(plan)
        writer.emit("status", stage="importing")
        import torch
        import transformers
        writer.emit("status", stage="loading_tokenizer")
        tok = load_tokenizer(plan, transformers)
        add_tokens(plan, tok)
        writer.emit("status", stage="loading_model")
        model = load_tuned(plan, what, torch, transformers, tok)
        ev = Evaluation(plan, settings, tok, model, what, writer, torch, transformers)
        path = finish(ev.run(), out or os.path.join(plan["output_dir"], "eval.json"), writer)
        writer.emit("end", status="completed", exit_code=EXIT_OK, outputs={"eval": path})
        return EXIT_OK

    return run_planned(target, config, stdout, body)
