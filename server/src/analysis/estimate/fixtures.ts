// The four measured models and an H100, for the estimator's tests and bench.
// Test/bench support only: the product reads models from the catalog.

import type { GpuSpec } from '../hardware/types';
import type { ModelArchitecture } from '../models/types';

function model(
  id: string,
  family: string,
  hiddenSize: number,
  numLayers: number,
  numAttentionHeads: number,
  numKeyValueHeads: number,
  intermediateSize: number,
  vocabSize: number,
  tiedEmbeddings: boolean,
  paramsTotal: number,
): ModelArchitecture {
  return {
    id,
    family,
    hiddenSize,
    numLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim: hiddenSize / numAttentionHeads,
    intermediateSize,
    vocabSize,
    tiedEmbeddings,
    paramsTotal,
    linearModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    chatTemplate: family === 'qwen2' ? 'chatml' : 'llama-3',
    kind: 'base',
    source: 'config',
  };
}

export const FIXTURE_MODELS: Record<string, ModelArchitecture> = {
  'Qwen/Qwen2.5-0.5B': model(
    'Qwen/Qwen2.5-0.5B',
    'qwen2',
    896,
    24,
    14,
    2,
    4864,
    151936,
    true,
    494032768,
  ),
  'meta-llama/Llama-3.2-1B': model(
    'meta-llama/Llama-3.2-1B',
    'llama',
    2048,
    16,
    32,
    8,
    8192,
    128256,
    true,
    1235814400,
  ),
  'Qwen/Qwen2.5-7B': model(
    'Qwen/Qwen2.5-7B',
    'qwen2',
    3584,
    28,
    28,
    4,
    18944,
    152064,
    false,
    7615616512,
  ),
  'meta-llama/Llama-3.1-8B': model(
    'meta-llama/Llama-3.1-8B',
    'llama',
    4096,
    32,
    32,
    8,
    14336,
    128256,
    false,
    8030261248,
  ),
};

export const FIXTURE_H100: GpuSpec = {
  id: 'H100-80GB',
  name: 'NVIDIA H100 80GB',
  memoryBytes: 80 * 1024 ** 3,
  bf16: true,
  flashAttention: true,
  tflopsBf16: 989,
  computeCapability: 9.0,
};

export const FIXTURE_H200: GpuSpec = {
  id: 'H200',
  name: 'NVIDIA H200 141GB',
  memoryBytes: 141 * 1024 ** 3,
  bf16: true,
  flashAttention: true,
  tflopsBf16: 989,
  computeCapability: 9.0,
};
