// Chat template names of Axolotl and LLaMA-Factory, and the template family
// (as the native `data.chat_template` spells it) each one renders.

/** Axolotl `chat_template` names (ChatTemplate enum) → family. */
const AXOLOTL_FAMILY: Record<string, string> = {
  llama3: 'llama-3',
  chatml: 'chatml',
  qwen_25: 'chatml',
  qwen3: 'chatml',
  qwen3_5: 'chatml',
  qwen2_vl: 'chatml',
  mistral_v1: 'mistral',
  mistral_v2v3: 'mistral',
  mistral_v3_tekken: 'mistral',
  mistral_v7_tekken: 'mistral',
  gemma: 'gemma',
  gemma3: 'gemma',
  gemma3n: 'gemma',
  gemma4: 'gemma',
  phi_3: 'phi-3',
  phi_35: 'phi-3',
  deepseek_v2: 'deepseek',
  deepseek_v3: 'deepseek',
  tokenizer_default: 'model',
};

/** Family → the Axolotl name a fix writes (only where one name is unambiguous). */
const AXOLOTL_NAME: Record<string, string> = {
  'llama-3': 'llama3',
  chatml: 'chatml',
  gemma: 'gemma',
  'phi-3': 'phi_3',
  model: 'tokenizer_default',
};

/** LLaMA-Factory `template` names → family. */
const LLAMAFACTORY_FAMILY: Record<string, string> = {
  llama3: 'llama-3',
  llama2: 'llama-2',
  qwen: 'chatml',
  qwen3: 'chatml',
  qwen3_nothink: 'chatml',
  qwen2_vl: 'chatml',
  chatml: 'chatml',
  mistral: 'mistral',
  ministral: 'mistral',
  gemma: 'gemma',
  gemma2: 'gemma',
  gemma3: 'gemma',
  phi: 'phi-3',
  deepseek: 'deepseek',
  deepseek3: 'deepseek',
  deepseekr1: 'deepseek',
};

const LLAMAFACTORY_NAME: Record<string, string> = {
  'llama-3': 'llama3',
  'llama-2': 'llama2',
  chatml: 'chatml',
  mistral: 'mistral',
  gemma: 'gemma',
  'phi-3': 'phi',
};

/** The family an Axolotl template name renders; other names pass through unchanged. */
export function axolotlTemplateFamily(name: string): string {
  if (name.startsWith('tokenizer_default_fallback_')) return 'model';
  return AXOLOTL_FAMILY[name] ?? name;
}

export function axolotlTemplateName(family: string): string | undefined {
  return AXOLOTL_NAME[family];
}

export function llamafactoryTemplateFamily(name: string): string {
  return LLAMAFACTORY_FAMILY[name] ?? name;
}

export function llamafactoryTemplateName(family: string): string | undefined {
  return LLAMAFACTORY_NAME[family];
}
