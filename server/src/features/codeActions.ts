import {
  CodeActionKind,
  type CodeAction,
  type Diagnostic,
  type Range,
} from 'vscode-languageserver/node';
import type { Finding } from '../../../engine/src/types';
import { toDiagnostic } from './convert';

function sameRange(a: Range, b: Range): boolean {
  return (
    a.start.line === b.start.line &&
    a.start.character === b.start.character &&
    a.end.line === b.end.line &&
    a.end.character === b.end.character
  );
}

/** Quick fixes of the findings that the client's diagnostics in `context` refer to. */
export function quickFixes(
  uri: string,
  findings: Finding[],
  requested: Diagnostic[],
): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const finding of findings) {
    if (!finding.fixes?.length) continue;
    const match = requested.some(
      (d) => d.code === finding.code && sameRange(d.range, finding.range),
    );
    if (!match) continue;
    for (const fix of finding.fixes) {
      actions.push({
        // Action titles are plain text in VS Code: `code` marks would show as backticks.
        title: fix.title.replace(/`([^`]*)`/g, "'$1'"),
        kind: CodeActionKind.QuickFix,
        diagnostics: [toDiagnostic(finding)],
        isPreferred: fix.preferred,
        edit: { changes: { [uri]: fix.edits } },
      });
    }
  }
  return actions;
}
