// Conversions between the engine's plain types and LSP's.

import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import { boundedMessage } from '../../../engine/src/schema/messageText';
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
    // analyze() bounds its findings already; this guards any other source of one,
    // since one huge message can stall the editor.
    message: boundedMessage(finding.message),
  };
}
