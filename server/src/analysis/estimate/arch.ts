// What the estimator needs from a model's architecture: the linear modules of
// one decoder layer with their real shapes, and the parameter count split by
// where each parameter lives (embeddings, lm_head, norms and biases, linear
// weights), because QLoRA stores each group differently.
//
// The shapes follow the Hugging Face layouts (Llama-like by default; Qwen2
// q/k/v biases; Qwen3/Gemma 3 q/k norms; Gemma 2/3 four norms a layer; Phi-3
// fused projections; MoE experts). The models catalog derives the same
// numbers; this module reads the optional layout fields when present so that
// `model.architecture` overrides are honoured too.

import type { ModelArchitecture } from '../models/types';

/** Optional layout details some architectures carry (absent: the family's default). */
interface LayoutFields {
  attentionBias?: 'none' | 'qkv' | 'all';
  qkNorm?: boolean;
  normsPerLayer?: number;
  moeIntermediateSize?: number;
}

export interface LinearShape {
  name: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  /** Instances per layer (experts for MoE expert modules). */
  count: number;
  /** Instances a token passes through (top-k for experts, else count). */
  activePerToken: number;
}

export interface Layout {
  hidden: number;
  layers: number;
  qWidth: number;
  kvWidth: number;
  heads: number;
  headDim: number;
  /** MLP width a token passes through (top-k × expert width for MoE). */
  mlpWidthPerToken: number;
  vocab: number;
  tied: boolean;
  qkNorm: boolean;
  normsPerLayer: number;
  fused: boolean;
  /** Final-logit softcapping in the forward (Gemma 2). */
  logitSoftcap: boolean;
  linears: LinearShape[];
}

const FAMILY_DEFAULTS: Record<string, LayoutFields & { fused?: boolean; logitSoftcap?: boolean }> =
  {
    qwen2: { attentionBias: 'qkv' },
    qwen2_moe: { attentionBias: 'qkv' },
    qwen3: { qkNorm: true },
    qwen3_moe: { qkNorm: true },
    gemma2: { normsPerLayer: 4, logitSoftcap: true },
    gemma3: { normsPerLayer: 4, qkNorm: true },
    gemma3_text: { normsPerLayer: 4, qkNorm: true },
    phi3: { fused: true },
  };

const EXPERT_NAMES: Record<string, [string, string, string]> = {
  mixtral: ['w1', 'w3', 'w2'],
};

export function layoutOf(model: ModelArchitecture): Layout {
  const extra = model as ModelArchitecture & LayoutFields;
  const defaults = FAMILY_DEFAULTS[model.family] ?? {};
  const attentionBias = extra.attentionBias ?? defaults.attentionBias ?? 'none';
  const qkNorm = extra.qkNorm ?? defaults.qkNorm ?? false;
  const normsPerLayer = extra.normsPerLayer ?? defaults.normsPerLayer ?? 2;
  const fused = defaults.fused ?? false;
  const hidden = model.hiddenSize;
  const headDim = model.headDim || hidden / model.numAttentionHeads;
  const qWidth = model.numAttentionHeads * headDim;
  const kvWidth = model.numKeyValueHeads * headDim;
  const qkvBias = attentionBias !== 'none';
  const linear = (
    name: string,
    inFeatures: number,
    outFeatures: number,
    bias = false,
    count = 1,
    activePerToken = count,
  ): LinearShape => ({ name, inFeatures, outFeatures, bias, count, activePerToken });

  const linears: LinearShape[] = fused
    ? [linear('qkv_proj', hidden, qWidth + 2 * kvWidth, qkvBias)]
    : [
        linear('q_proj', hidden, qWidth, qkvBias),
        linear('k_proj', hidden, kvWidth, qkvBias),
        linear('v_proj', hidden, kvWidth, qkvBias),
      ];
  linears.push(linear('o_proj', qWidth, hidden, attentionBias === 'all'));

  let mlpWidthPerToken = model.intermediateSize;
  const experts = model.numExperts ?? 0;
  if (experts > 0) {
    const width = extra.moeIntermediateSize ?? model.intermediateSize;
    const topK = Math.min(experts, model.numExpertsPerToken ?? 2);
    const [gate, up, down] = EXPERT_NAMES[model.family] ?? ['gate_proj', 'up_proj', 'down_proj'];
    linears.push(linear('gate', hidden, experts));
    linears.push(linear(gate, hidden, width, false, experts, topK));
    linears.push(linear(up, hidden, width, false, experts, topK));
    linears.push(linear(down, width, hidden, false, experts, topK));
    mlpWidthPerToken = topK * width;
  } else if (fused) {
    linears.push(linear('gate_up_proj', hidden, 2 * model.intermediateSize));
    linears.push(linear('down_proj', model.intermediateSize, hidden));
  } else {
    linears.push(linear('gate_proj', hidden, model.intermediateSize));
    linears.push(linear('up_proj', hidden, model.intermediateSize));
    linears.push(linear('down_proj', model.intermediateSize, hidden));
  }
  return {
    hidden,
    layers: model.numLayers,
    qWidth,
    kvWidth,
    heads: model.numAttentionHeads,
    headDim,
    mlpWidthPerToken,
    vocab: model.vocabSize,
    tied: model.tiedEmbeddings,
    qkNorm,
    normsPerLayer,
    fused,
    logitSoftcap: defaults.logitSoftcap ?? false,
    linears,
  };
}

/** Parameters by where they live. `total` counts tied embeddings once. */
export interface ParamGroups {
  embedding: number;
  /** 0 when tied to the embedding. */
  lmHead: number;
  /** Linear weights of all decoder layers (what 4-bit quantization packs). */
  linearWeights: number;
  /** Biases, norm weights and q/k norms: small vectors that stay 16-bit. */
  vectors: number;
  /** Linear weights + biases of one decoder layer (all experts). */
  perLayer: number;
  total: number;
}

export function paramGroups(layout: Layout): ParamGroups {
  const embedding = layout.vocab * layout.hidden;
  const lmHead = layout.tied ? 0 : embedding;
  let weightsPerLayer = 0;
  let biasesPerLayer = 0;
  for (const l of layout.linears) {
    weightsPerLayer += l.inFeatures * l.outFeatures * l.count;
    if (l.bias) biasesPerLayer += l.outFeatures * l.count;
  }
  const normsPerLayer =
    layout.normsPerLayer * layout.hidden + (layout.qkNorm ? 2 * layout.headDim : 0);
  const linearWeights = layout.layers * weightsPerLayer;
  const vectors = layout.layers * (biasesPerLayer + normsPerLayer) + layout.hidden;
  return {
    embedding,
    lmHead,
    linearWeights,
    vectors,
    perLayer: weightsPerLayer + biasesPerLayer + normsPerLayer,
    total: embedding + lmHead + linearWeights + vectors,
  };
}

function leafName(target: string): string {
  const parts = target.split('.');
  return parts[parts.length - 1] ?? target;
}

/**
 * The linear modules LoRA wraps in each layer. 'all-linear' follows peft:
 * every linear module of the decoder layers (lm_head excluded; the MoE router
 * included). Names the model lacks match nothing.
 */
export function loraTargets(layout: Layout, targets: 'all-linear' | string[]): LinearShape[] {
  if (targets === 'all-linear') return layout.linears;
  const wanted = new Set(targets.map(leafName));
  return layout.linears.filter((l) => wanted.has(l.name));
}

/** LoRA A (in × r) and B (r × out) parameters over all layers. */
export function loraParams(layout: Layout, targets: LinearShape[], r: number): number {
  let perLayer = 0;
  for (const l of targets) perLayer += (l.inFeatures + l.outFeatures) * r * l.count;
  return layout.layers * perLayer;
}
