// Bytes autograd keeps per token: what each decoder layer saves for its
// backward, the gradient-checkpointing boundaries, and the loss over the
// vocabulary. Counted op by op from the HF Llama/Qwen layer code under torch
// autocast, not fitted: a frozen linear saves nothing (its input gradient only
// needs the weight), a trained one saves its input; RMSNorm saves its fp32
// upcast input; SiLU saves its input and the gate·up product both factors;
// sdpa/flash save q, k, v and the output (k/v not repeated for GQA); a peft
// LoRA branch saves its dropout mask (1 byte) and the 16-bit copy of its input
// that autocast makes from the fp32 cast peft applies for its fp32 adapter.
//
// Liger Kernel (`training.use_liger_kernel`; liger_kernel/ops/rms_norm.py,
// swiglu.py, rope.py at linkedin/Liger-Kernel ead96b6) replaces three of
// those ops with fused autograd functions that save less:
// - LigerRMSNormFunction saves its input X as it comes (the residual stream's
//   dtype) and one fp32 rstd per row; it keeps no fp32 upcast, and its
//   backward rebuilds the normalized tensor from X and rstd, so a trained
//   norm weight costs nothing more;
// - LigerSiLUMulFunction saves only its two inputs (gate and up outputs), not
//   silu(gate); its backward writes the gate/up gradients over them in place,
//   so only the product's gradient is a fresh temporary;
// - LigerRopeFunction rotates q and k in place and saves cos/sin: the same as
//   HF's rotation, whose q·cos and rotate_half(q)·sin save only cos and sin.
// Measured (runner/bench/results/throughput-h100*.json, bench/estimate/ligerPeaks.ts).

import type { Layout, LinearShape } from './arch';
import type { RunSettings } from './settings';

export interface DtypeFlow {
  /** Residual stream: fp32 when the embedding is fp32 (fp32 weights, or prepare_model_for_kbit_training). */
  residual: 2 | 4;
  /** Norm outputs: the norm weight's dtype wins (fp32 when norms were upcast). */
  normOut: 2 | 4;
  /** Matmul inputs after autocast. */
  compute: 2 | 4;
  /** MLP gate/up outputs: bitsandbytes casts 4-bit layer outputs back to the input dtype. */
  mlp: 2 | 4;
}

export function dtypeFlow(s: RunSettings): DtypeFlow {
  const fp32Model = s.weightBytes === 4;
  const upcastNorms = s.method === 'qlora' && s.prepareKbit;
  const residual = fp32Model || upcastNorms ? 4 : 2;
  const normOut = fp32Model || upcastNorms ? 4 : 2;
  const compute = s.computeBytes;
  const mlp = s.method === 'qlora' ? normOut : compute;
  return { residual, normOut, compute, mlp };
}

/** Kernels that change what a layer keeps (memory.ts reads them from the plan). */
export interface LayerKernels {
  /**
   * Fused RMSNorm and SwiGLU: Liger Kernel's (`training.use_liger_kernel`), or the
   * compiled layers', which keep the same (fusedLoss.ts fusedLayerKernels).
   */
  fusedNormAndMlp?: boolean;
}

/** Liger's gated-MLP kernel applies to dense MLPs; MoE experts keep the HF count. */
function ligerMlp(layout: Layout, kernels: LayerKernels): boolean {
  return (
    kernels.fusedNormAndMlp === true &&
    !layout.linears.some((l) => l.name === 'gate' && l.outFeatures > 1)
  );
}

export interface LayerActivations {
  /** Saved bytes per token per layer, by block (for notes). */
  norms: number;
  attention: number;
  mlp: number;
  lora: number;
  total: number;
}

/**
 * What one decoder layer keeps per token until its backward runs.
 * `seqLen` matters only for eager attention (it saves the S×S scores).
 */
export function layerSavedPerToken(
  layout: Layout,
  s: RunSettings,
  loraModules: LinearShape[],
  kernels: LayerKernels = {},
): LayerActivations {
  const f = dtypeFlow(s);
  const full = s.method === 'full';
  const h = layout.hidden;
  const I = layout.mlpWidthPerToken;
  const a = f.compute;

  // Each norm saves its fp32 input; a trained norm weight also needs the
  // normalized tensor it multiplies. Liger's RMSNorm saves its input as is and
  // an fp32 rstd per token, trained weight or not.
  const norms = kernels.fusedNormAndMlp
    ? layout.normsPerLayer * (f.residual * h + 4)
    : layout.normsPerLayer * (4 * h + (full ? f.normOut * h : 0));

  // Inputs of trained q/k/v and gate/up. When the norm output already has the
  // compute dtype the consumers share one tensor; otherwise autocast makes one
  // cast copy per consumer.
  const sharedInput = (consumers: number) =>
    full ? (f.normOut === a ? a * h : consumers * a * h) : 0;
  let attention =
    sharedInput(layout.fused ? 1 : 3) +
    a * (2 * layout.qWidth + 2 * layout.kvWidth) + // q, k, v, out kept by sdpa/flash
    4 * layout.heads + // log-sum-exp
    (full ? a * layout.qWidth : 0); // o_proj input (contiguous copy of the output)
  if (layout.fused) {
    // v is a view of the fused qkv output, so the whole output stays alive.
    attention += a * (layout.qWidth + layout.kvWidth);
  }
  if (s.attention === 'eager') {
    // k/v repeated to all heads; softmax output in fp32 and its 16-bit cast;
    // attention-logit softcapping (Gemma 2) also keeps tanh's output.
    const scores = (4 + a + (layout.logitSoftcap ? a : 0)) * layout.heads * s.seqLen;
    attention += 2 * a * (layout.qWidth - layout.kvWidth) + scores;
  }
  if (s.packing && s.attention === 'sdpa') {
    // Packed rows (position_ids reset per sample) through sdpa: transformers
    // builds a block-diagonal bool mask, so sdpa takes the masked kernel; it
    // repeats k/v to all heads (GQA is native only without a mask) and converts
    // the mask to an additive one in the compute dtype, both saved by every
    // layer: one [rows, 1, S, S] per layer, S entries per token. flex (native
    // GQA, block mask) and flash (varlen) do not.
    attention += 2 * a * (layout.qWidth - layout.kvWidth) + a * s.seqLen;
  }
  if (layout.qkNorm) {
    attention += (4 + (full ? a : 0)) * (layout.qWidth + layout.kvWidth);
  }

  // SiLU(gate) * up: gate, silu output and up are saved (Liger's SwiGLU: gate
  // and up only); a trained down_proj saves the product as well.
  const mlpSaved = ligerMlp(layout, kernels) ? 2 : 3;
  let mlp = sharedInput(layout.fused ? 1 : 2) + mlpSaved * f.mlp * I + (full ? a * I : 0);
  const experts = layout.linears.find((l) => l.name === 'gate' && l.outFeatures > 1);
  if (experts) {
    const topK = layout.linears.find((l) => l.count > 1)?.activePerToken ?? 2;
    // Router softmax (fp32) and the per-expert gathered inputs and weighted outputs.
    mlp += 8 * experts.outFeatures + topK * 2 * a * h;
  }

  let lora = 0;
  if (s.lora) {
    const mask = s.lora.dropout > 0 ? 1 : 0;
    // Without autocast the fp32 adapter runs in fp32 and saves the fp32 input.
    const inputCopy = s.autocast ? a : 4;
    for (const m of loraModules) {
      let perModule = (mask + inputCopy) * m.inFeatures + a * s.lora.r;
      if (s.lora.dora) perModule += a * (m.inFeatures + m.outFeatures);
      lora += perModule * m.activePerToken;
    }
  }
  const total = norms + attention + mlp + lora;
  return { norms, attention, mlp, lora, total };
}

/** Per token outside the layers: the final norm, and lm_head's input when lm_head trains. */
export function headSavedPerToken(layout: Layout, s: RunSettings, lmHeadTrained: boolean): number {
  const f = dtypeFlow(s);
  return 4 * layout.hidden + (lmHeadTrained ? (f.normOut + f.compute) * layout.hidden : 0);
}

/** A checkpointed layer keeps only its input (the residual stream) per token. */
export function checkpointPerToken(layout: Layout, s: RunSettings): number {
  return dtypeFlow(s).residual * layout.hidden;
}

/**
 * Gradients alive inside one layer's backward per token: the residual
 * gradient and the gate/up/product gradients of the MLP (Liger's SwiGLU
 * writes the gate/up gradients over its saved inputs: the product's only).
 */
export function layerBackwardTempPerToken(
  layout: Layout,
  s: RunSettings,
  kernels: LayerKernels = {},
): number {
  const f = dtypeFlow(s);
  const mlpGrads = ligerMlp(layout, kernels) ? 1 : 3;
  return mlpGrads * f.mlp * layout.mlpWidthPerToken + 2 * f.residual * layout.hidden;
}

/**
 * The loss upcasts `[tokens, vocab]` logits to fp32; at the start of backward
 * log_softmax's saved output (4), the incoming gradient (4) and the outgoing
 * gradient (4) are alive at once: 12 bytes per vocabulary entry per token.
 */
export const LOGIT_BYTES_PER_ENTRY = 12;

/**
 * Final-logit softcapping (Gemma 2: tanh(logits / 30) × 30 in bf16) keeps
 * tanh's 16-bit output for backward: 2 more bytes per entry.
 */
export function logitsPerToken(layout: Layout): number {
  return (LOGIT_BYTES_PER_ENTRY + (layout.logitSoftcap ? 2 : 0)) * layout.vocab;
}

/**
 * Evaluation runs the forward under no_grad: nothing is saved for backward,
 * and the working set is one layer's biggest transients (the MLP's gate, up
 * and product, the residual stream and its normalized copy) per token, plus
 * eager attention's scores.
 */
export function layerForwardWorkingPerToken(
  layout: Layout,
  s: RunSettings,
  seqLen: number,
): number {
  const f = dtypeFlow(s);
  const scores = s.attention === 'eager' ? (4 + f.compute) * layout.heads * seqLen : 0;
  return 3 * f.mlp * layout.mlpWidthPerToken + 2 * f.residual * layout.hidden + scores;
}

/**
 * The loss of an evaluation forward: the model's 16-bit logits, the fp32 copy
 * the loss upcasts them to and cross_entropy's log_softmax output, alive
 * together: 10 bytes per vocabulary entry per token (no gradients under
 * no_grad). The runs (H100, Llama-3.2-1B, packed 4 × 2048 training
 * rows, eval batch 8 × 2048) peaked at 22.15 (LoRA) and 26.61 GiB (full)
 * allocated at evaluation: 10 B gives 22.9 and 27.4, 6 B gave 15.0 and 19.5.
 */
export const EVAL_LOGIT_BYTES_PER_ENTRY = 10;

/**
 * The runner's evaluation after training runs outside autocast: a layer
 * computes in its weights' dtype (fp32 weights stay fp32); a 4-bit layer
 * computes in its compute dtype.
 */
export function inferenceSettings(s: RunSettings): RunSettings {
  return { ...s, autocast: false, computeBytes: s.quant ? s.computeBytes : s.weightBytes };
}

/**
 * The loss the runner computes itself (eval_scoring.score_tokens): the
 * model's logits at lm_head's dtype (the norms' dtype: fp32 for fp32 models
 * and prepared QLoRA), the fp32 copy `.float()` makes and cross_entropy's
 * log_softmax output, alive together: that dtype + 8 bytes per entry.
 */
export function runnerLossBytesPerEntry(s: RunSettings): number {
  return dtypeFlow(inferenceSettings(s)).normOut + 8;
}

/**
 * KV cache per token per sequence: K and V of every layer, at the k/v
 * projections' output dtype (bitsandbytes casts a 4-bit layer's output back
 * to its input's, the norms' dtype).
 */
export function kvCacheBytesPerToken(layout: Layout, s: RunSettings): number {
  const f = dtypeFlow(inferenceSettings(s));
  return 2 * layout.layers * layout.kvWidth * (s.quant ? f.normOut : f.compute);
}

/**
 * The 4-D mask transformers builds for a padded batch: `rows × queries ×
 * keys`, bool for sdpa, additive in the compute dtype for eager;
 * flash-attention unpads the batch instead.
 */
export function paddedMaskBytes(
  s: RunSettings,
  rows: number,
  queries: number,
  keys: number,
): number {
  if (s.attention === 'flash') return 0;
  const perEntry = s.attention === 'eager' ? dtypeFlow(inferenceSettings(s)).compute : 1;
  return rows * queries * keys * perEntry;
}
