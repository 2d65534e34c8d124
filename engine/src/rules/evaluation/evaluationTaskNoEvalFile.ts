import type { Rule } from '../rule';
import { evalSplit } from './shared';

export const evaluationTaskNoEvalFile: Rule = {
  code: 'evaluation-task-no-eval-file',
  severity: 'error',
  dialects: ['native', 'axolotl', 'llamafactory'],
  doc: {
    title: 'Task metrics asked for without eval data',
    why: '`evaluation.task` scores the model on `data.eval_file`: loss, perplexity and the replies to held-out prompts. Without eval data there is nothing to score, and the evaluation that should say whether the run worked reports no task result. Scoring replies to training prompts instead would only show memorisation.',
    fix: 'Add `data.eval_file` (5-10% of the examples held out of `train_file`), or remove `evaluation.task`. (Axolotl `do_causal_lm_eval` needs `val_set_size` or `test_datasets`; LLaMA-Factory `predict_with_generate` needs `eval_dataset` or `val_size`.)',
    thresholds: '`evaluation.task` written (or its tool equivalent) and no eval split.',
  },
  check(ctx) {
    if (!ctx.has(['evaluation', 'task'])) return [];
    const split = evalSplit(ctx);
    if (split.present === true) return [];
    const add =
      split.present === false
        ? split.howToAdd
        : 'Add `data.eval_file` (5-10% of the examples held out of `train_file`)';
    return [
      {
        message: `\`evaluation.task\` scores the model on held-out prompts, but there is no eval data: nothing to score, and the evaluation would report no task result. ${add}, or remove \`evaluation.task\`.`,
        range: ctx.rangeAt(['evaluation', 'task'], 'key'),
      },
    ];
  },
};
