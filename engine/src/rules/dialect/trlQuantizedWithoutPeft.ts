import type { Rule } from '../rule';
import { keyRange, rawValue, setTop } from './shared';

export const trlQuantizedWithoutPeft: Rule = {
  code: 'trl-quantized-without-peft',
  severity: 'error',
  dialects: ['trl'],
  doc: {
    title: 'TRL: a quantized model without `use_peft`',
    why: '`load_in_4bit` / `load_in_8bit` load the model quantized, whose weights cannot be trained; without `use_peft: true` no adapter is attached, and the Trainer stops after loading the model with "You cannot perform fine-tuning on purely quantized models. Please attach trainable adapters on top of the quantized model".',
    fix: 'Set `use_peft: true` for QLoRA, or remove `load_in_4bit` / `load_in_8bit` for full fine-tuning.',
    thresholds: '`load_in_4bit: true` or `load_in_8bit: true`, and `use_peft` missing or false.',
  },
  check(ctx) {
    const key = rawValue(ctx, 'load_in_4bit') === true ? 'load_in_4bit' : 'load_in_8bit';
    if (rawValue(ctx, key) !== true || rawValue(ctx, 'use_peft') === true) return [];
    return [
      {
        message: `\`${key}: true\` without \`use_peft: true\`: the quantized model has no adapter to train, and the Trainer stops after loading it with "You cannot perform fine-tuning on purely quantized models". Set \`use_peft: true\` (QLoRA), or remove \`${key}\` for full fine-tuning.`,
        range: keyRange(ctx, key),
        fixes: [
          {
            title: 'Set `use_peft: true`',
            edits: setTop(ctx, 'use_peft', 'true'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
