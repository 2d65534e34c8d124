// The Plan reduced to what decides memory: method, storage dtypes, autocast,
// tokens per step, optimizer, attention kernel and parallelism. Defaults are
// those of the HF Trainer stack the measurements were taken on (transformers
// 5.17, peft 0.21, bitsandbytes 0.50, torch 2.11).

import type { Method, Plan } from '../plan';
import { expectedLongestOf, longestOf, type RunInputs } from './inputs';

/**
 * adamw: torch AdamW (states at the parameters' dtype); adamw-32bit:
 * bitsandbytes 32-bit AdamW (fp32 states); -8bit: bitsandbytes blockwise
 * 8-bit states. `paged` (RunSettings) puts bitsandbytes states in CUDA
 * managed memory.
 */
export type OptimizerKind =
  'adamw' | 'adamw-32bit' | 'adamw-8bit' | 'adafactor' | 'lion' | 'lion-8bit' | 'sgd';

export type Parallelism = 'single' | 'ddp' | 'fsdp' | 'zero1' | 'zero2' | 'zero3';

export interface RunSettings {
  method: Method;
  /** Bytes per stored base parameter (bf16/fp16: 2, fp32: 4). */
  weightBytes: 2 | 4;
  /** bf16/fp16 autocast around the forward (Trainer `bf16`/`fp16`). */
  autocast: boolean;
  /** Bytes of the compute dtype: 2 under autocast or with 16-bit weights, 4 in pure fp32. */
  computeBytes: 2 | 4;
  quant: { bits: 4 | 8; doubleQuant: boolean } | undefined;
  prepareKbit: boolean;
  lora:
    | {
        r: number;
        targets: 'all-linear' | string[];
        dropout: number;
        dora: boolean;
        modulesToSave: string[];
      }
    | undefined;
  /** `max_length`: rows are truncated to it; packed rows are filled to it. */
  maxLength: number;
  /** Tokens of the longest training row a micro-batch is padded to (max_length when packed). */
  seqLen: number;
  /** Why seqLen is what it is, in words (set when the data or packing decided it). */
  seqLenBasis: string | undefined;
  microBatch: number;
  /** Tokens in one micro-batch on one GPU: what the activation peak scales with. */
  tokens: number;
  packing: boolean;
  checkpointing: boolean;
  optimizer: OptimizerKind;
  /** torch AdamW implementation: fused (one kernel, no temporaries) or foreach (one temporary list). */
  fusedOptimizer: boolean;
  /** bitsandbytes paged optimizer: states in CUDA managed memory, outside PyTorch's allocator. */
  pagedOptimizer: boolean;
  attention: 'sdpa' | 'flash' | 'eager';
  numGpus: number;
  parallelism: Parallelism;
  /** The evaluation forward passes, when the config evaluates. */
  evaluation: EvaluationSettings | undefined;
  /** Notes on defaults taken where the plan was silent. */
  assumed: string[];
}

export interface EvaluationSettings {
  /** `per_device_eval_batch_size`, or the training micro-batch (the runner's default). */
  batch: number;
  batchSource: 'config' | 'training micro-batch';
  /** Tokens of the longest eval row (max_length when packed). */
  seqLen: number;
  tokens: number;
}

/** Sequence length assumed when the plan gives none (TRL's SFT default). */
export const DEFAULT_MAX_LENGTH = 1024;

export function methodOf(plan: Plan): Method {
  if (plan.method) return plan.method;
  if (plan.quantization) return 'qlora';
  if (plan.lora) return 'lora';
  return 'full';
}

/** The HF `optim` name (adamw_torch_fused, paged_adamw_8bit, adafactor, ...) by what it stores. */
export function optimizerKind(name: string): {
  kind: OptimizerKind;
  fused: boolean;
  paged: boolean;
} {
  const n = name.toLowerCase().replace(/-/g, '_');
  const paged = n.includes('paged');
  const bits8 = n.includes('8bit');
  if (n.includes('lion')) return { kind: bits8 ? 'lion-8bit' : 'lion', fused: true, paged };
  if (bits8 || n === 'adamw_bnb') return { kind: 'adamw-8bit', fused: true, paged };
  if (paged || n.includes('32bit')) return { kind: 'adamw-32bit', fused: true, paged };
  if (n.includes('adafactor')) return { kind: 'adafactor', fused: false, paged: false };
  if (n === 'sgd') return { kind: 'sgd', fused: false, paged: false };
  // adamw_torch_fused (the Trainer default on CUDA) runs one fused kernel;
  // adamw_torch, adamw_hf and others use the foreach implementation.
  return { kind: 'adamw', fused: n.includes('fused') || n === '', paged: false };
}

/**
 * Tokens a training row holds at the peak. Packed rows are full max_length
 * rows. Unpacked rows are padded to the longest of their micro-batch, and the
 * run meets the data's longest row sooner or later: that one sets the peak.
 */
function trainRowLength(
  maxLength: number,
  microBatch: number,
  packing: boolean,
  run: RunInputs | undefined,
): { seqLen: number; basis: string | undefined } {
  if (packing) return { seqLen: maxLength, basis: run && `packed rows of max_length ${maxLength}` };
  if (!run) return { seqLen: maxLength, basis: undefined };
  if (!run.train) {
    return {
      seqLen: maxLength,
      basis: `unpacked, data not read (${run.trainUnreadable ?? 'no data'}): every row assumed max_length ${maxLength}`,
    };
  }
  const longest = longestOf(run.train, maxLength);
  const typical = Math.round(expectedLongestOf(run.train.sorted, microBatch, maxLength));
  return {
    seqLen: longest,
    basis:
      `unpacked: rows padded to the longest of each micro-batch; the data's longest row, ${longest} tokens` +
      `${longest === maxLength ? ' (truncated at max_length)' : ` of max_length ${maxLength}`}, sets the peak` +
      ` (a typical micro-batch of ${microBatch} pads to ≈ ${typical})` +
      `; token counts from ${run.tokenSource ?? `chars-per-token ${run.charsPerToken}`}` +
      (run.train.partial ? ', from the first part of the file' : ''),
  };
}

function evaluationSettings(
  run: RunInputs | undefined,
  maxLength: number,
  microBatch: number,
  packing: boolean,
): EvaluationSettings | undefined {
  if (!run?.evaluates) return undefined;
  const batch = run.evalBatch ?? microBatch;
  const lengths = run.eval ?? run.train;
  const seqLen = packing || !lengths ? maxLength : longestOf(lengths, maxLength);
  return {
    batch,
    batchSource: run.evalBatch === undefined ? 'training micro-batch' : 'config',
    seqLen,
    tokens: batch * seqLen,
  };
}

export function resolveSettings(plan: Plan, run?: RunInputs): RunSettings {
  const assumed: string[] = [];
  const method = methodOf(plan);
  const weightBytes = plan.model.dtype === 'float32' ? 4 : 2;
  const autocast = plan.training.bf16 || plan.training.fp16;
  const computeBytes = autocast || weightBytes === 2 ? 2 : 4;
  let maxLength = plan.data.maxLength ?? 0;
  if (!(maxLength > 0)) {
    maxLength = DEFAULT_MAX_LENGTH;
    assumed.push(`max_length not set: assumed ${DEFAULT_MAX_LENGTH} tokens`);
  }
  const microBatch = Math.max(1, Math.floor(plan.training.microBatch || 1));
  const row = trainRowLength(maxLength, microBatch, plan.data.packing, run);
  const seqLen = row.seqLen;
  const quant =
    method === 'qlora'
      ? {
          bits: plan.quantization?.bits ?? 4,
          doubleQuant: plan.quantization?.doubleQuant ?? true,
        }
      : undefined;
  const lora =
    method === 'full'
      ? undefined
      : {
          r: plan.lora?.r ?? 16,
          targets: plan.lora?.targetModules ?? ['q_proj', 'v_proj'],
          dropout: plan.lora?.dropout ?? 0.05,
          dora: plan.lora?.useDora ?? false,
          modulesToSave: plan.lora?.modulesToSave ?? [],
        };
  if (lora && !plan.lora?.targetModules) {
    assumed.push('LoRA target_modules not set: peft defaults to q_proj and v_proj');
  }
  const opt = optimizerKind(plan.training.optimizer || 'adamw_torch_fused');
  const numGpus = Math.max(1, Math.floor(plan.hardware.numGpus || 1));
  let parallelism: Parallelism = 'single';
  if (numGpus > 1) {
    const backend = plan.distributed.backend;
    if (backend === 'fsdp') parallelism = 'fsdp';
    else if (backend === 'deepspeed' || plan.training.deepspeed) {
      const stage = plan.distributed.zeroStage ?? 2;
      parallelism = stage === 3 ? 'zero3' : stage === 1 ? 'zero1' : stage === 2 ? 'zero2' : 'ddp';
      if (plan.distributed.zeroStage === undefined) assumed.push('ZeRO stage not given: assumed 2');
    } else parallelism = 'ddp';
  }
  const attn = plan.model.attnImplementation;
  return {
    method,
    weightBytes,
    autocast,
    computeBytes,
    quant,
    prepareKbit: method === 'qlora' && plan.prepareKbit,
    lora,
    maxLength,
    seqLen,
    seqLenBasis: row.basis,
    microBatch,
    tokens: seqLen * microBatch,
    packing: plan.data.packing,
    checkpointing: plan.training.gradientCheckpointing,
    optimizer: opt.kind,
    fusedOptimizer: opt.fused,
    pagedOptimizer: opt.paged,
    attention: attn === 'flash_attention_2' ? 'flash' : attn === 'eager' ? 'eager' : 'sdpa',
    numGpus,
    parallelism,
    evaluation: evaluationSettings(run, maxLength, microBatch, plan.data.packing),
    assumed,
  };
}
