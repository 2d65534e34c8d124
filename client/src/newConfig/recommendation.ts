// What the estimate recommends for a written config, so that a method the
// user fixed is announced next to the estimate's choice and its reason.

import * as fs from 'node:fs';
import { analyze } from '../../../engine/src/engine';
import type { MethodRecommendation } from '../../../engine/src/estimate/types';
import { recommendationFor as recommendationForAnalysis } from '../../../engine/src/report/estimateReport';

/** The recommendation for the config's model, GPU(s), data rows and length; undefined when one is unknown. */
export function recommendationFor(configPath: string): MethodRecommendation | undefined {
  return recommendationForAnalysis(analyze(fs.readFileSync(configPath, 'utf8'), configPath));
}
