#!/usr/bin/env bash
# A real launch on a GPU host, end to end: build a tiny Llama-shaped model and a
# local tokenizer (no Hub needed), write a native config next to them, and run
# it with `tunelab launch` (the same code as the editor's "Launch training"),
# which streams the runner's events through Tunelab's log parser. With two or
# more GPUs the config asks for DDP (torchrun) and the runner's DDP test runs too.
#
#   bash scripts/gpu-launch-demo.sh OUT_DIR        (needs node, python3 with torch/transformers/peft)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:?usage: gpu-launch-demo.sh OUT_DIR}
mkdir -p "$OUT"
WORK=$(mktemp -d)
export PYTHONPATH="$ROOT/runner${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

GPUS=$(python3 -c 'import torch; print(torch.cuda.device_count())')
echo "GPUs: $GPUS"
DISTRIBUTED=""
if [ "$GPUS" -ge 2 ]; then DISTRIBUTED="{ backend: ddp, num_processes: 2 }"; fi

python3 - "$WORK" "$DISTRIBUTED" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.getcwd(), "runner"))
from tests.gpu.helpers import make_fixture, write_config
work, distributed = sys.argv[1], sys.argv[2]
fixture = make_fixture(os.path.join(work, "fixture"))
extra = "launch:\n  target: local\n  python: python3\n"
if distributed:
    extra += f"  distributed: {distributed}\n"
write_config(os.path.join(work, "demo.finetune.yaml"), fixture, "lora",
             training={"max_steps": 60, "logging_steps": 5}, extra=extra)
PY
cp "$WORK/demo.finetune.yaml" "$OUT/demo.finetune.yaml"

echo "== tunelab lint"
node dist/cli.js lint --offline "$WORK/demo.finetune.yaml" | tee "$OUT/lint.txt" || true
echo "== tunelab launch (streams the run)"
( cd "$WORK" && node "$ROOT/dist/cli.js" launch demo.finetune.yaml ) 2>&1 | tee "$OUT/launch.log"
echo "launch exit: ${PIPESTATUS[0]}"
cp "$WORK/out/events.jsonl" "$OUT/events.jsonl" 2>/dev/null || true
if [ "$GPUS" -ge 2 ]; then
  echo "== runner DDP test"
  (cd runner && python3 -m pytest -q tests/gpu/test_gpu_runner.py -k ddp 2>&1 | tail -5) | tee "$OUT/ddp-test.txt"
fi
