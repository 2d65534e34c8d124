import { cheapestFix, formatGiB } from '../../estimate/index';
import type { Rule } from '../rule';
import { planChangeEdits } from './planChangeEdits';

export const memoryExceedsGpu: Rule = {
  code: 'memory-exceeds-gpu',
  severity: 'error',
  doc: {
    title: 'The run does not fit the GPU',
    why: 'A run that needs more memory than the GPU has dies with CUDA out-of-memory, often after the model has loaded and the first long batch arrives. The estimate counts weights, adapter, gradients, optimizer states, activations, the fp32 logits of the loss, and the CUDA context and allocator fragmentation, as measured on real runs.',
    fix: 'Apply the cheapest change that fits, in order: a smaller eval batch when evaluation sets the peak, `export.dtype: bfloat16` when a float32 export does; gradient checkpointing; a smaller micro-batch with more accumulation (same effective batch); QLoRA instead of LoRA (LoRA instead of full); more GPUs with ZeRO-3.',
    thresholds: 'Estimated peak per GPU above the GPU memory (`hardware.gpu`, or `--gpu`).',
  },
  check(ctx) {
    const { estimate, gpu, model } = ctx;
    if (!estimate || !gpu || !model || estimate.fits !== false) return [];
    const fix = cheapestFix(ctx.plan, model, gpu, { run: estimate.run });
    const need = `${formatGiB(estimate.perGpuBytes)} per GPU against ${formatGiB(gpu.memoryBytes)} on ${gpu.id}`;
    return [
      {
        message: fix
          ? `This run needs about ${need}: it will run out of memory. Cheapest change that fits: ${fix.description}.`
          : `This run needs about ${need}: it will run out of memory, and no single change found makes it fit; use a larger GPU or more GPUs.`,
        range: ctx.rangeAt(['method']),
        fixes: fix
          ? [
              {
                title: `Make it fit: ${fix.description}`,
                edits: planChangeEdits(
                  ctx.parsed,
                  fix.changes,
                  ctx.edit.setIn,
                  ctx.dialect === 'native',
                ),
                preferred: true,
              },
            ]
          : undefined,
      },
    ];
  },
};
