import type { Rule } from '../rule';

export const modelUnknown: Rule = {
  code: 'model-unknown',
  severity: 'info',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: "The model's architecture is unknown",
    why: "The memory estimate, the target-module check, the 7B gradient-checkpointing check and the checkpoint sizes need the model's layer sizes and module names. They come from the built-in catalog, a local model directory with config.json, or `model.architecture` in the config; for a Hub id outside the catalog Tunelab does not download anything, so those checks stay silent rather than guess.",
    fix: "Give `model.architecture` (the config.json fields: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size, vocab_size...) or point `model.name_or_path` at a local directory holding the model's config.json.",
  },
  check(ctx) {
    if (ctx.model || !ctx.modelError) return [];
    const name = ctx.plan.model.nameOrPath;
    // No model at all is the schema's `schema-required`.
    if (!name?.trim()) return [];
    const onArchitecture =
      ctx.modelError.startsWith('model.architecture') && ctx.has(['model', 'architecture']);
    return [
      {
        message: `architecture unknown: give model.architecture or a local path with config.json for estimates and module checks (${ctx.modelError.replace(/\.$/, '')}). Until then the memory estimate and the model-dependent checks are skipped.`,
        range: onArchitecture
          ? ctx.rangeAt(['model', 'architecture'], 'key')
          : ctx.rangeAt(['model', 'name_or_path']),
      },
    ];
  },
};
