// "Tunelab: Compare Runs": a webview of two or more evaluated runs (the
// comparison of launch/src/compare.ts, as `tunelab compare` prints it):
// overlaid training and eval loss curves drawn as plain SVG like the run chart
// (chartPanel.ts: no CDN, no library, one nonce'd script), the metrics table
// with deltas, forgetting verdicts, the config diff and generations side by
// side; exports as PNG (the charts), CSV and Markdown.

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import {
  compareRuns,
  formatNumber,
  formatPercent,
  VERDICT_MARK,
  type Comparison,
  type CompareInput,
} from '../../launch/src/compare';
import { renderComparison } from '../../launch/src/compareRender';
import { SVG_PNG_SCRIPT } from './svgPngScript';

type ExportKind = 'png' | 'csv' | 'markdown';
const EXTENSIONS: Record<ExportKind, string> = { png: 'png', csv: 'csv', markdown: 'md' };

export class CompareView implements vscode.Disposable {
  private static current: CompareView | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pngWaiter: ((bytes: Buffer) => void) | undefined;

  /** Opens (or replaces the content of) the Compare runs view. */
  static show(inputs: readonly CompareInput[]): CompareView {
    const comparison = compareRuns(inputs);
    const existing = CompareView.current;
    if (existing) {
      existing.comparison = comparison;
      existing.render();
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      'tunelab.compareRuns',
      'Compare runs',
      vscode.ViewColumn.Active,
      { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true },
    );
    CompareView.current = new CompareView(panel, comparison);
    return CompareView.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private comparison: Comparison,
  ) {
    this.render();
    this.disposables.push(
      panel.webview.onDidReceiveMessage((message: { type?: string; data?: string }) => {
        if (message.type === 'export-csv') void this.exportTo('csv');
        else if (message.type === 'export-markdown') void this.exportTo('markdown');
        else if (message.type === 'export-png') void this.exportTo('png');
        else if (message.type === 'png' && typeof message.data === 'string') {
          const bytes = Buffer.from(message.data.replace(/^data:image\/png;base64,/, ''), 'base64');
          this.pngWaiter?.(bytes);
          this.pngWaiter = undefined;
        }
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private render(): void {
    this.panel.title = `Compare ${this.comparison.runs.map((r) => r.label).join(' · ')}`;
    this.panel.webview.html = compareHtml(
      this.comparison,
      crypto.randomBytes(16).toString('base64'),
    );
  }

  /** Saves an export, asking where unless `target` is given. */
  async exportTo(kind: ExportKind, target?: vscode.Uri): Promise<void> {
    const bytes =
      kind === 'png'
        ? await new Promise<Buffer>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error('the charts did not render a PNG')),
              10_000,
            );
            this.pngWaiter = (png) => {
              clearTimeout(timer);
              resolve(png);
            };
            void this.panel.webview.postMessage({ type: 'renderPng' });
          })
        : Buffer.from(renderComparison(this.comparison, kind), 'utf8');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `compare-${this.comparison.runs.map((r) => r.label).join('-vs-')}`.slice(0, 120);
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        defaultUri: folder ? vscode.Uri.joinPath(folder, `${name}.${EXTENSIONS[kind]}`) : undefined,
        filters: { [kind.toUpperCase()]: [EXTENSIONS[kind]] },
        title: `Export the comparison as ${kind}`,
      }));
    if (!uri) return;
    await vscode.workspace.fs.writeFile(uri, bytes);
    void vscode.window.showInformationMessage(`Tunelab: comparison saved to ${uri.fsPath}`);
  }

  dispose(): void {
    if (CompareView.current === this) CompareView.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function table(id: string, header: string[], rows: string[][]): string {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A value with its delta against the first run, coloured by whether it is better. */
function metricCell(c: Comparison, rowIndex: number, run: number): string {
  const m = c.metrics[rowIndex];
  const isChange = m.name.includes('change vs base');
  const value = isChange ? formatPercent(m.values[run]) : formatNumber(m.values[run]);
  const delta = m.deltas[run];
  if (delta === null || delta === 0) return esc(value);
  const better = m.better === 'higher' ? delta > 0 : delta < 0;
  const text = isChange
    ? `${formatPercent(delta).replace('%', '')} pt`
    : `${delta > 0 ? '+' : ''}${formatNumber(delta)}`;
  return `${esc(value)} <span class="${better ? 'better' : 'worse'}">(${esc(text)})</span>`;
}

function sections(c: Comparison): string {
  const labels = c.runs.map((r) => esc(r.label));
  const metrics = table(
    'metrics',
    ['metric', ...c.runs.map((r) => r.label)],
    c.metrics.map((m, i) => [
      esc(`${m.section}: ${m.name}`),
      ...labels.map((_, run) => metricCell(c, i, run)),
    ]),
  );
  const forgetting = table(
    'forgetting',
    ['run', 'base bits/byte', 'tuned bits/byte', 'change', 'threshold', 'verdict'],
    c.forgetting.map((f) => [
      esc(f.label),
      formatNumber(f.base),
      formatNumber(f.tuned),
      formatPercent(f.change),
      f.threshold === null ? '–' : formatPercent(f.threshold).replace('+', ''),
      f.verdict
        ? `<span class="verdict ${f.verdict}">${VERDICT_MARK[f.verdict]} ${f.verdict}</span>`
        : '–',
    ]),
  );
  const config = c.configDiff.length
    ? table(
        'config-diff',
        ['config key', ...c.runs.map((r) => r.label)],
        c.configDiff.map((d) => [
          `<code>${esc(d.key)}</code>`,
          ...d.values.map((v) => (v === null ? '<i>absent</i>' : esc(v))),
        ]),
      )
    : '<p id="config-diff">No config key differs.</p>';
  const samples = c.samples.length
    ? table(
        'samples',
        ['prompt', 'reference', ...c.runs.map((r) => r.label)],
        c.samples.map((s) => [
          esc(s.prompt),
          esc(s.reference ?? '–'),
          ...s.predictions.map((p) => esc(p ?? '–')),
        ]),
      )
    : '<p>No generations in these results.</p>';
  const notes = c.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('');
  return `<h3>Metrics</h3><p class="hint">In brackets: the difference to ${labels[0]}.</p>${metrics}
<h3>Forgetting</h3><p class="hint">Bits per byte on general data, tuned against each run's base model.</p>${forgetting}
<h3>Config keys that differ</h3>${config}<h3>Generations</h3>${samples}${notes}`;
}

function compareHtml(c: Comparison, nonce: string): string {
  // Curves as data for the page's script; `<` escaped so no text can close the script element.
  const curves = JSON.stringify(c.curves).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 8px 16px; }
  h2 { font-size: 1.2em; } h3 { font-size: 1.05em; margin: 18px 0 6px; }
  table { border-collapse: collapse; margin-bottom: 6px; }
  th, td { border: 1px solid var(--vscode-editorWidget-border, #555); padding: 3px 8px; text-align: left; vertical-align: top; }
  th { background: var(--vscode-editorWidget-background, transparent); }
  #samples td { max-width: 360px; }
  .hint, .note { opacity: 0.75; margin: 2px 0 6px; }
  .better { color: var(--vscode-charts-green, #89d185); } .worse { color: var(--vscode-charts-red, #f14c4c); }
  .verdict.pass { color: var(--vscode-testing-iconPassed, #73c991); } .verdict.warn { color: var(--vscode-charts-yellow, #cca700); } .verdict.fail { color: var(--vscode-testing-iconFailed, #f14c4c); }
  .charts { display: flex; gap: 16px; flex-wrap: wrap; } .charts svg { flex: 1 1 420px; height: 220px; }
  .axis { stroke: var(--vscode-editorWidget-border, #888); stroke-width: 1; }
  .label { fill: var(--vscode-descriptionForeground, #999); font-size: 11px; }
  #legend span { margin-right: 14px; }
  button { font: inherit; color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; margin-right: 6px; cursor: pointer; }
</style></head>
<body>
<h2>Compare runs: ${c.runs.map((r) => `<code>${esc(r.label)}</code>${r.method ? ` (${esc(r.method)})` : ''}`).join(', ')}</h2>
<div><button id="export-png">Export PNG</button><button id="export-csv">Export CSV</button><button id="export-markdown">Export Markdown</button></div>
<div id="legend"></div>
<div class="charts"><svg id="train-loss" role="img" aria-label="training loss by step"></svg><svg id="eval-loss" role="img" aria-label="eval loss by step"></svg></div>
${sections(c)}
<script type="application/json" id="curves">${curves}</script>
<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  const curves = JSON.parse(document.getElementById('curves').textContent);
  const NS = 'http://www.w3.org/2000/svg';
  const COLORS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
  const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];
  const color = (i) => getComputedStyle(document.body).getPropertyValue(COLORS[i % COLORS.length]).trim() || FALLBACK[i % FALLBACK.length];
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
  // One chart, one line per run (dots where a run has a single point).
  function draw(svgId, label, key) {
    const svg = document.getElementById(svgId);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const W = svg.clientWidth || 480, H = svg.clientHeight || 220, L = 56, R = 10, T = 18, B = 22;
    const series = curves.map((c) => c.points.filter((p) => typeof p[key] === 'number').map((p) => [p.step, p[key]]));
    svg.appendChild(el('text', { x: L, y: 12, class: 'label' }, label));
    const all = series.flat();
    if (all.length === 0) { svg.appendChild(el('text', { x: L, y: H / 2, class: 'label' }, 'no curve recorded for these runs')); return; }
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
    series.forEach((points, i) => {
      const stroke = color(i);
      if (points.length > 1)
        svg.appendChild(el('polyline', { fill: 'none', stroke, 'stroke-width': 1.5, points: points.map(([x, y]) => sx(x).toFixed(1) + ',' + sy(y).toFixed(1)).join(' ') }));
      else for (const [x, y] of points) svg.appendChild(el('circle', { cx: sx(x), cy: sy(y), r: 3, fill: stroke }));
    });
  }
  function render() {
    const legend = document.getElementById('legend');
    legend.textContent = '';
    curves.forEach((c, i) => {
      const item = document.createElement('span');
      item.style.color = color(i);
      item.textContent = '━ ' + c.label;
      legend.appendChild(item);
    });
    draw('train-loss', 'training loss', 'loss');
    draw('eval-loss', 'eval loss', 'evalLoss');
  }
  // PNG: both charts stacked on one canvas (svgPngScript.ts).
  ${SVG_PNG_SCRIPT}
  function exportPng() {
    exportSvgsAsPng(['train-loss', 'eval-loss'], 480, 220);
  }
  window.addEventListener('message', (event) => { if (event.data && event.data.type === 'renderPng') exportPng(); });
  window.addEventListener('resize', render);
  for (const kind of ['png', 'csv', 'markdown'])
    document.getElementById('export-' + kind).addEventListener('click', () => vscode.postMessage({ type: 'export-' + kind }));
  render();
})();
</script>
</body></html>`;
}
