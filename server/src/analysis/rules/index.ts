// The registry of semantic rules. Each group lists its rules in catalog order.

import { DATA_RULES } from './dataRules';
import { MEMORY_RULES } from './memoryRules';
import { METHOD_RULES } from './methodRules';
import type { Rule } from './rule';

export const RULES: readonly Rule[] = [...METHOD_RULES, ...DATA_RULES, ...MEMORY_RULES];
