import type { Rule } from '../rule';
import { loraScale } from './loraAlphaRatio';

/** The `lora_alpha` that gives scale 2: 2 × r, or 2 × sqrt(r) (rounded) with rsLoRA. */
export function alphaForScale2(r: number, useRslora: boolean): number {
  return useRslora ? Math.max(1, Math.round(2 * Math.sqrt(r))) : 2 * r;
}

export const loraAlphaEqualsRank: Rule = {
  code: 'lora-alpha-equals-rank',
  severity: 'info',
  doc: {
    title: 'LoRA alpha equal to r (scale 1)',
    why: "peft multiplies the LoRA update by `lora_alpha / r` (`lora_alpha / sqrt(r)` with `use_rslora`). At exactly 1 training works but the update is not amplified, so at the usual LoRA learning rates the adapter learns more slowly than the common setting alpha = 2 × r; it is also what peft's defaults give (r 8, alpha 8), which often means alpha was never chosen.",
    fix: 'Set `lora_alpha` to 2 × r (scale 2), or keep scale 1 on purpose and raise the learning rate instead.',
    thresholds:
      'Effective scale exactly 1. Scale 2 (alpha = 2 × r) is the common recommendation of LoRA guides; with rsLoRA the fix sets alpha to 2 × sqrt(r) rounded, so the scale stays about 2.',
  },
  check(ctx) {
    const lora = ctx.plan.lora;
    if (!lora || ctx.plan.method === 'full') return [];
    if (loraScale(lora.r, lora.alpha, lora.useRslora) !== 1) return [];
    const alphaGiven = ctx.has(['lora', 'lora_alpha']);
    const rGiven = ctx.has(['lora', 'r']);
    const alpha = alphaForScale2(lora.r, lora.useRslora);
    const shown = (name: string, v: number, given: boolean) =>
      `${name} ${v}${given ? '' : " (peft's default)"}`;
    const alphaText = shown('lora_alpha', lora.alpha, alphaGiven);
    const rankText = lora.useRslora
      ? `sqrt(r) = ${Math.sqrt(lora.r)} (rsLoRA)`
      : shown('r', lora.r, rGiven);
    const target = lora.useRslora ? '2 × sqrt(r)' : '2 × r';
    return [
      {
        message: `LoRA scale is 1: ${alphaText} equals ${rankText}, so updates are not amplified and the adapter learns more slowly than with the usual scale 2. Set \`lora_alpha: ${alpha}\` (${target}).`,
        range: alphaGiven ? ctx.rangeAt(['lora', 'lora_alpha']) : ctx.rangeAt(['lora'], 'key'),
        fixes: [
          {
            title: `Set \`lora_alpha: ${alpha}\``,
            edits: ctx.edit.set(['lora'], 'lora_alpha', String(alpha)),
            preferred: true,
          },
        ],
      },
    ];
  },
};
