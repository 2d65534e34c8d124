// What of the tools' own evaluation settings maps onto the native
// `evaluation:` section (docs/evaluation.md). Little does: both tools score
// generations with their own metric code, and neither has a forgetting check.
//
// Axolotl (AxolotlInputConfig): `do_causal_lm_eval` scores generated replies on
// the eval split with `eval_causal_lm_metrics` (default sacrebleu, comet, ter,
// chrf, perplexity) at every evaluation, generating greedily up to
// `eval_max_new_tokens` (default 128) tokens.
// LLaMA-Factory: a prediction run (`do_predict` with `predict_with_generate`;
// it refuses `predict_with_generate` together with `do_train`) scores
// BLEU-4 and ROUGE-1/2/L on `eval_dataset`, generating with its generation
// arguments (sampling by default: do_sample true, temperature 0.95, top_p 0.7,
// top_k 50, max_new_tokens 1024).

import type { EvaluationMetric } from '../plan';
import type { ViewBuilder } from './view';

/** Axolotl's metric names → native ones; the rest (comet, ter) have no native metric. */
const AXOLOTL_METRICS: Record<string, EvaluationMetric | 'always'> = {
  sacrebleu: 'bleu',
  chrf: 'chrf',
  // Native measures loss and perplexity on the eval file whatever the metrics.
  perplexity: 'always',
};
const AXOLOTL_DEFAULT_METRICS = ['sacrebleu', 'comet', 'ter', 'chrf', 'perplexity'];

/** Axolotl metrics Tunelab does not compute, for the conversion's dropped list. */
export function axolotlUnmappedMetrics(config: Record<string, unknown>): string[] {
  const metrics = config.eval_causal_lm_metrics;
  if (config.do_causal_lm_eval !== true) return [];
  const list = Array.isArray(metrics) ? metrics : AXOLOTL_DEFAULT_METRICS;
  return list.filter((m): m is string => typeof m === 'string' && !(m in AXOLOTL_METRICS));
}

export function axolotlEvaluation(b: ViewBuilder): void {
  if (b.get('do_causal_lm_eval') !== true) return;
  const written = b.get('eval_causal_lm_metrics');
  const names = Array.isArray(written) ? written : AXOLOTL_DEFAULT_METRICS;
  const metrics = [
    ...new Set(
      names
        .map((m) => AXOLOTL_METRICS[String(m)])
        .filter((m): m is EvaluationMetric => m !== undefined && m !== 'always'),
    ),
  ];
  b.set(['evaluation'], {}, 'do_causal_lm_eval');
  b.set(['evaluation', 'task'], {}, 'do_causal_lm_eval');
  b.set(
    ['evaluation', 'task', 'metrics'],
    metrics,
    Array.isArray(written) ? 'eval_causal_lm_metrics' : undefined,
  );
  b.set(['evaluation', 'generation'], {});
  b.set(
    ['evaluation', 'generation', 'max_new_tokens'],
    b.num('eval_max_new_tokens') ?? 128,
    b.has('eval_max_new_tokens') ? 'eval_max_new_tokens' : undefined,
  );
  b.set(['evaluation', 'generation', 'do_sample'], false);
}

/** LLaMA-Factory generation arguments with their defaults (GeneratingArguments). */
const LLAMAFACTORY_GENERATION: [string, unknown][] = [
  ['max_new_tokens', 1024],
  ['do_sample', true],
  ['temperature', 0.95],
  ['top_p', 0.7],
  ['top_k', 50],
  ['num_beams', 1],
  ['repetition_penalty', 1.0],
  ['length_penalty', 1.0],
];

/** The LLaMA-Factory keys the evaluation mapping reads (not dropped when converting). */
export const LLAMAFACTORY_EVALUATION_KEYS = [
  'do_predict',
  'predict_with_generate',
  ...LLAMAFACTORY_GENERATION.map(([k]) => k),
  'eval_num_beams',
];

export function llamafactoryEvaluation(b: ViewBuilder): void {
  if (b.get('predict_with_generate') !== true) return;
  // A prediction run scores a trained model: native runs that as `tunelab eval RUN`.
  b.set(['evaluation'], { when: 'on_demand' }, 'predict_with_generate');
  b.set(['evaluation', 'task'], { metrics: ['bleu', 'rouge_l'] }, 'predict_with_generate');
  const generation: Record<string, unknown> = {};
  b.set(['evaluation', 'generation'], generation);
  for (const [key, fallback] of LLAMAFACTORY_GENERATION) {
    const value = b.get(key);
    b.set(
      ['evaluation', 'generation', key],
      value ?? fallback,
      value !== undefined ? key : undefined,
    );
  }
  // `eval_num_beams` overrides num_beams for evaluation generations.
  if (b.num('eval_num_beams') !== undefined)
    b.set(['evaluation', 'generation', 'num_beams'], b.num('eval_num_beams'), 'eval_num_beams');
}
