// The one entry point of the analysis engine, shared by the language server
// and the CLI: text in, dialect and findings out. No editor dependency.

import { detectDialect, isNativeFileName, mightBeConfig } from './dialect';
import { MAX_CONFIG_BYTES, parseYaml, type ParsedYaml } from './parse';
import { validateSchema } from './schema/validate';
import type { Dialect, Finding, Severity } from './types';

export interface AnalyzeOptions {
  /** Per-code override: 'off' silences a code, a severity replaces its own. */
  ruleSeverity?: Record<string, Severity | 'off'>;
}

export interface Analysis {
  dialect: Dialect | null;
  /** Absent when the file was skipped (not a config, or too large). */
  parsed?: ParsedYaml;
  findings: Finding[];
}

export function analyze(text: string, fileName: string, options: AnalyzeOptions = {}): Analysis {
  if (!mightBeConfig(fileName, text)) return { dialect: null, findings: [] };
  if (text.length > MAX_CONFIG_BYTES) {
    if (!isNativeFileName(fileName)) return { dialect: null, findings: [] };
    return {
      dialect: 'native',
      findings: [
        {
          code: 'yaml-syntax',
          severity: 'error',
          message: `This file is ${(text.length / 1024 / 1024).toFixed(1)} MB; Tunelab checks configs up to ${MAX_CONFIG_BYTES / 1024 / 1024} MB and skipped it. A fine-tuning config is normally a few KB: is data pasted into it?`,
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        },
      ],
    };
  }
  const parsed = parseYaml(text);
  const dialect = detectDialect(fileName, parsed.value);
  if (!dialect) return { dialect: null, findings: [] };

  const findings = [...parsed.findings];
  if (parsed.complete) findings.push(...validateSchema(parsed));
  return { dialect, parsed, findings: applySeverityOverrides(findings, options.ruleSeverity) };
}

function applySeverityOverrides(
  findings: Finding[],
  overrides: Record<string, Severity | 'off'> | undefined,
): Finding[] {
  if (!overrides) return findings;
  const result: Finding[] = [];
  for (const finding of findings) {
    const override = overrides[finding.code];
    if (override === 'off') continue;
    result.push(override ? { ...finding, severity: override } : finding);
  }
  return result;
}
