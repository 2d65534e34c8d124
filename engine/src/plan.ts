// The dialect-neutral description of a fine-tuning run. Every dialect (the
// native format now, Axolotl / LLaMA-Factory / TRL later) maps onto it, so the
// rules and the estimator are written once. `where` records the config path
// each value came from, so a finding lands on the dialect's own key.

import type { Path } from './types';

export type Method = 'full' | 'lora' | 'qlora';
export type DistributedBackend = 'none' | 'ddp' | 'fsdp' | 'deepspeed';

export interface PlanLora {
  r: number;
  alpha: number;
  dropout: number;
  /** 'all-linear', an explicit list of module names, or undefined when missing. */
  targetModules: 'all-linear' | string[] | undefined;
  useRslora: boolean;
  useDora: boolean;
  modulesToSave: string[];
}

export interface PlanQuantization {
  bits: 4 | 8;
  quantType: 'nf4' | 'fp4';
  computeDtype: 'bfloat16' | 'float16' | 'float32';
  doubleQuant: boolean;
}

export type EvaluationWhen = 'end' | 'every_eval' | 'on_demand';
export type EvaluationMetric =
  'exact_match' | 'chrf' | 'bleu' | 'rouge_l' | 'json_valid' | 'json_schema';

/** The `evaluation:` section resolved with its defaults (docs/evaluation.md). */
export interface PlanEvaluation {
  when: EvaluationWhen;
  /**
   * Task metrics on `data.eval_file`: present when `evaluation.task` is
   * written or an eval file is named (loss and perplexity are always measured).
   */
  task:
    | {
        /** Eval prompts answered by generation; 0 = loss and perplexity only. */
        maxSamples: number;
        metrics: EvaluationMetric[];
        /** `task.json_schema` as written (relative to the config file). */
        jsonSchema: string | undefined;
      }
    | undefined;
  /** `transformers.GenerationConfig` arguments, defaults filled in. */
  generation: Record<string, unknown>;
  /** Present when `evaluation.forgetting` is written. */
  forgetting:
    | {
        /** `forgetting.file`, else `data.general_data.file`; undefined when neither is named. */
        file: string | undefined;
        maxSamples: number;
        threshold: number;
      }
    | undefined;
  /** Present when `evaluation.lm_eval` is written. */
  lmEval: { tasks: string[]; limit: number | undefined; batchSize: number } | undefined;
}

/** transformers' `train_sampling_strategy` values. */
export type TrainSamplingStrategy = 'random' | 'sequential' | 'group_by_length' | 'batch_rebalance';

export interface Plan {
  method: Method | undefined;
  model: {
    nameOrPath: string | undefined;
    /** Hub revision (branch, tag or commit); undefined means main. */
    revision?: string;
    dtype: 'bfloat16' | 'float16' | 'float32' | 'auto';
    /** flex_attention: PyTorch's FlexAttention (a block mask for packed rows; memory as sdpa's). */
    attnImplementation: 'sdpa' | 'flash_attention_2' | 'eager' | 'flex_attention';
  };
  quantization: PlanQuantization | undefined;
  prepareKbit: boolean;
  /**
   * Whether prepare_model_for_kbit_training's fp32 upcast of the non-quantized
   * weights stays (undefined: yes, peft's behaviour); `upcast_to_fp32: false`
   * casts them back to the model's dtype.
   */
  kbitUpcast?: boolean;
  lora: PlanLora | undefined;
  data: {
    trainFile: string | undefined;
    evalFile: string | undefined;
    generalDataFile: string | undefined;
    format: 'messages' | 'prompt_completion' | 'text';
    chatTemplate: string | undefined;
    maxLength: number | undefined;
    packing: boolean;
  };
  training: {
    microBatch: number;
    gradAccum: number;
    learningRate: number | undefined;
    epochs: number;
    gradientCheckpointing: boolean;
    optimizer: string;
    bf16: boolean;
    fp16: boolean;
    deepspeed: string | undefined;
    /** `training.max_steps` when positive: it overrides the epochs (time estimate). */
    maxSteps?: number;
    /** `training.use_liger_kernel`: the fused linear cross-entropy keeps no full logits (fusedLoss.ts). */
    useLigerKernel?: boolean;
    /**
     * `training.liger_kernel_config`: Liger's kernels turned on or off one by one
     * (absent keys keep Liger's default, on).
     */
    ligerKernelConfig?: { rmsNorm?: boolean; swiglu?: boolean; fusedLinearCrossEntropy?: boolean };
    /**
     * `training.torch_compile` (or a compile backend or mode, which turn it on):
     * the runner compiles each decoder layer (runner/tunelab_runner/compile_layers.py).
     */
    torchCompile?: boolean;
    /**
     * `training.train_sampling_strategy` (transformers ≥ 5.2), or `group_by_length`
     * for the older `group_by_length: true`. Absent: random (the default). It
     * changes the padding of unpacked batches (time estimate), not the peak.
     */
    trainSamplingStrategy?: TrainSamplingStrategy;
  };
  hardware: {
    gpu:
      | string
      | { name: string; memoryGb: number; bf16?: boolean; flashAttention?: boolean }
      | undefined;
    numGpus: number;
    /** `hardware.price_per_hour`: the cost of one GPU-hour, for the cost line. */
    pricePerHour?: number;
  };
  distributed: { backend: DistributedBackend; zeroStage?: 0 | 1 | 2 | 3 };
  /**
   * PyTorch's CUDA allocator on the run's host. The runner turns expandable
   * segments on unless the environment sets PYTORCH_CUDA_ALLOC_CONF (or
   * PYTORCH_ALLOC_CONF); `launch.env` is where a config sets it
   * (runner/tunelab_runner/allocator.py). Absent: the runner's default, on.
   */
  cudaAllocator?: { expandableSegments: boolean; setting?: string };
  /** The `evaluation:` section; undefined when the config has none (nothing is evaluated). */
  evaluation?: PlanEvaluation;
  /**
   * `export.merge` as written; absent: the runner's default, merge only for
   * `full` (runner/tunelab_runner/config.py). Not resolved here, so a plan
   * whose method changes (convert/method.ts) keeps the default of its method.
   */
  export?: {
    merge?: boolean;
    /** `export.dtype` as written; absent: the runner's bfloat16. */
    dtype?: 'bfloat16' | 'float16' | 'float32';
  };
  /** Config path of each plan field (dot-joined field name → path), for ranges. */
  where: Record<string, Path>;
  /**
   * Plan fields (keys of `where`) whose config value is a number the run cannot
   * use: infinite or NaN (`.inf`, `1e400`), or a GPU count that is no count.
   * The field holds the default instead, so nothing downstream computes with
   * Infinity; a rule reports the value, and the estimate is skipped rather
   * than shown for the default. Absent or empty when every number is usable.
   */
  invalidNumbers?: string[];
}
