import type { Rule } from '../rule';
import { reportRange } from '../method/shared';

export const qloraQuantType: Rule = {
  code: 'qlora-quant-type',
  severity: 'info',
  doc: {
    title: 'QLoRA with the fp4 quantization type',
    why: "NF4 (4-bit NormalFloat) places its 16 levels at the quantiles of a normal distribution, which is how trained weights are distributed: it loses less than plain fp4 at the same memory, and it is what the QLoRA paper introduced and evaluated. BitsAndBytesConfig's default is fp4, so leaving the key out silently picks the weaker type.",
    fix: 'Set `bnb_4bit_quant_type: nf4`.',
    thresholds: 'QLoRA in 4-bit with `bnb_4bit_quant_type` fp4, given or by default.',
  },
  check(ctx) {
    const q = ctx.plan.quantization;
    if (ctx.plan.method !== 'qlora' || !q || q.bits !== 4 || q.quantType !== 'fp4') return [];
    const path = ['quantization', 'bnb_4bit_quant_type'];
    const given = ctx.has(path);
    return [
      {
        message: `${given ? '`bnb_4bit_quant_type: fp4`' : "`bnb_4bit_quant_type` is missing, so BitsAndBytesConfig's default fp4 is used"}: NF4 matches the normal distribution of trained weights and loses less at the same 4 bits (it is the QLoRA default). Set \`bnb_4bit_quant_type: nf4\`.`,
        range: reportRange(ctx, path),
        fixes: [
          {
            title: 'Set `bnb_4bit_quant_type: nf4`',
            edits: ctx.edit.set(['quantization'], 'bnb_4bit_quant_type', 'nf4'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
