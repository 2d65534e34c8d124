"""The figures of a template run and their report: reads a run's events.jsonl,
summarizes its events (tokens/s, allocated/reserved peaks, train and evaluation
seconds, losses; the field names are runner/EVENTS.md's), renders the results as the
Markdown table of template_runs.md and saves the results as DIR/STEM.json and
DIR/STEM.md. Pure Python: no process is started and nothing outside the given files
is read."""

from __future__ import annotations

import json
import os
import statistics
from typing import Any, Dict, List, Optional

from template_run_common import fmt, gib


def read_events_file(path: str) -> Optional[List[Dict]]:
    if not os.path.exists(path):
        return None
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def summarize(events: List[Dict], warmup_steps: int = 3) -> Dict[str, Any]:
    """The figures of one run from its events (EVENTS.md field names)."""
    steps = [e for e in events if e.get("event") == "step"]
    evals = [e for e in events if e.get("event") == "eval"]
    start = next((e for e in events if e.get("event") == "start"), None)
    end = next((e for e in reversed(events) if e.get("event") == "end"), None)
    error = next((e for e in events if e.get("event") == "error"), None)

    # step events before the first eval, and steps whose window holds an eval
    before_eval: List[Dict] = []
    after_eval_steps = set()
    seen_eval = False
    pending_eval = False
    for e in events:
        if e.get("event") == "eval":
            seen_eval = True
            pending_eval = True
        elif e.get("event") == "step":
            if not seen_eval:
                before_eval.append(e)
            if pending_eval:
                after_eval_steps.add(e.get("step"))
                pending_eval = False
    tps = [e["tokens_per_second"] for e in steps
           if isinstance(e.get("step"), int) and e["step"] > warmup_steps and e.get("step") not in after_eval_steps
           and e.get("tokens_per_second") is not None]

    def mem(e, key):
        return (e.get("gpu_memory") or {}).get(key)

    train_set = before_eval or steps
    alloc_train = mem(train_set[-1], "peak_allocated_bytes") if train_set else None
    reserved_train = max([mem(e, "reserved_bytes") or 0 for e in train_set] or [0]) or None
    metrics = (end or {}).get("metrics") or {}
    allocs = [mem(e, "peak_allocated_bytes") for e in steps] + [metrics.get("peak_memory_allocated_bytes")]
    allocs = [x for x in allocs if x is not None]
    reserved_whole = metrics.get("peak_memory_reserved_bytes")
    if reserved_whole is None:
        res = [mem(e, "reserved_bytes") for e in steps if mem(e, "reserved_bytes") is not None]
        reserved_whole = max(res) if res else None

    # times
    t_start = start["time"] if start else None
    t_first = steps[0]["time"] if steps else None
    t_last = steps[-1]["time"] if steps else None
    eval_in_train = 0.0
    eval_durations = []
    prev_time = None
    for e in events:
        if e.get("event") == "eval":
            if prev_time is not None:
                eval_durations.append(round(e["time"] - prev_time, 2))
                if t_last is not None and e["time"] <= t_last:
                    eval_in_train += e["time"] - prev_time
        if e.get("event") in ("step", "eval", "start"):
            prev_time = e.get("time")
    train_s = (t_last - t_start - eval_in_train) if (t_start is not None and t_last is not None) else None
    tokens = steps[-1].get("tokens") if steps else None
    losses = [e.get("loss") for e in steps if e.get("loss") is not None]
    return {
        "status": (end or {}).get("status"), "end_exit_code": (end or {}).get("exit_code"),
        "error": {k: error.get(k) for k in ("type", "message", "hint")} if error else None,
        "steps": steps[-1].get("step") if steps else 0,
        "tokens_per_second_median": statistics.median(tps) if tps else None,
        "tokens_per_second_values": len(tps),
        "tokens_per_second_whole_training": (tokens / train_s) if (tokens and train_s) else None,
        "tokens_trained": tokens,
        "alloc_peak_training_bytes": alloc_train,
        "alloc_peak_whole_bytes": max(allocs) if allocs else None,
        "reserved_training_bytes": reserved_train,
        "reserved_peak_bytes": reserved_whole,
        "train_seconds": round(train_s, 2) if train_s is not None else None,
        "first_to_last_step_seconds": round(t_last - t_first, 2) if (t_first and t_last) else None,
        "eval_in_training_seconds": round(eval_in_train, 2),
        "eval_seconds": eval_durations,
        "after_training_seconds": round(end["time"] - t_last, 2) if (end and t_last) else None,
        "start_to_end_seconds": round(end["time"] - t_start, 2) if (end and t_start) else None,
        "final_loss": losses[-1] if losses else None,
        "first_loss": losses[0] if losses else None,
        "train_loss": metrics.get("train_loss"),
        "eval_loss": metrics.get("eval_loss"),
        "eval_losses": [(e.get("step"), (e.get("metrics") or {}).get("eval_loss")) for e in evals],
        "params": (start or {}).get("params"),
        "effective_batch": (start or {}).get("effective_batch"),
        "data": (start or {}).get("data"),
        "end_metrics": metrics or None,
    }


# ------------------------------------------------------------------ report

def render(results: Dict[str, Any]) -> str:
    m = results.get("model") or {}
    tok = m.get("train_chat_tokens") or {}
    built = (f"{fmt((m.get('params') or 0) / 1e9, '.3f')} B params" if m.get("params") else "not built")
    lines = [
        "# Telecom-support templates as whole runs",
        "",
        f"Device: {results.get('device') or '?'}; {json.dumps(results.get('versions') or {})}.",
        f"Model: random-init Llama-3.2-1B shape ({built}, vocab 128256, "
        f"tied embeddings, bf16), BPE tokenizer of {m.get('tokenizer_vocab', '?')} tokens trained on the train chats "
        f"(chat with system prompt: mean {tok.get('mean', '?')}, max {tok.get('max', '?')} tokens).",
        f"Changes to each template: {results.get('changes_summary')}.",
        "tok/s: median real tokens/s of steps > 3 (the step after an evaluation left out). Allocated peak: training = "
        "last step before the first evaluation; whole = max with the end event (incl. both evaluations). "
        "nvidia-smi: max memory.used during the process (whole GPU). Train s: start to last step, less the "
        "in-training evaluation. Estimate: `tunelab estimate` of the same config on this GPU.",
        "",
        "| template | packing | tok/s | alloc peak training GiB | alloc peak whole run GiB | reserved GiB | "
        "nvidia-smi GiB | smallest cap GiB | train s (steps) | eval s | process s | final loss | estimate GiB | "
        "estimate s | status |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results.get("runs", []):
        est = r.get("estimate_here") or r.get("estimate") or {}
        est_cols = f"{fmt(gib(est.get('per_gpu_bytes')), '.1f')} | {fmt(est.get('seconds'), '.0f')}"
        if r.get("skipped"):
            lines.append(f"| {r['method']} | {str(r['packing']).lower()} | — | — | — | — | — | — | — | — | — | — | "
                         f"{est_cols} | skipped: {r['skipped']} |")
            continue
        b = r.get("bisect") or {}
        cap = b.get("smallest_cap_gib")
        cap_s = "—" if cap is None else (f"{cap:g}" + ("" if b.get("verified") else " (unverified)")
                                         + (f" ±{b['resolution_gib']:g}" if b.get("resolution_gib", 0) > 0.5 + 1e-9 else ""))
        status = r.get("status") or f"exit {r.get('exit_code')}"
        if r.get("timed_out"):
            status = "timed out"
        if r.get("error"):
            status += f" ({r['error'].get('type')})"
        lines.append(
            f"| {r['method']} | {str(r['packing']).lower()} | {fmt(r.get('tokens_per_second_median'), ',.0f')} | "
            f"{fmt(gib(r.get('alloc_peak_training_bytes')), '.2f')} | {fmt(gib(r.get('alloc_peak_whole_bytes')), '.2f')} | "
            f"{fmt(gib(r.get('reserved_peak_bytes')), '.2f')} | {fmt(r.get('smi_peak_gib'), '.2f')} | {cap_s} | "
            f"{fmt(r.get('train_seconds'), '.1f')} ({r.get('steps')}) | "
            f"{'+'.join(fmt(x, '.1f') for x in r.get('eval_seconds') or []) or '—'} | "
            f"{fmt(r.get('process_seconds'), '.0f')} | {fmt(r.get('final_loss'), '.3f')} | "
            f"{est_cols} | {status} |")
    notes = results.get("notes") or []
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def save(results: Dict[str, Any], out: str, stem: str) -> None:
    with open(os.path.join(out, stem + ".json"), "w") as fh:
        json.dump(results, fh, indent=2, default=str)
    with open(os.path.join(out, stem + ".md"), "w") as fh:
        fh.write(render(results))
