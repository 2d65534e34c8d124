import type { Rule } from '../rule';
import { evalSplit } from './shared';

export const evalSplitMissing: Rule = {
  code: 'eval-split-missing',
  severity: 'warning',
  // TRL's split comes from the dataset, which the file does not show.
  dialects: ['native', 'axolotl', 'llamafactory'],
  doc: {
    title: 'No held-out data to evaluate on',
    why: 'Training loss falls whether the model learns the task or memorises the examples. Without an eval split nothing tells whether the tuned model got better: no eval loss to see over-fitting (eval loss rising while train loss falls), no task metrics after training, nothing to compare two runs on.',
    fix: 'Hold out 5-10% of the examples (a few hundred rows are enough): native `data.eval_file` (then `training.eval_strategy: steps` and an `evaluation:` section score it during and after training); Axolotl `val_set_size` or `test_datasets`; LLaMA-Factory `val_size` or `eval_dataset`.',
    thresholds:
      'A config that names training data (native `data`, Axolotl `datasets`, LLaMA-Factory `dataset`) and no eval split. Silent for TRL, whose split is taken from the dataset; silent when `evaluation.task` asks for task metrics, which `evaluation-task-no-eval-file` reports as an error.',
  },
  check(ctx) {
    if (ctx.has(['evaluation', 'task'])) return [];
    const split = evalSplit(ctx);
    if (split.present !== false) return [];
    const after =
      ctx.dialect === 'native'
        ? '; `training.eval_strategy: steps` then shows eval loss during training and an `evaluation:` section scores the replies after it'
        : '';
    return [
      {
        message: `No eval split: training loss falls whether the model learns the task or memorises the examples, so nothing tells whether it got better or started to over-fit. ${split.howToAdd}${after}.`,
        range: split.range,
      },
    ];
  },
};
