import type { Rule } from '../rule';
import { formatParams, modelName, reportRange, setValue } from './shared';

/** "7B class": Llama 2 7B has 6.74B parameters, so the line sits just below it. */
export const SEVEN_B = 6.5e9;

export const fullFtGradientCheckpointing: Rule = {
  code: 'full-ft-gradient-checkpointing',
  severity: 'warning',
  doc: {
    title: 'Full fine-tuning of a 7B+ model without gradient checkpointing',
    why: 'Full fine-tuning already holds weights, gradients and AdamW states for every parameter (16 bytes each with fp32 states, 8 in pure bf16). Without gradient checkpointing the activations of every layer are kept for the backward pass as well, which on a 7B+ model at usual sequence lengths adds tens of GiB and is the usual cause of out-of-memory at the first step. Checkpointing recomputes them instead, for about 20-30% more compute.',
    fix: 'Set `training.gradient_checkpointing: true`.',
    thresholds:
      'Full fine-tuning of a model with at least 6.5B parameters (the 7B class: Llama 2 7B counts 6.74B). Silent when the architecture is unknown.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'full' || !ctx.model) return [];
    if (ctx.model.paramsTotal < SEVEN_B || ctx.plan.training.gradientCheckpointing) return [];
    const path = ['training', 'gradient_checkpointing'];
    const given = ctx.has(path);
    return [
      {
        message: `Full fine-tuning of ${modelName(ctx)} (${formatParams(ctx.model.paramsTotal)} parameters) ${given ? 'with `gradient_checkpointing` off' : 'without `gradient_checkpointing`'}: every layer's activations are kept for the backward pass on top of weights, gradients and optimizer states, tens of GiB at usual sequence lengths and the usual cause of out-of-memory at the first step. Set \`gradient_checkpointing: true\` (about 20-30% slower, a fraction of the activation memory).`,
        range: reportRange(ctx, path),
        fixes: [
          {
            title: 'Set `gradient_checkpointing: true`',
            edits: setValue(ctx, ['training'], 'gradient_checkpointing', 'true'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
