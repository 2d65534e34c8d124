// Maps a native config (already parsed, possibly invalid) onto the Plan, with
// Hugging Face's defaults where a key is absent. Ill-typed values fall back to
// defaults: the schema reports them, the rules must not trip over them. A
// number the run cannot use (`.inf`, `1e400`, NaN, a GPU count that is no
// count) is listed in `plan.invalidNumbers`, so its default never passes for
// what the config says (the `non-finite-number` and `num-gpus-range` rules
// report it, and the estimate is skipped).

import { isRecord } from './parse';
import type {
  DistributedBackend,
  EvaluationMetric,
  Method,
  Plan,
  PlanEvaluation,
  PlanLora,
  PlanQuantization,
  TrainSamplingStrategy,
} from './plan';
import type { Path } from './types';

/** TrainingArguments / LoraConfig / hardware defaults used when a key is absent. */
export const DEFAULTS = {
  microBatch: 8,
  gradAccum: 1,
  epochs: 3,
  numGpus: 1,
  optimizer: 'adamw_torch_fused',
  loraR: 8,
  loraAlpha: 8,
  loraDropout: 0,
} as const;

/** The `evaluation:` section's defaults (docs/evaluation.md). */
export const EVALUATION_DEFAULTS = {
  when: 'end',
  taskMaxSamples: 50,
  metrics: ['exact_match', 'chrf', 'bleu', 'rouge_l'] as EvaluationMetric[],
  maxNewTokens: 256,
  doSample: false,
  forgettingMaxSamples: 200,
  forgettingThreshold: 0.05,
  lmEvalBatchSize: 8,
} as const;

export const EVALUATION_METRICS: readonly EvaluationMetric[] = [
  'exact_match',
  'chrf',
  'bleu',
  'rouge_l',
  'json_valid',
  'json_schema',
];

/** More GPUs than this in one run is a typo (`1e9`), not a cluster. */
export const MAX_NUM_GPUS = 1024;

/** A usable GPU count: a whole number from 1 to MAX_NUM_GPUS. */
export function isUsableGpuCount(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= MAX_NUM_GPUS;
}

function section(config: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = config[name];
  return isRecord(value) ? value : {};
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const nonFinite = (v: unknown): boolean => typeof v === 'number' && !Number.isFinite(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | undefined {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

export function buildNativePlan(value: unknown): Plan {
  const config = isRecord(value) ? value : {};
  const model = section(config, 'model');
  const quantization = section(config, 'quantization');
  const lora = section(config, 'lora');
  const data = section(config, 'data');
  const training = section(config, 'training');
  const hardware = section(config, 'hardware');
  const exportSection = section(config, 'export');
  const launch = section(config, 'launch');
  const distributed = isRecord(launch.distributed) ? launch.distributed : {};
  const method = oneOf<Method>(config.method, ['full', 'lora', 'qlora']);
  const invalidNumbers: string[] = [];
  /** `num` for the plan field `field`, noting a non-finite value as invalid. */
  const numFor = (field: string, v: unknown): number | undefined => {
    if (nonFinite(v)) invalidNumbers.push(field);
    return num(v);
  };
  const numGpus = numFor('hardware.numGpus', hardware.num_gpus);
  if (numGpus !== undefined && !isUsableGpuCount(numGpus)) invalidNumbers.push('hardware.numGpus');
  const gpu = planGpu(hardware.gpu);
  if (isRecord(hardware.gpu) && nonFinite(hardware.gpu.memory_gb)) {
    invalidNumbers.push('hardware.gpu');
  }

  const where: Record<string, Path> = {
    method: ['method'],
    'model.nameOrPath': ['model', 'name_or_path'],
    'model.dtype': ['model', 'dtype'],
    'model.attnImplementation': ['model', 'attn_implementation'],
    quantization: ['quantization'],
    'quantization.quantType': ['quantization', 'bnb_4bit_quant_type'],
    'quantization.computeDtype': ['quantization', 'bnb_4bit_compute_dtype'],
    prepareKbit: ['prepare_model_for_kbit_training'],
    lora: ['lora'],
    'lora.r': ['lora', 'r'],
    'lora.alpha': ['lora', 'lora_alpha'],
    'lora.dropout': ['lora', 'lora_dropout'],
    'lora.targetModules': ['lora', 'target_modules'],
    'lora.modulesToSave': ['lora', 'modules_to_save'],
    data: ['data'],
    'data.trainFile': ['data', 'train_file'],
    'data.evalFile': ['data', 'eval_file'],
    'data.generalDataFile': ['data', 'general_data', 'file'],
    'data.format': ['data', 'format'],
    'data.chatTemplate': ['data', 'chat_template'],
    'data.maxLength': ['data', 'max_length'],
    training: ['training'],
    'training.microBatch': ['training', 'per_device_train_batch_size'],
    'training.gradAccum': ['training', 'gradient_accumulation_steps'],
    'training.learningRate': ['training', 'learning_rate'],
    'training.epochs': ['training', 'num_train_epochs'],
    'training.gradientCheckpointing': ['training', 'gradient_checkpointing'],
    'training.optimizer': ['training', 'optim'],
    'training.bf16': ['training', 'bf16'],
    'training.deepspeed': ['training', 'deepspeed'],
    'training.maxSteps': ['training', 'max_steps'],
    'hardware.gpu': ['hardware', 'gpu'],
    'hardware.numGpus': ['hardware', 'num_gpus'],
    'hardware.pricePerHour': ['hardware', 'price_per_hour'],
    'distributed.backend': ['launch', 'distributed', 'backend'],
    cudaAllocator: ['launch', 'env'],
    'export.merge': ['export', 'merge'],
    evaluation: ['evaluation'],
    'evaluation.when': ['evaluation', 'when'],
    'evaluation.task': ['evaluation', 'task'],
    'evaluation.task.metrics': ['evaluation', 'task', 'metrics'],
    'evaluation.task.jsonSchema': ['evaluation', 'task', 'json_schema'],
    'evaluation.forgetting': ['evaluation', 'forgetting'],
    'evaluation.forgetting.file': ['evaluation', 'forgetting', 'file'],
    'evaluation.forgetting.threshold': ['evaluation', 'forgetting', 'threshold'],
    'evaluation.lmEval.tasks': ['evaluation', 'lm_eval', 'tasks'],
  };
  const generalDataFile = isRecord(data.general_data) ? str(data.general_data.file) : undefined;
  const merge = bool(exportSection.merge);
  const exportDtype = oneOf(exportSection.dtype, ['bfloat16', 'float16', 'float32'] as const);

  return {
    method,
    model: {
      nameOrPath: str(model.name_or_path),
      revision: str(model.revision),
      dtype: oneOf(model.dtype, ['bfloat16', 'float16', 'float32', 'auto'] as const) ?? 'auto',
      attnImplementation:
        oneOf(model.attn_implementation, [
          'sdpa',
          'flash_attention_2',
          'eager',
          'flex_attention',
        ] as const) ?? 'sdpa',
    },
    quantization: Object.keys(quantization).length ? planQuantization(quantization) : undefined,
    prepareKbit:
      config.prepare_model_for_kbit_training === true ||
      isRecord(config.prepare_model_for_kbit_training),
    kbitUpcast: isRecord(config.prepare_model_for_kbit_training)
      ? config.prepare_model_for_kbit_training.upcast_to_fp32 !== false
      : undefined,
    lora:
      method === 'full' && !('lora' in config)
        ? undefined
        : planLora(lora, 'lora' in config, numFor),
    data: {
      trainFile: str(data.train_file),
      evalFile: str(data.eval_file),
      generalDataFile,
      format: oneOf(data.format, ['messages', 'prompt_completion', 'text'] as const) ?? 'messages',
      chatTemplate: str(data.chat_template),
      maxLength: numFor('data.maxLength', data.max_length),
      packing: bool(data.packing) ?? false,
    },
    training: {
      microBatch:
        numFor('training.microBatch', training.per_device_train_batch_size) ?? DEFAULTS.microBatch,
      gradAccum:
        numFor('training.gradAccum', training.gradient_accumulation_steps) ?? DEFAULTS.gradAccum,
      learningRate: numFor('training.learningRate', training.learning_rate),
      epochs: numFor('training.epochs', training.num_train_epochs) ?? DEFAULTS.epochs,
      gradientCheckpointing: bool(training.gradient_checkpointing) ?? false,
      optimizer: str(training.optim) ?? DEFAULTS.optimizer,
      bf16: bool(training.bf16) ?? false,
      fp16: bool(training.fp16) ?? false,
      deepspeed:
        str(training.deepspeed) ?? (isRecord(training.deepspeed) ? '(inline config)' : undefined),
      // -1 (transformers' default) or absent: the epochs decide.
      maxSteps: positive(numFor('training.maxSteps', training.max_steps)),
      ...(bool(training.use_liger_kernel) === true ? { useLigerKernel: true } : {}),
      ...ligerConfigOf(training.liger_kernel_config),
      ...(compileOf(training) ? { torchCompile: true } : {}),
      ...samplingOf(training),
    },
    hardware: {
      gpu,
      numGpus: numGpus ?? DEFAULTS.numGpus,
      pricePerHour: nonNegative(numFor('hardware.pricePerHour', hardware.price_per_hour)),
    },
    distributed: {
      backend:
        oneOf<DistributedBackend>(distributed.backend, ['none', 'ddp', 'fsdp', 'deepspeed']) ??
        'none',
      zeroStage: oneOf(String(distributed.zero_stage ?? ''), ['0', '1', '2', '3'] as const)
        ? (Number(distributed.zero_stage) as 0 | 1 | 2 | 3)
        : undefined,
    },
    ...allocatorOf(launch.env),
    evaluation: isRecord(config.evaluation)
      ? planEvaluation(config.evaluation, str(data.eval_file), generalDataFile)
      : undefined,
    ...(merge === undefined && exportDtype === undefined
      ? {}
      : {
          export: {
            ...(merge === undefined ? {} : { merge }),
            ...(exportDtype === undefined ? {} : { dtype: exportDtype }),
          },
        }),
    where,
    invalidNumbers,
  };
}

/**
 * The `evaluation:` section with its defaults. Non-finite numbers fall back to
 * the defaults here (`non-finite-number` reports them; the memory estimate
 * does not depend on them, so they are not listed as invalid).
 */
export function planEvaluation(
  section: Record<string, unknown>,
  evalFile: string | undefined,
  generalDataFile: string | undefined,
): PlanEvaluation {
  const D = EVALUATION_DEFAULTS;
  const task = isRecord(section.task) ? section.task : undefined;
  const forgetting = isRecord(section.forgetting) ? section.forgetting : undefined;
  const lmEval = isRecord(section.lm_eval) ? section.lm_eval : undefined;
  const metrics = Array.isArray(task?.metrics)
    ? task.metrics.filter((m): m is EvaluationMetric =>
        (EVALUATION_METRICS as readonly unknown[]).includes(m),
      )
    : [...D.metrics];
  const generation = isRecord(section.generation) ? section.generation : {};
  const whole = (v: unknown, min: number) => {
    const n = num(v);
    return n !== undefined && Number.isInteger(n) && n >= min ? n : undefined;
  };
  return {
    when: oneOf(section.when, ['end', 'every_eval', 'on_demand'] as const) ?? D.when,
    task:
      task || evalFile !== undefined
        ? {
            maxSamples: whole(task?.max_samples, 0) ?? D.taskMaxSamples,
            metrics,
            jsonSchema: str(task?.json_schema),
          }
        : undefined,
    generation: { max_new_tokens: D.maxNewTokens, do_sample: D.doSample, ...generation },
    forgetting: forgetting
      ? {
          file: str(forgetting.file) ?? generalDataFile,
          maxSamples: whole(forgetting.max_samples, 1) ?? D.forgettingMaxSamples,
          threshold: positive(num(forgetting.threshold)) ?? D.forgettingThreshold,
        }
      : undefined,
    lmEval: lmEval
      ? {
          tasks: Array.isArray(lmEval.tasks)
            ? lmEval.tasks.filter((t): t is string => typeof t === 'string')
            : [],
          limit: whole(lmEval.limit, 1),
          batchSize: whole(lmEval.batch_size, 1) ?? D.lmEvalBatchSize,
        }
      : undefined,
  };
}

function planQuantization(q: Record<string, unknown>): PlanQuantization {
  return {
    bits: q.load_in_8bit === true && q.load_in_4bit !== true ? 8 : 4,
    quantType: oneOf(q.bnb_4bit_quant_type, ['nf4', 'fp4'] as const) ?? 'fp4',
    computeDtype:
      oneOf(q.bnb_4bit_compute_dtype, ['bfloat16', 'float16', 'float32'] as const) ?? 'float32',
    doubleQuant: bool(q.bnb_4bit_use_double_quant) ?? false,
  };
}

function planLora(
  lora: Record<string, unknown>,
  present: boolean,
  numFor: (field: string, v: unknown) => number | undefined,
): PlanLora | undefined {
  if (!present) return undefined;
  const targets = lora.target_modules;
  return {
    r: numFor('lora.r', lora.r) ?? DEFAULTS.loraR,
    alpha: numFor('lora.alpha', lora.lora_alpha) ?? DEFAULTS.loraAlpha,
    dropout: numFor('lora.dropout', lora.lora_dropout) ?? DEFAULTS.loraDropout,
    targetModules:
      targets === 'all-linear'
        ? 'all-linear'
        : typeof targets === 'string'
          ? [targets]
          : Array.isArray(targets)
            ? targets.filter((t): t is string => typeof t === 'string')
            : undefined,
    useRslora: lora.use_rslora === true,
    useDora: lora.use_dora === true,
    modulesToSave: Array.isArray(lora.modules_to_save)
      ? lora.modules_to_save.filter((m): m is string => typeof m === 'string')
      : [],
  };
}

function planGpu(gpu: unknown): Plan['hardware']['gpu'] {
  if (typeof gpu === 'string') return gpu;
  const memoryGb = isRecord(gpu) ? num(gpu.memory_gb) : undefined;
  if (isRecord(gpu) && typeof gpu.name === 'string' && memoryGb !== undefined) {
    return {
      name: gpu.name,
      memoryGb,
      bf16: bool(gpu.bf16),
      flashAttention: bool(gpu.flash_attention),
    };
  }
  return undefined;
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

function nonNegative(n: number | undefined): number | undefined {
  return n !== undefined && n >= 0 ? n : undefined;
}

/** The sampling strategy as written; the pre-5.2 `group_by_length: true` means the same. */
function samplingOf(training: Record<string, unknown>): {
  trainSamplingStrategy?: TrainSamplingStrategy;
} {
  const strategy = oneOf(training.train_sampling_strategy, [
    'random',
    'sequential',
    'group_by_length',
    'batch_rebalance',
  ] as const);
  if (strategy) return { trainSamplingStrategy: strategy };
  return bool(training.group_by_length) === true
    ? { trainSamplingStrategy: 'group_by_length' }
    : {};
}

/** `liger_kernel_config`'s switches the estimate reads (Liger's own keys). */
function ligerConfigOf(config: unknown): {
  ligerKernelConfig?: Plan['training']['ligerKernelConfig'];
} {
  if (!isRecord(config)) return {};
  const out: NonNullable<Plan['training']['ligerKernelConfig']> = {};
  const rmsNorm = bool(config.rms_norm);
  const swiglu = bool(config.swiglu);
  const fused = bool(config.fused_linear_cross_entropy);
  if (rmsNorm !== undefined) out.rmsNorm = rmsNorm;
  if (swiglu !== undefined) out.swiglu = swiglu;
  if (fused !== undefined) out.fusedLinearCrossEntropy = fused;
  return Object.keys(out).length ? { ligerKernelConfig: out } : {};
}

/** The allocator variables PyTorch reads, in its order (runner/tunelab_runner/allocator.py). */
export const ALLOCATOR_ENV_KEYS = ['PYTORCH_CUDA_ALLOC_CONF', 'PYTORCH_ALLOC_CONF'] as const;

/** Whether an allocator setting (`key:value,...`) turns expandable segments on. */
export function expandableSegmentsIn(setting: string): boolean {
  for (const option of setting.split(',')) {
    const [key, value] = option.split(':').map((x) => x.trim());
    if (key === 'expandable_segments') return value?.toLowerCase() === 'true';
  }
  return false;
}

/** `launch.env`'s allocator setting; absent: the runner's default (expandable segments). */
function allocatorOf(env: unknown): Pick<Plan, 'cudaAllocator'> {
  if (!isRecord(env)) return {};
  for (const key of ALLOCATOR_ENV_KEYS) {
    const setting = env[key];
    if (typeof setting === 'string' && setting.trim() !== '')
      return { cudaAllocator: { expandableSegments: expandableSegmentsIn(setting), setting } };
  }
  return {};
}

/** As TrainingArguments: a compile backend or mode alone turns torch_compile on. */
function compileOf(training: Record<string, unknown>): boolean {
  return (
    bool(training.torch_compile) === true ||
    typeof training.torch_compile_backend === 'string' ||
    typeof training.torch_compile_mode === 'string'
  );
}
