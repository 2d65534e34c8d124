import type { Rule } from '../rule';
import { numberAt } from '../method/shared';

export const loraEpochs: Rule = {
  code: 'lora-epochs',
  severity: 'warning',
  doc: {
    title: 'Many epochs of LoRA training',
    why: "Fine-tuning data is small and seen again every epoch: after a few passes the adapter memorises the examples (train loss keeps falling, eval loss rises, answers repeat training text) and the base model's general ability degrades. LoRA runs usually converge in 1-3 epochs.",
    fix: 'Set `num_train_epochs: 3` (or fewer), watch the eval loss, and add data rather than epochs.',
    thresholds:
      'LoRA / QLoRA with `num_train_epochs` > 5. Silent when `max_steps` > 0, which overrides the epochs.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'lora' && ctx.plan.method !== 'qlora') return [];
    const epochs = numberAt(ctx, ['training', 'num_train_epochs']);
    if (epochs === undefined || epochs <= 5) return [];
    const maxSteps = numberAt(ctx, ['training', 'max_steps']);
    if (maxSteps !== undefined && maxSteps > 0) return [];
    return [
      {
        message: `num_train_epochs ${epochs} with ${ctx.plan.method === 'qlora' ? 'QLoRA' : 'LoRA'}: after a few passes over the same examples the adapter memorises them (eval loss rises) and general ability degrades; LoRA usually converges in 1-3 epochs. Set \`num_train_epochs: 3\` and watch the eval loss.`,
        range: ctx.rangeAt(['training', 'num_train_epochs']),
        fixes: [
          {
            title: 'Set `num_train_epochs: 3`',
            edits: ctx.edit.replace(['training', 'num_train_epochs'], '3'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
