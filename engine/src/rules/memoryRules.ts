// Rules from the memory estimate, after the two that say when it cannot be
// trusted (an unknown GPU, an impossible GPU count).

import { gpuUnknown } from './hardware/gpuUnknown';
import { numGpusRange } from './hardware/numGpusRange';
import { qloraMergeOnCpu } from './export/qloraMergeOnCpu';
import { memoryExceedsGpu } from './memory/memoryExceedsGpu';
import { memoryTight } from './memory/memoryTight';
import type { Rule } from './rule';

export const MEMORY_RULES: readonly Rule[] = [
  gpuUnknown,
  numGpusRange,
  memoryExceedsGpu,
  memoryTight,
  qloraMergeOnCpu,
];
