// Rules about the data files, chat templates, the hardware and the export.

import type { Rule } from './rule';

export const DATA_RULES: readonly Rule[] = [];
