// What the estimator needs from a model's architecture: the linear modules of
// one decoder layer with their real shapes (from the models catalog's
// `linearModuleShapes`, the same code that counts parameters), the layer
// traits that change activations (q/k norms, norms per layer, fused
// projections, MoE routing, Gemma 2's logit softcapping), and the parameter
// count split by where each parameter lives, because QLoRA stores each group
// differently.

import { familyTraits, linearModuleShapes } from '../models/params';
import type { ModelArchitecture } from '../models/types';

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
  /** Final-logit (and, in eager attention, attention-logit) softcapping (Gemma 2). */
  logitSoftcap: boolean;
  linears: LinearShape[];
}

/** Families whose forward softcaps the final logits (config `final_logit_softcapping`). */
const LOGIT_SOFTCAP_FAMILIES = new Set(['gemma2']);

export function layoutOf(model: ModelArchitecture): Layout {
  const traits = familyTraits(model);
  const headDim = model.headDim || model.hiddenSize / model.numAttentionHeads;
  const arch = { ...model, headDim };
  const experts = model.numExperts ?? 0;
  const topK = Math.min(experts, model.numExpertsPerToken ?? 2);
  const linears: LinearShape[] = linearModuleShapes(arch).map((l) => ({
    ...l,
    activePerToken: l.count > 1 ? topK : l.count,
  }));
  const mlpWidthPerToken =
    experts > 0
      ? topK * (model.moeIntermediateSize ?? model.intermediateSize)
      : model.intermediateSize;
  return {
    hidden: model.hiddenSize,
    layers: model.numLayers,
    qWidth: model.numAttentionHeads * headDim,
    kvWidth: model.numKeyValueHeads * headDim,
    heads: model.numAttentionHeads,
    headDim,
    mlpWidthPerToken,
    vocab: model.vocabSize,
    tied: model.tiedEmbeddings,
    qkNorm: traits.qkNorm,
    normsPerLayer: traits.normsPerLayer,
    fused: traits.fused,
    logitSoftcap: LOGIT_SOFTCAP_FAMILIES.has(model.family),
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
