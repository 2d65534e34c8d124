// Result types of the memory and time estimator.

import type { Method } from '../plan';
import type { RunInputs } from './inputs';
import type { Parallelism } from './settings';

export type MemoryPart =
  | 'weights'
  | 'adapter'
  | 'gradients'
  | 'optimizer'
  | 'activations'
  | 'kvCache'
  | 'logits'
  | 'overhead';

/** The parts in the order the breakdown shows them; `kvCache` is non-zero only when generation sets the peak. */
export const MEMORY_PARTS: readonly MemoryPart[] = [
  'weights',
  'adapter',
  'gradients',
  'optimizer',
  'activations',
  'kvCache',
  'logits',
  'overhead',
];

/** Every part at 0 bytes, to fill in. */
export function zeroParts(): Record<MemoryPart, number> {
  return Object.fromEntries(MEMORY_PARTS.map((p) => [p, 0])) as Record<MemoryPart, number>;
}

/** When in a training step memory peaks. */
export type PeakPhase = 'backward-start' | 'backward-end' | 'optimizer-step';

/**
 * The phases of a run whose peaks the estimate compares: training; the
 * Trainer's evaluation between steps (states resident); the export after
 * training (exportPhase.ts); the runner's evaluation after training
 * (`evaluation.when: end`: task loss, generated replies, forgetting; states
 * freed).
 */
export type RunPhase = 'training' | 'evaluation' | 'export' | 'final-evaluation';

/** The step of the evaluation after training that sets its peak. */
export type FinalEvaluationStep = 'task loss' | 'generation' | 'forgetting';

/** What the evaluation after training runs at its peak, per GPU. */
export interface FinalEvaluationSummary {
  step: FinalEvaluationStep;
  /** Rows per batch: per_device_eval_batch_size, else the training micro-batch (the runner's default). */
  batch: number;
  /** Tokens of one batch at the step's peak (prompt + new tokens × sequences for generation). */
  tokens: number;
  /** Generation, when the config asks for task metrics: the longest prompt, max_new_tokens, and the KV cache at the end of a batch. */
  generation:
    | { promptTokens: number; maxNewTokens: number; sequences: number; kvCacheBytes: number }
    | undefined;
}

export interface MemoryEstimate {
  method: Method;
  /** Parameters of the base model (+ adapter when LoRA/QLoRA), tied embeddings counted once. */
  paramsTotal: number;
  paramsTrainable: number;
  numGpus: number;
  parallelism: Parallelism;
  /** Tokens in one micro-batch on one GPU (row length × micro-batch). */
  tokensPerStep: number;
  /** Tokens of the longest training row: max_length, or the data's longest row when unpacked. */
  seqLen: number;
  /** Per GPU at the peak, in bytes; the parts add up to `perGpuBytes`. */
  bytes: Record<MemoryPart, number>;
  /** One short sentence per part: what drives it and what would change it. */
  notes: Record<MemoryPart, string>;
  /** Device memory per GPU at the peak, as nvidia-smi shows it for the process. */
  perGpuBytes: number;
  /**
   * The smallest device memory per GPU the run completes in: allocated peak +
   * context + the allocator's slack (the cache it cannot give back under
   * pressure). Below perGpuBytes, which models nvidia-smi on a roomy card.
   */
  minimumBytes: number;
  /**
   * Whether the run's allocator uses expandable segments (the runner's default,
   * plan.cudaAllocator): then the per-GPU figure is what the run needs, and
   * nvidia-smi on a larger card can show more, the pages the allocator keeps.
   */
  expandableSegments: boolean;
  /** When in a training step its peak falls. */
  peakPhase: PeakPhase;
  /** Allocated bytes (PyTorch tensors only) at each phase of a step. */
  phases: Record<PeakPhase, number>;
  /**
   * Device bytes per GPU at each run phase's peak; a phase the config does
   * not run is undefined.
   */
  runPhases: {
    training: number;
    evaluation: number | undefined;
    export: number | undefined;
    finalEvaluation: number | undefined;
  };
  /** The export after training, when the config merges (or saves a full fine-tune). */
  export:
    | {
        words: string;
        onlyIfItFits: boolean;
        /** QLoRA: the merged model's bytes the runner moves to the GPU when they fit (×1.1). */
        movedBytes: number;
      }
    | undefined;
  /** The run phase that sets `perGpuBytes` (the parts are that phase's). */
  peakRunPhase: RunPhase;
  /** The eval batch per GPU, when the config evaluates. */
  evaluation: { batch: number; tokens: number } | undefined;
  /** The runner's evaluation after training, when the config asks for it in-process. */
  finalEvaluation: FinalEvaluationSummary | undefined;
  /** The inputs beyond the plan it was computed with: re-estimates of changed plans reuse them. */
  run: RunInputs | undefined;
  gpu: { id: string; memoryBytes: number } | undefined;
  /** Against gpu.memoryBytes; undefined without a GPU. */
  fits: boolean | undefined;
  /** Defaults assumed where the plan was silent, and unmeasured territory. */
  assumptions: string[];
}

/** A single change to the plan (a quick fix can write it back to the config). */
export interface PlanChange {
  field:
    | 'training.gradientCheckpointing'
    | 'training.microBatch'
    | 'training.gradAccum'
    | 'training.evalBatch'
    | 'method'
    | 'hardware.numGpus'
    | 'distributed.backend'
    | 'distributed.zeroStage'
    /** `quantization.bnb_4bit_quant_storage`: the dtype ZeRO-3 flattens a QLoRA base's 4-bit weights into. */
    | 'quantization.quantStorage'
    /** `export.dtype`: the precision the export after training saves in. */
    | 'export.dtype';
  value: boolean | number | string;
}

export interface FixSuggestion {
  /** Human sentence, e.g. "enable gradient checkpointing (52.1 GiB → 31.0 GiB)". */
  description: string;
  changes: PlanChange[];
  estimate: MemoryEstimate;
}

export interface TrainTimeEstimate {
  /** Tokens processed over all epochs (tokensPerEpoch × epochs). */
  tokens: number;
  flopsPerToken: number;
  totalFlops: number;
  /** Assumed fraction of the GPUs' dense bf16 peak actually achieved. */
  utilization: number;
  seconds: number;
  /** The formula and the numbers it used, in words. */
  assumptions: string[];
}

export interface MethodRecommendation {
  method: Method;
  reason: string;
  estimate: MemoryEstimate | undefined;
  /** The estimate of each method the choice weighed (the reason quotes these). */
  estimates: Partial<Record<Method, MemoryEstimate>>;
}
