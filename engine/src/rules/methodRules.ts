// Rules about the method, the adapter, quantization and the trainer settings,
// in the order of the rule catalog (rules.md).

import { loraAlphaEqualsRank } from './lora/loraAlphaEqualsRank';
import { loraAlphaRatio } from './lora/loraAlphaRatio';
import { loraEpochs } from './lora/loraEpochs';
import { loraRankDataSize } from './lora/loraRankDataSize';
import { loraTargetModules } from './lora/loraTargetModules';
import { loraTargetUnknown } from './lora/loraTargetUnknown';
import { newTokensNotTrained } from './lora/newTokensNotTrained';
import { deepspeedPeft } from './method/deepspeedPeft';
import { fullFtForgetting } from './method/fullFtForgetting';
import { fullFtGradientCheckpointing } from './method/fullFtGradientCheckpointing';
import { methodSections } from './method/methodSections';
import { modelUnknown } from './model/modelUnknown';
import { qloraComputeDtype } from './qlora/qloraComputeDtype';
import { qloraDeviceMapDistributed } from './qlora/qloraDeviceMapDistributed';
import { qloraOptimizer } from './qlora/qloraOptimizer';
import { qloraPrepareKbit } from './qlora/qloraPrepareKbit';
import { qloraQuantType } from './qlora/qloraQuantType';
import { qloraShardedQuantStorage } from './qlora/qloraShardedQuantStorage';
import type { Rule } from './rule';
import { checkpointStorage } from './training/checkpointStorage';
import { compileLigerLayerKernels } from './training/compileLigerLayerKernels';
import { effectiveBatchSize } from './training/effectiveBatchSize';
import { fsdpFp32Master } from './training/fsdpFp32Master';
import { learningRateMethod } from './training/learningRateMethod';
import { maxGradNorm } from './training/maxGradNorm';
import { warmup } from './training/warmup';

export const METHOD_RULES: readonly Rule[] = [
  methodSections,
  qloraPrepareKbit,
  loraAlphaRatio,
  loraAlphaEqualsRank,
  loraRankDataSize,
  loraTargetModules,
  loraTargetUnknown,
  learningRateMethod,
  effectiveBatchSize,
  warmup,
  maxGradNorm,
  loraEpochs,
  qloraComputeDtype,
  qloraQuantType,
  qloraOptimizer,
  fullFtGradientCheckpointing,
  fullFtForgetting,
  deepspeedPeft,
  newTokensNotTrained,
  fsdpFp32Master,
  qloraDeviceMapDistributed,
  qloraShardedQuantStorage,
  checkpointStorage,
  compileLigerLayerKernels,
  modelUnknown,
];
