import type { Rule } from '../rule';
import { reportRange } from '../method/shared';

export const qloraComputeDtype: Rule = {
  code: 'qlora-compute-dtype',
  severity: 'warning',
  // Axolotl and LLaMA-Factory derive the compute dtype from bf16/fp16: nothing to set.
  dialects: ['native', 'trl'],
  doc: {
    title: 'QLoRA compute dtype that is slow or mismatched',
    why: "bitsandbytes dequantizes each 4-bit weight to `bnb_4bit_compute_dtype` for the matmul. float32 (BitsAndBytesConfig's default when the key is missing) runs those matmuls in fp32: several times slower than 16-bit on tensor cores and more activation memory, for no quality gain. float16 while the trainer runs in bf16 mixes two 16-bit formats: activations are cast back and forth, and float16's narrow range can overflow in layers the bf16 run would handle.",
    fix: 'Set `bnb_4bit_compute_dtype: bfloat16` (float16 on a GPU without bf16, such as T4 or V100).',
    thresholds:
      'QLoRA in 4-bit with the compute dtype float32 (given or by default), or float16 with `training.bf16: true`.',
  },
  check(ctx) {
    const q = ctx.plan.quantization;
    if (ctx.plan.method !== 'qlora' || !q || q.bits !== 4) return [];
    const path = ['quantization', 'bnb_4bit_compute_dtype'];
    const given = ctx.has(path);
    const noBf16Gpu = ctx.gpu !== undefined && !ctx.gpu.bf16;
    let message: string;
    let target = 'bfloat16';
    if (q.computeDtype === 'float32') {
      if (noBf16Gpu) target = 'float16';
      message = `${given ? '`bnb_4bit_compute_dtype: float32`' : '`bnb_4bit_compute_dtype` is missing, so BitsAndBytesConfig computes in float32'}: every 4-bit weight is dequantized to fp32 for its matmul, several times slower than 16-bit on tensor cores and more activation memory, for no quality gain. Set \`bnb_4bit_compute_dtype: ${target}\`.`;
    } else if (q.computeDtype === 'float16' && ctx.plan.training.bf16 && !noBf16Gpu) {
      message =
        "`bnb_4bit_compute_dtype: float16` while `training.bf16: true`: the 4-bit layers compute in fp16 inside a bf16 run, so activations are cast back and forth and fp16's narrow range can overflow. Set `bnb_4bit_compute_dtype: bfloat16` to match.";
    } else {
      return [];
    }
    return [
      {
        message,
        range: reportRange(ctx, path),
        fixes: [
          {
            title: `Set \`bnb_4bit_compute_dtype: ${target}\``,
            edits: ctx.edit.set(['quantization'], 'bnb_4bit_compute_dtype', target),
            preferred: true,
          },
        ],
      },
    ];
  },
};
