import { mergedStaysOnCpu } from '../../estimate/exportPhase';
import { formatGiB } from '../../estimate/index';
import type { Rule } from '../rule';

export const qloraMergeOnCpu: Rule = {
  code: 'qlora-merge-on-cpu',
  severity: 'warning',
  dialects: ['native'],
  doc: {
    title:
      "QLoRA's merged model does not fit the GPU: the evaluation after training runs on the CPU",
    why: 'After QLoRA, `export.merge: true` reloads the base in 16 bits on the CPU and merges the adapter there. The runner moves the merged model to the GPU only when it fits with a tenth to spare, and the evaluation after training then runs the model where it is: on the CPU, generating replies and scoring the forgetting measure with an 8B model takes hours instead of minutes.',
    fix: 'Keep `export.merge: false` for the run (the evaluation scores the 4-bit model with its adapter on the GPU) and merge afterwards with `tunelab export RUN --merge`, or train on a GPU that holds the 16-bit model.',
    thresholds:
      "`method: qlora`, `export.merge: true`, an evaluation after training (`evaluation.when: end` or `every_eval`), and 1.1 × the merged model in `export.dtype` + the CUDA context above the GPU's memory.",
  },
  check(ctx) {
    const { estimate, gpu } = ctx;
    const exported = estimate?.export;
    if (!estimate?.finalEvaluation || !gpu || !exported?.onlyIfItFits) return [];
    if (!mergedStaysOnCpu(exported.movedBytes, gpu.memoryBytes)) return [];
    return [
      {
        message: `The merged 16-bit model (${formatGiB(exported.movedBytes)}) does not fit ${gpu.id}'s ${formatGiB(gpu.memoryBytes)} with the runner's margin: it stays on the CPU, and so does the evaluation after training (hours instead of minutes). Keep the adapter for the run (\`export.merge: false\`) and merge afterwards with \`tunelab export RUN --merge\`.`,
        range: ctx.rangeAt(['export', 'merge']),
        fixes: [
          {
            title: 'Evaluate the adapter, merge later (`export.merge: false`)',
            edits: ctx.edit.set(['export'], 'merge', 'false'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
