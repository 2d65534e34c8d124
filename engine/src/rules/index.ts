// The registry of semantic rules. Each group lists its rules in catalog order;
// the config-wide value checks come first, the dialect rules (traps of
// Axolotl, LLaMA-Factory and TRL) last.

import type { Dialect } from '../types';
import { CONFIG_RULES } from './configRules';
import { DATA_RULES } from './dataRules';
import { DIALECT_RULES } from './dialectRules';
import { EVALUATION_RULES } from './evaluationRules';
import { MEMORY_RULES } from './memoryRules';
import { METHOD_RULES } from './methodRules';
import type { Rule } from './rule';

export const RULES: readonly Rule[] = [
  ...CONFIG_RULES,
  ...METHOD_RULES,
  ...DATA_RULES,
  ...EVALUATION_RULES,
  ...MEMORY_RULES,
  ...DIALECT_RULES,
];

const BY_DIALECT = new Map<Dialect, readonly Rule[]>();

/** The rules that apply to a config of `dialect`, in catalog order. */
export function rulesFor(dialect: Dialect): readonly Rule[] {
  let rules = BY_DIALECT.get(dialect);
  if (!rules) {
    rules = RULES.filter((r) => !r.dialects || r.dialects.includes(dialect));
    BY_DIALECT.set(dialect, rules);
  }
  return rules;
}
