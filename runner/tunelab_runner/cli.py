"""python -m tunelab_runner {train,plan,doctor} ..."""

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
    p_plan = sub.add_parser("plan", help="print the resolved keyword arguments of every step (no torch)")
    p_plan.add_argument("config")
    sub.add_parser("doctor", help="print a JSON report of this host")
    args = parser.parse_args(argv)

    if args.command == "plan":
        from .config import build_plan
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
    if args.command == "train":
        from .train import run_train
        resume = args.resume_from or ("last" if args.resume else None)
        return run_train(args.config, resume=resume)
    return EXIT_CONFIG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
