// The cheapest single change that makes a run fit its GPU, for the
// `memory-exceeds-gpu` rule. Changes are tried in order of what they cost the
// user: gradient checkpointing (~30% slower steps, nothing else changes), a
// smaller micro-batch with more accumulation (same effective batch, slower),
// a lighter method (LoRA → QLoRA, full → LoRA: changes the result), more GPUs
// with ZeRO-3 sharding (costs hardware).

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Plan } from '../plan';
import { estimateMemory, type EstimateOptions, formatGiB } from './memory';
import { methodOf } from './settings';
import type { FixSuggestion, MemoryEstimate, PlanChange } from './types';

/** GPU counts tried for ZeRO-3 sharding. */
const GPU_COUNTS = [2, 4, 8, 16, 32, 64];

interface Candidate {
  what: string;
  changes: PlanChange[];
  apply: (p: Plan) => Plan;
}

function clonePlan(p: Plan): Plan {
  return {
    ...p,
    model: { ...p.model },
    lora: p.lora ? { ...p.lora } : undefined,
    quantization: p.quantization ? { ...p.quantization } : undefined,
    data: { ...p.data },
    training: { ...p.training },
    hardware: { ...p.hardware },
    distributed: { ...p.distributed },
  };
}

function withCheckpointing(p: Plan): Plan {
  const q = clonePlan(p);
  q.training.gradientCheckpointing = true;
  return q;
}

function withMicroBatch(p: Plan, micro: number): Plan {
  const q = clonePlan(p);
  const effective = p.training.microBatch * Math.max(1, p.training.gradAccum);
  q.training.microBatch = micro;
  q.training.gradAccum = Math.max(1, Math.round(effective / micro));
  return q;
}

function withLighterMethod(p: Plan): Plan | undefined {
  const method = methodOf(p);
  const q = clonePlan(p);
  if (method === 'lora') {
    q.method = 'qlora';
    q.quantization = { bits: 4, quantType: 'nf4', computeDtype: 'bfloat16', doubleQuant: true };
    q.prepareKbit = true;
    return q;
  }
  if (method === 'full') {
    q.method = 'lora';
    q.lora = {
      r: 16,
      alpha: 32,
      dropout: 0.05,
      targetModules: 'all-linear',
      useRslora: false,
      useDora: false,
      modulesToSave: [],
    };
    return q;
  }
  return undefined;
}

function withZero3(p: Plan, n: number): Plan {
  const q = clonePlan(p);
  q.hardware.numGpus = n;
  q.distributed = { backend: 'deepspeed', zeroStage: 3 };
  return q;
}

function candidates(plan: Plan): Candidate[][] {
  const out: Candidate[][] = [];
  if (!plan.training.gradientCheckpointing) {
    out.push([
      {
        what: 'enable gradient checkpointing',
        changes: [{ field: 'training.gradientCheckpointing', value: true }],
        apply: withCheckpointing,
      },
    ]);
  }
  const micro = plan.training.microBatch;
  const halvings: Candidate[] = [];
  for (let m = Math.floor(micro / 2); m >= 1 && micro > 1; m = m === 1 ? 0 : Math.floor(m / 2)) {
    const accum = Math.max(1, Math.round((micro * Math.max(1, plan.training.gradAccum)) / m));
    halvings.push({
      what:
        `per-device batch ${micro} → ${m} with gradient accumulation ` +
        `${Math.max(1, plan.training.gradAccum)} → ${accum} (same effective batch)`,
      changes: [
        { field: 'training.microBatch', value: m },
        { field: 'training.gradAccum', value: accum },
      ],
      apply: (p) => withMicroBatch(p, m),
    });
  }
  if (halvings.length) out.push(halvings);
  const method = methodOf(plan);
  if (method !== 'qlora') {
    out.push([
      {
        what:
          method === 'lora'
            ? 'switch LoRA to QLoRA (4-bit base)'
            : 'switch full fine-tuning to LoRA',
        changes: [{ field: 'method', value: method === 'lora' ? 'qlora' : 'lora' }],
        apply: (p) => withLighterMethod(p) ?? p,
      },
    ]);
  }
  const current = Math.max(1, plan.hardware.numGpus || 1);
  out.push(
    GPU_COUNTS.filter((n) => n > current).map((n) => ({
      what: `shard over ${n} GPUs with DeepSpeed ZeRO-3`,
      changes: [
        { field: 'hardware.numGpus', value: n },
        { field: 'distributed.backend', value: 'deepspeed' },
        { field: 'distributed.zeroStage', value: 3 },
      ],
      apply: (p) => withZero3(p, n),
    })),
  );
  return out;
}

function describe(what: string, before: MemoryEstimate, after: MemoryEstimate): string {
  return `${what} (${formatGiB(before.perGpuBytes)} → ${formatGiB(after.perGpuBytes)} per GPU)`;
}

/**
 * The first change, in order of cost, after which the run fits `gpu`; when no
 * single change is enough, the changes are combined in the same order.
 * Undefined when the run already fits, no GPU is known, or nothing fits.
 */
export function cheapestFix(
  plan: Plan,
  model: ModelArchitecture,
  gpu: GpuSpec | undefined,
  options: EstimateOptions = {},
): FixSuggestion | undefined {
  if (!gpu) return undefined;
  const before = estimateMemory(plan, model, gpu, options);
  if (before.fits) return undefined;
  const groups = candidates(plan);

  // Single changes: the first group whose option fits (within a group, the mildest option).
  for (const group of groups) {
    for (const c of group) {
      const after = estimateMemory(c.apply(plan), model, gpu, options);
      if (after.fits) {
        return {
          description: describe(c.what, before, after),
          changes: c.changes,
          estimate: after,
        };
      }
    }
  }

  // Combined: apply each group's strongest-needed option cumulatively.
  let current = plan;
  const whats: string[] = [];
  const changes: PlanChange[] = [];
  for (const group of groups) {
    let chosen: Candidate | undefined;
    for (const c of group) {
      chosen = c;
      if (estimateMemory(c.apply(current), model, gpu, options).fits) break;
    }
    if (!chosen) continue;
    current = chosen.apply(current);
    whats.push(chosen.what);
    changes.push(...chosen.changes);
    const after = estimateMemory(current, model, gpu, options);
    if (after.fits) {
      return { description: describe(whats.join('; '), before, after), changes, estimate: after };
    }
  }
  return undefined;
}
