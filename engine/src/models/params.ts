// Parameter counts derived from a model's architecture, module by module, so
// catalog entries, local config.json files and `model.architecture` overrides
// are all counted by the same code. Verified against real model instances
// (see catalog.test.ts): totals and peft LoRA counts match exactly.

import type { ModelArchitecture } from './types';

/** One linear module inside a decoder layer, with its real weight shape. */
export interface LinearModuleShape {
  /** The module's own name, as peft's `target_modules` matches it (e.g. 'q_proj'). */
  name: string;
  inFeatures: number;
  outFeatures: number;
  /** Whether the module has a bias vector (Qwen2 q/k/v). */
  bias: boolean;
  /** Instances per layer: 1, or the number of experts for MoE expert modules. */
  count: number;
}

/** What differs between families beyond the numbers in config.json. */
interface FamilyTraits {
  attentionBias: 'none' | 'qkv' | 'all';
  qkNorm: boolean;
  normsPerLayer: number;
  /** Phi-3 fuses q/k/v into `qkv_proj` and gate/up into `gate_up_proj`. */
  fused: boolean;
  /** Expert module names (gate, up, down) for MoE families. */
  expertNames: [string, string, string];
}

const LLAMA_LIKE: FamilyTraits = {
  attentionBias: 'none',
  qkNorm: false,
  normsPerLayer: 2,
  fused: false,
  expertNames: ['gate_proj', 'up_proj', 'down_proj'],
};

// Families not listed here are treated as Llama-like (the common HF layout).
const FAMILY_TRAITS: Record<string, Partial<FamilyTraits>> = {
  llama: {},
  mistral: {},
  qwen2: { attentionBias: 'qkv' },
  qwen3: { qkNorm: true },
  qwen3_moe: { qkNorm: true },
  mixtral: { expertNames: ['w1', 'w3', 'w2'] },
  gemma: {},
  // Gemma 2/3 wrap both attention and MLP in pre- and post-norms.
  gemma2: { normsPerLayer: 4 },
  gemma3: { normsPerLayer: 4, qkNorm: true },
  phi3: { fused: true },
};

/** The family's layout with the architecture's explicit fields laid over it. */
export function familyTraits(arch: Pick<ModelArchitecture, 'family'> & Partial<ModelArchitecture>) {
  const traits: FamilyTraits = { ...LLAMA_LIKE, ...(FAMILY_TRAITS[arch.family] ?? {}) };
  if (arch.attentionBias !== undefined) traits.attentionBias = arch.attentionBias;
  if (arch.qkNorm !== undefined) traits.qkNorm = arch.qkNorm;
  if (arch.normsPerLayer !== undefined) traits.normsPerLayer = arch.normsPerLayer;
  return traits;
}

/** True when the family's layer layout is known rather than assumed Llama-like. */
export function isKnownFamily(family: string): boolean {
  return family in FAMILY_TRAITS;
}

type ShapeInput = Pick<
  ModelArchitecture,
  | 'family'
  | 'hiddenSize'
  | 'numAttentionHeads'
  | 'numKeyValueHeads'
  | 'headDim'
  | 'intermediateSize'
  | 'numExperts'
  | 'moeIntermediateSize'
  | 'attentionBias'
>;

/** The linear modules of one decoder layer with their shapes, attention first. */
export function linearModuleShapes(arch: ShapeInput): LinearModuleShape[] {
  const traits = familyTraits(arch);
  const hidden = arch.hiddenSize;
  const qWidth = arch.numAttentionHeads * arch.headDim;
  const kvWidth = arch.numKeyValueHeads * arch.headDim;
  const qkvBias = traits.attentionBias !== 'none';
  const linear = (
    name: string,
    inFeatures: number,
    outFeatures: number,
    bias = false,
    count = 1,
  ) => ({
    name,
    inFeatures,
    outFeatures,
    bias,
    count,
  });

  const shapes: LinearModuleShape[] = traits.fused
    ? [linear('qkv_proj', hidden, qWidth + 2 * kvWidth, qkvBias)]
    : [
        linear('q_proj', hidden, qWidth, qkvBias),
        linear('k_proj', hidden, kvWidth, qkvBias),
        linear('v_proj', hidden, kvWidth, qkvBias),
      ];
  shapes.push(linear('o_proj', qWidth, hidden, traits.attentionBias === 'all'));

  if (arch.numExperts && arch.numExperts > 0) {
    const experts = arch.numExperts;
    const width = arch.moeIntermediateSize ?? arch.intermediateSize;
    const [gate, up, down] = traits.expertNames;
    // The router is a plain linear layer named `gate` (hidden → one logit per expert).
    shapes.push(linear('gate', hidden, experts));
    shapes.push(linear(gate, hidden, width, false, experts));
    shapes.push(linear(up, hidden, width, false, experts));
    shapes.push(linear(down, width, hidden, false, experts));
  } else if (traits.fused) {
    shapes.push(linear('gate_up_proj', hidden, 2 * arch.intermediateSize));
    shapes.push(linear('down_proj', arch.intermediateSize, hidden));
  } else {
    shapes.push(linear('gate_proj', hidden, arch.intermediateSize));
    shapes.push(linear('up_proj', hidden, arch.intermediateSize));
    shapes.push(linear('down_proj', arch.intermediateSize, hidden));
  }
  return shapes;
}

/** Distinct linear module names of a decoder layer (what `target_modules` may name). */
export function linearModuleNames(arch: ShapeInput): string[] {
  return [...new Set(linearModuleShapes(arch).map((shape) => shape.name))];
}

export type ParamsInput = ShapeInput &
  Pick<
    ModelArchitecture,
    'numLayers' | 'vocabSize' | 'tiedEmbeddings' | 'qkNorm' | 'normsPerLayer'
  >;

/**
 * Total parameters: embeddings + per layer (linear weights and biases, q/k
 * norms, layer norms) + final norm + lm_head when not tied to the embeddings.
 */
export function countParameters(arch: ParamsInput): number {
  const traits = familyTraits(arch);
  const embeddings = arch.vocabSize * arch.hiddenSize;
  let perLayer = 0;
  for (const shape of linearModuleShapes(arch)) {
    const weights = shape.inFeatures * shape.outFeatures + (shape.bias ? shape.outFeatures : 0);
    perLayer += weights * shape.count;
  }
  if (traits.qkNorm) perLayer += 2 * arch.headDim;
  perLayer += traits.normsPerLayer * arch.hiddenSize;
  const finalNorm = arch.hiddenSize;
  const lmHead = arch.tiedEmbeddings ? 0 : embeddings;
  return embeddings + arch.numLayers * perLayer + finalNorm + lmHead;
}

/** The module's own name from a peft target such as 'self_attn.q_proj'. */
function leafName(target: string): string {
  const parts = target.split('.');
  return parts[parts.length - 1] ?? target;
}

/**
 * LoRA A (in × r) and B (r × out) parameters over the targeted linear modules
 * of every layer. 'all-linear' follows peft: every linear module of the
 * decoder layers, lm_head excluded. Names the model lacks count zero.
 */
export function countLoraParameters(
  arch: Pick<ModelArchitecture, 'numLayers'> & ShapeInput,
  r: number,
  targets: 'all-linear' | string[],
): number {
  const wanted = targets === 'all-linear' ? undefined : new Set(targets.map(leafName));
  let perLayer = 0;
  for (const shape of linearModuleShapes(arch)) {
    if (wanted && !wanted.has(shape.name)) continue;
    perLayer += (shape.inFeatures + shape.outFeatures) * r * shape.count;
  }
  return arch.numLayers * perLayer;
}
