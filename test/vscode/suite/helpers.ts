// Shared helpers of the VS Code integration tests (bundled into each test file).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'tunelab.tunelab';

/**
 * Logs a line of test output. Under the code-server harness, the mark makes it
 * appear in the test output (the workbench's own log is filtered out there).
 */
export function log(format: string, ...args: unknown[]): void {
  console.log((process.env.TUNELAB_VSCODE_LOG_MARK ?? '') + format, ...args);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `get` until `ok` accepts its value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  get: () => T | PromiseLike<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${describe(last)}`);
    }
    await sleep(intervalMs);
    last = await get();
  }
  return last;
}

function describe(v: unknown): string {
  if (Array.isArray(v) && v.every((d) => d instanceof vscode.Diagnostic)) {
    return JSON.stringify(v.map(summarize));
  }
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

export function workspaceUri(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace folder is not open');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

/** Opens a workspace file in an editor (which triggers activation on YAML). */
export async function open(relPath: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(relPath));
  await vscode.window.showTextDocument(doc, { preview: false });
  return doc;
}

/** `diagnostic.code` is a string/number or `{ value, target }` (with a docs link). */
export function codeOf(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined || c === null) return undefined;
  if (typeof c === 'object') return String(c.value);
  return String(c);
}

export function summarize(d: vscode.Diagnostic) {
  const r = d.range;
  return {
    code: codeOf(d),
    severity: vscode.DiagnosticSeverity[d.severity],
    range: `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`,
    message: d.message,
    source: d.source,
  };
}

export function diagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri);
}

/** Waits until the document has a diagnostic with each of `codes`. */
export function waitForCodes(uri: vscode.Uri, codes: string[], timeoutMs = 20_000) {
  return waitFor(
    `diagnostics ${codes.join(', ')} on ${uri.path}`,
    () => diagnostics(uri),
    (ds) => codes.every((c) => ds.some((d) => codeOf(d) === c)),
    timeoutMs,
  );
}

/**
 * The range of the first occurrence of `needle` on the first non-comment line
 * that contains `lineMarker`.
 */
export function rangeOf(
  doc: vscode.TextDocument,
  lineMarker: string,
  needle: string,
): vscode.Range {
  for (let i = 0; i < doc.lineCount; i++) {
    const text = doc.lineAt(i).text;
    if (text.trimStart().startsWith('#')) continue;
    if (text.includes(lineMarker)) {
      const col = text.indexOf(needle);
      assert.ok(col >= 0, `'${needle}' not on line ${i}: ${text}`);
      return new vscode.Range(i, col, i, col + needle.length);
    }
  }
  assert.fail(`no line with '${lineMarker}' in ${doc.uri.path}`);
}

export function fmtRange(r: vscode.Range): string {
  return `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
}

/** Plain text of hover contents (MarkdownString, MarkedString or string). */
export function hoverText(hovers: vscode.Hover[]): string {
  const parts: string[] = [];
  for (const h of hovers) {
    for (const c of h.contents) {
      if (typeof c === 'string') parts.push(c);
      else if (c instanceof vscode.MarkdownString) parts.push(c.value);
      else if (c && typeof c === 'object' && 'value' in c) parts.push(String(c.value));
    }
  }
  return parts.join('\n');
}

export function labelOf(item: vscode.CompletionItem): string {
  return typeof item.label === 'string' ? item.label : item.label.label;
}

/** Throws away unsaved changes of a document (so tests leave files as found). */
export async function revert(doc: vscode.TextDocument): Promise<void> {
  if (!doc.isDirty) return;
  await vscode.window.showTextDocument(doc, { preview: false });
  await vscode.commands.executeCommand('workbench.action.files.revert');
}
