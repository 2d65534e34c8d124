import type { Rule } from '../rule';
import { reportRange } from './shared';

export const fullFtForgetting: Rule = {
  code: 'full-ft-forgetting',
  severity: 'info',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'Full fine-tuning on task data alone',
    why: 'Full fine-tuning updates every weight toward the task data; with nothing else in the mix the model loses general abilities it had (instruction following, reasoning, other languages): catastrophic forgetting. Mixing a small share of general data back in, a lower learning rate and fewer epochs limit it.',
    fix: 'Add `data.general_data: { file: ..., ratio: 0.05 }` (5-10% general data), keep the learning rate around 1e-5 to 2e-5 and the epochs at 1-3; or use LoRA, which forgets less.',
    thresholds: '`method: full` and no `data.general_data`.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'full' || ctx.has(['data', 'general_data'])) return [];
    return [
      {
        message:
          'Full fine-tuning on the task data alone: every weight moves toward it and the model forgets general abilities it had (catastrophic forgetting). Mix 5-10% general data back in with `data.general_data: { file: ..., ratio: 0.05 }`, and keep the learning rate low (about 2e-5) and the epochs few.',
        range: reportRange(ctx, ['data', 'general_data']),
      },
    ];
  },
};
