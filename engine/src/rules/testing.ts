// Helpers for rule tests: lint a YAML text through the real engine and look at
// one code's findings, the text under their ranges, and their quick fixes.

import { applyTextEdits } from '../edits';
import { analyze, type AnalyzeOptions } from '../engine';
import type { Finding, Range } from '../types';

export function lintYaml(
  yaml: string,
  options: AnalyzeOptions & { fileName?: string } = {},
): Finding[] {
  return analyze(yaml, options.fileName ?? '/virtual/test.finetune.yaml', options).findings;
}

export function findings(
  code: string,
  yaml: string,
  options?: AnalyzeOptions & { fileName?: string },
): Finding[] {
  return lintYaml(yaml, options).filter((f) => f.code === code);
}

/** The text a range covers. */
export function textAt(yaml: string, range: Range): string {
  const lines = yaml.split('\n');
  if (range.start.line === range.end.line) {
    return (lines[range.start.line] ?? '').slice(range.start.character, range.end.character);
  }
  const parts = [lines[range.start.line].slice(range.start.character)];
  for (let l = range.start.line + 1; l < range.end.line; l++) parts.push(lines[l]);
  parts.push((lines[range.end.line] ?? '').slice(0, range.end.character));
  return parts.join('\n');
}

/** Applies the finding's quick fix `index` to the text. */
export function applyFix(yaml: string, finding: Finding, index = 0): string {
  const fix = finding.fixes?.[index];
  if (!fix) throw new Error(`finding ${finding.code} has no fix ${index}`);
  return applyTextEdits(yaml, fix.edits);
}
