// A live loss and learning-rate chart of one run: a webview drawing plain SVG
// with its own small script (no CDN, no library; the CSP allows only that
// script). The extension posts only the points added since the last post.

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { pointsToCsv } from '../../../launch/src/chartExport';
import { formatStatus } from '../../../launch/src/progressModel';
import { SVG_PNG_SCRIPT } from '../svgPngScript';
import type { RunSession } from './runSession';

export class ChartPanel implements vscode.Disposable {
  private static readonly panels = new Map<string, ChartPanel>();
  private sent = 0;
  private readonly disposables: vscode.Disposable[] = [];
  /** A PNG asked for by exportTo(), waiting for the page to render it. */
  private pngWaiter: ((bytes: Buffer) => void) | undefined;

  static show(session: RunSession): ChartPanel {
    const existing = ChartPanel.panels.get(session.id);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      'tunelab.runChart',
      `Training ${session.id}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true },
    );
    const chart = new ChartPanel(panel, session);
    ChartPanel.panels.set(session.id, chart);
    return chart;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly session: RunSession,
  ) {
    panel.webview.html = chartHtml(crypto.randomBytes(16).toString('base64'));
    this.disposables.push(
      session.onDidUpdate(() => this.post()),
      panel.webview.onDidReceiveMessage((message: { type?: string; data?: string }) => {
        // The page asks for everything once its script runs (and after a reload).
        if (message.type === 'ready') {
          this.sent = 0;
          this.post();
        } else if (message.type === 'exportCsv') {
          void this.save('csv', Buffer.from(pointsToCsv(this.session.model.points), 'utf8'));
        } else if (message.type === 'png' && typeof message.data === 'string') {
          const bytes = Buffer.from(message.data.replace(/^data:image\/png;base64,/, ''), 'base64');
          const waiter = this.pngWaiter;
          this.pngWaiter = undefined;
          if (waiter) waiter(bytes);
          else void this.save('png', bytes);
        }
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(): void {
    const points = this.session.model.points.slice(this.sent);
    void this.panel.webview.postMessage({
      type: 'update',
      reset: this.sent === 0,
      points,
      title: this.session.id,
      status: `${this.session.state} · ${formatStatus(this.session.model.progress)}`,
    });
    this.sent += points.length;
  }

  /** Exports the chart (the "Tunelab: Export training chart" command); asks where when `target` is absent. */
  async exportTo(kind: 'csv' | 'png', target?: vscode.Uri): Promise<void> {
    const bytes =
      kind === 'csv'
        ? Buffer.from(pointsToCsv(this.session.model.points), 'utf8')
        : await new Promise<Buffer>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error('the chart did not render a PNG')),
              10_000,
            );
            this.pngWaiter = (png) => {
              clearTimeout(timer);
              resolve(png);
            };
            void this.panel.webview.postMessage({ type: 'renderPng' });
          });
    await this.save(kind, bytes, target);
  }

  /** Writes an export of the chart, asking where unless `target` is given. */
  private async save(kind: 'csv' | 'png', bytes: Buffer, given?: vscode.Uri): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target =
      given ??
      (await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, `${this.session.id}.${kind}`) : undefined,
        filters: kind === 'csv' ? { CSV: ['csv'] } : { PNG: ['png'] },
        title: `Export the training chart as ${kind.toUpperCase()}`,
      }));
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, bytes);
    void vscode.window.showInformationMessage(`Tunelab: chart saved to ${target.fsPath}`);
  }

  dispose(): void {
    ChartPanel.panels.delete(this.session.id);
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

/** The page: two SVG line charts (loss with eval loss dots; learning rate) over steps. */
function chartHtml(nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 8px 16px; }
  h2 { font-size: 1.1em; margin: 4px 0; font-weight: 600; }
  #status { opacity: 0.8; margin-bottom: 8px; }
  svg { width: 100%; height: 240px; display: block; margin-bottom: 12px; }
  .axis { stroke: var(--vscode-editorWidget-border, #888); stroke-width: 1; }
  .label { fill: var(--vscode-descriptionForeground, #999); font-size: 11px; }
  .loss { stroke: var(--vscode-charts-blue, #3794ff); fill: none; stroke-width: 1.5; }
  .eval { fill: var(--vscode-charts-orange, #d18616); }
  .lr { stroke: var(--vscode-charts-green, #89d185); fill: none; stroke-width: 1.5; }
  button { font: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; margin-right: 6px; cursor: pointer; }
</style></head>
<body>
<h2 id="title">Training</h2><div id="status">waiting for the first step…</div>
<div><button id="export-png">Export PNG</button><button id="export-csv">Export CSV</button></div>
<svg id="loss" role="img" aria-label="loss by step"></svg>
<svg id="lr" role="img" aria-label="learning rate by step"></svg>
<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  let points = [];
  let pending = false;
  const NS = 'http://www.w3.org/2000/svg';
  const MAX_DRAWN = 1500;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(v) {
    if (v === 0) return '0';
    const a = Math.abs(v);
    return a < 0.01 || a >= 1e5 ? v.toExponential(1) : v.toPrecision(4).replace(/\\.?0+$/, '');
  }
  // At most MAX_DRAWN points per series: every k-th one, and always the last.
  function thin(series) {
    if (series.length <= MAX_DRAWN) return series;
    const k = Math.ceil(series.length / MAX_DRAWN);
    const out = series.filter((_, i) => i % k === 0);
    if (out[out.length - 1] !== series[series.length - 1]) out.push(series[series.length - 1]);
    return out;
  }
  function draw(svgId, label, series, cls, dots) {
    const svg = document.getElementById(svgId);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const W = svg.clientWidth || 600, H = svg.clientHeight || 240, L = 60, R = 10, T = 18, B = 22;
    const all = series.concat(dots || []);
    svg.appendChild(el('text', { x: L, y: 12, class: 'label' }, label));
    if (all.length === 0) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of all) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y1 += Math.abs(y1) * 0.05 || 1; y0 -= Math.abs(y0) * 0.05 || 1; }
    const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const sy = (y) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
    svg.appendChild(el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
    svg.appendChild(el('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
    svg.appendChild(el('text', { x: 4, y: T + 10, class: 'label' }, fmt(y1)));
    svg.appendChild(el('text', { x: 4, y: H - B, class: 'label' }, fmt(y0)));
    svg.appendChild(el('text', { x: L, y: H - 6, class: 'label' }, 'step ' + x0));
    svg.appendChild(el('text', { x: W - R - 70, y: H - 6, class: 'label' }, 'step ' + x1));
    const drawn = thin(series);
    if (drawn.length > 0)
      svg.appendChild(el('polyline', { class: cls, points: drawn.map(([x, y]) => sx(x).toFixed(1) + ',' + sy(y).toFixed(1)).join(' ') }));
    for (const [x, y] of dots || []) svg.appendChild(el('circle', { cx: sx(x), cy: sy(y), r: 3, class: 'eval' }));
  }
  function render() {
    pending = false;
    const loss = [], evalLoss = [], lr = [];
    for (const p of points) {
      if (typeof p.loss === 'number') loss.push([p.step, p.loss]);
      if (typeof p.evalLoss === 'number') evalLoss.push([p.step, p.evalLoss]);
      if (typeof p.learningRate === 'number') lr.push([p.step, p.learningRate]);
    }
    draw('loss', 'loss' + (evalLoss.length ? ' (dots: eval loss)' : ''), loss, 'loss', evalLoss);
    draw('lr', 'learning rate', lr, 'lr');
  }
  window.addEventListener('message', (event) => {
    const message = event.data;
    if (message && message.type === 'renderPng') { exportPng(); return; }
    if (!message || message.type !== 'update') return;
    if (message.reset) points = [];
    points = points.concat(message.points);
    document.getElementById('title').textContent = message.title;
    document.getElementById('status').textContent = message.status;
    if (!pending) { pending = true; requestAnimationFrame(render); }
  });
  window.addEventListener('resize', () => { if (!pending) { pending = true; requestAnimationFrame(render); } });
  // PNG: both charts stacked on one canvas (svgPngScript.ts).
  ${SVG_PNG_SCRIPT}
  function exportPng() {
    exportSvgsAsPng(['loss', 'lr'], 600, 240);
  }
  document.getElementById('export-png').addEventListener('click', exportPng);
  document.getElementById('export-csv').addEventListener('click', () => vscode.postMessage({ type: 'exportCsv' }));
  vscode.postMessage({ type: 'ready' });
})();
</script>
</body></html>`;
}
