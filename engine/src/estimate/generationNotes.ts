// What the estimate says beside its figure about the runner's evaluation
// after training (generation.ts): the phase when it stays below the peak,
// what it leaves uncounted, and the KV cache when generation is not the peak.

import type { Layout } from './arch';
import {
  deviceOverhead,
  type FinalEvaluationPhase,
  forgettingBound,
  loadedBaseBytes,
} from './generation';
import type { FragmentationCoefficients } from './overhead';
import type { RunSettings } from './settings';
import type { StateBytes } from './states';
import type { FinalEvaluationSummary, RunPhase } from './types';

const GiB = 1024 ** 3;

function fmt(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

/** What the estimate says about the evaluation after training beside its figure. */
export function finalEvaluationAssumptions(
  layout: Layout,
  s: RunSettings,
  st: StateBytes,
  coefficients: FragmentationCoefficients,
  phase: FinalEvaluationPhase | undefined,
  peak: RunPhase,
): string[] {
  const fe = s.finalEvaluation;
  const out: string[] = [];
  if (phase && peak !== 'final-evaluation') {
    out.push(
      `evaluation after training peaks at ${fmt(phase.bytes)} (${phase.summary.step}, optimizer and gradients freed): below ${peak}`,
    );
  }
  const bound = fe && forgettingBound(layout, s, fe, st);
  if (fe?.forgetting && bound) {
    const device = bound.allocated + deviceOverhead(bound.logitsBytes, coefficients).total;
    out.push(
      `forgetting measure after training not counted: its file was not read (missing, unreadable, or a relative path in an unsaved config); at rows of max_length (${fe.forgetting.seqLen}) it would need ${fmt(device)} per GPU` +
        (bound.secondModel > 0 ? `, the base loaded beside the tuned model included` : ''),
    );
  }
  if (fe?.forgetting && !fe.forgetting.loadsBase) {
    out.push(
      `the forgetting measure scores the base with the adapter switched off (export.merge: true would merge it first and load the base beside the merged model: +${fmt(loadedBaseBytes(layout, s, st))} on a first run)`,
    );
  }
  if (fe?.merged === 'reloaded') {
    // export.py: base reloaded unquantized on the CPU, merged, moved to the GPU if it fits then.
    const merged16 = 2 * (st.paramsTotal - st.paramsTrainable);
    out.push(
      `export.merge on QLoRA: the evaluation after training runs the 16-bit merged model (≈ ${fmt(merged16)} in bfloat16), moved to the GPU only when it fits beside what is resident after export; not counted: counted are the 4-bit trained model, which the Trainer still holds` +
        (fe.forgetting ? ', and the 4-bit base the forgetting measure loads beside it' : ''),
    );
  }
  if (s.evaluation?.forgettingEveryEval) {
    out.push(
      "evaluation.when: every_eval: the forgetting callback also scores the general rows after each Trainer evaluation, states resident: not counted in that phase's peak, which counts the eval rows' forward",
    );
  }
  return out;
}

/** The KV cache's note when generation does not set the peak. */
export function kvCacheNote(final: FinalEvaluationSummary | undefined): string {
  const g = final?.generation;
  if (!g)
    return 'none: the run generates no replies (evaluation.task on data.eval_file, evaluation.when: end)';
  return `none at this peak; generating replies after training holds ${fmt(g.kvCacheBytes)} (${g.sequences} sequences × (${g.promptTokens} prompt + ${g.maxNewTokens} new) tokens)`;
}
