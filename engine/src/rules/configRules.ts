// Rules over the whole config rather than one setting: numbers no run can use,
// and secrets written where they leak.

import { nonFiniteNumber } from './config/nonFiniteNumber';
import { secretInConfig } from './config/secretInConfig';
import type { Rule } from './rule';

/** In the order of the rule catalog (rules.md). */
export const CONFIG_RULES: readonly Rule[] = [nonFiniteNumber, secretInConfig];
