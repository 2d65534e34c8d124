// Which method to pick for a model, a GPU and a dataset size.
//
// - Full fine-tuning only when it fits and the data is large (more than
//   FULL_FT_MIN_ROWS examples): with less data it mostly adds forgetting and
//   checkpoint size, not quality, over LoRA.
// - LoRA by default: trains ~1% of the parameters, small adapter checkpoints.
// - QLoRA when LoRA does not fit (4-bit base; slower, slightly lossy).

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
  const lora = estimate('lora');
  if (!gpu) {
    return {
      method: 'lora',
      reason: `no GPU given: LoRA is the default (needs about ${formatGiB(lora.perGpuBytes)} per GPU)`,
      estimate: lora,
    };
  }
  const where = `${n > 1 ? `${n} × ` : ''}${gpu.name || gpu.id}`;
  const full = estimate('full');
  if (full.fits && rows !== undefined && rows > FULL_FT_MIN_ROWS) {
    return {
      method: 'full',
      reason: `full fine-tuning fits ${where} (${formatGiB(full.perGpuBytes)} per GPU) and ${rows.toLocaleString('en-US')} rows (> ${FULL_FT_MIN_ROWS.toLocaleString('en-US')}) are enough data to use it`,
      estimate: full,
    };
  }
  if (lora.fits) {
    const why =
      full.fits && rows !== undefined
        ? `full fine-tuning would fit too, but ${rows.toLocaleString('en-US')} rows (≤ ${FULL_FT_MIN_ROWS.toLocaleString('en-US')}) gain little from it`
        : full.fits
          ? 'full fine-tuning would fit too; LoRA is the default without a large dataset'
          : `full fine-tuning needs ${formatGiB(full.perGpuBytes)} per GPU`;
    return {
      method: 'lora',
      reason: `LoRA fits ${where} (${formatGiB(lora.perGpuBytes)} per GPU); ${why}`,
      estimate: lora,
    };
  }
  const qlora = estimate('qlora');
  if (qlora.fits) {
    return {
      method: 'qlora',
      reason: `LoRA needs ${formatGiB(lora.perGpuBytes)} per GPU, more than ${where} has; QLoRA needs ${formatGiB(qlora.perGpuBytes)}`,
      estimate: qlora,
    };
  }
  return {
    method: 'qlora',
    reason: `nothing fits ${where}: QLoRA, the smallest, needs ${formatGiB(qlora.perGpuBytes)} per GPU; shorten max_length or add GPUs`,
    estimate: qlora,
  };
}
