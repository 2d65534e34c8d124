// "Tunelab: Show Memory Estimate": the server's breakdown of a config, shown
// as rendered Markdown in a webview beside the editor (one panel, reused and
// refreshed), never as an untitled document left to save or discard.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { estimateBreakdownRequest } from '../../protocol/src/messages';

let panel: vscode.WebviewPanel | undefined;

export async function showEstimate(
  client: LanguageClient | undefined,
  uri: unknown,
): Promise<void> {
  const target =
    typeof uri === 'string'
      ? uri
      : uri instanceof vscode.Uri
        ? uri.toString()
        : vscode.window.activeTextEditor?.document.uri.toString();
  if (!client || !target) return;
  const markdown = await client.sendRequest<string | null>(estimateBreakdownRequest.method, {
    uri: target,
  });
  if (!markdown) {
    void vscode.window.showInformationMessage(
      'Tunelab: no estimate for this file (not a config, or the model architecture is unknown).',
    );
    return;
  }
  // VS Code's own Markdown renderer: the same look as its preview, sanitised.
  const html = await vscode.commands
    .executeCommand<string>('markdown.api.render', markdown)
    .then(undefined, () => `<pre>${escapeHtml(markdown)}</pre>`);
  const title = `Estimate: ${path.basename(vscode.Uri.parse(target).path)}`;
  if (!panel) {
    panel = vscode.window.createWebviewPanel(
      'tunelab.estimate',
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false },
    );
    panel.onDidDispose(() => (panel = undefined));
  }
  panel.title = title;
  panel.webview.html = page(panel.webview, html);
  panel.reveal(vscode.ViewColumn.Beside, true);
}

function page(webview: vscode.Webview, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource} 'unsafe-inline';">
<style>
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 1em; }
  table { border-collapse: collapse; margin: 0.5em 0; }
  th, td { border: 1px solid var(--vscode-panel-border); padding: 2px 8px; text-align: left; }
  td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
</style></head><body>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The open estimate panel's HTML, for the VS Code test suite. */
export function estimatePanelHtml(): string | undefined {
  return panel?.webview.html;
}
