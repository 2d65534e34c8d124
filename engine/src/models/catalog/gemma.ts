// Google Gemma 2 (model_type "gemma2") and Gemma 3 ("gemma3_text" for 1B;
// "gemma3" for 4B and up, which are multimodal: the numbers here are the
// text model's, from `text_config`). Both use 4 norms per layer and an
// explicit head_dim; Gemma 3 adds q/k norms. Embeddings are tied.

import { baseAndInstruct, type ModelShape } from './define';

const gemma2 = (shape: Omit<ModelShape, 'family' | 'tiedEmbeddings'>): ModelShape => ({
  family: 'gemma2',
  tiedEmbeddings: true,
  ...shape,
});
const gemma3 = (shape: Omit<ModelShape, 'family' | 'tiedEmbeddings'>): ModelShape => ({
  family: 'gemma3',
  tiedEmbeddings: true,
  ...shape,
});

const GEMMA_2_2B = gemma2({
  hiddenSize: 2304,
  numLayers: 26,
  numAttentionHeads: 8,
  numKeyValueHeads: 4,
  headDim: 256,
  intermediateSize: 9216,
  vocabSize: 256000,
});
const GEMMA_2_9B = gemma2({
  hiddenSize: 3584,
  numLayers: 42,
  numAttentionHeads: 16,
  numKeyValueHeads: 8,
  headDim: 256,
  intermediateSize: 14336,
  vocabSize: 256000,
});
const GEMMA_2_27B = gemma2({
  hiddenSize: 4608,
  numLayers: 46,
  numAttentionHeads: 32,
  numKeyValueHeads: 16,
  headDim: 128,
  intermediateSize: 36864,
  vocabSize: 256000,
});
const GEMMA_3_1B = gemma3({
  hiddenSize: 1152,
  numLayers: 26,
  numAttentionHeads: 4,
  numKeyValueHeads: 1,
  headDim: 256,
  intermediateSize: 6912,
  vocabSize: 262144,
});
// The multimodal sizes add image tokens to the vocabulary (262208).
const GEMMA_3_4B = gemma3({
  hiddenSize: 2560,
  numLayers: 34,
  numAttentionHeads: 8,
  numKeyValueHeads: 4,
  headDim: 256,
  intermediateSize: 10240,
  vocabSize: 262208,
});
const GEMMA_3_12B = gemma3({
  hiddenSize: 3840,
  numLayers: 48,
  numAttentionHeads: 16,
  numKeyValueHeads: 8,
  headDim: 256,
  intermediateSize: 15360,
  vocabSize: 262208,
});
const GEMMA_3_27B = gemma3({
  hiddenSize: 5376,
  numLayers: 62,
  numAttentionHeads: 32,
  numKeyValueHeads: 16,
  headDim: 128,
  intermediateSize: 21504,
  vocabSize: 262208,
});

const gemma = { chatTemplate: 'gemma' as const };

/** Gemma 2 base ids carry no suffix, Gemma 3 base ids end in `-pt`; both instruct ids end in `-it`. */
function gemmaPair(base: string, displayName: string, sizeLabel: string, shape: ModelShape) {
  const stem = base.replace(/-pt$/, '');
  return baseAndInstruct(
    { id: `google/${base}`, displayName, sizeLabel, ...gemma },
    { id: `google/${stem}-it`, suffix: 'IT' },
    shape,
  );
}

export const GEMMA_MODELS = [
  ...gemmaPair('gemma-2-2b', 'Gemma 2 2B', '2B', GEMMA_2_2B),
  ...gemmaPair('gemma-2-9b', 'Gemma 2 9B', '9B', GEMMA_2_9B),
  ...gemmaPair('gemma-2-27b', 'Gemma 2 27B', '27B', GEMMA_2_27B),
  ...gemmaPair('gemma-3-1b-pt', 'Gemma 3 1B', '1B', GEMMA_3_1B),
  ...gemmaPair('gemma-3-4b-pt', 'Gemma 3 4B', '4B', GEMMA_3_4B),
  ...gemmaPair('gemma-3-12b-pt', 'Gemma 3 12B', '12B', GEMMA_3_12B),
  ...gemmaPair('gemma-3-27b-pt', 'Gemma 3 27B', '27B', GEMMA_3_27B),
];
