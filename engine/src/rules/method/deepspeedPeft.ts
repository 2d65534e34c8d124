import type { RuleContext } from '../context';
import type { Rule } from '../rule';
import { numberAt } from './shared';

/** GPUs the run uses: the most of hardware.num_gpus, launch processes and Slurm GPUs. */
export function gpusUsed(ctx: RuleContext): number {
  const processes = numberAt(ctx, ['launch', 'distributed', 'num_processes']) ?? 1;
  const slurm =
    (numberAt(ctx, ['launch', 'slurm', 'nodes']) ?? 1) *
    (numberAt(ctx, ['launch', 'slurm', 'gpus_per_node']) ?? 1);
  return Math.max(
    ctx.plan.hardware.numGpus,
    processes,
    ctx.value(['launch', 'target']) === 'slurm' ? slurm : 1,
  );
}

export const deepspeedPeft: Rule = {
  code: 'deepspeed-peft',
  severity: 'info',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'DeepSpeed for LoRA on a single GPU',
    why: "DeepSpeed's ZeRO shards optimizer states, gradients and weights across GPUs: its gain is for full fine-tuning over several GPUs. With LoRA the trainable adapter and its optimizer states are tiny, and on one GPU there is nothing to shard across, so DeepSpeed only adds a dependency, a launcher, start-up time and its own failure modes (and ZeRO-3 does not combine with a quantized QLoRA base on one GPU). Its CPU offload does not help either when the frozen base weights are what fills the GPU.",
    fix: 'Remove `training.deepspeed`; keep it for full fine-tuning or multi-GPU runs.',
    thresholds:
      'LoRA / QLoRA with `training.deepspeed` set while the run uses one GPU (`hardware.num_gpus`, `launch.distributed.num_processes` and Slurm nodes × gpus_per_node all at most 1).',
  },
  check(ctx) {
    if (ctx.plan.method !== 'lora' && ctx.plan.method !== 'qlora') return [];
    if (!ctx.has(['training', 'deepspeed']) || gpusUsed(ctx) > 1) return [];
    return [
      {
        message: `\`training.deepspeed\` with ${ctx.plan.method === 'qlora' ? 'QLoRA' : 'LoRA'} on a single GPU: DeepSpeed shards optimizer states and weights across GPUs, but the adapter's states are tiny and one GPU has nothing to shard across, so it only adds a launcher, start-up time and its own failure modes. Remove it (it pays off for full fine-tuning on several GPUs).`,
        range: ctx.rangeAt(['training', 'deepspeed']),
        fixes: [
          {
            title: 'Remove `training.deepspeed`',
            edits: ctx.edit.remove(['training', 'deepspeed']),
            preferred: true,
          },
        ],
      },
    ];
  },
};
