import type { Rule } from '../rule';

export const qloraPrepareKbit: Rule = {
  code: 'qlora-prepare-kbit',
  severity: 'error',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'QLoRA without `prepare_model_for_kbit_training`',
    why: "peft's `prepare_model_for_kbit_training` casts the layer norms, embeddings and lm_head of a 4-bit model to fp32 and makes gradient checkpointing work with frozen inputs. Without it, QLoRA training is numerically fragile (loss spikes, NaN) or silently trains nothing through checkpointed layers. It costs memory (about +2 GiB on an 8B model), which the estimate shows, and is still the recommended step.",
    fix: 'Set `prepare_model_for_kbit_training: true` (or `{ use_gradient_checkpointing: true }`).',
  },
  check(ctx) {
    if (ctx.plan.method !== 'qlora' || ctx.plan.prepareKbit) return [];
    const present = ctx.has(['prepare_model_for_kbit_training']);
    return [
      {
        message: present
          ? "`prepare_model_for_kbit_training` is false with `method: qlora`: the 4-bit model's norms and embeddings stay in low precision and checkpointed layers may not train. Set it to true."
          : 'QLoRA needs `prepare_model_for_kbit_training: true`: it casts norms and embeddings to fp32 and makes gradient checkpointing work with the frozen 4-bit base. Without it training is fragile (loss spikes, NaN).',
        range: present ? ctx.rangeAt(['prepare_model_for_kbit_training']) : ctx.rangeAt(['method']),
        fixes: [
          {
            title: 'Set `prepare_model_for_kbit_training: true`',
            edits: ctx.edit.set([], 'prepare_model_for_kbit_training', 'true'),
            preferred: true,
          },
        ],
      },
    ];
  },
};
