import type { Rule, RuleHit } from '../rule';
import { modelName } from '../method/shared';
import { leafName } from './loraTargetModules';

/** Modules outside the decoder layers that peft can adapt on every Llama-style causal LM. */
const OUTER_MODULES = ['lm_head', 'embed_tokens'];

export const loraTargetUnknown: Rule = {
  code: 'lora-target-unknown',
  severity: 'error',
  doc: {
    title: "A `target_modules` name the model's architecture does not have",
    why: "peft matches each name of a `target_modules` list against the end of the model's module names (`q_proj` matches `model.layers.0.self_attn.q_proj`). A name from another architecture (`query_key_value` is Falcon / GPT-NeoX, `q_proj` does not exist in Phi-3's fused `qkv_proj`) matches nothing: when no name matches peft stops with 'Target modules ... not found in the base model'; when some match, the others are skipped without a word and the adapter is smaller than intended. A single string is not a name but a regular expression peft matches against the whole module name, so `target_modules: q_proj` matches nothing either.",
    fix: "Use the model's own module names (the message lists them), `all-linear`, or a list instead of a single string.",
    thresholds:
      "Checked against the linear modules of the model's decoder layers (plus lm_head and embed_tokens) by the last dotted part of each name; `all-linear` as a string is always valid; a regular-expression string is not judged. Silent when the architecture is unknown.",
  },
  check(ctx) {
    const model = ctx.model;
    if (!model || !ctx.plan.lora || ctx.plan.method === 'full') return [];
    const raw = ctx.value(['lora', 'target_modules']);
    const known = new Set([...model.linearModules, ...OUTER_MODULES]);
    const names = `${model.linearModules.join(', ')} (and lm_head, embed_tokens)`;
    if (typeof raw === 'string') {
      if (raw === 'all-linear' || raw === 'lm_head' || !/^\w+$/.test(raw)) return [];
      return [
        {
          message: `\`target_modules: ${raw}\` is a single string, which peft matches as a regular expression against the whole module name (like \`model.layers.0.self_attn.q_proj\`), so it matches nothing and peft stops with "Target modules not found". Write a list: \`[${raw}]\`${known.has(raw) ? '' : `; ${modelName(ctx)} has ${names}`}.`,
          range: ctx.rangeAt(['lora', 'target_modules']),
        },
      ];
    }
    if (!Array.isArray(raw)) return [];
    const hits: RuleHit[] = [];
    raw.forEach((entry, index) => {
      if (typeof entry !== 'string') return;
      if (known.has(leafName(entry))) return;
      hits.push({
        message:
          entry === 'all-linear'
            ? '`all-linear` only works as the whole value (`target_modules: all-linear`); inside a list peft looks for a module named "all-linear", which no model has. Write `target_modules: all-linear`.'
            : /[*+?|()[\]{}^$\\]/.test(entry)
              ? `\`${entry}\` looks like a regular expression, but peft matches list entries literally (the exact module name or its dotted suffix), so it matches nothing. Give the whole value as one regex string, or list ${modelName(ctx)}'s names: ${names}.`
              : `\`${entry}\` is not a module of ${modelName(ctx)} (${model.family}): its linear modules are ${names}. peft skips a name that matches nothing, and stops with "Target modules ... not found" when no name matches. Use the model's own names or \`all-linear\`.`,
        range: ctx.rangeAt(['lora', 'target_modules', index]),
      });
    });
    return hits;
  },
};
