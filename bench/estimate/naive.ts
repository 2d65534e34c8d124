// What the estimator is compared with: bytes-per-parameter rules of thumb and
// gpu_poor's formula.

import type { ModelArchitecture } from '../../engine/src/models/types';
import type { Row } from './rows';
import { GiB } from './statistics';

export function naiveLora(row: Row): number {
  return (2.5 * Number(row.params_total)) / GiB;
}
export function naiveFull(row: Row): number {
  return (14 * Number(row.params_total)) / GiB;
}
export function naiveQlora(row: Row): number {
  return (0.7 * Number(row.params_total)) / GiB + 2;
}
/** The rule of thumb for the row's method. */
export function naiveRule(row: Row): number {
  if (row.method === 'full') return naiveFull(row);
  if (row.method === 'qlora') return naiveQlora(row);
  return naiveLora(row);
}

/**
 * gpu_poor's training formula (github.com/RahulSChand/gpu_poor, src/App.js),
 * re-derived from its description: params = V·h·2 + L·(4h² + 3·I·h); weights
 * at 2 B (QLoRA: a quarter, minus absmax credit, +6%); activations per layer
 * from h, I, heads and the sequence length (×0.15 with checkpointing);
 * gradients+Adam: full 3 × params × 2 B, LoRA a fixed L·8·h·2·4·3·2 bytes,
 * QLoRA L·8·h·0.5·4·3 + an empirical term; + 650 MiB overhead. Results in MiB.
 */
export function gpuPoor(row: Row, model: ModelArchitecture): number {
  const MiB = 1024 * 1024;
  const h = model.hiddenSize;
  const I = model.intermediateSize;
  const L = model.numLayers;
  const heads = model.numAttentionHeads;
  const V = model.vocabSize;
  const len = Number(row.seq_len);
  const batch = Number(row.micro_batch);
  const fB = 2;
  const params = V * h * 2 + L * 4 * h * h + L * 3 * I * h;
  let modelMiB = (params * fB) / MiB;
  if (row.method === 'qlora') modelMiB = modelMiB / 4 - (params * 2) / (64 * MiB) + 0.06 * modelMiB;
  const attn =
    len * h * 3 * fB +
    len * h * 2 * fB +
    len * len * heads * fB +
    len * len * heads * 4 +
    len * len * heads * fB +
    3 * len * h * fB;
  const ffn = 2 * h * len * fB + 5 * fB * len * I + I * len * fB;
  const norm = len * 4 * 2 + len * h * fB * 6;
  let act = ((attn + ffn + norm) * L * batch) / MiB;
  if (row.grad_ckpt === 'true') act *= 0.15;
  let gradOpt: number;
  if (row.method === 'full') gradOpt = params * 3 * fB;
  else if (row.method === 'lora') gradOpt = L * 8 * h * 2 * 4 * 3 * 2;
  else {
    const common = (15 * h + 6 * I) * L;
    const extra = 0.75 * common * 50 * Math.sqrt(Math.max(1, len / 50));
    gradOpt = L * 8 * h * 0.5 * 4 * 3 + extra * batch;
  }
  return (modelMiB + gradOpt / MiB + act + 650) / 1024;
}
