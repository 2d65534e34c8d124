import { yamlScalar } from '../../edits';
import type { Rule } from '../rule';

export const forgettingCheckMissing: Rule = {
  code: 'forgetting-check-missing',
  severity: 'info',
  // Native-only: the forgetting measure is the Tunelab runner's; the other tools have none.
  dialects: ['native'],
  doc: {
    title: 'Full fine-tuning without a forgetting check',
    why: 'Full fine-tuning moves every weight toward the task data and is the method most prone to catastrophic forgetting; task metrics alone do not show it. `evaluation.forgetting` scores general data with the base model and the tuned one and reports the change (bits per byte) against a threshold, so a run that bought its task gain with general ability fails visibly.',
    fix: 'Add `evaluation: { forgetting: { file: ... } }` with general-purpose examples, ideally held out of training; when `data.general_data.file` is set the quick fix uses it (it is also the default of `forgetting.file`).',
    thresholds: '`method: full` and no `evaluation.forgetting`.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'full' || ctx.has(['evaluation', 'forgetting'])) return [];
    const general = ctx.plan.data.generalDataFile;
    const range = ctx.has(['evaluation'])
      ? ctx.rangeAt(['evaluation'], 'key')
      : ctx.rangeAt(['method']);
    if (general !== undefined) {
      return [
        {
          message: `Full fine-tuning without a forgetting check: task metrics do not show what the model lost. Add \`evaluation.forgetting\` to score \`${general}\` (data.general_data.file) with the base and the tuned model and report the change against a 5% threshold.`,
          range,
          fixes: [
            {
              title: `Check forgetting on \`${general}\``,
              edits: ctx.edit.set(['evaluation', 'forgetting'], 'file', yamlScalar(general)),
              preferred: true,
            },
          ],
        },
      ];
    }
    return [
      {
        message:
          'Full fine-tuning without a forgetting check: task metrics do not show what the model lost. Add `evaluation: { forgetting: { file: data/general.jsonl } }` with a JSON Lines file of general-purpose chats the run does not train on; the base and the tuned model are scored on it and the change is reported against a 5% threshold.',
        range,
      },
    ];
  },
};
