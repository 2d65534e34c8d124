// The built-in catalog of popular models, base and instruct variants, looked
// up by Hub id. Lookup forgives case, a missing organisation
// (`Llama-3.1-8B`), and the spellings people actually use
// (`meta-llama/Meta-Llama-3.1-8B`, `Llama-2-7b` without `-hf`,
// `gemma-3-1b` without `-pt`, pre-quantized `-bnb-4bit` uploads).

import { DEEPSEEK_MODELS } from './catalog/deepseek';
import { GEMMA_MODELS } from './catalog/gemma';
import { LLAMA_MODELS } from './catalog/llama';
import { MISTRAL_MODELS } from './catalog/mistral';
import { PHI_MODELS } from './catalog/phi';
import { QWEN_MODELS } from './catalog/qwen';
import { SMOLLM_MODELS } from './catalog/smollm';
import type { ModelArchitecture } from './types';

export {
  countLoraParameters,
  countParameters,
  linearModuleNames,
  linearModuleShapes,
  type LinearModuleShape,
} from './params';

const CATALOG: readonly ModelArchitecture[] = [
  ...LLAMA_MODELS,
  ...QWEN_MODELS,
  ...MISTRAL_MODELS,
  ...GEMMA_MODELS,
  ...PHI_MODELS,
  ...SMOLLM_MODELS,
  ...DEEPSEEK_MODELS,
];

/** Every catalog entry, in family order. */
export function listCatalogModels(): readonly ModelArchitecture[] {
  return CATALOG;
}

// Suffixes that name the same architecture: Llama 2's `-hf`, Gemma 3's `-pt`,
// and pre-quantized re-uploads.
const EQUIVALENT_SUFFIXES = [/-unsloth-bnb-4bit$/, /-bnb-4bit$/, /-hf$/, /-pt$/];

/** The lookup key of a name: lowercase, no organisation, no `meta-` prefix, no equivalent suffix. */
export function catalogKey(nameOrId: string): string {
  let key = nameOrId.trim().toLowerCase().replace(/\\/g, '/');
  key = key.slice(key.lastIndexOf('/') + 1);
  key = key.replace(/[\s_]+/g, '-');
  key = key.replace(/^meta-(?=llama)/, '');
  for (const suffix of EQUIVALENT_SUFFIXES) key = key.replace(suffix, '');
  return key;
}

const byId = new Map<string, ModelArchitecture>();
const byKey = new Map<string, ModelArchitecture>();
for (const model of CATALOG) {
  byId.set(model.id.toLowerCase(), model);
  const key = catalogKey(model.id);
  // The first entry wins a shared key; catalog.test.ts checks there is none.
  if (!byKey.has(key)) byKey.set(key, model);
}

/** The catalog entry for a Hub id or a forgiving spelling of it, or undefined. */
export function findCatalogModel(id: string): ModelArchitecture | undefined {
  if (!id.trim()) return undefined;
  return byId.get(id.trim().toLowerCase()) ?? byKey.get(catalogKey(id));
}
