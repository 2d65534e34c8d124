import { isRecord } from '../../parse';
import type { Rule } from '../rule';
import { setValue } from '../method/shared';
import { leafName } from './loraTargetModules';

/** The embedding and output layers: where a new token's vectors live. */
const TOKEN_MODULES = ['embed_tokens', 'lm_head'];

export const newTokensNotTrained: Rule = {
  code: 'new-tokens-not-trained',
  severity: 'warning',
  doc: {
    title: 'New tokens added while the embedding and output layers stay frozen',
    why: 'Adding tokens resizes the embedding matrix and lm_head with new, untrained rows. Under LoRA both layers are frozen unless `modules_to_save` lists them, so the new tokens keep their initial vectors: the model cannot read them meaningfully or learn to emit them (a new end-of-turn token is never generated and answers do not stop).',
    fix: 'Add `embed_tokens` and `lm_head` to `lora.modules_to_save` (full trainable copies, saved with the adapter), or give `lora.trainable_token_indices` to train only the new rows.',
    thresholds:
      'LoRA / QLoRA with a non-empty `model.add_tokens`; a module counts as trained when `modules_to_save` or the `target_modules` list names it, or `trainable_token_indices` covers it (a list covers embed_tokens, and lm_head too when the model ties them; a mapping covers the modules it names).',
  },
  check(ctx) {
    const lora = ctx.plan.lora;
    if (!lora || (ctx.plan.method !== 'lora' && ctx.plan.method !== 'qlora')) return [];
    const added = ctx.value(['model', 'add_tokens']);
    const tokens = Array.isArray(added) ? added.filter((t) => typeof t === 'string') : [];
    if (tokens.length === 0) return [];
    const targets = Array.isArray(lora.targetModules) ? lora.targetModules.map(leafName) : [];
    const covered = new Set([...lora.modulesToSave.map(leafName), ...targets]);
    // trainable_token_indices: a list trains rows of the input embedding (and so of a tied
    // lm_head); a mapping names the modules it trains.
    const indices = ctx.value(['lora', 'trainable_token_indices']);
    if (Array.isArray(indices)) {
      covered.add('embed_tokens');
      if (ctx.model?.tiedEmbeddings) covered.add('lm_head');
    } else if (isRecord(indices)) {
      for (const module of Object.keys(indices)) covered.add(leafName(module));
    }
    const missing = TOKEN_MODULES.filter((m) => !covered.has(m));
    if (missing.length === 0) return [];
    const value = [...lora.modulesToSave, ...missing];
    const given = ctx.has(['lora', 'modules_to_save']);
    return [
      {
        message: `\`model.add_tokens\` adds ${tokens.length} token${tokens.length === 1 ? '' : 's'} (${tokens.slice(0, 3).join(', ')}${tokens.length > 3 ? ', ...' : ''}) but ${given ? '`modules_to_save` lacks' : 'no `modules_to_save` lists'} ${missing.join(' and ')}: their new rows stay at their initial values under LoRA, so the model can neither read nor emit the new tokens properly. Set \`modules_to_save: [${value.join(', ')}]\`.`,
        range: given ? ctx.rangeAt(['lora', 'modules_to_save']) : ctx.rangeAt(['lora'], 'key'),
        fixes: [
          {
            title: `Set \`modules_to_save: [${value.join(', ')}]\``,
            edits: setValue(ctx, ['lora'], 'modules_to_save', `[${value.join(', ')}]`),
            preferred: true,
          },
        ],
      },
    ];
  },
};
