// The cheapest change that makes a run fit its GPU, for the
// `memory-exceeds-gpu` rule and for `tunelab new`. Changes are ranked by what
// they cost the user: gradient checkpointing (~30% slower steps, nothing else
// changes), a smaller micro-batch with more accumulation (same effective
// batch, slower), a lighter method (LoRA → QLoRA, full → LoRA: changes the
// result), ZeRO-3 sharding over the GPUs the config already declares. A fix
// never adds GPUs: how many the user has is not ours to decide, and never
// writes a config another rule rejects: ZeRO-3 over a QLoRA base also stores
// its 4-bit weights in the model's dtype (qlora-sharded-quant-storage), and
// 8-bit QLoRA, which does not shard, is not offered it.
//
// A method change is simulated with `planWithMethod`, the plan twin of the
// text edits that write it, so the figure a fix quotes is the estimate of the
// config it writes (the consistency test re-analyses every fix's result).

import { planWithMethod } from '../convert/method';
import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Plan } from '../plan';
import type { RunInputs } from './inputs';
import { estimateMemory, type EstimateOptions, formatGiB } from './memory';
import { methodOf } from './settings';
import type { FixSuggestion, MemoryEstimate, PlanChange } from './types';

export interface FixOptions extends EstimateOptions {
  /** Only changes that keep the method (`tunelab new` writes the method it was asked for). */
  keepMethod?: boolean;
  /** Fraction of the GPU memory the run must stay under (1: fits at all). */
  maxFraction?: number;
}

/** What a fix changes: the plan, and the eval batch of the run inputs. */
interface Run {
  plan: Plan;
  run: RunInputs | undefined;
}

interface Option {
  what: string;
  changes: PlanChange[];
  apply: (r: Run) => Run;
}

function withTraining(r: Run, training: Partial<Plan['training']>): Run {
  return { ...r, plan: { ...r.plan, training: { ...r.plan.training, ...training } } };
}

function withPlan(r: Run, change: (p: Plan) => Plan): Run {
  return { ...r, plan: change(r.plan) };
}

function estimateRun(
  r: Run,
  model: ModelArchitecture,
  gpu: GpuSpec,
  options: EstimateOptions,
): MemoryEstimate {
  return estimateMemory(r.plan, model, gpu, { ...options, run: r.run });
}

/** Options per kind of change, cheapest kind first; within a kind, mildest first. */
function optionGroups(plan: Plan, options: FixOptions, before: MemoryEstimate): Option[][] {
  const groups: Option[][] = [];
  // Evaluation (the Trainer's, or the runner's after training) sets the peak
  // with an eval batch the config gives: halving it costs only evaluation
  // speed, so it comes first.
  const evalBatch = options.run?.evalBatch;
  const evaluationPeak =
    before.peakRunPhase === 'evaluation' || before.peakRunPhase === 'final-evaluation';
  if (evaluationPeak && evalBatch !== undefined && evalBatch > 1) {
    const smaller: Option[] = [];
    for (let b = Math.floor(evalBatch / 2); b >= 1; b = b === 1 ? 0 : Math.floor(b / 2)) {
      smaller.push({
        what: `per-device eval batch ${evalBatch} → ${b}`,
        changes: [{ field: 'training.evalBatch', value: b }],
        apply: (r) => ({ ...r, run: r.run && { ...r.run, evalBatch: b } }),
      });
    }
    groups.push(smaller);
  }
  // The export converting every weight to a wider dtype sets the peak: saving
  // in the weights' own precision needs nothing more than training.
  if (before.peakRunPhase === 'export' && plan.export?.dtype === 'float32') {
    groups.push([
      {
        what: 'export.dtype float32 → bfloat16 (saved as trained, not converted on the GPU)',
        changes: [{ field: 'export.dtype', value: 'bfloat16' }],
        apply: (r) => withPlan(r, (p) => ({ ...p, export: { ...p.export, dtype: 'bfloat16' } })),
      },
    ]);
  }
  if (!plan.training.gradientCheckpointing) {
    groups.push([
      {
        what: 'enable gradient checkpointing',
        changes: [{ field: 'training.gradientCheckpointing', value: true }],
        apply: (r) => withTraining(r, { gradientCheckpointing: true }),
      },
    ]);
  }
  const micro = plan.training.microBatch;
  const accum = Math.max(1, plan.training.gradAccum);
  const halvings: Option[] = [];
  // A written eval batch above the new micro-batch follows it down: evaluation
  // should need no more than training (unset, it is the micro-batch already).
  const writtenEvalBatch = options.run?.evalBatch;
  for (let m = Math.floor(micro / 2); micro > 1 && m >= 1; m = m === 1 ? 0 : Math.floor(m / 2)) {
    const newAccum = Math.max(1, Math.round((micro * accum) / m));
    const lowerEval = writtenEvalBatch !== undefined && writtenEvalBatch > m;
    halvings.push({
      what: `per-device batch ${micro} → ${m} with gradient accumulation ${accum} → ${newAccum} (same effective batch)${lowerEval ? `, eval batch ${writtenEvalBatch} → ${m}` : ''}`,
      changes: [
        { field: 'training.microBatch', value: m },
        { field: 'training.gradAccum', value: newAccum },
        ...(lowerEval ? [{ field: 'training.evalBatch' as const, value: m }] : []),
      ],
      apply: (r) => {
        const run = withTraining(r, { microBatch: m, gradAccum: newAccum });
        return lowerEval ? { ...run, run: run.run && { ...run.run, evalBatch: m } } : run;
      },
    });
  }
  if (halvings.length) groups.push(halvings);
  const method = methodOf(plan);
  if (!options.keepMethod && method !== 'qlora') {
    const target = method === 'lora' ? 'qlora' : 'lora';
    groups.push([
      {
        what:
          target === 'qlora'
            ? 'switch LoRA to QLoRA (4-bit base)'
            : 'switch full fine-tuning to LoRA',
        changes: [{ field: 'method', value: target }],
        apply: (r) => withPlan(r, (p) => planWithMethod(p, target)),
      },
    ]);
  }
  const declared = Math.max(1, plan.hardware.numGpus || 1);
  const zero3 = plan.distributed.backend === 'deepspeed' && plan.distributed.zeroStage === 3;
  const int8 = method === 'qlora' && plan.quantization?.bits === 8;
  if (declared > 1 && !zero3 && !int8) {
    groups.push([
      {
        what: `shard over the ${declared} GPUs with DeepSpeed ZeRO-3`,
        changes: [
          { field: 'distributed.backend', value: 'deepspeed' },
          { field: 'distributed.zeroStage', value: 3 },
        ],
        apply: (r) =>
          withPlan(r, (p) => ({ ...p, distributed: { backend: 'deepspeed', zeroStage: 3 } })),
      },
    ]);
  }
  return groups;
}

const isZero3 = (c: PlanChange) => c.field === 'distributed.zeroStage' && c.value === 3;

/**
 * The dtype ZeRO-3 needs a QLoRA base's 4-bit weights stored in: the model's
 * (for `auto`, bfloat16, or float32 under fp16 mixed precision or on a GPU
 * without bf16, as the qlora-sharded-quant-storage rule reads it).
 */
function quantStorageDtype(plan: Plan, gpu: GpuSpec): string {
  if (plan.model.dtype !== 'auto') return plan.model.dtype;
  const fp16Run = plan.training.fp16 && !plan.training.bf16;
  return fp16Run || !gpu.bf16 ? 'float32' : 'bfloat16';
}

/**
 * The storage change when the fix shards a run that ends up QLoRA (it was, or
 * a method change in the same fix makes it so): it changes how the 4-bit
 * values are packed, not their memory.
 */
function quantStorageChanges(
  changes: readonly PlanChange[],
  final: Plan,
  gpu: GpuSpec,
): PlanChange[] {
  if (!changes.some(isZero3) || methodOf(final) !== 'qlora') return [];
  return [{ field: 'quantization.quantStorage', value: quantStorageDtype(final, gpu) }];
}

/** One option (or none: -1) per group. */
type Selection = number[];

function selections(groups: Option[][]): Selection[] {
  let out: Selection[] = [[]];
  for (const group of groups) {
    out = out.flatMap((s) => [-1, ...group.map((_, i) => i)].map((i) => [...s, i]));
  }
  return out;
}

/** Fewer kinds of change first; then cheaper kinds; then milder options. */
function compareCost(a: Selection, b: Selection): number {
  const used = (s: Selection) =>
    s
      .map((opt, group) => (opt < 0 ? -1 : group))
      .filter((g) => g >= 0)
      .reverse();
  const ua = used(a);
  const ub = used(b);
  if (ua.length !== ub.length) return ua.length - ub.length;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return ua[i] - ub[i];
  const mildness = (s: Selection) => s.reduce((sum, opt) => sum + Math.max(0, opt), 0);
  return mildness(a) - mildness(b);
}

function chosen(groups: Option[][], s: Selection): Option[] {
  return s.flatMap((opt, group) => (opt < 0 ? [] : [groups[group][opt]]));
}

function applyAll(start: Run, opts: readonly Option[]): Run {
  return opts.reduce((r, o) => o.apply(r), start);
}

/**
 * The least change, in order of cost, after which the run fits `gpu`. When it
 * takes several changes, the description names the one that saves the most.
 * Undefined when the run already fits, no GPU is known, or nothing fits.
 */
export function cheapestFix(
  plan: Plan,
  model: ModelArchitecture,
  gpu: GpuSpec | undefined,
  options: FixOptions = {},
): FixSuggestion | undefined {
  if (!gpu) return undefined;
  const limit = gpu.memoryBytes * (options.maxFraction ?? 1);
  const fits = (e: MemoryEstimate) => e.perGpuBytes <= limit;
  const start: Run = { plan, run: options.run };
  const before = estimateRun(start, model, gpu, options);
  if (fits(before)) return undefined;
  const groups = optionGroups(plan, options, before);
  const ranked = selections(groups)
    .filter((s) => s.some((opt) => opt >= 0))
    .sort(compareCost);
  for (const selection of ranked) {
    const opts = chosen(groups, selection);
    const final = applyAll(start, opts);
    const after = estimateRun(final, model, gpu, options);
    if (!fits(after)) continue;
    const changes = opts.flatMap((o) => o.changes);
    const storage = quantStorageChanges(changes, final.plan, gpu);
    const stored = storage.map((c) => `, 4-bit weights stored as ${c.value} for ZeRO-3`).join('');
    return {
      description: `${describeChanges(start, opts, model, gpu, options)}${stored} (${formatGiB(before.perGpuBytes)} → ${formatGiB(after.perGpuBytes)} per GPU)`,
      changes: [...changes, ...storage],
      estimate: after,
    };
  }
  return undefined;
}

/** One change as is; several: the one whose absence costs the most memory first. */
function describeChanges(
  start: Run,
  opts: readonly Option[],
  model: ModelArchitecture,
  gpu: GpuSpec,
  options: EstimateOptions,
): string {
  if (opts.length === 1) return opts[0].what;
  const without = opts.map(
    (o) =>
      estimateRun(
        applyAll(
          start,
          opts.filter((x) => x !== o),
        ),
        model,
        gpu,
        options,
      ).perGpuBytes,
  );
  const main = without.indexOf(Math.max(...without));
  const rest = opts.filter((_, i) => i !== main).map((o) => o.what);
  return `${opts[main].what} (the largest saving), with ${rest.join(' and ')}`;
}
