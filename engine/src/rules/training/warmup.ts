import { RENAMED_KEYS } from '../../schema/validate';
import type { Rule } from '../rule';
import { numberAt, reportRange } from '../method/shared';

const LOW = 0.01;
const HIGH = 0.2;

/**
 * The key the fix writes for a warmup ratio: `warmup_ratio`, unless the
 * renamed-keys table says the current release replaced it by `warmup_steps`
 * (transformers 5 reads a `warmup_steps` below 1 as a ratio).
 */
export function warmupRatioKey(): string {
  const renamed = RENAMED_KEYS.find((k) => k.section === 'training' && k.old === 'warmup_ratio');
  return renamed?.new ?? 'warmup_ratio';
}

export const warmup: Rule = {
  code: 'warmup',
  severity: 'info',
  doc: {
    title: 'No learning-rate warmup, or a warmup ratio outside the usual range',
    why: "AdamW's second-moment estimates start from nothing, so the first updates are the largest and noisiest of the run; at the full learning rate they can knock a pretrained model off course (loss spike in the first steps) or blow up a fresh adapter. A short warmup ramps the learning rate up over the first few percent of steps. Too long a warmup (over a fifth of the run) wastes the steps that should train at the full rate.",
    fix: 'Set a warmup ratio of 0.03 (3% of the steps).',
    thresholds:
      'Fires when neither `warmup_ratio` nor `warmup_steps` is set, or the ratio is outside 0.01-0.2. A `warmup_steps` below 1 is a ratio (transformers 5) and is checked the same way; a whole number of steps (0 included: warmup switched off on purpose) is accepted.',
  },
  check(ctx) {
    if (!ctx.plan.method) return [];
    const steps = numberAt(ctx, ['training', 'warmup_steps']);
    const ratio = numberAt(ctx, ['training', 'warmup_ratio']);
    let path: string[];
    let value: number;
    if (steps !== undefined) {
      if (steps === 0 || steps >= 1) return [];
      path = ['training', 'warmup_steps'];
      value = steps;
    } else if (ratio !== undefined) {
      path = ['training', 'warmup_ratio'];
      value = ratio;
    } else {
      if (ctx.has(['training', 'warmup_steps']) || ctx.has(['training', 'warmup_ratio'])) return [];
      const key = warmupRatioKey();
      return [
        {
          message: `No warmup: neither \`warmup_ratio\` nor \`warmup_steps\` is set, so the first, noisiest AdamW updates run at the full learning rate and can knock the model off course (a loss spike in the first steps). Set \`${key}: 0.03\` to ramp up over the first 3% of steps.`,
          range: reportRange(ctx, ['training', key]),
          fixes: [
            {
              title: `Set \`${key}: 0.03\``,
              edits: ctx.edit.set(['training'], key, '0.03'),
              preferred: true,
            },
          ],
        },
      ];
    }
    if (value >= LOW && value <= HIGH) return [];
    const name = path[1];
    // The fix writes the current spelling: `warmup_ratio` becomes `warmup_steps` where it was removed
    // (Axolotl and LLaMA-Factory, on transformers 4, keep `warmup_ratio`).
    const key = name === 'warmup_ratio' && ctx.dialect === 'native' ? warmupRatioKey() : name;
    const why =
      value < LOW
        ? `below ${LOW} the ramp is over in a handful of steps and the first AdamW updates still run at nearly the full learning rate`
        : `above ${HIGH} more than a fifth of the run trains below the full learning rate`;
    const keyRange = ctx.rangeAt(path, 'key');
    return [
      {
        message: `Warmup ratio ${value} (\`${name}\`): ${why}. Set \`${key}: 0.03\` (3% of the steps).`,
        range: ctx.rangeAt(path),
        fixes: [
          {
            title: `Set \`${key}: 0.03\``,
            edits:
              key === name
                ? ctx.edit.replace(path, '0.03')
                : [
                    {
                      range: { start: keyRange.start, end: ctx.rangeAt(path).end },
                      newText: `${key}: 0.03`,
                    },
                  ],
            preferred: true,
          },
        ],
      },
    ];
  },
};
