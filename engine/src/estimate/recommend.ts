// Which method to pick for a model, a GPU and a dataset size.
//
// - Full fine-tuning only when it fits and the data is large (more than
//   FULL_FT_MIN_ROWS examples): with less data it mostly adds forgetting and
//   checkpoint size, not quality, over LoRA.
// - LoRA by default: trains ~1% of the parameters, small adapter checkpoints.
// - QLoRA when LoRA does not fit (4-bit base; slower, slightly lossy).
//
// `chooseMethod` decides from the estimates of the configs each method would
// run; the caller supplies them (report/estimateReport.ts estimates the config
// each conversion writes), so the figures quoted are those of that config.

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';
import type { Method } from '../plan';
import { estimateMemory, formatGiB } from './memory';
import { makePlan } from './plan-defaults';
import type { MemoryEstimate, MethodRecommendation } from './types';

/** Rows above which full fine-tuning is worth its cost (when it fits). */
export const FULL_FT_MIN_ROWS = 100_000;

export interface RecommendOptions {
  /** Sequence length to size the run with (default 2048). */
  maxLength?: number;
  microBatch?: number;
}

/** The estimate of the run with each method; `undefined` where unknown. */
export type MethodEstimates = Partial<Record<Method, MemoryEstimate>>;

/** Where the run goes, for the reason: `2 × NVIDIA H100 80GB HBM3`. */
export function placeOf(gpu: GpuSpec, numGpus: number): string {
  return `${numGpus > 1 ? `${numGpus} × ` : ''}${gpu.name || gpu.id}`;
}

/**
 * The method to use given what each one needs. With no GPU, LoRA. Each figure
 * in the reason is the `perGpuBytes` of the estimate passed for that method.
 */
export function chooseMethod(
  estimates: MethodEstimates,
  rows: number | undefined,
  where: string | undefined,
): MethodRecommendation {
  const { full, lora, qlora } = estimates;
  const needs = (e: MemoryEstimate | undefined) =>
    e ? formatGiB(e.perGpuBytes) : 'an unknown amount';
  if (!where) {
    return {
      method: 'lora',
      reason: `no GPU given: LoRA is the default (needs about ${needs(lora)} per GPU)`,
      estimate: lora,
      estimates,
    };
  }
  if (full?.fits && rows !== undefined && rows > FULL_FT_MIN_ROWS) {
    return {
      method: 'full',
      reason: `full fine-tuning fits ${where} (${needs(full)} per GPU) and ${rows.toLocaleString('en-US')} rows (> ${FULL_FT_MIN_ROWS.toLocaleString('en-US')}) are enough data to use it`,
      estimate: full,
      estimates,
    };
  }
  if (lora?.fits) {
    const why =
      full?.fits && rows !== undefined
        ? `full fine-tuning would fit too, but ${rows.toLocaleString('en-US')} rows (≤ ${FULL_FT_MIN_ROWS.toLocaleString('en-US')}) gain little from it`
        : full?.fits
          ? 'full fine-tuning would fit too; LoRA is the default without a large dataset'
          : `full fine-tuning needs ${needs(full)} per GPU`;
    return {
      method: 'lora',
      reason: `LoRA fits ${where} (${needs(lora)} per GPU); ${why}`,
      estimate: lora,
      estimates,
    };
  }
  if (qlora?.fits) {
    return {
      method: 'qlora',
      reason: `LoRA needs ${needs(lora)} per GPU, more than ${where} has; QLoRA needs ${needs(qlora)}`,
      estimate: qlora,
      estimates,
    };
  }
  return {
    method: 'qlora',
    reason: `nothing fits ${where}: QLoRA, the smallest, needs ${needs(qlora)} per GPU; shorten max_length, lower the batch or use more GPUs`,
    estimate: qlora,
    estimates,
  };
}

/**
 * The method for a model and GPU before any config exists, sized with a
 * default run (checkpointing, micro-batch 1). Configs use the report's
 * recommendation, which estimates the config itself.
 */
export function recommendMethod(
  model: ModelArchitecture,
  gpu: GpuSpec | undefined,
  numGpus: number,
  rows: number | undefined,
  options: RecommendOptions = {},
): MethodRecommendation {
  const n = Math.max(1, Math.floor(numGpus || 1));
  const estimate = (method: Method): MemoryEstimate =>
    estimateMemory(
      makePlan({
        method,
        maxLength: options.maxLength ?? 2048,
        microBatch: options.microBatch ?? 1,
        checkpointing: true,
        numGpus: n,
        backend: n > 1 ? (method === 'full' ? 'fsdp' : 'ddp') : 'none',
      }),
      model,
      gpu,
    );
  const estimates: MethodEstimates = {
    full: estimate('full'),
    lora: estimate('lora'),
    qlora: estimate('qlora'),
  };
  return chooseMethod(estimates, rows, gpu && placeOf(gpu, n));
}
