// The memory and time estimator: pure functions of a Plan, a model
// architecture and a GPU. See docs in memory.ts (peak phases), activations.ts
// (bytes per token), states.ts (weights, gradients, optimizer) and
// overhead.ts (context, NCCL, allocator fragmentation).

export { estimateMemory, formatGiB, type EstimateOptions } from './memory';
export { cheapestFix, type FixOptions } from './fix';
export { estimateTrainTime, UTILIZATION_PACKED, UTILIZATION_PADDED } from './time';
export {
  chooseMethod,
  placeOf,
  recommendMethod,
  FULL_FT_MIN_ROWS,
  type MethodEstimates,
  type RecommendOptions,
} from './recommend';
export { makePlan, type PlanOverrides } from './plan-defaults';
export {
  expectedLongestOf,
  longestOf,
  runInputsOf,
  type RunInputs,
  type SampleLengths,
} from './inputs';
export {
  resolveSettings,
  DEFAULT_MAX_LENGTH,
  type EvaluationSettings,
  type RunSettings,
} from './settings';
export {
  MEMORY_PARTS,
  type FixSuggestion,
  type MemoryEstimate,
  type MemoryPart,
  type MethodRecommendation,
  type PeakPhase,
  type PlanChange,
  type RunPhase,
  type TrainTimeEstimate,
} from './types';
