// `tunelab tune CONFIG [--gpu ID] [--write] [--format text|json] [--no-liger] [--no-compile]`: the
// fastest settings that fit the GPU (engine/src/report/tune.ts), printed as
// one line per change with its predicted tokens/s and memory; --write
// rewrites the config in place with minimal edits (comments and layout kept).

import * as fs from 'node:fs';
import { applyTextEdits } from '../../engine/src/edits';
import { formatGiB } from '../../engine/src/estimate/index';
import { tuneAnalysis, type TuneProposal } from '../../engine/src/report/tune';
import { analyzeFileWithHub, type FileAnalysis } from './analyzeFile';
import { print, say } from './output';

export interface TuneOptions {
  format: 'text' | 'json';
  gpu?: string;
  write: boolean;
  offline?: boolean;
  /** Whether Liger Kernel may be proposed (--no-liger: not installed on the GPU host). Default true. */
  liger?: boolean;
  /** Whether compiled layers may be proposed (--no-compile: no Triton there). Default true. */
  compile?: boolean;
}

export interface TuneOutcome {
  exitCode: 0 | 1 | 2;
  /** stdout: the report (text or JSON). */
  stdout: string;
  /** stderr: why there is no report. */
  stderr: string;
  /** The config text written with --write. */
  written?: string;
}

function tps(n: number): string {
  return `${Math.round(n).toLocaleString('en-US')} tokens/s`;
}

function textReport(file: string, t: TuneProposal, written: boolean): string {
  const lines = [`${file}: fastest settings that fit ${t.gpu} (${t.margin})`];
  if (t.changes.length === 0) {
    lines.push(
      `  already the fastest that fits: ${tps(t.before.tokensPerSecond)}, peak ${formatGiB(t.before.peakBytes)}`,
    );
    return lines.join('\n');
  }
  for (const s of t.steps) lines.push(`  - ${s.explanation}`);
  lines.push(
    `  predicted: ${tps(t.before.tokensPerSecond)} → ${tps(t.after.tokensPerSecond)}` +
      ` (×${(t.after.tokensPerSecond / t.before.tokensPerSecond).toFixed(2)}),` +
      ` peak ${formatGiB(t.before.peakBytes)} → ${formatGiB(t.after.peakBytes)} per GPU, evaluation included`,
  );
  lines.push(written ? `  written to ${file}` : '  run with --write to apply');
  return lines.join('\n');
}

function jsonReport(file: string, t: TuneProposal, written: boolean) {
  return {
    file,
    gpu: t.gpu,
    margin: t.margin,
    limitBytes: t.limitBytes,
    before: t.before,
    after: t.after,
    changes: t.changes,
    steps: t.steps.map((s) => ({
      explanation: s.explanation,
      changes: s.changes,
      before: s.before,
      after: s.after,
    })),
    checkedPeakBytes: t.checkedPeakBytes,
    written,
  };
}

/** What `tunelab tune` does with a file already read and analysed (writes it with --write). */
export function tuneOutcome(
  file: string,
  analyzed: FileAnalysis,
  options: TuneOptions,
): TuneOutcome {
  const fail = (exitCode: 1 | 2, stderr: string): TuneOutcome => ({ exitCode, stdout: '', stderr });
  if (!analyzed.ok) return fail(2, analyzed.error);
  if ('fileFinding' in analyzed) return fail(1, `${file}: ${analyzed.fileFinding.message}`);
  const { analysis, text } = analyzed;
  if (!analysis.dialect) return fail(1, `${file} is not a fine-tuning config`);
  if (analysis.dialect !== 'native')
    return fail(
      1,
      `${file}: tune writes native configs only (convert it with \`tunelab convert\`)`,
    );
  if (!analysis.estimate)
    return fail(1, `${file}: no memory estimate (run \`tunelab estimate\` to see why)`);
  if (!analysis.gpu) {
    const named = options.gpu ?? analysis.plan?.hardware.gpu;
    return fail(
      1,
      `${file}: ${named ? `unknown GPU ${JSON.stringify(named)}` : 'no GPU: give hardware.gpu or --gpu'}`,
    );
  }
  const t = tuneAnalysis(analysis, {
    fusedLossAllowed: options.liger !== false,
    compileAllowed: options.compile !== false,
  });
  if (!t) {
    return fail(
      1,
      `${file}: no setting of micro-batch, accumulation, checkpointing, fused loss or row length fits ${analysis.gpu.id} with 5% kept free (\`tunelab lint\` offers fixes that change more)`,
    );
  }
  let written: string | undefined;
  if (options.write && t.edits.length > 0) {
    written = applyTextEdits(text, t.edits);
    fs.writeFileSync(file, written);
  }
  const stdout =
    options.format === 'json'
      ? JSON.stringify(jsonReport(file, t, written !== undefined))
      : textReport(file, t, written !== undefined);
  return { exitCode: 0, stdout, stderr: '', written };
}

/** The command: analyse (fetching a Hub model's config.json unless offline), report, maybe write. */
export async function tuneCommand(file: string, options: TuneOptions): Promise<number> {
  const analyzed = await analyzeFileWithHub(file, { gpu: options.gpu }, options.offline ?? false);
  const outcome = tuneOutcome(file, analyzed, options);
  if (outcome.stderr) say(outcome.stderr);
  if (outcome.stdout) print(outcome.stdout);
  return outcome.exitCode;
}
