// Time of one micro-step (one forward + backward on one GPU), calibrated on
// runs measured on an H100 (bench/TIME.md). Three things set it:
//   - GPU work: the model's matmul FLOPs over every token of the batch,
//     padding included, at a fitted fraction of the measured matmul rate; and
//     LoRA's adapter path (dropout, A, B, scale, add: memory-bound), per token
//     and per adapted width.
//   - Host work: eager PyTorch's per-layer launches (every method) and peft's
//     and bitsandbytes' Python per wrapped module. The host
//     queues kernels while the GPU runs, so the slower of the two sets the pace;
//     small micro-batches of short chats wait on the host.
//   - Variable shapes: padded batches change shape every micro-step, which
//     costs a fixed time per layer (new allocations and kernel choices); packed
//     rows of max_length have one shape.

import type { Method, TrainSamplingStrategy } from '../plan';
import { loraTargets, type Layout } from './arch';
import { expectedLongestOf } from './inputs';

import {
  CALIBRATION_TFLOPS,
  FITTED,
  MEASURED_MATMUL_FRACTION,
  type ThroughputConstants,
} from './throughputConstants';

// the constants' users import them from here, with the model
export { CALIBRATION_TFLOPS, FITTED, MEASURED_MATMUL_FRACTION, type ThroughputConstants };

/**
 * Without gradient checkpointing a micro-step runs three passes' worth of
 * kernels (forward, backward ≈ 2) instead of four: host, shape and adapter
 * costs (the adapter path's forward is recomputed too) are scaled by this.
 */
export const NO_CHECKPOINTING_HOST_SCALE = 0.75;
/** The hidden width `matmulEfficiency` is given for. */
const REFERENCE_HIDDEN = 2048;
/** No model runs its matmuls at more than this fraction of the measured rate (a 70B model's 8192 stays under). */
const MAX_MATMUL_EFFICIENCY = 0.9;
/** The host and the GPU overlap: a smooth maximum (p-norm) of their times, not their sum. */
const OVERLAP_NORM = 6;
/** AdamW step: reads weight, gradient and two states, writes three (bf16): bytes per trainable parameter. */
const OPTIMIZER_BYTES_PER_PARAM = 14;
/** H100 SXM memory bandwidth reached by streaming kernels, bytes/s. */
const CALIBRATION_BANDWIDTH = 3.0e12;

export interface MicroStepShape {
  method: Method;
  /** LoRA rank and targets (LoRA and QLoRA). */
  lora: { r: number; targets: 'all-linear' | string[] } | undefined;
  checkpointing: boolean;
  packed: boolean;
  /** Liger Kernel's fused kernels (`use_liger_kernel`); compiled layers have their own scales. */
  ligerKernels?: boolean;
  /** The runner's compiled decoder layers (`torch_compile`). */
  compiledLayers?: boolean;
  /** QLoRA's non-quantized weights upcast to fp32 (prepare_model_for_kbit_training's default). */
  kbitUpcast?: boolean;
  /** peft casts each LoRA input to fp32 and back (runs measured before the runner skipped it). */
  peftInputCast?: boolean;
  /**
   * Padded batches ran cuDNN's attention, which builds a plan per new shape (runs
   * measured before the runner turned it off for them).
   */
  cudnnAttentionPlans?: boolean;
  /** Tokens the GPU computes in one micro-step, padding included. */
  paddedTokens: number;
  /** Keys each query attends over: the row length (the masked kernel computes every key of the row). */
  attentionSpan: number;
  /** sdpa (or eager) given packed rows' dense mask: the whole span, by a kernel slower than the matmuls. */
  denseMaskAttention?: boolean;
}

export interface MicroStepTime {
  /** Model FLOPs per computed token (forward, backward, recompute). */
  flopsPerToken: number;
  /** GPU seconds of the matmuls and the rest of the model. */
  computeSeconds: number;
  /** GPU seconds of LoRA's adapter path. */
  adapterSeconds: number;
  /** GPU seconds of the casts QLoRA's fp32-upcast weights cost (0 otherwise). */
  upcastSeconds: number;
  /** Host seconds spent in peft/bitsandbytes Python per micro-step. */
  hostSeconds: number;
  /** Seconds lost to batches changing shape. */
  variableShapeSeconds: number;
  seconds: number;
}

/** Parameters a token's matmuls touch: decoder linears (active experts only) and lm_head. */
export function matmulParams(layout: Layout): number {
  let perLayer = 0;
  for (const l of layout.linears) perLayer += l.inFeatures * l.outFeatures * l.activePerToken;
  return layout.layers * perLayer + layout.vocab * layout.hidden;
}

/** Adapter parameters LoRA adds for the tokens' active modules. */
function adapterParams(layout: Layout, shape: MicroStepShape): number {
  if (!shape.lora) return 0;
  let perLayer = 0;
  for (const l of loraTargets(layout, shape.lora.targets))
    perLayer += (l.inFeatures + l.outFeatures) * shape.lora.r * l.activePerToken;
  return layout.layers * perLayer;
}

/** Attention's FLOPs per token in one forward: scores and weighted sum, 2 matmuls × 2 FLOPs × span × query width. */
function attentionForward(layout: Layout, shape: MicroStepShape): number {
  return 4 * layout.layers * layout.qWidth * shape.attentionSpan;
}

/** ...over the micro-step: forward, backward (twice the forward's) and the recomputed forward. */
function attentionFlopsPerToken(layout: Layout, shape: MicroStepShape): number {
  return attentionForward(layout, shape) * (3 + (shape.checkpointing ? 1 : 0));
}

/** Model FLOPs per token for the method (frozen bases need input gradients only). */
export function flopsPerToken(layout: Layout, shape: MicroStepShape): number {
  const attention = attentionForward(layout, shape);
  const forward = 2 * matmulParams(layout) + attention;
  let flops =
    shape.method === 'full'
      ? 3 * forward
      : 2 * forward + attention + 6 * adapterParams(layout, shape);
  if (shape.checkpointing) flops += forward;
  return flops;
}

export function microStepTime(
  layout: Layout,
  shape: MicroStepShape,
  tflops: number,
  constants: ThroughputConstants = FITTED,
): MicroStepTime {
  const perToken = flopsPerToken(layout, shape);
  const efficiency = Math.min(
    MAX_MATMUL_EFFICIENCY,
    constants.matmulEfficiency * (layout.hidden / REFERENCE_HIDDEN) ** constants.matmulSizeExponent,
  );
  const rate = tflops * 1e12 * MEASURED_MATMUL_FRACTION * efficiency;
  const liger = shape.ligerKernels ? constants.ligerComputeScale : 1;
  // sdpa with packed rows' dense block-diagonal mask runs the memory-efficient kernel over
  // the whole span, slower per FLOP than the matmuls; flex attention's block mask does not
  const attention = attentionFlopsPerToken(layout, shape);
  const attentionScale = shape.denseMaskAttention ? constants.denseMaskAttentionScale : 1;
  const computeSeconds =
    ((liger * (perToken - attention) + attentionScale * attention) * shape.paddedTokens) / rate;
  // Memory-bound work: scaled by the GPU's compute against the H100's (the catalog has no bandwidth).
  const gpuScale = CALIBRATION_TFLOPS / tflops;
  const targets = shape.lora ? loraTargets(layout, shape.lora.targets) : [];
  let adaptedWidth = 0;
  let adaptedInputWidth = 0;
  for (const l of targets) {
    adaptedWidth += (l.inFeatures + l.outFeatures) * l.activePerToken;
    adaptedInputWidth += l.inFeatures * l.activePerToken;
  }
  adaptedWidth *= layout.layers;
  adaptedInputWidth *= layout.layers;
  const passes = shape.checkpointing ? 1 : NO_CHECKPOINTING_HOST_SCALE;
  // peft's LoRA input cast (runs measured before the runner skipped it): GPU time per token, host time per adapter
  const peftCast = shape.peftInputCast === true && shape.method === 'lora';
  const castPerToken = peftCast
    ? adaptedInputWidth * constants.peftInputCastSecondsPerTokenWidth
    : 0;
  const compiled = shape.compiledLayers === true;
  const adapterSeconds =
    (compiled ? constants.compiledAdapterScale : 1) *
    passes *
    shape.paddedTokens *
    (adaptedWidth * constants.adapterSecondsPerTokenWidth + castPerToken) *
    gpuScale;
  const upcastSeconds = shape.kbitUpcast
    ? (compiled ? constants.compiledUpcastScale : 1) *
      passes *
      shape.paddedTokens *
      layout.layers *
      layout.hidden *
      constants.kbitUpcastSecondsPerTokenWidth *
      gpuScale
    : 0;
  const wrapped = layout.layers * targets.reduce((n, l) => n + l.count, 0);
  const quantized =
    shape.method === 'qlora' ? layout.layers * layout.linears.reduce((n, l) => n + l.count, 0) : 0;
  const hostSeconds =
    (compiled ? constants.compiledHostScale : 1) *
    passes *
    (layout.layers * constants.hostSecondsPerLayer +
      wrapped *
        (constants.hostSecondsPerAdapter +
          (peftCast ? constants.peftInputCastHostSecondsPerAdapter : 0)) +
      quantized * constants.hostSecondsPerQuantizedModule);
  const variableShapeSeconds = shape.packed
    ? 0
    : passes *
      layout.layers *
      (shape.cudnnAttentionPlans
        ? constants.cudnnAttentionPlanSecondsPerLayer
        : constants.variableShapeSecondsPerLayer);
  return {
    flopsPerToken: perToken,
    computeSeconds,
    adapterSeconds,
    upcastSeconds,
    hostSeconds,
    variableShapeSeconds,
    seconds: pacedSeconds(
      computeSeconds + adapterSeconds + upcastSeconds,
      hostSeconds,
      variableShapeSeconds,
    ),
  };
}

/**
 * A micro-step's seconds from its parts: the host queues work while the GPU runs, so the
 * two overlap (a smooth maximum), and a batch of a new shape adds its own host time.
 */
export function pacedSeconds(
  gpuSeconds: number,
  hostSeconds: number,
  variableShapeSeconds: number,
): number {
  const overlapped =
    (gpuSeconds ** OVERLAP_NORM + hostSeconds ** OVERLAP_NORM) ** (1 / OVERLAP_NORM);
  return overlapped + variableShapeSeconds;
}

/** Seconds of one optimizer step (physics, not fitted: too small to see in the runs). */
export function optimizerStepSeconds(trainableParams: number, tflops: number): number {
  return (
    ((trainableParams * OPTIMIZER_BYTES_PER_PARAM) / CALIBRATION_BANDWIDTH) *
    (CALIBRATION_TFLOPS / tflops)
  );
}

/**
 * Expected padded row length of a micro-batch of `k` examples from `lengths`:
 * the longest of `k` drawn at random (the memory estimate's formula,
 * inputs.ts), or with `group_by_length` the longest of a group of
 * near-equal lengths over the run's first `microBatches` (groupedLongest).
 */
export function expectedLongest(
  lengths: readonly number[],
  k: number,
  strategy?: TrainSamplingStrategy,
  microBatches = Infinity,
): number {
  if (lengths.length === 0) return 0;
  const sorted = [...lengths].sort((a, b) => a - b);
  return strategy === 'group_by_length'
    ? groupedLongest(sorted, k, microBatches)
    : expectedLongestOf(sorted, k, Infinity);
}

/** Rows per mega-batch of transformers' LengthGroupedSampler, in micro-batches. */
export const MEGA_BATCH_FACTOR = 50;

/**
 * Mean padded length of the first `microBatches` micro-batches of
 * `group_by_length`. transformers' LengthGroupedSampler shuffles the rows,
 * cuts them into mega-batches of M = 50·k (one GPU), sorts each by length,
 * longest first, cuts that into 50 micro-batches of k neighbours, and puts
 * the mega-batch holding the longest row first. Micro-batch j (0-based) of a
 * mega-batch pads to the (j·k+1)-th longest of M random rows; taken here as
 * the data's quantile at 1 − (j·k + ½)/M (a simplification: the order
 * statistic's spread is ignored), the first one as the longest row. A whole
 * epoch averages the 50; a run shorter than one mega-batch (max_steps) sees
 * only its first, longest groups. Fewer rows than M: one mega-batch of all.
 * `sorted` ascending.
 */
export function groupedLongest(
  sorted: readonly number[],
  k: number,
  microBatches = Infinity,
): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mega = Math.max(1, Math.min(MEGA_BATCH_FACTOR * k, n));
  const groups = Math.max(1, Math.ceil(mega / k));
  const tops: number[] = [];
  for (let j = 0; j < groups; j++) tops.push(quantile(sorted, 1 - (j * k + 0.5) / mega));
  const epochMean = tops.reduce((a, b) => a + b, 0) / groups;
  const runs = Math.max(1, microBatches);
  if (runs >= groups) return epochMean;
  // The run's first micro-batches: the first mega-batch's longest groups.
  tops[0] = sorted[n - 1]!;
  const first = Math.floor(runs);
  return tops.slice(0, first).reduce((a, b) => a + b, 0) / first;
}

/** Linear interpolation between the order statistics of `sorted` at `p` ∈ [0, 1]. */
function quantile(sorted: readonly number[], p: number): number {
  const x = Math.min(Math.max(p, 0), 1) * (sorted.length - 1);
  const i = Math.floor(x);
  const next = sorted[Math.min(i + 1, sorted.length - 1)]!;
  return sorted[i]! + (x - i) * (next - sorted[i]!);
}

/**
 * Chat-like lengths when the data is unknown: lognormal (median ≈ 0.77 ×
 * mean, as measured chat sets), clamped to [40, max], `count` deterministic
 * quantiles scaled to the mean.
 */
export function chatLikeLengths(mean: number, max: number, count = 1000): number[] {
  const sigma = Math.sqrt(2 * Math.log(1 / 0.77));
  const raw: number[] = [];
  for (let i = 0; i < count; i++) raw.push(Math.exp(sigma * inverseNormal((i + 0.5) / count)));
  // Clamping moves the mean: rescale until it holds.
  let scale = mean;
  let lengths = raw;
  for (let pass = 0; pass < 5; pass++) {
    lengths = raw.map((x) => Math.min(max, Math.max(40, x * scale)));
    scale *= mean / (lengths.reduce((a, b) => a + b, 0) / count);
  }
  return lengths;
}

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
