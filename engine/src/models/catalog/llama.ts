// Meta Llama 2, 3, 3.1, 3.2 and 3.3 (model_type "llama"). Numbers from each
// model's config.json on the Hub.

import { baseAndInstruct, defineModel, type ModelShape } from './define';

const llama = (shape: Omit<ModelShape, 'family'>): ModelShape => ({ family: 'llama', ...shape });

// Llama 2: 32k SentencePiece vocabulary, no GQA below 70B.
const LLAMA_2_7B = llama({
  hiddenSize: 4096,
  numLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 32,
  intermediateSize: 11008,
  vocabSize: 32000,
  tiedEmbeddings: false,
});
const LLAMA_2_13B = llama({
  hiddenSize: 5120,
  numLayers: 40,
  numAttentionHeads: 40,
  numKeyValueHeads: 40,
  intermediateSize: 13824,
  vocabSize: 32000,
  tiedEmbeddings: false,
});
const LLAMA_2_70B = llama({
  hiddenSize: 8192,
  numLayers: 80,
  numAttentionHeads: 64,
  numKeyValueHeads: 8,
  intermediateSize: 28672,
  vocabSize: 32000,
  tiedEmbeddings: false,
});

// Llama 3.x: 128k tiktoken vocabulary, GQA with 8 kv heads everywhere.
export const LLAMA_3_8B_SHAPE = llama({
  hiddenSize: 4096,
  numLayers: 32,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  intermediateSize: 14336,
  vocabSize: 128256,
  tiedEmbeddings: false,
});
export const LLAMA_3_70B_SHAPE = llama({
  hiddenSize: 8192,
  numLayers: 80,
  numAttentionHeads: 64,
  numKeyValueHeads: 8,
  intermediateSize: 28672,
  vocabSize: 128256,
  tiedEmbeddings: false,
});
const LLAMA_3_405B = llama({
  hiddenSize: 16384,
  numLayers: 126,
  numAttentionHeads: 128,
  numKeyValueHeads: 8,
  intermediateSize: 53248,
  vocabSize: 128256,
  tiedEmbeddings: false,
});
// Llama 3.2 small models tie the lm_head to the embeddings.
const LLAMA_3_2_1B = llama({
  hiddenSize: 2048,
  numLayers: 16,
  numAttentionHeads: 32,
  numKeyValueHeads: 8,
  headDim: 64,
  intermediateSize: 8192,
  vocabSize: 128256,
  tiedEmbeddings: true,
});
const LLAMA_3_2_3B = llama({
  hiddenSize: 3072,
  numLayers: 28,
  numAttentionHeads: 24,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 8192,
  vocabSize: 128256,
  tiedEmbeddings: true,
});

const llama2 = { chatTemplate: 'llama-2' as const };
const llama3 = { chatTemplate: 'llama-3' as const };

export const LLAMA_MODELS = [
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-2-7b-hf', displayName: 'Llama 2 7B', sizeLabel: '7B', ...llama2 },
    { id: 'meta-llama/Llama-2-7b-chat-hf', suffix: 'Chat' },
    LLAMA_2_7B,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-2-13b-hf', displayName: 'Llama 2 13B', sizeLabel: '13B', ...llama2 },
    { id: 'meta-llama/Llama-2-13b-chat-hf', suffix: 'Chat' },
    LLAMA_2_13B,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-2-70b-hf', displayName: 'Llama 2 70B', sizeLabel: '70B', ...llama2 },
    { id: 'meta-llama/Llama-2-70b-chat-hf', suffix: 'Chat' },
    LLAMA_2_70B,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Meta-Llama-3-8B', displayName: 'Llama 3 8B', sizeLabel: '8B', ...llama3 },
    { id: 'meta-llama/Meta-Llama-3-8B-Instruct' },
    LLAMA_3_8B_SHAPE,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Meta-Llama-3-70B', displayName: 'Llama 3 70B', sizeLabel: '70B', ...llama3 },
    { id: 'meta-llama/Meta-Llama-3-70B-Instruct' },
    LLAMA_3_70B_SHAPE,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-3.1-8B', displayName: 'Llama 3.1 8B', sizeLabel: '8B', ...llama3 },
    { id: 'meta-llama/Llama-3.1-8B-Instruct' },
    LLAMA_3_8B_SHAPE,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-3.1-70B', displayName: 'Llama 3.1 70B', sizeLabel: '70B', ...llama3 },
    { id: 'meta-llama/Llama-3.1-70B-Instruct' },
    LLAMA_3_70B_SHAPE,
  ),
  ...baseAndInstruct(
    {
      id: 'meta-llama/Llama-3.1-405B',
      displayName: 'Llama 3.1 405B',
      sizeLabel: '405B',
      ...llama3,
    },
    { id: 'meta-llama/Llama-3.1-405B-Instruct' },
    LLAMA_3_405B,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-3.2-1B', displayName: 'Llama 3.2 1B', sizeLabel: '1B', ...llama3 },
    { id: 'meta-llama/Llama-3.2-1B-Instruct' },
    LLAMA_3_2_1B,
  ),
  ...baseAndInstruct(
    { id: 'meta-llama/Llama-3.2-3B', displayName: 'Llama 3.2 3B', sizeLabel: '3B', ...llama3 },
    { id: 'meta-llama/Llama-3.2-3B-Instruct' },
    LLAMA_3_2_3B,
  ),
  defineModel(
    {
      id: 'meta-llama/Llama-3.3-70B-Instruct',
      displayName: 'Llama 3.3 70B Instruct',
      sizeLabel: '70B',
      kind: 'instruct',
      ...llama3,
    },
    LLAMA_3_70B_SHAPE,
  ),
];
