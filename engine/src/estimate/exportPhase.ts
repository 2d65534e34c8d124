// The export after training (runner/tunelab_runner/export.py), per GPU. It
// runs after the last optimizer step, before the evaluation after training:
// - LoRA with export.merge: merge_and_unload in place on the trained model
//   (the Trainer still holds the optimizer states; the gradients are freed),
//   one module's fp32 delta (B·A) and its cast at a time, then `.to(dtype)`;
// - QLoRA with export.merge: the trained model is dropped and the cache
//   emptied, the base reloaded in 16 bits on the CPU and merged there; the
//   merged model goes to the GPU only when it fits with a tenth to spare, so
//   this phase never runs out of memory (else the evaluation after training
//   runs on the CPU);
// - full fine-tuning (export.merge defaults to true): `model.to(dtype)`, one
//   parameter at a time, the optimizer states still held;
// - the adapter alone is written from the GPU copy: nothing to add;
// - FSDP / ZeRO-3 save through the Trainer, shard by shard: not modelled.
// A dtype wider than the stored weights (export.dtype: float32 of a bf16
// model) converts the whole model on the GPU: that can exceed training.

import { type Layout, loraTargets } from './arch';
import { CUDA_CONTEXT_BYTES, TRAINING_WORKSPACE_BYTES } from './overhead';
import type { RunSettings } from './settings';
import type { StateBytes } from './states';
import { type MemoryPart, zeroParts } from './types';

export interface ExportPhase {
  /** Device bytes per GPU at the export's peak: tensors + CUDA context. */
  bytes: number;
  parts: Record<MemoryPart, number>;
  /** What the export does, in words (the phase sentence and the weights' note). */
  words: string;
  /** QLoRA's merged model: moved to the GPU only when it fits, so never out of memory. */
  onlyIfItFits: boolean;
  /** QLoRA: the merged model's bytes the runner would move to the GPU (else 0). */
  movedBytes: number;
}

/** The runner moves QLoRA's merged model to the GPU when 1.1 × its bytes are free (export.py). */
const MOVE_MARGIN = 1.1;
const CONTEXT_BYTES = CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES;

/** Whether the runner keeps a merged model of `movedBytes` on the CPU on a GPU of this memory. */
export function mergedStaysOnCpu(movedBytes: number, gpuMemoryBytes: number): boolean {
  return MOVE_MARGIN * movedBytes + CONTEXT_BYTES > gpuMemoryBytes;
}

export function exportPhase(
  layout: Layout,
  s: RunSettings,
  st: StateBytes,
): ExportPhase | undefined {
  if (s.parallelism === 'fsdp' || s.parallelism === 'zero3') return undefined;
  if (!s.export.merge) return undefined;
  const { dtype } = s.export;
  const dtypeBytes = dtype === 'float32' ? 4 : 2;
  const baseParams = st.paramsTotal - (s.method === 'full' ? 0 : st.paramsTrainable);
  const parts = { ...zeroParts(), overhead: CONTEXT_BYTES };
  const done = (words: string, movedBytes = 0): ExportPhase => ({
    bytes: Object.values(parts).reduce((a, b) => a + b, 0),
    parts,
    words,
    onlyIfItFits: movedBytes > 0,
    movedBytes,
  });

  if (s.method === 'qlora') {
    parts.weights = dtypeBytes * baseParams;
    return done(
      `the ${dtype} merged model, built on the CPU, moved to the GPU only if it fits`,
      parts.weights,
    );
  }

  parts.adapter = st.adapter;
  parts.optimizer = st.optimizer + st.optimizerOutside;
  const storedBytes = s.weightBytes;
  const largestParam = Math.max(
    layout.vocab * layout.hidden,
    ...layout.linears.map((l) => l.inFeatures * l.outFeatures),
  );
  // `.to(dtype)`: a wider dtype converts every weight (the old copy freed one parameter at a time)
  const converted =
    dtypeBytes > storedBytes
      ? (st.baseWeights * dtypeBytes) / storedBytes + largestParam * storedBytes
      : st.baseWeights + (dtypeBytes < storedBytes ? largestParam * dtypeBytes : 0);
  if (s.method === 'lora' && s.lora) {
    const largestTarget = Math.max(
      0,
      ...loraTargets(layout, s.lora.targets).map((l) => l.inFeatures * l.outFeatures),
    );
    // merge_and_unload: the fp32 delta B·A of one module and its cast into the weight's dtype
    const merging = st.baseWeights + largestTarget * (4 + storedBytes);
    parts.weights = Math.max(merging, converted);
    return done(`LoRA merged in place, one module at a time, then saved in ${dtype}`);
  }
  parts.weights = converted;
  return done(`the trained model saved in ${dtype}`);
}
