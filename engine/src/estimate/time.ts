// Training time: optimizer steps × the time of one step, where a step is
// gradient-accumulation micro-steps timed by the calibrated model of
// throughput.ts, plus the optimizer, plus the first step's warm-up (per layer).
// Fitted on 26 runs' step times and 20 whole runs measured on an H100
// (bench/TIME.md); shown with its uncertainty, wider where the run is unlike
// the measured ones.

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Plan } from '../plan';
import { layoutOf, loraParams, loraTargets, paramGroups } from './arch';
import { compiledLayers } from './fusedLoss';
import { withHostPace, type LearnedHostPace, type StepParts } from './hostPace';
import { resolveSettings } from './settings';
import {
  chatLikeLengths,
  expectedLongest,
  FITTED,
  microStepTime,
  optimizerStepSeconds,
  type MicroStepShape,
  type MicroStepTime,
  type ThroughputConstants,
} from './throughput';
import type { TrainTimeEstimate } from './types';

/** Typical model FLOPs utilisation of a packed run (1B-8B LoRA, H100), for a rough "how efficient" figure. */
export const UTILIZATION_PACKED = 0.3;
/** ...and of a padded run of short chats: overhead-bound. */
export const UTILIZATION_PADDED = 0.1;
/** Best-fit-decreasing packing fills rows of max_length to 99.8% (measured). */
export const PACKING_EFFICIENCY = 0.998;
/** Dense bf16 TFLOP/s assumed when no GPU is known (H100 SXM). */
const DEFAULT_TFLOPS = 989;
/** ± relative error on runs like the measured ones (calibration worst 19.6%, leave-one-out 22.8%; held-out 24-step whole runs, latest measurements: median 7.5%, 14 of 20 within 20%, 20 of 20 inside, those outside host-paced runs, 20 of 20 within 20% with the pace their machine's runs and probes teach; one measurement of a host-bound run moves by more between H100 machines; bench/TIME.md). */
export const MEASURED_UNCERTAINTY = 0.25;
/**
 * ± where the host paces the micro-steps (its time above the GPU's: short padded batches,
 * narrow models): the same 24-step runs on five H100 machines took 0.70-1.29x their
 * estimate, leaving out three that were a machine's first padded run, which waits on
 * CUDA's JIT; GPU-paced ones 0.96-1.17x. Through the runner with cuDNN's attention off
 * for padded batches: 0.77-1.03x on a sixth machine, 0.57-0.75x on a seventh and
 * 0.59-0.97x on an eighth, whose hosts ran them faster; 0.87-0.97x on a tenth (the
 * templates, bench/TIME.md). The host's speed
 * is not known before a run there; LEARNT_PACE_UNCERTAINTY once a run or a pace probe
 * (`tunelab launch --probe`) taught it.
 */
export const HOST_PACED_UNCERTAINTY = 0.45;
/**
 * ± where the host paces the micro-steps and its pace was learnt from the target's past
 * runs: estimated with the pace the same machine's other runs and probes teach, 84 of 86
 * held-out whole-run measurements on nine H100s fell within this, 81 within 20%; fifteen
 * first runs on three machines (templates and whole runs), each after its own pace probe,
 * 15 within 20%, worst 18.6% (bench/hostPaceTransfer.ts, bench/estimate/wholeRuns.ts,
 * bench/TIME.md).
 */
export const LEARNT_PACE_UNCERTAINTY = 0.35;
/** ± where the estimate extrapolates (other GPUs, several GPUs, unknown data, ...). */
export const EXTRAPOLATED_UNCERTAINTY = 0.5;
/** Mean example length assumed when the data was not read. */
const ASSUMED_MEAN_LENGTH = 450;

export interface TrainTimeOptions {
  /** Token length of each training example read (`analysis.data.train.tokenLengths`). */
  tokenLengths?: readonly number[];
  /** `training.max_steps` when positive: optimizer steps to run instead of epochs. */
  maxSteps?: number;
  /** `hardware.price_per_hour`: the price of one GPU for an hour, for a cost line. */
  pricePerGpuHour?: number;
  /** Other constants than the fitted ones (the calibration benchmark's refits). */
  constants?: ThroughputConstants;
  /** The pace of the target's host, learnt from its past runs: scales the host terms. */
  hostPace?: LearnedHostPace;
  /** The run paid peft's LoRA input cast (calibration runs measured before the runner skipped it). */
  peftInputCast?: boolean;
  /** Padded batches ran cuDNN's attention (runs measured before the runner turned it off for them). */
  cudnnAttentionPlans?: boolean;
}

export interface TrainTimeDetail extends TrainTimeEstimate {
  /** Optimizer steps (max_steps when set, else epochs' worth, rounded up). */
  steps: number;
  secondsPerStep: number;
  /** Real (non-padding) tokens per second over all GPUs. */
  tokensPerSecond: number;
  /** Relative ± of `seconds` (0.25 = ±25%). */
  uncertainty: number;
  secondsLow: number;
  secondsHigh: number;
  /** Why the uncertainty is wide (empty when the run is like the measured ones). */
  extrapolations: string[];
  /** Present when a price per GPU-hour was given: in the price's currency. */
  cost?: { perGpuHour: number; total: number; low: number; high: number };
  /** The first step's one-time cost beyond a normal step, seconds (in `seconds`). */
  warmupSeconds: number;
  /** Parts of one micro-step, seconds. */
  microStep: MicroStepTime;
  /** Real and computed (padding included) tokens per micro-step per GPU. */
  tokensPerMicroStep: { real: number; padded: number };
  /** The host's time exceeds the GPU's: the machine's CPU sets the pace. */
  hostPaced: boolean;
  /** The step in the parts a host pace moves, at pace 1 (a launch records them with the run). */
  stepParts: StepParts;
  /** The learnt pace the figure was computed at, when one was given. */
  hostPace?: LearnedHostPace;
}

export function estimateTrainTime(
  plan: Plan,
  model: ModelArchitecture,
  gpu: GpuSpec | undefined,
  tokensPerEpoch: number,
  options: TrainTimeOptions = {},
): TrainTimeDetail {
  const s = resolveSettings(plan);
  const layout = layoutOf(model);
  const assumptions: string[] = [];
  const extrapolations: string[] = [];

  // Example lengths as the run sees them: truncated at max_length.
  let lengths = options.tokenLengths?.filter((n) => n > 0).map((n) => Math.min(n, s.seqLen));
  if (!lengths?.length) {
    const mean = Math.min(ASSUMED_MEAN_LENGTH, s.seqLen / 2);
    lengths = chatLikeLengths(mean, s.seqLen);
    extrapolations.push(`example lengths unknown: assumed chat-like, mean ${mean} tokens`);
  }
  const meanLength = lengths.reduce((a, b) => a + b, 0) / lengths.length;

  let real: number;
  let padded: number;
  let span: number;
  if (s.packing) {
    padded = s.microBatch * s.seqLen;
    real = padded * PACKING_EFFICIENCY;
    const flex = s.attention === 'flex';
    span = flex ? flexAttentionSpan(lengths, s.seqLen) : s.seqLen;
    assumptions.push(
      `packed: ${s.microBatch} × ${s.seqLen}-token rows per micro-step, one shape, no padding`,
      flex
        ? `flex attention: each query attends over its own example only (≈ ${Math.round(span)} keys, causal, in blocks of ${FLEX_BLOCK})`
        : `sdpa: the packed rows' block-diagonal mask is dense, every query computes all ${s.seqLen} keys of its row`,
    );
  } else {
    // length grouping pads to near-equal neighbours; a max_steps run sees only its first groups
    const microBatches =
      options.maxSteps && options.maxSteps > 0
        ? options.maxSteps * Math.max(1, plan.training.gradAccum)
        : Infinity;
    span = expectedLongest(
      lengths,
      s.microBatch,
      plan.training.trainSamplingStrategy,
      microBatches,
    );
    padded = s.microBatch * span;
    real = s.microBatch * meanLength;
    assumptions.push(
      `padded batches: ${s.microBatch} examples of ${Math.round(meanLength)} tokens on average, padded to the longest (≈ ${Math.round(span)}): ${Math.round((100 * (padded - real)) / padded)}% of the compute is padding, and the shape changes every micro-step`,
    );
  }

  const shape: MicroStepShape = {
    method: s.method,
    lora: s.lora ? { r: s.lora.r, targets: s.lora.targets } : undefined,
    checkpointing: s.checkpointing,
    packed: s.packing,
    // Liger's share was fitted on runs with Liger on; compiled layers have their own scales
    ligerKernels: plan.training.useLigerKernel === true,
    compiledLayers: compiledLayers(plan),
    kbitUpcast: s.prepareKbit, // QLoRA prepared with the fp32 upcast kept (settings.ts)
    peftInputCast: options.peftInputCast === true,
    cudnnAttentionPlans: options.cudnnAttentionPlans === true,
    paddedTokens: padded,
    attentionSpan: span,
    // packed rows' block-diagonal mask under sdpa (padded batches: measured with the shape costs)
    denseMaskAttention: s.packing && (s.attention === 'sdpa' || s.attention === 'eager'),
  };
  if (shape.compiledLayers)
    assumptions.push(
      'compiled decoder layers (torch_compile): fused elementwise work and a few launches per layer instead of one per op (measured 1.21× the same 8B LoRA run eager); the one-time compilation, under a minute on the benchmark, is not counted',
    );
  const tflops = gpu?.tflopsBf16 || DEFAULT_TFLOPS;
  if (!gpu?.tflopsBf16) assumptions.push(`no GPU given: assumed ${DEFAULT_TFLOPS} TFLOP/s (H100)`);
  const pace = options.hostPace?.pace ?? 1;
  const constants = withHostPace(options.constants ?? FITTED, pace);
  const micro = microStepTime(layout, shape, tflops, constants);

  const trainable =
    s.method === 'full'
      ? paramGroups(layout).total
      : s.lora
        ? loraParams(layout, loraTargets(layout, s.lora.targets), s.lora.r)
        : 0;
  const gradAccum = Math.max(1, Math.floor(plan.training.gradAccum || 1));
  const optimizerSeconds = optimizerStepSeconds(trainable, tflops);
  const secondsPerStep = gradAccum * micro.seconds + optimizerSeconds;
  const realPerStep = gradAccum * s.numGpus * real;

  const epochs = plan.training.epochs > 0 ? plan.training.epochs : 1;
  const stepsPerEpoch = tokensPerEpoch / realPerStep;
  const maxSteps = options.maxSteps && options.maxSteps > 0 ? Math.floor(options.maxSteps) : 0;
  // Fractional steps keep the figure proportional to the data; `steps` is what the Trainer runs.
  const exactSteps = maxSteps || epochs * stepsPerEpoch;
  const steps = maxSteps || Math.ceil(exactSteps);
  const warmupSeconds = exactSteps > 0 ? layout.layers * constants.firstStepSecondsPerLayer : 0;
  const seconds = exactSteps * secondsPerStep + warmupSeconds;
  const tokens = exactSteps * realPerStep;
  assumptions.push(
    maxSteps
      ? `max_steps: ${maxSteps} steps of ${gradAccum} × ${s.numGpus} micro-steps (${formatTokens(realPerStep)} tokens per step)`
      : `${epochs} epoch${epochs === 1 ? '' : 's'} of ${formatTokens(tokensPerEpoch)} tokens: ${steps} steps of ${gradAccum} × ${s.numGpus} micro-steps`,
    `one micro-step ≈ ${(micro.seconds * 1000).toFixed(0)} ms: ${describeMicroStep(micro, s.packing)}`,
    `+ ${warmupSeconds.toFixed(1)} s of first-step warm-up (${layout.layers} layers' kernels loaded and shapes tuned, memory reserved, optimizer states created)`,
  );

  if (gpu && !/^H(100|200)/.test(gpu.id))
    extrapolations.push(`measured on an H100: scaled to ${gpu.id}'s ${tflops} TFLOP/s`);
  if (s.numGpus > 1) extrapolations.push('several GPUs: communication time not counted');
  if (layout.linears.some((l) => l.count > 1))
    extrapolations.push('mixture of experts: not measured');
  if (!s.checkpointing && s.method === 'full')
    extrapolations.push('full fine-tuning without gradient checkpointing: not measured');
  if (s.method === 'qlora' && model.paramsTotal > 10e9)
    extrapolations.push('QLoRA measured on 1B and 8B models only');
  const gpuSeconds = micro.computeSeconds + micro.adapterSeconds + micro.upcastSeconds;
  const hostPaced = micro.hostSeconds + micro.variableShapeSeconds > gpuSeconds;
  // the pace moves every step's host terms, a GPU-paced one's little: said wherever taken;
  // the band narrows to the learnt pace's only where the host paces the step
  const learnt = options.hostPace;
  const pacedByLearnt = hostPaced ? learnt : undefined;
  const uncertainty = extrapolations.length
    ? EXTRAPOLATED_UNCERTAINTY
    : pacedByLearnt
      ? LEARNT_PACE_UNCERTAINTY
      : hostPaced
        ? HOST_PACED_UNCERTAINTY
        : MEASURED_UNCERTAINTY;
  if (learnt)
    assumptions.push(
      learntPaceText(learnt) +
        (hostPaced ? '' : ': the GPU paces these micro-steps, so it moves them little'),
    );
  assumptions.push(
    `±${Math.round(uncertainty * 100)}%${
      extrapolations.length
        ? ` (${extrapolations.join('; ')})`
        : pacedByLearnt
          ? `: the host paces these micro-steps, at the pace learnt on ${pacedByLearnt.target}`
          : hostPaced
            ? ": the host, not the GPU, paces these micro-steps: such runs on ten H100 machines took from 43% less to 33% more than estimated (how fast the host CPU runs PyTorch, not known before a run there; a short probe on the launch target, `tunelab launch FILE --probe`, or the first 16 steps of any run there teach Tunelab its host's pace)"
            : ': fitted on 62 runs measured on an H100'
    }`,
  );

  const flopsPerToken = micro.flopsPerToken;
  const totalFlops = flopsPerToken * tokens;
  const utilization = seconds > 0 ? totalFlops / (seconds * s.numGpus * tflops * 1e12) : 0;
  const result: TrainTimeDetail = {
    tokens,
    flopsPerToken,
    totalFlops,
    utilization,
    seconds,
    assumptions,
    steps,
    secondsPerStep,
    tokensPerSecond: realPerStep / secondsPerStep,
    uncertainty,
    secondsLow: seconds * (1 - uncertainty),
    secondsHigh: seconds * (1 + uncertainty),
    extrapolations,
    warmupSeconds,
    microStep: micro,
    tokensPerMicroStep: { real, padded },
    hostPaced,
    stepParts: {
      microSteps: gradAccum,
      gpuSeconds,
      hostSeconds: micro.hostSeconds / pace,
      variableShapeSeconds: micro.variableShapeSeconds / pace,
      optimizerSeconds,
    },
    ...(learnt ? { hostPace: learnt } : {}),
  };
  const price = options.pricePerGpuHour;
  if (price !== undefined && Number.isFinite(price) && price >= 0) {
    const perSecond = (price * s.numGpus) / 3600;
    result.cost = {
      perGpuHour: price,
      total: seconds * perSecond,
      low: result.secondsLow * perSecond,
      high: result.secondsHigh * perSecond,
    };
  }
  return result;
}

/** flex attention's block size: blocks the block mask touches are computed whole. */
const FLEX_BLOCK = 128;

/**
 * Keys per query under flex attention's block mask on packed rows: causal within
 * its own example, so a token of an example of n tokens attends over n/2 on
 * average, token-weighted (Σn² / 2Σn), plus a block of partial diagonal and
 * boundary blocks. sdpa computes the whole row (the mask is dense). Measured: flex
 * 1.08× sdpa's tokens/s on 8B LoRA and QLoRA without recomputation (bench/TIME.md).
 */
export function flexAttentionSpan(lengths: readonly number[], rowLength: number): number {
  let sum = 0;
  let squares = 0;
  for (const n of lengths) {
    const m = Math.min(n, rowLength);
    sum += m;
    squares += m * m;
  }
  if (sum <= 0) return rowLength;
  return Math.min(rowLength, squares / (2 * sum) + FLEX_BLOCK);
}

function describeMicroStep(m: MicroStepTime, packed: boolean): string {
  const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
  const parts = [`model FLOPs ${ms(m.computeSeconds)}`];
  if (m.adapterSeconds > 0) parts.push(`adapter path ${ms(m.adapterSeconds)}`);
  if (m.upcastSeconds > 0)
    parts.push(
      `casts of the fp32-upcast weights (prepare_model_for_kbit_training) ${ms(m.upcastSeconds)}`,
    );
  if (m.hostSeconds > 0)
    parts.push(`host (peft/bitsandbytes Python) ${ms(m.hostSeconds)}, overlapping the GPU`);
  if (!packed) parts.push(`changing batch shapes ${ms(m.variableShapeSeconds)}`);
  return parts.join(', ');
}

function formatTokens(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** What the learnt pace says beside the figure. */
function learntPaceText(learnt: LearnedHostPace): string {
  const runs = `${learnt.runs} timed run${learnt.runs === 1 ? '' : 's'}`;
  const head = `host pace ×${learnt.pace.toFixed(2)} of the fitted host's, learnt on ${learnt.target}`;
  if (learnt.basis !== 'config')
    return `${head} (median of ${runs} there whose host paced their steps)`;
  return learnt.runs === 1
    ? `${head} from this config's own timed run there (a pace probe, or a training's first 16 steps or more)`
    : `${head} from the median of this config's own ${runs} there`;
}
