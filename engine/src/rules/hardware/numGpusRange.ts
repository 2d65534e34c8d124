import { MAX_NUM_GPUS } from '../../nativePlan';
import type { Rule } from '../rule';

export const numGpusRange: Rule = {
  code: 'num-gpus-range',
  severity: 'error',
  doc: {
    title: 'More GPUs than any run uses',
    why: `\`hardware.num_gpus\` multiplies the effective batch, splits sharded states in the estimate and sizes the launch. A typo such as \`1e9\` passes as a whole number, so the effective batch, the estimate and the job request would all be built on it.`,
    fix: 'Write the number of GPUs the run uses in total.',
    thresholds: `Above ${MAX_NUM_GPUS.toLocaleString('en-US')} GPUs. A count below 1 or with a fraction is \`schema-range\` / \`schema-type\`. While the count is unusable the memory estimate is skipped.`,
  },
  check(ctx) {
    const value = ctx.value(['hardware', 'num_gpus']);
    // Infinity is `non-finite-number`'s; fractions and counts below 1 are the schema's.
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= MAX_NUM_GPUS) return [];
    return [
      {
        message: `\`hardware.num_gpus: ${value}\` is more GPUs than any one run uses (Tunelab allows up to ${MAX_NUM_GPUS.toLocaleString('en-US')}): a typo? The effective batch and the launch would be sized for it; the memory estimate is skipped until it is a real count.`,
        range: ctx.rangeAt(['hardware', 'num_gpus']),
      },
    ];
  },
};
