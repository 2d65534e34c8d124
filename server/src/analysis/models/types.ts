// What the rules and the estimator need to know about a model's architecture.
// Filled from the built-in catalog, a local config.json, or `model.architecture`.

export type ChatTemplateFamily =
  | 'llama-2'
  | 'llama-3'
  | 'chatml'
  | 'mistral'
  | 'gemma'
  | 'phi-3'
  | 'deepseek'
  | 'none';

export interface ModelArchitecture {
  /** Hub id or the local path it was read from. */
  id: string;
  /** Model family, e.g. 'llama', 'qwen2', 'mistral', 'mixtral', 'gemma2', 'phi3'. */
  family: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  /** Per-head dimension (hidden / heads unless the config says otherwise, e.g. Gemma). */
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  tiedEmbeddings: boolean;
  /** Total parameter count (embeddings included, tied counted once). */
  paramsTotal: number;
  /** Names of the linear modules inside each decoder layer that LoRA can target. */
  linearModules: string[];
  /** Mixture of experts: number of experts and experts active per token (absent for dense). */
  numExperts?: number;
  numExpertsPerToken?: number;
  chatTemplate: ChatTemplateFamily;
  /** Base (pretrained) or instruct (chat-tuned). */
  kind: 'base' | 'instruct';
  /** Where the facts came from. */
  source: 'catalog' | 'config.json' | 'config' | 'hub';
}
