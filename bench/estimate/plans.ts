// From a measured row to what the estimator takes: the native config a user
// would write and its Plan, the model's architecture from the catalog, and the
// GPU the row was measured on.

import YAML from 'yaml';
import { type chainEdits, setKey } from '../../engine/src/edits';
import { findGpu } from '../../engine/src/hardware/gpus';
import type { GpuSpec } from '../../engine/src/hardware/types';
import { findCatalogModel } from '../../engine/src/models/catalog';
import type { ModelArchitecture } from '../../engine/src/models/types';
import { buildNativePlan } from '../../engine/src/nativePlan';
import type { Plan } from '../../engine/src/plan';
import { CUDA_CONTEXT_BYTES, TRAINING_WORKSPACE_BYTES } from '../../engine/src/estimate/overhead';
import { makePlan } from '../../engine/src/estimate/plan-defaults';
import type { Row } from './rows';
import { GiB } from './statistics';

/** CUDA context + workspaces outside max_memory_reserved (overhead.ts): device used = reserved + this. */
export const OUTSIDE_RESERVED_GIB = (CUDA_CONTEXT_BYTES + TRAINING_WORKSPACE_BYTES) / GiB;

/** The native config a row describes (what a user would write). */
export function rowToYaml(row: Row): string {
  const method = row.method;
  const fp32 = row.weights_dtype === 'fp32_amp_bf16';
  const bf16 = row.training_bf16 ? row.training_bf16 === 'true' : true;
  const numGpus = Number(row.num_gpus || 1);
  const lines = [
    `method: ${method}`,
    'model:',
    `  name_or_path: ${row.model_id}`,
    `  dtype: ${fp32 ? 'float32' : 'bfloat16'}`,
    '  attn_implementation: sdpa',
  ];
  if (method === 'qlora') {
    lines.push(
      'quantization:',
      '  load_in_4bit: true',
      '  bnb_4bit_quant_type: nf4',
      '  bnb_4bit_compute_dtype: bfloat16',
      '  bnb_4bit_use_double_quant: true',
      `prepare_model_for_kbit_training: ${row.prepare_kbit === 'false' ? 'false' : 'true'}`,
    );
  }
  if (method !== 'full') {
    const targets =
      row.lora_targets === 'all-linear'
        ? 'all-linear'
        : `[${row.lora_targets.split('+').join(', ')}]`;
    lines.push(
      'lora:',
      `  r: ${row.lora_r}`,
      `  lora_alpha: ${row.lora_alpha}`,
      `  lora_dropout: ${row.lora_dropout}`,
      `  target_modules: ${targets}`,
    );
  }
  lines.push(
    'data:',
    '  train_file: data/random.jsonl',
    '  format: text',
    `  max_length: ${row.seq_len}`,
    '  packing: false',
    'training:',
    '  output_dir: runs/bench',
    `  per_device_train_batch_size: ${row.micro_batch}`,
    '  gradient_accumulation_steps: 1',
    `  bf16: ${bf16}`,
    `  gradient_checkpointing: ${row.grad_ckpt}`,
    `  optim: ${row.optimizer}`,
    'hardware:',
    `  gpu: ${numGpus > 1 || row.__file.includes('multigpu') ? 'H200-141GB' : 'H100-80GB'}`,
    `  num_gpus: ${numGpus}`,
  );
  // the rows were measured with PyTorch's default allocator, not the runner's expandable segments
  lines.push('launch:', `  env: { PYTORCH_CUDA_ALLOC_CONF: "${DEFAULT_ALLOCATOR}" }`);
  if (numGpus > 1) {
    const backend = row.parallelism.startsWith('fsdp') ? 'fsdp' : 'ddp';
    lines.push(`  distributed: { backend: ${backend}, num_processes: ${numGpus} }`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The Plan of a row, through the real config path: the native YAML a user
 * would write (`rowToYaml`), parsed and mapped by the same `buildNativePlan`
 * the editor and the CLI use. `planFromRow` builds the Plan by hand; the bench
 * checks both give the same estimate on every row.
 */
export function planForRow(row: Row): Plan {
  return buildNativePlan(YAML.parse(rowToYaml(row)));
}

/** What measured runs that predate the runner's expandable segments are estimated with. */
export const DEFAULT_ALLOCATOR = 'expandable_segments:False';

/** The config edit that gives a measured run the allocator it had (none: the runner's own). */
export function allocatorEdits(allocator: string | undefined): Parameters<typeof chainEdits>[1] {
  return allocator
    ? [(p) => setKey(p, ['launch', 'env'], 'PYTORCH_CUDA_ALLOC_CONF', allocator)]
    : [];
}

export function planFromRow(row: Row): Plan {
  const method = row.method as 'full' | 'lora' | 'qlora';
  const numGpus = Number(row.num_gpus || 1);
  const plan = makePlan({
    method,
    model: row.model_id,
    dtype: row.weights_dtype === 'fp32_amp_bf16' ? 'float32' : 'bfloat16',
    r: row.lora_r ? Number(row.lora_r) : undefined,
    alpha: row.lora_alpha ? Number(row.lora_alpha) : undefined,
    dropout: row.lora_dropout ? Number(row.lora_dropout) : undefined,
    targets:
      method === 'full'
        ? undefined
        : row.lora_targets === 'all-linear'
          ? 'all-linear'
          : row.lora_targets.split('+'),
    maxLength: Number(row.seq_len),
    microBatch: Number(row.micro_batch),
    checkpointing: row.grad_ckpt === 'true',
    optimizer: row.optimizer,
    bf16: row.training_bf16 ? row.training_bf16 === 'true' : true,
    prepareKbit: row.prepare_kbit ? row.prepare_kbit === 'true' : true,
    numGpus,
    backend: numGpus > 1 ? (row.parallelism.startsWith('fsdp') ? 'fsdp' : 'ddp') : 'none',
  });
  return { ...plan, cudaAllocator: { expandableSegments: false, setting: DEFAULT_ALLOCATOR } };
}

export function modelForRow(row: Row): ModelArchitecture {
  const m = findCatalogModel(row.model_id);
  if (!m) throw new Error(`${row.model_id} is not in the models catalog`);
  return m;
}

function gpuOrThrow(id: string): GpuSpec {
  const g = findGpu(id);
  if (!g) throw new Error(`${id} is not in the GPU catalog`);
  return g;
}
export const H100 = gpuOrThrow('H100-80GB');
const H200 = gpuOrThrow('H200-141GB');

/** The measured machine: H100 80GB, or H200 for the two-GPU file. */
export function gpuForRow(row: Row): GpuSpec {
  return row.__file.includes('multigpu') ? H200 : H100;
}
