"""`evaluation.when: every_eval`: the forgetting measure at every Trainer evaluation.

The model as training begins is the base: a fresh LoRA adapter adds nothing (its B
matrices are zero) and full fine-tuning has not stepped yet. So the base's bits per
byte is taken then, on the same general samples, and each evaluation adds to its
metrics (hence to the `eval` event and the loss chart):

  eval_forgetting_bits_per_byte   the model now
  eval_forgetting_change          (now - base) / base, the measure of eval.json
  eval_forgetting_verdict         pass / warn / fail against evaluation.forgetting.threshold

On a resumed run the model is no longer the base: an adapter is switched off to
score the base; a resumed full fine-tune has no base in memory and reports the
bits per byte alone.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .eval_report import relative_change, verdict


def forgetting_settings(plan: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The forgetting settings when the plan asks for them at every evaluation, else None."""
    evaluation = (plan.get("steps") or {}).get("evaluation") or {}
    if evaluation.get("when") != "every_eval":
        return None
    forgetting = evaluation.get("forgetting") or {}
    if not forgetting.get("file"):
        return None
    return forgetting


def forgetting_metrics(bits_per_byte: float, base: Optional[float], threshold: float) -> Dict[str, Any]:
    """The metrics one evaluation adds (pure: tested without torch)."""
    out: Dict[str, Any] = {"eval_forgetting_bits_per_byte": bits_per_byte}
    if base is not None and base > 0:
        change = relative_change(base, bits_per_byte)
        out["eval_forgetting_change"] = change
        out["eval_forgetting_verdict"] = verdict(change, threshold)
    return out


def make_forgetting_callback(transformers, torch, run) -> Optional[Any]:
    """A TrainerCallback, or None when the config does not ask for it. Put it before the
    events callback: both see the same metrics dict, and the events callback emits it."""
    settings = forgetting_settings(run.plan)
    if settings is None:
        return None
    from .data import make_messages_renderer, read_jsonl
    from .eval_scoring import general_loss, general_samples

    data = run.plan["steps"]["data"]
    tok = run.tokenizer
    rows = read_jsonl(settings["file"], "evaluation.forgetting.file")[: int(settings.get("max_samples") or 200)]
    renderer = make_messages_renderer(data.get("chat_template") or "model", tok)
    samples, n_bytes = general_samples(rows, tok, renderer, int(data["max_length"]))
    kwargs = run.plan["steps"]["training"]["kwargs"]
    batch = int(kwargs.get("per_device_eval_batch_size") or kwargs.get("per_device_train_batch_size") or 1)
    threshold = float(settings.get("threshold", 0.05))

    def score(model) -> float:
        was_training = model.training
        try:
            return general_loss(model, tok, samples, n_bytes, batch, torch)["bits_per_byte"]
        finally:
            if was_training:   # score_tokens switched it to eval mode
                model.train()

    class ForgettingCallback(transformers.TrainerCallback):
        base: Optional[float] = None

        def on_train_begin(self, args, state, control, model=None, **kw):
            if model is None or not samples:
                return
            if not run.resumed_from:
                self.base = score(model)
            elif hasattr(model, "disable_adapter"):
                with model.disable_adapter():
                    self.base = score(model)
            run.writer.emit("status", stage="forgetting_base", bits_per_byte=self.base)

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kw):
            if metrics is None or model is None or not samples:
                return
            metrics.update(forgetting_metrics(score(model), self.base, threshold))

    return ForgettingCallback()
