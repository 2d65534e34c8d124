// The figure of a proposed change (a quick fix, a method conversion, the
// method recommendation): the estimate of the config the change produces.
// The edits are applied to the text and the result analysed like any config,
// so the figure a proposal quotes is the one `tunelab estimate`, the hover and
// the code lens show once it is applied.

import { convertMethodEdits } from '../convert/method';
import { applyTextEdits } from '../edits';
import { analyze, type Analysis } from '../engine';
import { estimateMemory, runInputsOf, type RunInputs } from '../estimate/index';
import type { MemoryEstimate } from '../estimate/types';
import type { Method } from '../plan';
import type { TextEdit } from '../types';

/** Stands in for the file's name: the dialect is given, and data is reused. */
const PROPOSAL_FILE = 'proposal.finetune.yaml';

/**
 * The estimate of `analysis`'s config after `edits`. Proposals never change
 * the GPU or how many there are, so `--gpu`/`--num-gpus` overrides carry over;
 * the data summary and the model architecture are the analysis' own (reading
 * them again could only differ by where relative paths resolve).
 */
export function estimateAfterEdits(
  analysis: Analysis,
  edits: readonly TextEdit[],
): MemoryEstimate | undefined {
  if (!analysis.parsed || !analysis.dialect) return undefined;
  const hardware = analysis.plan?.hardware;
  const after = analyze(applyTextEdits(analysis.parsed.text, edits), PROPOSAL_FILE, {
    dialect: analysis.dialect,
    gpu: typeof hardware?.gpu === 'string' ? hardware.gpu : undefined,
    numGpus: hardware?.numGpus,
    summarizeData: () => analysis.data ?? {},
  });
  if (!after.plan?.method || !analysis.model || !analysis.estimate) return after.estimate;
  if (after.model?.id === analysis.model.id) return after.estimate;
  // The model resolved differently (a relative path, the Hub cache): use the analysis' own.
  return estimateMemory(after.plan, analysis.model, after.gpu, {
    run: analysis.estimate.run && runInputsOfAnalysis(after),
  });
}

/** The evaluation settings and data lengths of an analysed config (its native view for other dialects). */
export function runInputsOfAnalysis(analysis: Analysis): RunInputs | undefined {
  if (!analysis.parsed) return undefined;
  return runInputsOf(analysis.view ? analysis.view.value : analysis.parsed.value, analysis.data);
}

/** The text edits that convert a native config to `target` (none for other dialects). */
export function methodEdits(analysis: Analysis, target: Method): TextEdit[] | undefined {
  if (analysis.dialect !== 'native' || !analysis.parsed) return undefined;
  return convertMethodEdits(analysis.parsed, target);
}

/** The estimate of the config converted to `target`; the analysis' own for its method. */
export function estimateWithMethod(analysis: Analysis, target: Method): MemoryEstimate | undefined {
  if (analysis.plan?.method === target) return analysis.estimate;
  const edits = methodEdits(analysis, target);
  return edits && estimateAfterEdits(analysis, edits);
}
