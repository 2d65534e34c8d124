import type { Rule } from '../rule';

/** The scale peft applies to LoRA updates. */
export function loraScale(r: number, alpha: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

export const loraAlphaRatio: Rule = {
  code: 'lora-alpha-ratio',
  severity: 'warning',
  doc: {
    title: 'LoRA alpha that scales updates down to nothing, or up to instability',
    why: 'peft multiplies the LoRA update by `lora_alpha / r` (`lora_alpha / sqrt(r)` with `use_rslora`). Below 1 the adapter learns slowly: a common mistake is raising `r` and leaving alpha at its default 8, so r 64 trains at 1/8 strength. Above 4 updates are large and training turns unstable.',
    fix: 'Set `lora_alpha` to twice `r` (scale 2), the usual choice.',
    thresholds: 'Effective scale < 1 or > 4.',
  },
  check(ctx) {
    const lora = ctx.plan.lora;
    if (!lora || ctx.plan.method === 'full') return [];
    const scale = loraScale(lora.r, lora.alpha, lora.useRslora);
    if (scale >= 1 && scale <= 4) return [];
    // Scale 2 either way: alpha = 2 × r, or 2 × sqrt(r) under rsLoRA.
    const wanted = lora.useRslora ? Math.round(2 * Math.sqrt(lora.r)) : 2 * lora.r;
    const advice = `\`lora_alpha: ${wanted}\` (${lora.useRslora ? '2 × sqrt(r)' : '2 × r'})`;
    const formula = lora.useRslora
      ? `${lora.alpha} / sqrt(${lora.r})`
      : `${lora.alpha} / ${lora.r}`;
    const message =
      scale < 1
        ? `LoRA updates are scaled by ${formula} = ${round(scale)}: below 1 the adapter learns slowly. Set ${advice}.`
        : `LoRA updates are scaled by ${formula} = ${round(scale)}: above 4 training tends to be unstable. Set ${advice}.`;
    return [
      {
        message,
        range: ctx.has(['lora', 'lora_alpha'])
          ? ctx.rangeAt(['lora', 'lora_alpha'])
          : ctx.rangeAt(['lora'], 'key'),
        fixes: [
          {
            title: `Set \`lora_alpha: ${wanted}\``,
            edits: ctx.edit.set(['lora'], 'lora_alpha', String(wanted)),
            preferred: true,
          },
        ],
      },
    ];
  },
};

function round(x: number): string {
  return String(Math.round(x * 100) / 100);
}
