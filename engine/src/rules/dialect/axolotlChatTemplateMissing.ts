import { axolotlTemplateName } from '../../dialects/templates';
import { isRecord } from '../../parse';
import type { Rule } from '../rule';
import { keyRange, pathRange, rawValue, setTop } from './shared';

export const axolotlChatTemplateMissing: Rule = {
  code: 'axolotl-chat-template-missing',
  severity: 'warning',
  dialects: ['axolotl'],
  doc: {
    title: 'Axolotl chat datasets on a base model without a root `chat_template`',
    why: "A `type: chat_template` dataset without a template of its own uses the root `chat_template`, and when that is unset too Axolotl falls back to `tokenizer_default`: the template in the tokenizer's config. A base (not chat-tuned) model's tokenizer often has none, and Axolotl stops after loading with \"chat_template choice is tokenizer_default but tokenizer's chat_template is null\"; where it has one, the model never learned its turn tokens, and when Axolotl cannot find the assistant turns in what the template renders it masks every token, so training runs with a loss of 0 and learns nothing. The template chosen here is also the one inference must use.",
    fix: "Set the root `chat_template` to the model family's template (`llama3` for Llama 3, `chatml` for Qwen), and use the same at inference.",
    thresholds:
      'A dataset of `type: chat_template` without `chat_template` / `chat_template_jinja` of its own, the root `chat_template` missing or `tokenizer_default`, and a base model (catalog kind). Silent for instruct models and unknown models.',
  },
  check(ctx) {
    const datasets = rawValue(ctx, 'datasets');
    if (!Array.isArray(datasets)) return [];
    const index = datasets.findIndex(
      (d) =>
        isRecord(d) &&
        d.type === 'chat_template' &&
        (d.chat_template === undefined || d.chat_template === null) &&
        !d.chat_template_jinja,
    );
    if (index < 0 || rawValue(ctx, 'chat_template_jinja') !== undefined) return [];
    const root = rawValue(ctx, 'chat_template');
    if (root !== undefined && root !== 'tokenizer_default') return [];
    const model = ctx.model;
    if (!model || model.kind !== 'base') return [];
    const suggested = axolotlTemplateName(
      model.chatTemplate === 'none' ? 'chatml' : model.chatTemplate,
    );
    const name = model.displayName ?? model.id;
    const what =
      root === undefined
        ? `\`datasets[${index}]\` is \`type: chat_template\` and no \`chat_template\` is set, so Axolotl uses \`tokenizer_default\``
        : '`chat_template: tokenizer_default` uses';
    const advice = suggested
      ? ` Set \`chat_template: ${suggested}\`, the model family's template, and use the same at inference.`
      : " Set `chat_template` to the model family's template (or `jinja` with `chat_template_jinja`), and use the same at inference.";
    return [
      {
        message: `${what} the template of ${name}'s tokenizer, but it is a base model: its tokenizer may have none (Axolotl stops: "tokenizer's chat_template is null"), and where it has one the model never learned its turn tokens; when Axolotl cannot find the assistant turns it masks every token and the loss is 0.${advice}`,
        range:
          root === undefined
            ? pathRange(ctx, ['datasets', index, 'type'])
            : keyRange(ctx, 'chat_template'),
        fixes: suggested
          ? [
              {
                title: `Set \`chat_template: ${suggested}\``,
                edits: setTop(ctx, 'chat_template', suggested),
                preferred: true,
              },
            ]
          : undefined,
      },
    ];
  },
};
