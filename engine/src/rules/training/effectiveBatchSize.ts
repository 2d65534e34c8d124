import type { Rule } from '../rule';
import { reportRange, setValue } from '../method/shared';

export const effectiveBatchSize: Rule = {
  code: 'effective-batch-size',
  severity: 'info',
  doc: {
    title: 'Effective batch size outside the usual range',
    why: 'Each optimizer step averages the gradient over the effective batch (per-device micro-batch × gradient accumulation × GPUs). Below 16 the steps are noisy and the learning rate that suits the usual settings makes training erratic; above 256 a fine-tuning dataset gives few optimizer steps per epoch, so the model takes few updates and learns less per example.',
    fix: 'Change `gradient_accumulation_steps` so the effective batch is about 32 (or lower the micro-batch when one step alone is above 256).',
    thresholds:
      'Effective batch = per_device_train_batch_size × gradient_accumulation_steps × hardware.num_gpus (defaults 8, 1, 1); fires below 16 or above 256. The fix picks the accumulation that reaches at least 32.',
  },
  check(ctx) {
    const { microBatch, gradAccum } = ctx.plan.training;
    const gpus = ctx.plan.hardware.numGpus;
    const effective = microBatch * gradAccum * gpus;
    if (effective >= 16 && effective <= 256) return [];
    const perStep = microBatch * gpus;
    const accum = Math.max(1, Math.ceil(32 / perStep));
    const reached = perStep * accum;
    const fixable = accum !== gradAccum && reached >= 16 && reached <= 256;
    const formula = `${microBatch} × ${gradAccum} × ${gpus} = ${effective} (per_device_train_batch_size × gradient_accumulation_steps × GPUs)`;
    const why =
      effective < 16
        ? 'below 16 every optimizer step follows a noisy gradient and training is erratic'
        : 'above 256 a fine-tuning dataset gives few optimizer steps, so the model takes few updates and learns less per example';
    const todo = fixable
      ? `Set \`gradient_accumulation_steps: ${accum}\` for an effective batch of ${reached}.`
      : `Lower \`per_device_train_batch_size\`: one step over ${gpus} GPU${gpus === 1 ? '' : 's'} already holds ${perStep} examples.`;
    return [
      {
        message: `Effective batch is ${formula}: ${why}. ${todo}`,
        range: reportRange(ctx, ['training', 'gradient_accumulation_steps']),
        fixes: fixable
          ? [
              {
                title: `Set \`gradient_accumulation_steps: ${accum}\``,
                edits: setValue(ctx, ['training'], 'gradient_accumulation_steps', String(accum)),
                preferred: true,
              },
            ]
          : undefined,
      },
    ];
  },
};
