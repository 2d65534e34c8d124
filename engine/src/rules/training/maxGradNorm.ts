import type { Rule } from '../rule';
import { reportRange, setValue } from '../method/shared';

export const maxGradNorm: Rule = {
  code: 'max-grad-norm',
  severity: 'warning',
  doc: {
    title: 'Gradient clipping switched off',
    why: 'The Trainer clips the gradient norm to `max_grad_norm` (default 1.0) before each step, and clips only when it is above 0. Without clipping one bad batch (a very long or malformed example, an fp16 overflow) produces a huge update that can blow the loss up to NaN, with hours of training lost.',
    fix: 'Set `max_grad_norm: 1.0`, or remove the key to get that default.',
    thresholds: '`max_grad_norm` given as 0, a negative number or null (all switch clipping off).',
  },
  check(ctx) {
    if (!ctx.has(['training', 'max_grad_norm'])) return [];
    const v = ctx.value(['training', 'max_grad_norm']);
    if (!(v === null || (typeof v === 'number' && v <= 0))) return [];
    return [
      {
        message: `\`max_grad_norm: ${v === null ? 'null' : v}\` switches gradient clipping off: one bad batch (a very long example, an fp16 overflow) can then make a huge update and turn the loss into NaN. Set \`max_grad_norm: 1.0\`, the Trainer's default.`,
        range: reportRange(ctx, ['training', 'max_grad_norm']),
        fixes: [
          {
            title: 'Set `max_grad_norm: 1.0`',
            edits: setValue(ctx, ['training'], 'max_grad_norm', '1.0'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
