// What the rules and the estimator need to know about a model's architecture.
// Filled from the built-in catalog, a local config.json, or `model.architecture`.

export type ChatTemplateFamily =
  'llama-2' | 'llama-3' | 'chatml' | 'mistral' | 'gemma' | 'phi-3' | 'deepseek' | 'none';

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
  /** Short human name such as 'Llama 3.1 8B Instruct' (catalog entries). */
  displayName?: string;
  /** Marketed size such as '8B' or '30B-A3B' (catalog entries). */
  sizeLabel?: string;
  /**
   * Layer details that change the parameter count; absent means the family's
   * default (see `familyTraits` in params.ts). 'qkv': biases on q/k/v (Qwen2),
   * 'all': also on o_proj (a Llama config with `attention_bias: true`).
   */
  attentionBias?: 'none' | 'qkv' | 'all';
  /** RMSNorm over each head of q and k (Qwen3, Gemma 3). */
  qkNorm?: boolean;
  /** Norm weight vectors per decoder layer: 2 for Llama-like, 4 for Gemma 2/3. */
  normsPerLayer?: number;
  /** Per-expert MLP width when it differs from `intermediateSize` (Qwen3 MoE). */
  moeIntermediateSize?: number;
}
