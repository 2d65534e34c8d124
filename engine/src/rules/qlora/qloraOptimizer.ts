import type { Rule } from '../rule';
import { reportRange } from '../method/shared';

/** Paged (bitsandbytes, spills to CPU under pressure) or 8-bit state optimizers. */
export function isPagedOr8bit(optim: string): boolean {
  return /paged|8bit/i.test(optim);
}

export const qloraOptimizer: Rule = {
  code: 'qlora-optimizer',
  severity: 'info',
  doc: {
    title: 'QLoRA with an optimizer that is neither paged nor 8-bit',
    why: "QLoRA is chosen to fit a model on a small GPU, where memory spikes (a long batch, gradient checkpointing's recomputation) end a run with out-of-memory. Paged optimizers keep their states in CUDA unified memory that bitsandbytes pages to CPU RAM under pressure instead of failing; the QLoRA paper pairs 4-bit weights with paged AdamW for that reason. 8-bit states also take a quarter of fp32 AdamW's memory.",
    fix: 'Set `optim: paged_adamw_8bit` (or `paged_adamw_32bit`).',
    thresholds:
      "QLoRA with `optim` (TrainingArguments default adamw_torch_fused when missing) whose name contains neither 'paged' nor '8bit'.",
  },
  check(ctx) {
    if (ctx.plan.method !== 'qlora') return [];
    const optim = ctx.plan.training.optimizer;
    if (isPagedOr8bit(optim)) return [];
    const path = ['training', 'optim'];
    const given = ctx.has(path);
    return [
      {
        message: `${given ? `\`optim: ${optim}\`` : `\`optim\` is missing, so the trainer uses ${optim}`} with QLoRA: a memory spike ends the run with out-of-memory, where a paged optimizer would page its states to CPU RAM (and 8-bit states take a quarter of the memory). Set \`optim: paged_adamw_8bit\`.`,
        range: reportRange(ctx, path),
        fixes: [
          {
            title: 'Set `optim: paged_adamw_8bit`',
            edits: ctx.edit.set(['training'], 'optim', 'paged_adamw_8bit'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
