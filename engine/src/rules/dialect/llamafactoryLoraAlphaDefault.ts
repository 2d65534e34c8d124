import type { Rule } from '../rule';
import { keyRange, rawValue, setTop } from './shared';

export const llamafactoryLoraAlphaDefault: Rule = {
  code: 'llamafactory-lora-alpha-default',
  severity: 'info',
  dialects: ['llamafactory'],
  doc: {
    title: 'LLaMA-Factory sets `lora_alpha` to twice the rank when it is unset',
    why: "peft's LoraConfig defaults `lora_alpha` to 8, but LLaMA-Factory's FinetuningArguments replaces a missing `lora_alpha` with `lora_rank * 2`, so updates are scaled by 2 whatever the rank. That is a sensible scale, but an invisible one: the same config read by another tool, or a comparison with a peft run, silently trains at a different scale. With `use_rslora: true` the scale is alpha / sqrt(rank), and the doubled default grows with the rank: 2 × sqrt(64) = 16 at rank 64, far above the usual 1-4.",
    fix: 'Write `lora_alpha` explicitly: 2 × lora_rank, or about 2 × sqrt(lora_rank) with rsLoRA.',
    thresholds:
      '`finetuning_type: lora` (the default) without `lora_alpha`. Info without rsLoRA; the message gives the resulting scale.',
  },
  check(ctx) {
    const type = rawValue(ctx, 'finetuning_type') ?? 'lora';
    if (type !== 'lora' || rawValue(ctx, 'lora_alpha') !== undefined) return [];
    const rankRaw = rawValue(ctx, 'lora_rank');
    const r = typeof rankRaw === 'number' && rankRaw > 0 ? rankRaw : 8;
    const rslora = rawValue(ctx, 'use_rslora') === true;
    const alpha = 2 * r;
    const scale = rslora ? alpha / Math.sqrt(r) : 2;
    const wanted = rslora ? Math.max(1, Math.round(2 * Math.sqrt(r))) : alpha;
    const scaleText = rslora
      ? ` With \`use_rslora: true\` updates are scaled by ${alpha} / sqrt(${r}) = ${Math.round(scale * 100) / 100}${scale > 4 ? ', far above the usual 1-4: training tends to be unstable' : ''}.`
      : ' (scale 2).';
    return [
      {
        message: `\`lora_alpha\` is not set: LLaMA-Factory uses 2 × lora_rank = ${alpha}, where peft's own default is 8${rslora ? '.' : ''}${scaleText} Write \`lora_alpha: ${wanted}\` so the scale is visible and the config means the same elsewhere.`,
        range: keyRange(
          ctx,
          ['lora_rank', 'finetuning_type'],
          rawValue(ctx, 'lora_rank') === undefined ? 'key' : 'value',
        ),
        fixes: [
          {
            title: `Set \`lora_alpha: ${wanted}\``,
            edits: setTop(ctx, 'lora_alpha', String(wanted)),
            preferred: true,
          },
        ],
      },
    ];
  },
};
