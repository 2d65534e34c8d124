import type { Rule } from '../rule';
import { formatGiB, modelName } from '../method/shared';
import { keyRange, rawValue, setTop } from './shared';

export const trlLoraFloat32Base: Rule = {
  code: 'trl-lora-float32-base',
  severity: 'warning',
  dialects: ['trl'],
  doc: {
    title: 'TRL loads the frozen LoRA base in float32 by default',
    why: "TRL's ModelConfig defaults `dtype` to float32, so with `use_peft: true` and no `dtype` the frozen base weights are held in 32-bit: twice the memory of bfloat16 (16 GB more for an 8B model) and slower matmuls, for weights that are never updated. (For QLoRA the same default makes float32 the 4-bit compute dtype: qlora-compute-dtype reports it.)",
    fix: 'Set `dtype: bfloat16` (`float16` on GPUs without bfloat16).',
    thresholds:
      '`use_peft: true` without `load_in_4bit` / `load_in_8bit`, and `dtype` missing or float32.',
  },
  check(ctx) {
    if (ctx.plan.method !== 'lora') return [];
    const dtype = rawValue(ctx, 'dtype');
    if (dtype !== undefined && dtype !== 'float32') return [];
    const params = ctx.model?.paramsTotal;
    const extra = params
      ? ` For ${modelName(ctx)} that is ${formatGiB(params * 2)} more weight memory than bfloat16.`
      : '';
    return [
      {
        message: `${dtype === undefined ? "`dtype` is not set, so TRL's ModelConfig loads" : '`dtype: float32` loads'} the frozen base model in float32 for LoRA: twice the memory of bfloat16 and slower, for weights that are never trained.${extra} Set \`dtype: bfloat16\`.`,
        range: keyRange(ctx, dtype === undefined ? ['use_peft'] : ['dtype']),
        fixes: [
          {
            title: 'Set `dtype: bfloat16`',
            edits: setTop(ctx, 'dtype', 'bfloat16'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
