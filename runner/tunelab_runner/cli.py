"""python -m tunelab_runner {train,evaluate,export,chat,plan,doctor} ..."""

from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

from .events import EXIT_CONFIG, RunnerError


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunelab_runner",
                                     description="Runs Tunelab fine-tuning configs.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="run the config (events: <output_dir>/events.jsonl)")
    p_train.add_argument("config")
    p_train.add_argument("--resume", action="store_true",
                         help="continue from the last checkpoint in output_dir")
    p_train.add_argument("--resume-from", metavar="CHECKPOINT", default=None,
                         help="continue from this checkpoint directory")
    p_train.add_argument("--probe", type=int, metavar="STEPS", default=None,
                         help="only time this host: STEPS training steps, no evaluation, checkpoints or export, "
                              "written to OUTPUT_DIR-pace-probe; the end event's steady_step_seconds is the "
                              "host's pace for the estimate")
    p_eval = sub.add_parser("evaluate", help="evaluate a run: task metrics and forgetting (docs/evaluation.md)")
    p_eval.add_argument("target", metavar="RUN_DIR|CONFIG")
    p_eval.add_argument("--checkpoint", type=int, default=None, help="evaluate checkpoint-N of the run")
    p_eval.add_argument("--config", default=None, help="the run's config (default: RUN_DIR/tunelab-config.yaml)")
    p_eval.add_argument("--model", default=None, help="a merged export to evaluate instead")
    p_eval.add_argument("--max-samples", type=int, default=None, help="eval prompts answered by generation")
    p_eval.add_argument("--no-forgetting", action="store_true", help="skip the forgetting measure")
    p_eval.add_argument("--no-generation", action="store_true", help="loss and perplexity only")
    p_eval.add_argument("--out", default=None, help="where eval.json goes (default: RUN_DIR/eval.json)")
    p_export = sub.add_parser("export", help="export a run's adapter, alone or merged into the base, or a full "
                                                 "fine-tune's model in --dtype (checked)")
    p_export.add_argument("target", metavar="RUN_DIR|CONFIG")
    p_export.add_argument("--merge", action="store_true",
                          help="merge into the base reloaded in 16 bits (QLoRA too), then check the logits "
                               "(a full fine-tune is always exported whole)")
    p_export.add_argument("--dtype", choices=("bfloat16", "float16", "float32"), default=None,
                          help="dtype of the merged or full model's weights (default: export.dtype)")
    p_export.add_argument("--checkpoint", type=int, default=None, help="export checkpoint-N (its adapter, or a full fine-tune's weights)")
    p_export.add_argument("--config", default=None, help="the run's config (default: RUN_DIR/tunelab-config.yaml)")
    p_export.add_argument("--out", default=None,
                          help="where (default: export.output_dir merged, RUN_DIR/export-adapter alone, "
                               "RUN_DIR/export-DTYPE for a full fine-tune)")
    p_chat = sub.add_parser("chat", help="answer JSON-line chat requests on stdin (runner/CHAT.md)")
    p_chat.add_argument("target", metavar="RUN_DIR|CONFIG")
    p_chat.add_argument("--adapter", action="append", default=[], metavar="NAME=PATH",
                        help="a LoRA adapter to load under NAME (repeatable; default: the run's own as `tuned`)")
    p_chat.add_argument("--config", default=None, help="the run's config (default: RUN_DIR/tunelab-config.yaml)")
    p_plan = sub.add_parser("plan", help="print the resolved keyword arguments of every step (no torch)")
    p_plan.add_argument("config")
    sub.add_parser("doctor", help="print a JSON report of this host")
    args = parser.parse_args(argv)
    if args.command in ("train", "evaluate", "export", "chat"):
        from .allocator import apply_allocator_default
        apply_allocator_default()   # before torch touches CUDA (allocator.py says why)

    if args.command == "plan":
        from .run_plan import build_plan
        try:
            plan = build_plan(args.config)
        except RunnerError as err:
            print(json.dumps({"error": err.as_event()}, indent=2))
            return err.exit_code
        from .events import redact_secrets
        print(json.dumps(redact_secrets(plan), indent=2, default=str))
        return 0
    if args.command == "doctor":
        from .doctor import report
        print(json.dumps(report(), indent=2, default=str))
        return 0
    if args.command == "evaluate":
        from .evaluate import run_evaluate
        return run_evaluate(args.target, checkpoint=args.checkpoint, config=args.config, model_path=args.model,
                            max_samples=args.max_samples, no_forgetting=args.no_forgetting,
                            no_generation=args.no_generation, out=args.out)
    if args.command == "export":
        from .export import run_export
        return run_export(args.target, merge=args.merge, dtype=args.dtype, checkpoint=args.checkpoint,
                          out=args.out, config=args.config)
    if args.command == "chat":
        from .chat import run_chat
        return run_chat(args.target, args.adapter, config=args.config)
    if args.command == "train":
        from .train import run_train
        resume = args.resume_from or ("last" if args.resume else None)
        return run_train(args.config, resume=resume, probe_steps=args.probe)
    return EXIT_CONFIG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
