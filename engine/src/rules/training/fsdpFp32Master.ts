import type { Rule } from '../rule';
import { formatGiB, formatParams, modelName, numberAt } from '../method/shared';

/** Bytes a trainable parameter takes under FSDP with bf16 mixed precision, before the split. */
const BYTES_PER_PARAM = 16;

export const fsdpFp32Master: Rule = {
  code: 'fsdp-fp32-master',
  severity: 'info',
  doc: {
    title: 'FSDP with bf16 keeps fp32 master weights',
    why: 'With FSDP (FSDP2 through accelerate) and bf16 mixed precision the trainable weights are upcast to fp32 master copies before sharding, so full fine-tuning costs 16 bytes per parameter (fp32 weight 4, gradient 4, AdamW states 8) divided over the GPUs, where a single bf16 GPU holds 2 + 2 + 4 = 8. Two GPUs can therefore need more memory each than one: measured 72.7 GiB per GPU for an 8B model on 2 GPUs against 62.3 GiB on one. It is the price of full-precision optimizer steps, not an error.',
    fix: 'Count on 16 bytes per parameter over the GPUs: use more GPUs to make the shards small, or LoRA when memory is the limit.',
    thresholds:
      '`launch.distributed.backend: fsdp` with `training.bf16: true` and `method: full`. Per-GPU share = parameters × 16 bytes / `launch.distributed.num_processes` (else `hardware.num_gpus`).',
  },
  check(ctx) {
    if (ctx.plan.method !== 'full' || ctx.plan.distributed.backend !== 'fsdp') return [];
    if (!ctx.plan.training.bf16) return [];
    const gpus =
      numberAt(ctx, ['launch', 'distributed', 'num_processes']) ?? ctx.plan.hardware.numGpus;
    let numbers = '';
    if (ctx.model) {
      const total = ctx.model.paramsTotal * BYTES_PER_PARAM;
      numbers = ` For ${modelName(ctx)} (${formatParams(ctx.model.paramsTotal)} parameters) that is ${formatGiB(total)} of weights, gradients and optimizer states before the split, ${formatGiB(total / Math.max(1, gpus))} per GPU on ${gpus}.`;
    }
    return [
      {
        message: `FSDP with bf16 upcasts the trainable weights to fp32 master copies before sharding: 16 bytes per parameter (4 weight + 4 gradient + 8 AdamW) over the GPUs, against 8 on a single bf16 GPU, so a few GPUs can each need more than one alone did (measured: 72.7 GiB per GPU for 8B on 2 GPUs, 62.3 GiB on one).${numbers}`,
        range: ctx.rangeAt(['launch', 'distributed', 'backend']),
      },
    ];
  },
};
