// Conversions between the engine's plain types and LSP's.

import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import type { Finding, Severity } from '../../../engine/src/types';

export const RULE_DOCS_BASE = 'https://github.com/tunelab/tunelab/blob/main/docs/rules.md';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostic(finding: Finding): Diagnostic {
  return {
    range: finding.range,
    severity: SEVERITY[finding.severity],
    code: finding.code,
    codeDescription: { href: `${RULE_DOCS_BASE}#${finding.code}` },
    source: 'tunelab',
    message: finding.message,
  };
}
