// The Plan reduced to what decides memory: method, storage dtypes, autocast,
// tokens per step, optimizer, attention kernel and parallelism. Defaults are
// those of the HF Trainer stack the measurements were taken on (transformers
// 5.17, peft 0.21, bitsandbytes 0.50, torch 2.11).

import { EVALUATION_DEFAULTS } from '../nativePlan';
import type { Method, Plan } from '../plan';
import { expectedLongestOf, longestOf, type RunInputs, type SampleLengths } from './inputs';

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
  /** QLoRA prepared by peft with its fp32 upcast of norms, embeddings and lm_head kept. */
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
  /**
   * Unpacked rows of real data: each micro-batch has its own length (the
   * allocator keeps a block per shape). False for packed rows and for a plan
   * estimated without its data (every row max_length).
   */
  rowsVary: boolean;
  /**
   * The export after training: `export.merge` (the runner's default merges
   * only `full`) and `export.dtype` (default bfloat16).
   */
  export: { merge: boolean; dtype: 'bfloat16' | 'float16' | 'float32' };
  checkpointing: boolean;
  optimizer: OptimizerKind;
  /** torch AdamW implementation: fused (one kernel, no temporaries) or foreach (one temporary list). */
  fusedOptimizer: boolean;
  /** bitsandbytes paged optimizer: states in CUDA managed memory, outside PyTorch's allocator. */
  pagedOptimizer: boolean;
  /** flex: PyTorch's FlexAttention (block mask; memory otherwise as sdpa's). */
  attention: 'sdpa' | 'flash' | 'eager' | 'flex';
  numGpus: number;
  parallelism: Parallelism;
  /** The evaluation forward passes, when the config evaluates. */
  evaluation: EvaluationSettings | undefined;
  /** The runner's evaluation after training, when it runs in the training process. */
  finalEvaluation: FinalEvaluationSettings | undefined;
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
  /** `evaluation.when: every_eval` with a forgetting file: its callback scores general rows after each evaluation. */
  forgettingEveryEval: boolean;
}

/**
 * The runner's evaluation after training (runner/tunelab_runner/evaluate.py),
 * run by `train` in-process for `evaluation.when: end | every_eval` on one
 * GPU, after it dropped the optimizer and the gradients. Its steps, one after
 * the other, on batches of `batch` rows: the loss over data.eval_file, replies
 * generated for the first task.max_samples prompts, the forgetting measure.
 */
export interface FinalEvaluationSettings {
  /** `per_device_eval_batch_size`, or the training micro-batch (the runner's default). */
  batch: number;
  batchSource: 'config' | 'training micro-batch';
  /** Loss over the eval rows (truncated at max_length, longest batch first): the longest row. */
  task: { seqLen: number } | undefined;
  generation:
    | {
        /** The longest eval row: prompts are not truncated and are left-padded to the batch's longest. */
        promptTokens: number;
        maxNewTokens: number;
        /** Sequences per prompt: `num_beams` or `num_return_sequences`, whichever is larger. */
        sequencesPerPrompt: number;
        /** `do_sample`: sampling sorts each step's logits. */
        sampling: boolean;
      }
    | undefined;
  /** Bits per byte on general rows (truncated at max_length), the tuned model then the base. */
  forgetting:
    | {
        /** The longest general row scored (at most max_length), or max_length when the file's lengths are not known. */
        seqLen: number;
        /** Rows of the first (longest) batch: the batch, or fewer when fewer rows are scored. */
        rows: number;
        /**
         * Whether seqLen comes from the file. When it does not (the file was
         * not read), the step is a bound the estimate names but does not
         * count in the peak.
         */
        lengthsKnown: boolean;
        /**
         * No adapter to switch off (full fine-tuning, or one merged by
         * export.merge): the base is loaded beside the tuned model.
         */
        loadsBase: boolean;
      }
    | undefined;
  /**
   * `export.merge` on LoRA / QLoRA: the export before this evaluation merged
   * the adapter, and the runner evaluates the merged model. `in-place`: LoRA,
   * merged into the trained weights (no adapter left); `reloaded`: QLoRA,
   * merged into a 16-bit copy of the base on the CPU and moved to the GPU
   * when it fits there (export.py), the 4-bit trained model still held by the
   * Trainer.
   */
  merged: 'in-place' | 'reloaded' | undefined;
  /** Where the lengths come from, in words. */
  lengthsBasis: string;
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

/** `export:` resolved with the runner's defaults (runner/tunelab_runner/run_plan.py). */
function exportSettings(plan: Plan, method: Method): RunSettings['export'] {
  return {
    merge: plan.export?.merge ?? method === 'full',
    dtype: plan.export?.dtype ?? 'bfloat16',
  };
}

/** The file the forgetting measure reads: `forgetting.file`, else data.general_data.file (the runner's default). */
function forgettingFile(plan: Plan): string | undefined {
  return plan.evaluation?.forgetting?.file ?? plan.data.generalDataFile;
}

function evaluationSettings(
  plan: Plan,
  run: RunInputs | undefined,
  maxLength: number,
  microBatch: number,
): EvaluationSettings | undefined {
  if (!run?.evaluates) return undefined;
  const batch = run.evalBatch ?? microBatch;
  const lengths = run.eval ?? run.train;
  const seqLen = plan.data.packing || !lengths ? maxLength : longestOf(lengths, maxLength);
  return {
    batch,
    batchSource: run.evalBatch === undefined ? 'training micro-batch' : 'config',
    seqLen,
    tokens: batch * seqLen,
    forgettingEveryEval:
      plan.evaluation?.when === 'every_eval' && forgettingFile(plan) !== undefined,
  };
}

/** A whole number ≥ 1 from a GenerationConfig argument, else undefined. */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

function lengthsBasisOf(run: RunInputs, lengths: SampleLengths | undefined): string {
  if (!lengths) return 'eval rows not read: max_length';
  const file = run.eval ? 'data.eval_file' : 'data.train_file (data.eval_file not read)';
  return `the longest row of ${file}${lengths.partial ? ', from the first part of the file' : ''}`;
}

function finalEvaluationSettings(
  plan: Plan,
  run: RunInputs | undefined,
  maxLength: number,
  microBatch: number,
  numGpus: number,
  method: Method,
): FinalEvaluationSettings | undefined {
  const ev = plan.evaluation;
  // A multi-process run does not evaluate in-process (train.py warns instead).
  if (!run || !ev || (ev.when !== 'end' && ev.when !== 'every_eval') || numGpus > 1) {
    return undefined;
  }
  const evalFile = plan.data.evalFile !== undefined;
  const lengths = run.eval ?? run.train;
  const longestRow = lengths ? lengths.sorted[lengths.sorted.length - 1] : maxLength;
  const samples = ev.task?.maxSamples ?? EVALUATION_DEFAULTS.taskMaxSamples;
  // `text` rows hold no reply to compare: the runner generates none for them.
  const generates = evalFile && samples > 0 && plan.data.format !== 'text';
  const g = ev.generation;
  const task = evalFile ? { seqLen: Math.min(longestRow, maxLength) } : undefined;
  const generation = generates
    ? {
        promptTokens: longestRow,
        maxNewTokens: count(g.max_new_tokens) ?? EVALUATION_DEFAULTS.maxNewTokens,
        sequencesPerPrompt: Math.max(count(g.num_beams) ?? 1, count(g.num_return_sequences) ?? 1),
        sampling: g.do_sample === true,
      }
    : undefined;
  const batch = run.evalBatch ?? microBatch;
  const merged =
    method === 'full' || !exportSettings(plan, method).merge
      ? undefined
      : method === 'lora'
        ? 'in-place'
        : 'reloaded';
  const general = run.forgetting;
  const forgetting =
    forgettingFile(plan) !== undefined
      ? {
          seqLen: general ? longestOf(general, maxLength) : maxLength,
          rows: general ? Math.min(batch, general.sorted.length) : batch,
          lengthsKnown: general !== undefined,
          loadsBase: method === 'full' || merged !== undefined,
        }
      : undefined;
  if (!task && !forgetting) return undefined;
  return {
    batch,
    batchSource: run.evalBatch === undefined ? 'training micro-batch' : 'config',
    task,
    generation,
    forgetting,
    merged,
    lengthsBasis: lengthsBasisOf(run, lengths),
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
    // what the estimate needs is whether the non-quantized weights are fp32
    prepareKbit: method === 'qlora' && plan.prepareKbit && plan.kbitUpcast !== false,
    lora,
    maxLength,
    seqLen,
    seqLenBasis: row.basis,
    microBatch,
    tokens: seqLen * microBatch,
    packing: plan.data.packing,
    rowsVary: !plan.data.packing && run !== undefined,
    export: exportSettings(plan, method),
    checkpointing: plan.training.gradientCheckpointing,
    optimizer: opt.kind,
    fusedOptimizer: opt.fused,
    pagedOptimizer: opt.paged,
    attention:
      attn === 'flash_attention_2'
        ? 'flash'
        : attn === 'eager'
          ? 'eager'
          : attn === 'flex_attention'
            ? 'flex'
            : 'sdpa',
    numGpus,
    parallelism,
    evaluation: evaluationSettings(plan, run, maxLength, microBatch),
    finalEvaluation: finalEvaluationSettings(plan, run, maxLength, microBatch, numGpus, method),
    assumed,
  };
}
