// Rules from the memory estimate.

import { memoryExceedsGpu } from './memory/memoryExceedsGpu';
import { memoryTight } from './memory/memoryTight';
import type { Rule } from './rule';

export const MEMORY_RULES: readonly Rule[] = [memoryExceedsGpu, memoryTight];
