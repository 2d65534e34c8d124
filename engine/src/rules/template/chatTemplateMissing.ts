import { reportRange } from '../data/shared';
import type { Rule } from '../rule';
import { runnerTemplateFor } from './families';

export const chatTemplateMissing: Rule = {
  code: 'chat-template-missing',
  severity: 'warning',
  // Native-only: reads keys (or runner behaviour) the other dialects do not have.
  dialects: ['native'],
  doc: {
    title: 'Chat data on a base model without a chosen chat template',
    why: 'A base (pretrained, not chat-tuned) model has no chat format of its own. With `format: messages` and `chat_template` unset, the runner uses `model`, the tokenizer\'s own template: many base tokenizers have none (the run stops with "the tokenizer has no chat template"), and where one exists its role tokens were never trained in the base model. Whatever template training uses must also be used at inference, so it should be a deliberate, visible choice.',
    fix: "Set `data.chat_template` to the model family's template (e.g. `llama-3` for Llama 3, `chatml` for Qwen), the one inference engines will apply, and use the same at inference.",
    thresholds:
      "Fires for `format: messages` on a base model (catalog kind, or a local model whose tokenizer has no template) when `chat_template` is missing or `model`: whether a base tokenizer ships a template is not known without downloading it, and naming the family's template is always safe. Silent for instruct models, whose own template is the right one, and when the model is unknown. No quick fix for families the runner cannot render by name (Llama 2, DeepSeek): write their Jinja template.",
  },
  check(ctx) {
    const model = ctx.model;
    if (!model || model.kind !== 'base' || ctx.plan.data.format !== 'messages') return [];
    const present = ctx.has(['data', 'chat_template']);
    const value = ctx.value(['data', 'chat_template']);
    if (present && value !== 'model') return [];
    // A model with no known family (a local base model without a template): ChatML, the common choice.
    const suggested =
      model.chatTemplate === 'none' ? 'chatml' : runnerTemplateFor(model.chatTemplate);
    const name = model.displayName ?? model.id;
    const what = present
      ? `\`chat_template: model\` uses the tokenizer's own template, but ${name} is a base model: its tokenizer often has no template (the run stops) and, where it has one, the model never trained on its role tokens.`
      : `${name} is a base model and \`data.chat_template\` is not set: the runner falls back to the tokenizer's own template, which base tokenizers often lack (the run stops), and the choice decides the prompt format at inference.`;
    const advice = suggested
      ? ` Set \`chat_template: ${suggested}\`${model.chatTemplate === 'none' ? '' : ", the model family's template"}, and use the same at inference.`
      : ` Give the family's template as a Jinja string (the runner has no built-in ${model.chatTemplate} template), and use the same at inference.`;
    return [
      {
        message: what + advice,
        range: reportRange(ctx, ['data', 'chat_template']),
        fixes: suggested
          ? [
              {
                title: `Set \`chat_template: ${suggested}\``,
                edits: ctx.edit.set(['data'], 'chat_template', suggested),
                preferred: true,
              },
            ]
          : undefined,
      },
    ];
  },
};
