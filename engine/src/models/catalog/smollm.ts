// Hugging Face SmolLM2 (model_type "llama", tied embeddings, 49k vocabulary,
// ChatML template). Numbers from each model's config.json on the Hub.

import { baseAndInstruct, type ModelShape } from './define';

const smol = (shape: Omit<ModelShape, 'family' | 'vocabSize' | 'tiedEmbeddings'>): ModelShape => ({
  family: 'llama',
  vocabSize: 49152,
  tiedEmbeddings: true,
  ...shape,
});

const SMOLLM2_135M = smol({
  hiddenSize: 576,
  numLayers: 30,
  numAttentionHeads: 9,
  numKeyValueHeads: 3,
  intermediateSize: 1536,
});
const SMOLLM2_360M = smol({
  hiddenSize: 960,
  numLayers: 32,
  numAttentionHeads: 15,
  numKeyValueHeads: 5,
  intermediateSize: 2560,
});
const SMOLLM2_1_7B = smol({
  hiddenSize: 2048,
  numLayers: 24,
  numAttentionHeads: 32,
  numKeyValueHeads: 32,
  intermediateSize: 8192,
});

function smolPair(size: string, shape: ModelShape) {
  return baseAndInstruct(
    {
      id: `HuggingFaceTB/SmolLM2-${size}`,
      displayName: `SmolLM2 ${size}`,
      sizeLabel: size,
      chatTemplate: 'chatml',
    },
    { id: `HuggingFaceTB/SmolLM2-${size}-Instruct` },
    shape,
  );
}

export const SMOLLM_MODELS = [
  ...smolPair('135M', SMOLLM2_135M),
  ...smolPair('360M', SMOLLM2_360M),
  ...smolPair('1.7B', SMOLLM2_1_7B),
];
