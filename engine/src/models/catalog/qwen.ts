// Qwen2, Qwen2.5 (model_type "qwen2": q/k/v biases) and Qwen3 ("qwen3": no
// biases, q/k norms; "qwen3_moe" for 30B-A3B). Numbers from each model's
// config.json on the Hub. Qwen3 names the post-trained model without a suffix
// and the pretrained one `-Base`.

import { baseAndInstruct, defineModel, type ModelShape } from './define';

const qwen2 = (shape: Omit<ModelShape, 'family'>): ModelShape => ({ family: 'qwen2', ...shape });
const qwen3 = (shape: Omit<ModelShape, 'family'>): ModelShape => ({ family: 'qwen3', ...shape });

// Shapes shared by Qwen2 and Qwen2.5 at the same size.
export const QWEN2_0_5B_SHAPE = qwen2({
  hiddenSize: 896,
  numLayers: 24,
  numAttentionHeads: 14,
  numKeyValueHeads: 2,
  intermediateSize: 4864,
  vocabSize: 151936,
  tiedEmbeddings: true,
});
export const QWEN2_1_5B_SHAPE = qwen2({
  hiddenSize: 1536,
  numLayers: 28,
  numAttentionHeads: 12,
  numKeyValueHeads: 2,
  intermediateSize: 8960,
  vocabSize: 151936,
  tiedEmbeddings: true,
});
export const QWEN2_7B_SHAPE = qwen2({
  hiddenSize: 3584,
  numLayers: 28,
  numAttentionHeads: 28,
  numKeyValueHeads: 4,
  intermediateSize: 18944,
  vocabSize: 152064,
  tiedEmbeddings: false,
});
const QWEN2_72B_SHAPE = qwen2({
  hiddenSize: 8192,
  numLayers: 80,
  numAttentionHeads: 64,
  numKeyValueHeads: 8,
  intermediateSize: 29568,
  vocabSize: 152064,
  tiedEmbeddings: false,
});
const QWEN2_5_3B_SHAPE = qwen2({
  hiddenSize: 2048,
  numLayers: 36,
  numAttentionHeads: 16,
  numKeyValueHeads: 2,
  intermediateSize: 11008,
  vocabSize: 151936,
  tiedEmbeddings: true,
});
export const QWEN2_5_14B_SHAPE = qwen2({
  hiddenSize: 5120,
  numLayers: 48,
  numAttentionHeads: 40,
  numKeyValueHeads: 8,
  intermediateSize: 13824,
  vocabSize: 152064,
  tiedEmbeddings: false,
});
export const QWEN2_5_32B_SHAPE = qwen2({
  hiddenSize: 5120,
  numLayers: 64,
  numAttentionHeads: 40,
  numKeyValueHeads: 8,
  intermediateSize: 27648,
  vocabSize: 152064,
  tiedEmbeddings: false,
});

// Qwen3 sets head_dim 128 explicitly, whatever the hidden size.
const QWEN3_0_6B_SHAPE = qwen3({
  hiddenSize: 1024,
  numLayers: 28,
  numAttentionHeads: 16,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 3072,
  vocabSize: 151936,
  tiedEmbeddings: true,
});
const QWEN3_1_7B_SHAPE = qwen3({
  hiddenSize: 2048,
  numLayers: 28,
  numAttentionHeads: 16,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 6144,
  vocabSize: 151936,
  tiedEmbeddings: true,
});
const QWEN3_4B_SHAPE = qwen3({
  hiddenSize: 2560,
  numLayers: 36,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 9728,
  vocabSize: 151936,
  tiedEmbeddings: true,
});
const QWEN3_8B_SHAPE = qwen3({
  hiddenSize: 4096,
  numLayers: 36,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 12288,
  vocabSize: 151936,
  tiedEmbeddings: false,
});
const QWEN3_14B_SHAPE = qwen3({
  hiddenSize: 5120,
  numLayers: 40,
  numAttentionHeads: 40,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 17408,
  vocabSize: 151936,
  tiedEmbeddings: false,
});
const QWEN3_32B_SHAPE = qwen3({
  hiddenSize: 5120,
  numLayers: 64,
  numAttentionHeads: 64,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 25600,
  vocabSize: 151936,
  tiedEmbeddings: false,
});
// 128 experts of width 768, 8 active per token; every layer is sparse.
const QWEN3_30B_A3B_SHAPE: ModelShape = {
  family: 'qwen3_moe',
  hiddenSize: 2048,
  numLayers: 48,
  numAttentionHeads: 32,
  numKeyValueHeads: 4,
  headDim: 128,
  intermediateSize: 6144,
  moeIntermediateSize: 768,
  numExperts: 128,
  numExpertsPerToken: 8,
  vocabSize: 151936,
  tiedEmbeddings: false,
};

const chatml = { chatTemplate: 'chatml' as const };

/** Qwen2 / Qwen2.5: `Qwen/<name>` and `Qwen/<name>-Instruct`. */
function qwenPair(name: string, displayName: string, sizeLabel: string, shape: ModelShape) {
  return baseAndInstruct(
    { id: `Qwen/${name}`, displayName, sizeLabel, ...chatml },
    { id: `Qwen/${name}-Instruct` },
    shape,
  );
}

/** Qwen3: `Qwen/<name>-Base` (pretrained) and `Qwen/<name>` (post-trained). */
function qwen3Pair(name: string, sizeLabel: string, shape: ModelShape) {
  const label = { sizeLabel, ...chatml };
  return [
    defineModel(
      { id: `Qwen/${name}-Base`, displayName: `Qwen3 ${sizeLabel} Base`, kind: 'base', ...label },
      shape,
    ),
    defineModel(
      { id: `Qwen/${name}`, displayName: `Qwen3 ${sizeLabel}`, kind: 'instruct', ...label },
      shape,
    ),
  ];
}

function qwen3Instruct2507(name: string, sizeLabel: string, shape: ModelShape) {
  return defineModel(
    {
      id: `Qwen/${name}-Instruct-2507`,
      displayName: `Qwen3 ${sizeLabel} Instruct 2507`,
      sizeLabel,
      kind: 'instruct',
      ...chatml,
    },
    shape,
  );
}

export const QWEN_MODELS = [
  ...qwenPair('Qwen2-0.5B', 'Qwen2 0.5B', '0.5B', QWEN2_0_5B_SHAPE),
  ...qwenPair('Qwen2-1.5B', 'Qwen2 1.5B', '1.5B', QWEN2_1_5B_SHAPE),
  ...qwenPair('Qwen2-7B', 'Qwen2 7B', '7B', QWEN2_7B_SHAPE),
  ...qwenPair('Qwen2-72B', 'Qwen2 72B', '72B', QWEN2_72B_SHAPE),
  ...qwenPair('Qwen2.5-0.5B', 'Qwen2.5 0.5B', '0.5B', QWEN2_0_5B_SHAPE),
  ...qwenPair('Qwen2.5-1.5B', 'Qwen2.5 1.5B', '1.5B', QWEN2_1_5B_SHAPE),
  ...qwenPair('Qwen2.5-3B', 'Qwen2.5 3B', '3B', QWEN2_5_3B_SHAPE),
  ...qwenPair('Qwen2.5-7B', 'Qwen2.5 7B', '7B', QWEN2_7B_SHAPE),
  ...qwenPair('Qwen2.5-14B', 'Qwen2.5 14B', '14B', QWEN2_5_14B_SHAPE),
  ...qwenPair('Qwen2.5-32B', 'Qwen2.5 32B', '32B', QWEN2_5_32B_SHAPE),
  ...qwenPair('Qwen2.5-72B', 'Qwen2.5 72B', '72B', QWEN2_72B_SHAPE),
  ...qwen3Pair('Qwen3-0.6B', '0.6B', QWEN3_0_6B_SHAPE),
  ...qwen3Pair('Qwen3-1.7B', '1.7B', QWEN3_1_7B_SHAPE),
  ...qwen3Pair('Qwen3-4B', '4B', QWEN3_4B_SHAPE),
  ...qwen3Pair('Qwen3-8B', '8B', QWEN3_8B_SHAPE),
  ...qwen3Pair('Qwen3-14B', '14B', QWEN3_14B_SHAPE),
  ...qwen3Pair('Qwen3-32B', '32B', QWEN3_32B_SHAPE),
  ...qwen3Pair('Qwen3-30B-A3B', '30B-A3B', QWEN3_30B_A3B_SHAPE),
  qwen3Instruct2507('Qwen3-4B', '4B', QWEN3_4B_SHAPE),
  qwen3Instruct2507('Qwen3-30B-A3B', '30B-A3B', QWEN3_30B_A3B_SHAPE),
];
