// Mistral 7B, Mistral Nemo 12B (model_type "mistral") and Mixtral 8x7B
// ("mixtral": 8 experts named w1/w2/w3, 2 active per token, router `gate`).
// Numbers from each model's config.json on the Hub.

import { defineModel, type ModelLabel, type ModelShape } from './define';

const MISTRAL_7B_V0_1: ModelShape = {
  family: 'mistral',
  hiddenSize: 4096,
  numLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  intermediateSize: 14336,
  vocabSize: 32000,
  tiedEmbeddings: false,
};
// v0.3 extends the vocabulary to 32768 (control tokens for function calling).
const MISTRAL_7B_V0_3: ModelShape = { ...MISTRAL_7B_V0_1, vocabSize: 32768 };
// Nemo: head_dim 128 is set explicitly (32 × 128 = 4096 ≠ hidden 5120); Tekken 131k vocabulary.
const MISTRAL_NEMO_12B: ModelShape = {
  family: 'mistral',
  hiddenSize: 5120,
  numLayers: 40,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 14336,
  vocabSize: 131072,
  tiedEmbeddings: false,
};
const MIXTRAL_8X7B: ModelShape = {
  family: 'mixtral',
  hiddenSize: 4096,
  numLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  intermediateSize: 14336,
  vocabSize: 32000,
  tiedEmbeddings: false,
  numExperts: 8,
  numExpertsPerToken: 2,
};

function mistral(
  id: string,
  displayName: string,
  sizeLabel: string,
  kind: ModelLabel['kind'],
  shape: ModelShape,
) {
  return defineModel({ id, displayName, sizeLabel, kind, chatTemplate: 'mistral' }, shape);
}

export const MISTRAL_MODELS = [
  mistral('mistralai/Mistral-7B-v0.1', 'Mistral 7B v0.1', '7B', 'base', MISTRAL_7B_V0_1),
  mistral(
    'mistralai/Mistral-7B-Instruct-v0.1',
    'Mistral 7B Instruct v0.1',
    '7B',
    'instruct',
    MISTRAL_7B_V0_1,
  ),
  mistral(
    'mistralai/Mistral-7B-Instruct-v0.2',
    'Mistral 7B Instruct v0.2',
    '7B',
    'instruct',
    MISTRAL_7B_V0_1,
  ),
  mistral('mistralai/Mistral-7B-v0.3', 'Mistral 7B v0.3', '7B', 'base', MISTRAL_7B_V0_3),
  mistral(
    'mistralai/Mistral-7B-Instruct-v0.3',
    'Mistral 7B Instruct v0.3',
    '7B',
    'instruct',
    MISTRAL_7B_V0_3,
  ),
  mistral(
    'mistralai/Mistral-Nemo-Base-2407',
    'Mistral Nemo 12B Base',
    '12B',
    'base',
    MISTRAL_NEMO_12B,
  ),
  mistral(
    'mistralai/Mistral-Nemo-Instruct-2407',
    'Mistral Nemo 12B Instruct',
    '12B',
    'instruct',
    MISTRAL_NEMO_12B,
  ),
  mistral('mistralai/Mixtral-8x7B-v0.1', 'Mixtral 8x7B', '8x7B', 'base', MIXTRAL_8X7B),
  mistral(
    'mistralai/Mixtral-8x7B-Instruct-v0.1',
    'Mixtral 8x7B Instruct',
    '8x7B',
    'instruct',
    MIXTRAL_8X7B,
  ),
];
