import { DIALECT_LABEL } from '../../engine/src/dialects/schemas';
import type { AnalyzeOptions } from '../../engine/src/engine';
import type { Dialect, Finding } from '../../engine/src/types';
import { analyzeFile, type FileAnalysis } from './analyzeFile';

export interface LintFileResult {
  file: string;
  dialect: Dialect | null;
  diagnostics: Finding[];
}

/** What `tunelab lint` reports for a file already read and analysed. */
export function lintResult(
  file: string,
  analyzed: FileAnalysis,
): LintFileResult | { error: string } {
  if (!analyzed.ok) return { error: analyzed.error };
  if ('fileFinding' in analyzed) {
    // Only a file named as a native config is surely one; any other is skipped unread.
    const native = /\.finetune\.ya?ml$/i.test(file);
    return {
      file,
      dialect: native ? 'native' : null,
      diagnostics: native ? [analyzed.fileFinding] : [],
    };
  }
  const { analysis } = analyzed;
  return { file, dialect: analysis.dialect, diagnostics: analysis.findings };
}

/** `lintResult` of a file read and analysed here, without the network. */
export function lintFile(
  file: string,
  options: AnalyzeOptions,
): LintFileResult | { error: string } {
  return lintResult(file, analyzeFile(file, options));
}

export function formatText(results: LintFileResult[]): string {
  const lines: string[] = [];
  const counts = { error: 0, warning: 0, info: 0, hint: 0 };
  for (const result of results) {
    const sorted = [...result.diagnostics].sort(
      (a, b) =>
        a.range.start.line - b.range.start.line ||
        a.range.start.character - b.range.start.character,
    );
    for (const d of sorted) {
      counts[d.severity]++;
      lines.push(
        `${result.file}:${d.range.start.line + 1}:${d.range.start.character + 1} ${d.severity} ${d.code} ${d.message}`,
      );
    }
  }
  const checked = results.filter((r) => r.dialect).length;
  // Configs of other tools are named in the summary (native ones keep the plain line).
  const others = new Map<string, number>();
  for (const r of results)
    if (r.dialect && r.dialect !== 'native')
      others.set(DIALECT_LABEL[r.dialect], (others.get(DIALECT_LABEL[r.dialect]) ?? 0) + 1);
  const which = others.size
    ? ` (${[...others].map(([label, n]) => `${n} ${label}`).join(', ')})`
    : '';
  lines.push(
    `${checked} config${checked === 1 ? '' : 's'} checked${which}: ${counts.error} error${counts.error === 1 ? '' : 's'}, ${counts.warning} warning${counts.warning === 1 ? '' : 's'}, ${counts.info + counts.hint} info`,
  );
  return lines.join('\n');
}

export function formatJson(results: LintFileResult[]): string {
  return JSON.stringify({
    files: results.map((r) => ({
      file: r.file,
      dialect: r.dialect,
      diagnostics: r.diagnostics.map((d) => ({
        code: d.code,
        severity: d.severity,
        message: d.message,
        range: d.range,
      })),
    })),
  });
}
