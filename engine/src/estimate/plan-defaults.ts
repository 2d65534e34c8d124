// A Plan with the defaults of a plain HF Trainer run, for estimates that are
// not read from a config (method recommendations, what-if fixes, tests).

import type { Method, Plan } from '../plan';

export interface PlanOverrides {
  method?: Method;
  model?: string;
  dtype?: Plan['model']['dtype'];
  attention?: Plan['model']['attnImplementation'];
  r?: number;
  alpha?: number;
  dropout?: number;
  targets?: 'all-linear' | string[];
  dora?: boolean;
  modulesToSave?: string[];
  maxLength?: number;
  microBatch?: number;
  gradAccum?: number;
  checkpointing?: boolean;
  optimizer?: string;
  bf16?: boolean;
  prepareKbit?: boolean;
  doubleQuant?: boolean;
  numGpus?: number;
  backend?: Plan['distributed']['backend'];
  zeroStage?: 0 | 1 | 2 | 3;
  packing?: boolean;
  epochs?: number;
  /** false: PyTorch's default allocator (the measured plain-script runs); absent: the runner's expandable segments. */
  expandableSegments?: boolean;
}

export function makePlan(o: PlanOverrides = {}): Plan {
  const method = o.method ?? 'lora';
  return {
    method,
    model: {
      nameOrPath: o.model,
      dtype: o.dtype ?? 'bfloat16',
      attnImplementation: o.attention ?? 'sdpa',
    },
    quantization:
      method === 'qlora'
        ? {
            bits: 4,
            quantType: 'nf4',
            computeDtype: 'bfloat16',
            doubleQuant: o.doubleQuant ?? true,
          }
        : undefined,
    prepareKbit: method === 'qlora' ? (o.prepareKbit ?? true) : false,
    lora:
      method === 'full'
        ? undefined
        : {
            r: o.r ?? 16,
            alpha: o.alpha ?? 2 * (o.r ?? 16),
            dropout: o.dropout ?? 0.05,
            targetModules: o.targets ?? 'all-linear',
            useRslora: false,
            useDora: o.dora ?? false,
            modulesToSave: o.modulesToSave ?? [],
          },
    data: {
      trainFile: undefined,
      evalFile: undefined,
      generalDataFile: undefined,
      format: 'messages',
      chatTemplate: undefined,
      maxLength: o.maxLength ?? 2048,
      packing: o.packing ?? false,
    },
    training: {
      microBatch: o.microBatch ?? 1,
      gradAccum: o.gradAccum ?? 1,
      learningRate: undefined,
      epochs: o.epochs ?? 1,
      gradientCheckpointing: o.checkpointing ?? true,
      optimizer: o.optimizer ?? 'adamw_torch_fused',
      bf16: o.bf16 ?? true,
      fp16: false,
      deepspeed: undefined,
    },
    hardware: { gpu: undefined, numGpus: o.numGpus ?? 1 },
    distributed: {
      backend: o.backend ?? ((o.numGpus ?? 1) > 1 ? 'ddp' : 'none'),
      ...(o.zeroStage !== undefined ? { zeroStage: o.zeroStage } : {}),
    },
    ...(o.expandableSegments === undefined
      ? {}
      : { cudaAllocator: { expandableSegments: o.expandableSegments } }),
    where: {},
  };
}
