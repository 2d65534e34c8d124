import {
  CodeActionKind,
  type CodeAction,
  type Diagnostic,
  type Range,
} from 'vscode-languageserver/node';
import type { Analysis } from '../../../engine/src/engine';
import { describeChanges } from '../../../engine/src/estimate/fastest';
import { formatGiB } from '../../../engine/src/estimate/index';
import { tuneAnalysis } from '../../../engine/src/report/tune';
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

/**
 * "Tune for speed": the fastest settings that fit the config's GPU
 * (engine/src/report/tune.ts), written as the quick fixes write theirs:
 * minimal edits of the values that change. Action titles are one line, so
 * the title carries the predicted figures and names each change.
 */
export function tuneActions(uri: string, analysis: Analysis): CodeAction[] {
  const t = tuneAnalysis(analysis);
  if (!t || t.edits.length === 0) return [];
  const tps = (n: number) => Math.round(n).toLocaleString('en-US');
  const title =
    `Tune for speed (fastest settings that fit ${t.gpu}): ` +
    `${tps(t.before.tokensPerSecond)} → ${tps(t.after.tokensPerSecond)} tokens/s, ` +
    `peak ${formatGiB(t.before.peakBytes)} → ${formatGiB(t.after.peakBytes)} — ` +
    t.steps.map((s) => describeChanges(s.changes)).join('; ');
  return [
    {
      title: title.replace(/`([^`]*)`/g, "'$1'"),
      kind: CodeActionKind.RefactorRewrite,
      edit: { changes: { [uri]: t.edits } },
    },
  ];
}
