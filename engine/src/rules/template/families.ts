// Chat template names as `data.chat_template` spells them, and how they map
// onto the model catalog's template families.

import type { ChatTemplateFamily } from '../../models/types';

/** Named templates the runner renders itself (runner/tunelab_runner/config.py NAMED_TEMPLATES). */
export const RUNNER_TEMPLATES = ['llama-3', 'chatml', 'mistral', 'gemma', 'phi-3'] as const;

/** Every family name the rules recognise in `data.chat_template` (the runner renders the first five). */
export const TEMPLATE_FAMILIES = [...RUNNER_TEMPLATES, 'llama-2', 'deepseek'] as const;

export type NamedTemplate = (typeof TEMPLATE_FAMILIES)[number];

export function isNamedTemplate(value: unknown): value is NamedTemplate {
  return typeof value === 'string' && (TEMPLATE_FAMILIES as readonly string[]).includes(value);
}

/** The template name to set for a model family, when the runner can render it by name. */
export function runnerTemplateFor(family: ChatTemplateFamily): string | undefined {
  return (RUNNER_TEMPLATES as readonly string[]).includes(family) ? family : undefined;
}

/** How a template family is named in messages. */
export const FAMILY_LABEL: Record<ChatTemplateFamily, string> = {
  'llama-2': 'the Llama 2 chat format (`[INST]`, `<<SYS>>`)',
  'llama-3': 'the Llama 3 format (`<|start_header_id|>`, `<|eot_id|>`)',
  chatml: 'ChatML (`<|im_start|>`, `<|im_end|>`: Qwen, SmolLM)',
  mistral: 'the Mistral format (`[INST]` … `[/INST]`)',
  gemma: 'the Gemma format (`<start_of_turn>`, `<end_of_turn>`)',
  'phi-3': 'the Phi-3 format (`<|user|>`, `<|end|>`)',
  deepseek: 'the DeepSeek format (`<｜User｜>`, `<｜Assistant｜>`)',
  none: 'no known chat format',
};
