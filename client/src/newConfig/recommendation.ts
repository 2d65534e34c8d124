// What the estimate recommends for a written config, so that a method the
// user fixed is announced next to the estimate's choice and its reason.

import * as fs from 'node:fs';
import { analyze } from '../../../server/src/analysis/engine';
import { recommendMethod } from '../../../server/src/analysis/estimate/index';
import type { MethodRecommendation } from '../../../server/src/analysis/estimate/types';

/** The recommendation for the config's model, GPU(s), data rows and length; undefined when one is unknown. */
export function recommendationFor(configPath: string): MethodRecommendation | undefined {
  const analysis = analyze(fs.readFileSync(configPath, 'utf8'), configPath);
  const { model, gpu, plan } = analysis;
  if (!model || !gpu || !plan) return undefined;
  return recommendMethod(model, gpu, plan.hardware.numGpus, analysis.data?.train?.rows, {
    maxLength: plan.data.maxLength,
  });
}
