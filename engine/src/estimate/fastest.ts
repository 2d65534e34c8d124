// "Fastest that fits" (issue 16): the settings a user may change without
// changing what is learned, searched for the highest predicted tokens/s whose
// whole-run peak (evaluation included) stays under the GPU with a margin.
//
// What may change, and why it keeps the result:
// - micro-batch × gradient accumulation with the same product: the same
//   examples per optimizer step (the loss is averaged over the same tokens);
// - gradient checkpointing: recomputation gives the same gradients;
// - Liger Kernel: the same loss computed in chunks (fused linear
//   cross-entropy), and fused RMSNorm, SwiGLU and RoPE: the same math;
// - the packed row length, when the config already packs: the runner's
//   packing is exact (positions restart, attention stays within each example),
//   and the rows per step change so the tokens per step stay the same; never
//   below the longest example, which would truncate it.
// - compiled decoder layers (`torch_compile`, the runner compiles each layer in
//   place): the same math, fused; dropout draws other random numbers, as any
//   seed would. With Liger on, its layer kernels go off (they break the compiled
//   graph) and its fused loss stays: measured 1.21× the tokens/s of the same 8B
//   LoRA run eager, at the same memory;
// - flex attention instead of sdpa on packed rows: the same attention, each
//   example over its own tokens, computed block by block instead of through
//   sdpa's dense block-diagonal mask (measured 1.08× the tokens/s on 1B and 8B,
//   LoRA and QLoRA; memory no more than sdpa's, which the estimate keeps).
// Turning packing on is not searched: it changes the examples per step.
//
// Memory comes from estimateMemory, speed from estimateTrainTime (Liger's
// kernels leave 54% of the model's compute time, fitted on the benchmark's
// three Liger runs: 1.17-1.27× the tokens/s of the same run without).

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Plan } from '../plan';
import { compiledLayers, usesFusedLoss, withCompiledLayers, withFusedLoss } from './fusedLoss';
import { longestOf, type RunInputs } from './inputs';
import { estimateMemory, formatGiB } from './memory';
import { methodOf } from './settings';
import { estimateTrainTime } from './time';

/** Fraction of the GPU's memory a tuned run may use: 5% stays free for what the estimate misses. */
export const TUNE_MEMORY_FRACTION = 0.95;

export interface TuneInputs {
  plan: Plan;
  model: ModelArchitecture;
  gpu: GpuSpec;
  run?: RunInputs;
  /** Token length of each training example read (the time model's padding and packing). */
  tokenLengths?: readonly number[];
  /** Whether the fused loss may be proposed (liger-kernel is optional; default true). */
  fusedLossAllowed?: boolean;
  /** Whether compiled layers may be proposed (torch.compile needs Triton on the GPU host; default true). */
  compileAllowed?: boolean;
}

export type TuneField =
  | 'training.microBatch'
  | 'training.gradAccum'
  | 'training.gradientCheckpointing'
  | 'training.useLigerKernel'
  | 'training.torchCompile'
  | 'training.ligerLayerKernels'
  | 'model.attnImplementation'
  | 'data.maxLength';

export interface TuneChange {
  field: TuneField;
  from: number | boolean | string;
  to: number | boolean | string;
}

export interface TunePoint {
  tokensPerSecond: number;
  /** Whole-run peak per GPU, evaluation included. */
  peakBytes: number;
}

export interface TuneStep {
  changes: TuneChange[];
  /** One sentence: what changed and its predicted tokens/s and memory before → after. */
  explanation: string;
  before: TunePoint;
  after: TunePoint;
}

export interface TuneResult {
  gpu: string;
  /** The most memory a tuned run may use, bytes. */
  limitBytes: number;
  margin: string;
  before: TunePoint;
  after: TunePoint;
  /** In the order they were applied; empty when the config is already the fastest that fits. */
  steps: TuneStep[];
  changes: TuneChange[];
  plan: Plan;
}

interface Candidate {
  microBatch: number;
  gradAccum: number;
  checkpointing: boolean;
  fused: boolean;
  compiled: boolean;
  maxLength: number;
  attention: Plan['model']['attnImplementation'];
}

function planOf(base: Plan, c: Candidate): Plan {
  const plan: Plan = {
    ...base,
    model: { ...base.model, attnImplementation: c.attention },
    data: { ...base.data, maxLength: c.maxLength },
    training: {
      ...base.training,
      microBatch: c.microBatch,
      gradAccum: c.gradAccum,
      gradientCheckpointing: c.checkpointing,
    },
  };
  const fused = withFusedLoss(plan, c.fused);
  // Compiling with Liger turns its layer kernels off (changesBetween writes that); a config
  // with both already (the search then keeps both) stays as written
  return usesFusedLoss(base) && compiledLayers(base)
    ? fused
    : withCompiledLayers(fused, c.compiled);
}

function evaluate(inputs: TuneInputs, plan: Plan): TunePoint {
  const memory = estimateMemory(plan, inputs.model, inputs.gpu, { run: inputs.run });
  // tokens/s does not depend on the epoch's size: any positive figure will do.
  const time = estimateTrainTime(plan, inputs.model, inputs.gpu, 1e6, {
    tokenLengths: inputs.tokenLengths,
  });
  return { tokensPerSecond: time.tokensPerSecond, peakBytes: memory.perGpuBytes };
}

function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/**
 * Packed row lengths to try, rows per step kept whole: halves, and one
 * doubling. The time model counts packed rows as full (PACKING_EFFICIENCY),
 * which holds only while a row holds several examples: a shorter row must
 * take at least 4 of the longest (the end-of-row gap under a quarter row).
 */
function rowLengths(inputs: TuneInputs, current: number, rowsPerStep: number): number[] {
  if (!inputs.plan.data.packing || !inputs.run?.train) return [current];
  const longest = longestOf(inputs.run.train, Number.MAX_SAFE_INTEGER);
  const out = [current];
  for (let len = current / 2; Number.isInteger(len) && len >= 4 * longest; len /= 2) {
    out.push(len);
  }
  if (rowsPerStep % 2 === 0) out.push(current * 2);
  return out;
}

function candidates(inputs: TuneInputs, start: Candidate): Candidate[] {
  const rowsPerStep = start.microBatch * start.gradAccum;
  const fusedOptions =
    start.fused || inputs.fusedLossAllowed === false ? [start.fused] : [false, true];
  // compiled layers were measured with LoRA and QLoRA only: full fine-tuning keeps its choice
  const compiledOptions =
    start.compiled || inputs.compileAllowed === false || methodOf(inputs.plan) === 'full'
      ? [start.compiled]
      : [false, true];
  // flex only replaces sdpa's dense mask of packed rows (eager and flash are the user's choice)
  const attentionOptions: Candidate['attention'][] =
    inputs.plan.data.packing && start.attention === 'sdpa'
      ? ['sdpa', 'flex_attention']
      : [start.attention];
  const out: Candidate[] = [];
  for (const maxLength of rowLengths(inputs, start.maxLength, rowsPerStep)) {
    const rows = (rowsPerStep * start.maxLength) / maxLength;
    for (const microBatch of divisors(rows)) {
      for (const checkpointing of [false, true]) {
        for (const fused of fusedOptions) {
          for (const compiled of compiledOptions) {
            for (const attention of attentionOptions) {
              const gradAccum = rows / microBatch;
              out.push({
                microBatch,
                gradAccum,
                checkpointing,
                fused,
                compiled,
                maxLength,
                attention,
              });
            }
          }
        }
      }
    }
  }
  return out;
}

function changesBetween(a: Candidate, b: Candidate): TuneChange[] {
  const out: TuneChange[] = [];
  const add = (field: TuneField, from: TuneChange['from'], to: TuneChange['to']) => {
    if (from !== to) out.push({ field, from, to });
  };
  add('training.useLigerKernel', a.fused, b.fused);
  add('training.torchCompile', a.compiled, b.compiled);
  // compiling with Liger on turns its layer kernels off (withCompiledLayers)
  if (b.fused && b.compiled && !(a.fused && a.compiled))
    add('training.ligerLayerKernels', true, false);
  add('model.attnImplementation', a.attention, b.attention);
  add('data.maxLength', a.maxLength, b.maxLength);
  add('training.microBatch', a.microBatch, b.microBatch);
  add('training.gradAccum', a.gradAccum, b.gradAccum);
  add('training.gradientCheckpointing', a.checkpointing, b.checkpointing);
  return out;
}

// A predicted gain under 2% is inside what the step model can tell apart (its
// per-run error is several percent): not worth a change to the user's config.
const SPEED_TIE = 0.02;

/** Better: faster by more than 2%, else as fast with fewer changes, else less memory. */
function better(
  x: { point: TunePoint; changes: number },
  y: { point: TunePoint; changes: number },
) {
  const dx = x.point.tokensPerSecond - y.point.tokensPerSecond;
  if (Math.abs(dx) > SPEED_TIE * y.point.tokensPerSecond) return dx > 0;
  if (x.changes !== y.changes) return x.changes < y.changes;
  return x.point.peakBytes < y.point.peakBytes;
}

function tokens(n: number): string {
  return `${Math.round(n).toLocaleString('en-US')} tokens/s`;
}

/** The changes in words, without figures (the code action's title). */
export function describeChanges(changes: TuneChange[]): string {
  const parts: string[] = [];
  for (const c of changes) {
    switch (c.field) {
      case 'training.useLigerKernel':
        parts.push(
          'Liger Kernel on (use_liger_kernel: true; needs `pip install liger-kernel`): fused cross-entropy without fp32 logits, fused RMSNorm, SwiGLU and RoPE',
        );
        break;
      case 'training.torchCompile':
        parts.push(
          c.to
            ? 'compiled decoder layers (torch_compile: true; the runner compiles each layer once, in place): fused elementwise work, a few launches per layer'
            : 'compiled layers off',
        );
        break;
      case 'training.ligerLayerKernels':
        parts.push(
          "Liger's RMSNorm, SwiGLU and RoPE off (liger_kernel_config; they break the compiled graph), its fused loss kept",
        );
        break;
      case 'model.attnImplementation':
        parts.push(
          `flex attention instead of ${c.from} (attn_implementation: ${c.to}; PyTorch's FlexAttention): each packed example attends over its own tokens, block by block, instead of through a dense block-diagonal mask`,
        );
        break;
      case 'data.maxLength':
        parts.push(`packed rows of ${c.to} tokens instead of ${c.from} (same tokens per step)`);
        break;
      case 'training.microBatch':
        parts.push(`micro-batch ${c.from} → ${c.to}`);
        break;
      case 'training.gradAccum':
        parts.push(`gradient accumulation ${c.from} → ${c.to}`);
        break;
      case 'training.gradientCheckpointing':
        parts.push(`gradient checkpointing ${c.to ? 'on' : 'off'}`);
        break;
    }
  }
  return parts.join(', ');
}

/**
 * The fastest settings that fit, or undefined when nothing fits (the fit fix
 * is the tool for that: it may change the method). Steps apply the changes in
 * a fixed order (fused loss, attention, row length, micro-batch and
 * accumulation, checkpointing), each quoting its own before → after.
 */
export function fastestThatFits(inputs: TuneInputs): TuneResult | undefined {
  const { plan, gpu } = inputs;
  if (plan.hardware.numGpus > 1) return undefined; // the time model counts no communication
  const limitBytes = Math.floor(gpu.memoryBytes * TUNE_MEMORY_FRACTION);
  const start: Candidate = {
    microBatch: Math.max(1, Math.floor(plan.training.microBatch || 1)),
    gradAccum: Math.max(1, Math.floor(plan.training.gradAccum || 1)),
    checkpointing: plan.training.gradientCheckpointing,
    fused: usesFusedLoss(plan),
    compiled: compiledLayers(plan),
    maxLength: plan.data.maxLength ?? 1024,
    attention: plan.model.attnImplementation,
  };
  const before = evaluate(inputs, planOf(plan, start));
  let best: { c: Candidate; point: TunePoint; changes: number } | undefined;
  for (const c of candidates(inputs, start)) {
    const point = evaluate(inputs, planOf(plan, c));
    if (point.peakBytes > limitBytes) continue;
    const entry = { c, point, changes: changesBetween(start, c).length };
    if (!best || better(entry, best)) best = entry;
  }
  if (!best) return undefined;

  // Apply the changes in order, re-estimating after each, for the explanations.
  const steps: TuneStep[] = [];
  let at = start;
  let atPoint = before;
  const order: (keyof Candidate)[][] = [
    ['fused'],
    ['compiled'],
    ['attention'],
    ['maxLength', 'microBatch', 'gradAccum'],
    ['microBatch', 'gradAccum'],
    ['checkpointing'],
  ];
  for (const keys of order) {
    const next = { ...at };
    for (const k of keys) (next as Record<string, unknown>)[k] = best.c[k];
    const changes = changesBetween(at, next);
    if (changes.length === 0) continue;
    const point = evaluate(inputs, planOf(plan, next));
    steps.push({
      changes,
      before: atPoint,
      after: point,
      explanation:
        `${describeChanges(changes)}: ${tokens(atPoint.tokensPerSecond)} → ${tokens(point.tokensPerSecond)}, ` +
        `peak ${formatGiB(atPoint.peakBytes)} → ${formatGiB(point.peakBytes)}` +
        (point.peakBytes > limitBytes ? ' (fits once the next change is made)' : ''),
    });
    at = next;
    atPoint = point;
  }
  return {
    gpu: gpu.id,
    limitBytes,
    margin: `${Math.round((1 - TUNE_MEMORY_FRACTION) * 100)}% of ${gpu.id}'s ${formatGiB(gpu.memoryBytes)} kept free: at most ${formatGiB(limitBytes)}`,
    before,
    after: best.point,
    steps,
    changes: changesBetween(start, best.c),
    plan: planOf(plan, best.c),
  };
}
