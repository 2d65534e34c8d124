import type { Rule } from '../rule';
import { keyRange, rawValue, setTop } from './shared';

export const trlPeftLearningRate: Rule = {
  code: 'trl-peft-learning-rate',
  severity: 'warning',
  dialects: ['trl'],
  doc: {
    title: "TRL's default learning rate with LoRA",
    why: 'SFTConfig changes the TrainingArguments default learning rate to 2e-5, a full fine-tuning rate. LoRA adapters start at zero and need about ten times more (1e-4 to 2e-4): with `use_peft: true` and no `learning_rate`, the adapter barely moves in a few epochs and the run looks like it learned nothing.',
    fix: 'Set `learning_rate: 2.0e-4` for LoRA / QLoRA.',
    thresholds:
      '`use_peft: true` and `learning_rate` missing (an explicit rate is judged by learning-rate-method).',
  },
  check(ctx) {
    if (rawValue(ctx, 'use_peft') !== true || rawValue(ctx, 'learning_rate') !== undefined)
      return [];
    return [
      {
        message:
          "`learning_rate` is not set, so TRL's SFTConfig trains at 2e-5, a full fine-tuning rate: LoRA adapters start at zero and barely move at it. Set `learning_rate: 2.0e-4`, the usual LoRA rate.",
        range: keyRange(ctx, 'use_peft'),
        fixes: [
          {
            title: 'Set `learning_rate: 2.0e-4`',
            edits: setTop(ctx, 'learning_rate', '2.0e-4'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
