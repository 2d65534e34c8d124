// Rules for traps of one tool: Axolotl, LLaMA-Factory or TRL's CLI. Each
// declares the dialects it applies to.

import type { Rule } from './rule';

export const DIALECT_RULES: readonly Rule[] = [];
