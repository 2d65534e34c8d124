import { formatGiB } from '../../estimate/index';
import type { Rule } from '../rule';

export const TIGHT_FRACTION = 0.9;

export const memoryTight: Rule = {
  code: 'memory-tight',
  severity: 'warning',
  doc: {
    title: 'The run barely fits the GPU',
    why: 'Above 90% of the GPU memory, a longer batch than the estimate assumed, another process on the GPU or allocator fragmentation late in the run can still end in out-of-memory hours in.',
    fix: 'Leave headroom: enable gradient checkpointing, lower the micro-batch (raise accumulation), or shorten `max_length`.',
    thresholds:
      'Estimated peak per GPU above 90% of the GPU memory (and not above 100%, which is `memory-exceeds-gpu`).',
  },
  check(ctx) {
    const { estimate, gpu } = ctx;
    if (!estimate || !gpu || estimate.fits !== true) return [];
    const fraction = estimate.perGpuBytes / gpu.memoryBytes;
    if (fraction <= TIGHT_FRACTION) return [];
    return [
      {
        message: `This run needs about ${formatGiB(estimate.perGpuBytes)} per GPU, ${Math.round(fraction * 100)}% of ${gpu.id}'s ${formatGiB(gpu.memoryBytes)}: little headroom for longer batches or fragmentation. Consider gradient checkpointing or a smaller micro-batch.`,
        range: ctx.rangeAt(['method']),
      },
    ];
  },
};
