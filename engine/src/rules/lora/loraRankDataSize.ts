import type { Rule } from '../rule';
import { loraScale } from './loraAlphaRatio';

/** The rank the usual table suggests for a dataset of `rows` examples. */
export function suggestedRank(rows: number): string {
  if (rows < 1000) return '8';
  if (rows <= 10_000) return '16';
  if (rows <= 100_000) return '16-32';
  return '32-64';
}

export const loraRankDataSize: Rule = {
  code: 'lora-rank-data-size',
  severity: 'warning',
  doc: {
    title: 'LoRA rank too high for the size of the training data',
    why: 'A higher rank gives the adapter more capacity; on a few hundred examples that capacity memorises the examples instead of learning the task (train loss falls, eval loss rises), and each step costs more. Small datasets train best with a small rank.',
    fix: "Lower `r` to the table's value for the number of rows (8 below 1k rows) and scale `lora_alpha` with it so the update scale stays the same.",
    thresholds:
      'Fires for r ≥ 64 with fewer than 1000 rows, or r ≥ 32 with fewer than 200 rows. The usual table: < 1k rows: r 8; 1k-10k: r 16; > 100k: r 32-64. Rows are the records of `data.train_file`; the rule is silent while they are unknown (file unread, or larger than the read bound so only partly counted).',
  },
  check(ctx) {
    const lora = ctx.plan.lora;
    if (!lora || ctx.plan.method === 'full' || !ctx.has(['lora', 'r'])) return [];
    const train = ctx.data.train;
    if (!train || !train.exists || train.error || train.partial) return [];
    const rows = train.rows;
    const r = lora.r;
    if (!((r >= 64 && rows < 1000) || (r >= 32 && rows < 200))) return [];
    const newR = 8;
    // Keep the update scale the user chose (scale 2 when it was off the sane range).
    const scale = loraScale(r, lora.alpha, lora.useRslora);
    const keep = scale >= 1 && scale <= 4 ? scale : 2;
    const newAlpha = Math.max(1, Math.round(keep * (lora.useRslora ? Math.sqrt(newR) : newR)));
    return [
      {
        message: `r ${r} on ${rows} training rows: a rank this high has far more capacity than the data and over-fits it (the usual table: < 1k rows: r 8; 1k-10k: r 16; > 100k: r 32-64). Set \`r: ${newR}\` and \`lora_alpha: ${newAlpha}\`.`,
        range: ctx.rangeAt(['lora', 'r']),
        fixes: [
          {
            title: `Set \`r: ${newR}\`, \`lora_alpha: ${newAlpha}\``,
            edits: [
              ...ctx.edit.replace(['lora', 'r'], String(newR)),
              ...ctx.edit.set(['lora'], 'lora_alpha', String(newAlpha)),
            ],
            preferred: true,
          },
        ],
      },
    ];
  },
};
