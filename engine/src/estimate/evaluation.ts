// The evaluation phase of a run: forward passes under no_grad over eval
// batches of `per_device_eval_batch_size` rows, between optimizer steps.
// What stays resident from training: weights, adapter, optimizer states and
// DDP's gradient buckets; the Trainer's zero_grad(set_to_none) has freed the
// gradients. What it adds: one layer's working set and the eval batch's
// logits: the 16-bit output, its fp32 upcast and log_softmax's output in the
// loss (activations.ts, EVAL_LOGIT_BYTES_PER_ENTRY). With HF's
// default eval batch of 8 and packed 2048-token rows that is several GiB more
// than training needed (measured on an H100, Llama-3.2-1B: +5 to 7 GiB).
// With `evaluation.when: every_eval` the runner's forgetting callback also
// scores the general rows after each evaluation (forgetting_callback.py, the
// runner's own loss at this batch): not counted, as the estimate does not
// read that file's lengths (memory.ts says so in the assumptions).

import type { Layout } from './arch';
import { EVAL_LOGIT_BYTES_PER_ENTRY, layerForwardWorkingPerToken } from './activations';
import type { EvaluationSettings, RunSettings } from './settings';
import type { StateBytes } from './states';
import type { MemoryPart } from './types';

export interface EvaluationPeak {
  /** Allocated bytes by part (overhead not yet added). */
  parts: Record<MemoryPart, number>;
  /** The logits' bytes, for the allocator's fragmentation driver. */
  logitsBytes: number;
  notes: Partial<Record<MemoryPart, string>>;
}

export function evaluationPeak(
  layout: Layout,
  s: RunSettings,
  evaluation: EvaluationSettings,
  st: StateBytes,
): EvaluationPeak {
  const T = evaluation.tokens;
  const working = layerForwardWorkingPerToken(layout, s, evaluation.seqLen) * T;
  const logits = EVAL_LOGIT_BYTES_PER_ENTRY * layout.vocab * T;
  const batchDesc =
    `eval batch ${evaluation.batch} × ${evaluation.seqLen} tokens = ${T}` +
    ` (per_device_eval_batch_size ${evaluation.batchSource === 'config' ? evaluation.batch : `unset: the runner uses the training micro-batch`})`;
  const lower = evaluation.batch > 1 ? `; a smaller per_device_eval_batch_size lowers it` : '';
  return {
    parts: {
      weights: st.baseWeights + st.gatheredWeights,
      adapter: st.adapter,
      gradients: st.gradientBuckets,
      optimizer: st.optimizer,
      activations: working,
      kvCache: 0,
      logits,
      overhead: 0,
    },
    logitsBytes: logits,
    notes: {
      gradients:
        'freed before evaluation (the Trainer zeroes them to None after each step)' +
        (st.gradientBuckets > 0 ? '; DDP gradient buckets stay' : ''),
      activations: `evaluation forward under no_grad: one layer's working set, ${batchDesc}`,
      logits: `${EVAL_LOGIT_BYTES_PER_ENTRY} B per entry: bf16 logits [${T} × ${layout.vocab}], their fp32 upcast and log_softmax in the loss, ${batchDesc}${lower}`,
    },
  };
}
