// Turns a Hugging Face config.json (or a `model.architecture` mapping with the
// same field names) into a ModelArchitecture, filling what the file leaves to
// the transformers defaults from the catalog. Shared by local directories,
// the config override and the Hub fetch.

import { findCatalogModel, listCatalogModels } from './catalog';
import { countParameters, linearModuleNames } from './params';
import type { ChatTemplateFamily, ModelArchitecture } from './types';

/** config.json keys of the numbers we need, and the field each one sets. */
const NUMERIC_KEYS = {
  hidden_size: 'hiddenSize',
  num_hidden_layers: 'numLayers',
  num_attention_heads: 'numAttentionHeads',
  num_key_value_heads: 'numKeyValueHeads',
  head_dim: 'headDim',
  intermediate_size: 'intermediateSize',
  vocab_size: 'vocabSize',
  // Mixtral spells the expert count num_local_experts, Qwen MoE num_experts.
  num_local_experts: 'numExperts',
  num_experts: 'numExperts',
  num_experts_per_tok: 'numExpertsPerToken',
  moe_intermediate_size: 'moeIntermediateSize',
} as const satisfies Record<string, keyof ModelArchitecture>;

type NumericField = (typeof NUMERIC_KEYS)[keyof typeof NUMERIC_KEYS];
const REQUIRED_KEYS = [
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'vocab_size',
] as const;

/** model_type values that share a layout with a catalog family. */
const FAMILY_ALIASES: Record<string, string> = { gemma3_text: 'gemma3' };

// Families whose config.json `attention_bias` puts a bias on q, k, v and o.
const ATTENTION_BIAS_FAMILIES = new Set([
  'llama',
  'qwen3',
  'qwen3_moe',
  'gemma',
  'gemma2',
  'gemma3',
]);

export type ArchitectureFields = Partial<ModelArchitecture>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The fields a config.json mapping states, or the key that is malformed.
 * Multimodal configs (Gemma 3 4B+) keep the language model under `text_config`.
 */
export function fieldsFromConfigJson(raw: Record<string, unknown>): {
  fields: ArchitectureFields;
  error?: string;
} {
  const source = isRecord(raw.text_config) ? { ...raw, ...raw.text_config } : raw;
  const fields: ArchitectureFields = {};
  const numbers = fields as Partial<Record<NumericField, number>>;
  for (const [key, field] of Object.entries(NUMERIC_KEYS) as [string, NumericField][]) {
    const value = source[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      return {
        fields,
        error: `${key} must be a non-negative integer, got ${JSON.stringify(value)}`,
      };
    }
    numbers[field] = value;
  }
  if (typeof source.model_type === 'string' && source.model_type) {
    fields.family = FAMILY_ALIASES[source.model_type] ?? source.model_type;
  }
  if (typeof source.tie_word_embeddings === 'boolean') {
    fields.tiedEmbeddings = source.tie_word_embeddings;
  }
  if (
    typeof source.attention_bias === 'boolean' &&
    ATTENTION_BIAS_FAMILIES.has(fields.family ?? 'llama')
  ) {
    fields.attentionBias = source.attention_bias ? 'all' : 'none';
  }
  // A dense model states num_experts 0 or leaves it out.
  if (fields.numExperts === 0) delete fields.numExperts;
  return { fields };
}

/** Which chat template family a Jinja template text belongs to, from its marker tokens. */
export function detectChatTemplateFamily(template: string): ChatTemplateFamily {
  // DeepSeek uses full-width bars: <｜User｜>, <｜Assistant｜>.
  if (template.includes('<｜User｜>') || template.includes('<｜Assistant｜>')) return 'deepseek';
  if (template.includes('<|start_header_id|>')) return 'llama-3';
  if (template.includes('<|im_start|>')) return 'chatml';
  if (template.includes('<start_of_turn>')) return 'gemma';
  if (template.includes('<|user|>') || template.includes('<|end|>')) return 'phi-3';
  // Llama 2 wraps the system prompt in <<SYS>>; Mistral has no system block.
  if (template.includes('[INST]')) return template.includes('<<SYS>>') ? 'llama-2' : 'mistral';
  return 'none';
}

/** Names of instruct / chat releases: `-Instruct`, `-chat`, Gemma's `-it`. */
export function nameSuggestsInstruct(name: string): boolean {
  return /instruct|chat|(^|[-_./])it($|[-_.])/i.test(name);
}

/**
 * The catalog entry that fills what a config.json leaves to defaults: by name
 * when the family agrees, else the one entry of that family with the same
 * width and depth (how Gemma 3's sparse `text_config` is completed).
 */
function catalogCompanion(fields: ArchitectureFields, names: string[]) {
  for (const name of names) {
    const byName = findCatalogModel(name);
    if (byName && (!fields.family || byName.family === fields.family)) return byName;
  }
  if (!fields.family || !fields.hiddenSize || !fields.numLayers) return undefined;
  return listCatalogModels().find(
    (model) =>
      model.family === fields.family &&
      model.hiddenSize === fields.hiddenSize &&
      model.numLayers === fields.numLayers,
  );
}

/** Fields a lower layer holds that depend on the family, dropped when a higher layer changes family. */
const FAMILY_BOUND_FIELDS = ['attentionBias', 'qkNorm', 'normsPerLayer'] as const;

/** Lays field sets over one another, lowest priority first. */
export function mergeFields(...layers: (ArchitectureFields | undefined)[]): ArchitectureFields {
  let merged: ArchitectureFields = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.family && merged.family && layer.family !== merged.family) {
      merged = { ...merged };
      for (const field of FAMILY_BOUND_FIELDS) delete merged[field];
    }
    merged = { ...merged, ...layer };
  }
  return merged;
}

export interface CompleteOptions {
  id: string;
  source: ModelArchitecture['source'];
  /** Names that may identify the model in the catalog (Hub id, directory name, _name_or_path). */
  names?: string[];
  /** The tokenizer's chat template text, when one was found. */
  chatTemplateText?: string;
}

/**
 * A full ModelArchitecture from config.json-style fields, completed from the
 * catalog where the fields are silent; an error names the keys still missing.
 */
export function architectureFromFields(
  fields: ArchitectureFields,
  options: CompleteOptions,
): { model?: ModelArchitecture; error?: string } {
  const names = options.names ?? [];
  const companion = catalogCompanion(fields, names);
  const merged = mergeFields(companion, fields);
  const family = merged.family ?? 'llama';

  const missing = REQUIRED_KEYS.filter(
    (key) => merged[NUMERIC_KEYS[key]] === undefined || merged[NUMERIC_KEYS[key]] === 0,
  );
  if (missing.length > 0) return { error: `missing ${missing.join(', ')}` };

  const hiddenSize = merged.hiddenSize as number;
  const numAttentionHeads = merged.numAttentionHeads as number;
  const headDim = merged.headDim || hiddenSize / numAttentionHeads;
  if (!Number.isInteger(headDim)) {
    return {
      error: `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numAttentionHeads}: give head_dim`,
    };
  }

  const templateFamily = options.chatTemplateText
    ? detectChatTemplateFamily(options.chatTemplateText)
    : undefined;
  const chatTemplate =
    templateFamily && templateFamily !== 'none'
      ? templateFamily
      : (companion?.chatTemplate ?? templateFamily ?? 'none');
  const kind = chooseKind(options, companion);

  const model: ModelArchitecture = {
    ...merged,
    id: options.id,
    family,
    hiddenSize,
    numLayers: merged.numLayers as number,
    numAttentionHeads,
    numKeyValueHeads: merged.numKeyValueHeads || numAttentionHeads,
    headDim,
    intermediateSize: merged.intermediateSize as number,
    vocabSize: merged.vocabSize as number,
    // transformers defaults: Gemma ties the lm_head, the other catalog families do not.
    tiedEmbeddings: merged.tiedEmbeddings ?? family.startsWith('gemma'),
    chatTemplate,
    kind,
    source: options.source,
    linearModules: [],
    paramsTotal: 0,
  };
  if (options.source !== 'catalog') {
    // Catalog labels describe the catalog model, not this one.
    delete model.displayName;
    delete model.sizeLabel;
  }
  model.linearModules = linearModuleNames(model);
  model.paramsTotal = countParameters(model);
  return { model };
}

/**
 * Base or instruct. With a catalog companion found by name, its kind (an
 * override keeps the model's identity); for local files, a chat template plus
 * an instruct-sounding name.
 */
function chooseKind(
  options: CompleteOptions,
  companion: ModelArchitecture | undefined,
): ModelArchitecture['kind'] {
  const names = options.names ?? [];
  const namedInCatalog = companion && names.some((name) => findCatalogModel(name) === companion);
  if (options.source === 'config.json' || options.source === 'hub') {
    if (!options.chatTemplateText) return 'base';
    if (names.some(nameSuggestsInstruct)) return 'instruct';
    return namedInCatalog ? companion.kind : 'base';
  }
  if (namedInCatalog) return companion.kind;
  return names.some(nameSuggestsInstruct) ? 'instruct' : 'base';
}
