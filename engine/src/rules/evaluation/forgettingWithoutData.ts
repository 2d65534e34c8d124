import type { Rule } from '../rule';

export const forgettingWithoutData: Rule = {
  code: 'forgetting-without-data',
  severity: 'error',
  dialects: ['native'],
  doc: {
    title: 'A forgetting check with no data to measure on',
    why: '`evaluation.forgetting` scores general data with the base and the tuned model. Its file defaults to `data.general_data.file`; with neither set there is nothing to score, and the check the config asks for cannot run.',
    fix: 'Set `evaluation.forgetting.file` to a JSON Lines file of general-purpose examples (relative to the config file), or add `data.general_data.file`.',
    thresholds:
      '`evaluation.forgetting` written, without `file` and without `data.general_data.file`.',
  },
  check(ctx) {
    const forgetting = ctx.plan.evaluation?.forgetting;
    if (!forgetting || forgetting.file !== undefined) return [];
    if (ctx.has(['evaluation', 'forgetting', 'file'])) return []; // ill-typed: the schema says so
    return [
      {
        message:
          '`evaluation.forgetting` has no data to measure on: set its `file` (a JSON Lines file of general-purpose examples the run does not train on) or `data.general_data.file`, which it defaults to.',
        range: ctx.rangeAt(['evaluation', 'forgetting'], 'key'),
      },
    ];
  },
};
