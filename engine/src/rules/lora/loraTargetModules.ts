import type { Rule } from '../rule';
import { setValue } from '../method/shared';

/** Module names of the attention block (separate, fused, and the GPT-style spellings). */
const ATTENTION_MODULES = new Set([
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'qkv_proj',
  'query_key_value',
  'c_attn',
  'Wqkv',
  'query',
  'key',
  'value',
  'out_proj',
]);

/** The module's own name from a peft target such as 'self_attn.q_proj'. */
export function leafName(target: string): string {
  const parts = target.split('.');
  return parts[parts.length - 1] ?? target;
}

export const loraTargetModules: Rule = {
  code: 'lora-target-modules',
  severity: 'warning',
  doc: {
    title: 'LoRA on the attention projections only, or target modules left to the default',
    why: "For causal-LM generation, adapting the MLP layers as well as attention gives clearly better results at the same rank (the QLoRA paper's finding, repeated since): most of a layer's parameters and much of its knowledge sit in the MLP. Without `target_modules` peft uses its per-architecture default, which is attention only (q_proj and v_proj for Llama-style models) and fails for architectures it does not know.",
    fix: 'Set `target_modules: all-linear` (every linear layer of the decoder blocks, lm_head excluded).',
    thresholds:
      'Fires when `target_modules` is missing or lists attention projections only (q/k/v/o_proj, qkv_proj, query_key_value...), unless `task_type` is set to something other than CAUSAL_LM. A single regular-expression string is not judged.',
  },
  check(ctx) {
    const lora = ctx.plan.lora;
    if (!lora || ctx.plan.method === 'full') return [];
    const taskType = ctx.value(['lora', 'task_type']);
    if (typeof taskType === 'string' && taskType !== 'CAUSAL_LM') return [];
    const fixes = () => [
      {
        title: 'Set `target_modules: all-linear`',
        edits: setValue(ctx, ['lora'], 'target_modules', 'all-linear'),
        preferred: true,
      },
    ];
    if (!ctx.has(['lora', 'target_modules'])) {
      return [
        {
          message:
            '`target_modules` is missing: peft then adapts its default for the architecture, attention only (q_proj and v_proj for Llama-style models), and fails for architectures it does not know. Adapting the MLP layers too learns clearly better at the same rank: set `target_modules: all-linear`.',
          range: ctx.rangeAt(['lora', 'target_modules'], 'key'),
          fixes: fixes(),
        },
      ];
    }
    const targets = lora.targetModules;
    if (!Array.isArray(targets) || targets.length === 0) return [];
    // A single string is a regular expression for peft: not judged here.
    if (!Array.isArray(ctx.value(['lora', 'target_modules']))) return [];
    if (!targets.every((t) => ATTENTION_MODULES.has(leafName(t)))) return [];
    return [
      {
        message: `\`target_modules\` covers attention only (${targets.join(', ')}): the MLP layers, most of each layer's parameters, stay frozen and the adapter learns clearly less at the same rank. Set \`target_modules: all-linear\`.`,
        range: ctx.rangeAt(['lora', 'target_modules']),
        fixes: fixes(),
      },
    ];
  },
};
