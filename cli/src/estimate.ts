import {
  buildEstimateReport,
  estimateJson,
  estimateText,
} from '../../engine/src/report/estimateReport';
import type { FileAnalysis } from './analyzeFile';

export type EstimateOutcome =
  | { ok: true; text: string; json: ReturnType<typeof estimateJson> }
  | { ok: false; exitCode: 1 | 2; message: string };

/** What `tunelab estimate` reports for a file already read and analysed. */
export function estimateOutcome(file: string, analyzed: FileAnalysis): EstimateOutcome {
  if (!analyzed.ok) return { ok: false, exitCode: 2, message: analyzed.error };
  if ('fileFinding' in analyzed)
    return { ok: false, exitCode: 1, message: `${file}: ${analyzed.fileFinding.message}` };
  const { analysis } = analyzed;
  if (!analysis.dialect)
    return { ok: false, exitCode: 1, message: `${file} is not a fine-tuning config` };
  if (!analysis.plan?.method) {
    return {
      ok: false,
      exitCode: 1,
      message: `${file}: no valid \`method\` (full, lora or qlora): nothing to estimate`,
    };
  }
  const report = buildEstimateReport(analysis);
  if (!report) {
    const name = analysis.plan.model.nameOrPath ?? '(missing model.name_or_path)';
    return {
      ok: false,
      exitCode: 1,
      message: `${file}: the architecture of ${name} is unknown, so its memory cannot be estimated. Give \`model.architecture\` (hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads, intermediate_size, vocab_size) or point \`model.name_or_path\` at a local directory with config.json.`,
    };
  }
  return { ok: true, text: estimateText(report), json: estimateJson(report) };
}
