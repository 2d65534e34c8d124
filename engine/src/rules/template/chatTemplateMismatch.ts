import type { QuickFix } from '../../types';
import type { Rule } from '../rule';
import { FAMILY_LABEL, isNamedTemplate, runnerTemplateFor } from './families';

export const chatTemplateMismatch: Rule = {
  code: 'chat-template-mismatch',
  severity: 'error',
  doc: {
    title: "A named chat template of another model family than the model's",
    why: "Each family marks turns with its own special tokens. An instruct model fine-tuned on another family's template loses what it learned about turns and stops at the wrong token; for any model the other family's special tokens (`<|im_start|>` on Llama, `<|start_header_id|>` on Qwen) are not in the vocabulary, so they are split into several plain-text tokens the model must learn from scratch. Inference engines (vLLM, Ollama, TGI) apply the tokenizer's own template, so the served model sees a format it was not trained on.",
    fix: "Set `data.chat_template` to the model family's template, or `model` (the tokenizer's own) for an instruct model.",
    thresholds:
      "Compares the named templates `llama-3`, `chatml`, `mistral`, `gemma`, `phi-3`, `llama-2`, `deepseek` with the family of the model (catalog, or detected from the tokenizer's template). Silent for `model`, for Jinja strings and when the model or its family is unknown.",
  },
  check(ctx) {
    const model = ctx.model;
    const named = ctx.value(['data', 'chat_template']);
    if (!model || model.chatTemplate === 'none' || !isNamedTemplate(named)) return [];
    if (named === model.chatTemplate) return [];
    const name = model.displayName ?? model.id;
    const family = runnerTemplateFor(model.chatTemplate);
    const instruct = model.kind === 'instruct';
    const fixes: QuickFix[] = [];
    if (family) {
      fixes.push({
        title: `Set \`chat_template: ${family}\``,
        edits: ctx.edit.replace(['data', 'chat_template'], family),
        preferred: true,
      });
    }
    if (instruct) {
      fixes.push({
        title: "Use the tokenizer's own template (`chat_template: model`)",
        edits: ctx.edit.replace(['data', 'chat_template'], 'model'),
        preferred: !family,
      });
    }
    const consequence = instruct
      ? `an instruct model fine-tuned on another family's template loses what it learned about turns, and the served model (inference engines apply its own template) sees a different format than in training`
      : `the template's special tokens are not in this model's vocabulary: they are split into plain-text pieces the model must learn from scratch, and inference engines will apply the family's template instead`;
    const advice = family
      ? `Set \`chat_template: ${family}\`${instruct ? ' (or `model`)' : ''}.`
      : instruct
        ? 'Set `chat_template: model`.'
        : `Give the family's template as a Jinja string.`;
    return [
      {
        message: `\`chat_template: ${named}\` is ${FAMILY_LABEL[named]}, but ${name} uses ${FAMILY_LABEL[model.chatTemplate]}: ${consequence}. ${advice}`,
        range: ctx.rangeAt(['data', 'chat_template']),
        fixes: fixes.length ? fixes : undefined,
      },
    ];
  },
};
