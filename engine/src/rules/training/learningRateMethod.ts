import { yamlScalar } from '../../edits';
import type { Rule } from '../rule';

/** Sane learning-rate bounds and the usual value per method. */
const BOUNDS = {
  adapter: { low: 5e-5, high: 1e-3, usual: 2e-4 },
  full: { low: 1e-6, high: 1e-4, usual: 2e-5 },
} as const;

export const learningRateMethod: Rule = {
  code: 'learning-rate-method',
  severity: 'warning',
  doc: {
    title: 'A learning rate far from what the method needs',
    why: 'LoRA trains small adapters that start at zero (B = 0) and needs a learning rate about ten times that of full fine-tuning: below 5e-5 an adapter barely moves in a few epochs, above 1e-3 training diverges. Full fine-tuning moves every pretrained weight: above 1e-4 it overwrites what the model knew (catastrophic forgetting, loss spikes); below 1e-6 it learns nothing measurable.',
    fix: 'Set `learning_rate: 2.0e-4` for LoRA / QLoRA, `2.0e-5` for full fine-tuning.',
    thresholds:
      'LoRA / QLoRA: < 5e-5 or > 1e-3 (usual 1e-4 to 2e-4). Full: > 1e-4 or < 1e-6 (usual 1e-5 to 5e-5). A missing learning_rate is the TrainingArguments default 5e-5, inside both ranges.',
  },
  check(ctx) {
    const method = ctx.plan.method;
    const lr = ctx.plan.training.learningRate;
    if (!method || lr === undefined) return [];
    const full = method === 'full';
    const b = full ? BOUNDS.full : BOUNDS.adapter;
    if (lr >= b.low && lr <= b.high) return [];
    const name = full ? 'full fine-tuning' : method === 'qlora' ? 'QLoRA' : 'LoRA';
    const usual = yamlScalar(b.usual);
    const shown = yamlScalar(lr);
    let why: string;
    if (full) {
      why =
        lr > b.high
          ? `above ${yamlScalar(b.high)} every pretrained weight moves so far that the model forgets what it knew (catastrophic forgetting, loss spikes)`
          : `below ${yamlScalar(b.low)} the weights barely move and the run learns nothing measurable`;
    } else {
      why =
        lr > b.high
          ? `above ${yamlScalar(b.high)} adapter training turns unstable and diverges`
          : `below ${yamlScalar(b.low)} the adapters, which start at zero, barely move in a few epochs`;
    }
    return [
      {
        message: `learning_rate ${shown} is too ${lr > b.high ? 'high' : 'low'} for ${name}: ${why}. Set \`learning_rate: ${usual}\`, the usual value for ${name}.`,
        range: ctx.rangeAt(['training', 'learning_rate']),
        fixes: [
          {
            title: `Set \`learning_rate: ${usual}\``,
            edits: ctx.edit.replace(['training', 'learning_rate'], usual),
            preferred: true,
          },
        ],
      },
    ];
  },
};
