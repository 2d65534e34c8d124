import type { Rule } from '../rule';

export const dataloaderWorkersWindows: Rule = {
  code: 'dataloader-workers-windows',
  severity: 'warning',
  doc: {
    title: 'DataLoader worker processes on a Windows launch',
    why: 'Windows has no `fork`: each of the `dataloader_num_workers` processes is spawned fresh, re-imports the training script and receives a pickled copy of the dataset. Start-up slows by seconds per epoch and worker, memory grows by one dataset copy per worker, and objects that cannot be pickled (tokenizer closures, lambdas in a collator) crash the run or hang it. The tokenized batches are small, so workers rarely speed up fine-tuning anyway.',
    fix: 'Set `training.dataloader_num_workers: 0` (load in the main process).',
    thresholds:
      '`dataloader_num_workers` > 0 and the launch target runs Windows (a local launch from a Windows editor).',
  },
  check(ctx) {
    const workers = ctx.value(['training', 'dataloader_num_workers']);
    if (ctx.targetOs !== 'windows' || typeof workers !== 'number' || workers <= 0) return [];
    return [
      {
        message: `\`dataloader_num_workers: ${workers}\` on Windows: each worker is a spawned process that re-imports the script and gets a pickled copy of the dataset (slow start, more memory, hangs or crashes on objects that cannot be pickled). Set it to 0.`,
        range: ctx.rangeAt(['training', 'dataloader_num_workers']),
        fixes: [
          {
            title: 'Set `dataloader_num_workers: 0`',
            edits: ctx.edit.replace(['training', 'dataloader_num_workers'], '0'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
