import { reportRange } from '../data/shared';
import type { Rule } from '../rule';

const SIXTEEN_BIT = ['bfloat16', 'float16'];

export const exportDtype: Rule = {
  code: 'export-dtype',
  severity: 'warning',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'A merged QLoRA model without a 16-bit export dtype',
    why: "After QLoRA the base weights only exist in 4-bit on the GPU, so the merge reloads the base unquantized and adds the adapter. Without an explicit dtype the merged model takes the reload's dtype: float32 in most tools (transformers 4.x loads in float32 unless told otherwise), a checkpoint twice the size of the 16-bit original (32 GB instead of 16 GB for 8B) that serves no better. `export.dtype: float32` does the same on purpose. (The Tunelab runner defaults to bfloat16; stating it keeps the config portable and the size visible.)",
    fix: 'Set `export.dtype: bfloat16` (`float16` for GPUs without bfloat16, such as T4 or V100).',
    thresholds: '`method: qlora`, `export.merge: true`, and `export.dtype` missing or float32.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'qlora' || ctx.value(['export', 'merge']) !== true) return [];
    const dtype = ctx.value(['export', 'dtype']);
    if (typeof dtype === 'string' && SIXTEEN_BIT.includes(dtype)) return [];
    // A value of another type (or outside the enum) is the schema's finding.
    if (dtype !== undefined && dtype !== null && dtype !== 'float32') return [];
    const half = ctx.plan.training.fp16 || ctx.gpu?.bf16 === false;
    const suggested = half ? 'float16' : 'bfloat16';
    const message =
      dtype === 'float32'
        ? `\`export.dtype: float32\` writes the merged model at twice the size of its 16-bit original, with no quality gain. Set \`dtype: ${suggested}\`.`
        : `\`export.merge: true\` after QLoRA without \`export.dtype\`: the merged model takes the dtype the base is reloaded in, float32 in most tools (twice the size). Set \`dtype: ${suggested}\`.`;
    return [
      {
        message,
        range: reportRange(ctx, ['export', 'dtype']),
        fixes: [
          {
            title: `Set \`export.dtype: ${suggested}\``,
            edits: ctx.edit.set(['export'], 'dtype', suggested),
            preferred: true,
          },
        ],
      },
    ];
  },
};
