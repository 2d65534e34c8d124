// Rules about evaluating the tuned model (docs/evaluation.md): an eval split,
// a forgetting check for full fine-tuning, and the `evaluation:` section's
// own consistency. Missing evaluation files are reported by data-file-missing.

import { evalSplitMissing } from './evaluation/evalSplitMissing';
import { evaluationTaskNoEvalFile } from './evaluation/evaluationTaskNoEvalFile';
import { forgettingCheckMissing } from './evaluation/forgettingCheckMissing';
import { forgettingWithoutData } from './evaluation/forgettingWithoutData';
import { jsonSchemaMetricWithoutSchema } from './evaluation/jsonSchemaMetric';
import type { Rule } from './rule';

/** In the order of the rule catalog (rules.md). */
export const EVALUATION_RULES: readonly Rule[] = [
  evalSplitMissing,
  evaluationTaskNoEvalFile,
  forgettingCheckMissing,
  forgettingWithoutData,
  jsonSchemaMetricWithoutSchema,
];
