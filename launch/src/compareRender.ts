// A comparison (compare.ts) as text for a terminal, Markdown for a pull
// request or notes, CSV for a spreadsheet and JSON for tools: the formats of
// `tunelab compare --format` and the exports of the editor's Compare view.

import {
  formatDelta,
  formatNumber,
  formatPercent,
  VERDICT_MARK,
  type Comparison,
  type MetricRow,
} from './compare';

export const COMPARE_FORMATS = ['text', 'json', 'markdown', 'csv'] as const;
export type CompareFormat = (typeof COMPARE_FORMATS)[number];

export function renderComparison(comparison: Comparison, format: CompareFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(comparison, null, 2) + '\n';
    case 'markdown':
      return toMarkdown(comparison);
    case 'csv':
      return toCsv(comparison);
    case 'text':
      return toText(comparison);
  }
}

/** "0.44 (+0.05)": a value with its delta against the first run. */
function cell(metric: MetricRow, index: number): string {
  const isChange = metric.name.includes('change vs base');
  const value = isChange ? formatPercent(metric.values[index]) : formatNumber(metric.values[index]);
  const delta = metric.deltas[index];
  if (delta === null) return value;
  return `${value} (${isChange ? formatPercent(delta).replace('%', ' pt') : formatDelta(delta)})`;
}

function verdictText(verdict: string | null): string {
  return verdict ? `${VERDICT_MARK[verdict as keyof typeof VERDICT_MARK]} ${verdict}` : '–';
}

/** Rows of cells for the sections every format shares. */
function tables(c: Comparison) {
  const labels = c.runs.map((run) => run.label);
  return {
    metrics: {
      header: ['metric', ...labels],
      rows: c.metrics.map((m) => [`${m.section}: ${m.name}`, ...labels.map((_, i) => cell(m, i))]),
    },
    forgetting: {
      header: ['run', 'base bits/byte', 'tuned bits/byte', 'change', 'threshold', 'verdict'],
      rows: c.forgetting.map((f) => [
        f.label,
        formatNumber(f.base),
        formatNumber(f.tuned),
        formatPercent(f.change),
        f.threshold === null ? '–' : formatPercent(f.threshold).replace('+', ''),
        verdictText(f.verdict),
      ]),
    },
    config: {
      header: ['config key', ...labels],
      rows: c.configDiff.map((d) => [d.key, ...d.values.map((v) => v ?? '(absent)')]),
    },
  };
}

function aligned(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((r) => (r[col] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((value, col) => value.padEnd(widths[col]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function oneLine(text: string | null, max = 160): string {
  if (text === null) return '–';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function toText(c: Comparison): string {
  const t = tables(c);
  const out: string[] = [];
  out.push(`runs: ${c.runs.map((r) => `${r.label} (${r.method ?? '?'})`).join(', ')}`);
  out.push('', aligned(t.metrics.header, t.metrics.rows));
  out.push('', 'forgetting (general data, against each base model):');
  out.push(aligned(t.forgetting.header, t.forgetting.rows));
  out.push('', t.config.rows.length ? 'config keys that differ:' : 'configs: no key differs');
  if (t.config.rows.length) out.push(aligned(t.config.header, t.config.rows));
  for (const sample of c.samples) {
    out.push('', `prompt: ${oneLine(sample.prompt)}`, `  reference: ${oneLine(sample.reference)}`);
    c.runs.forEach((run, i) => out.push(`  ${run.label}: ${oneLine(sample.predictions[i])}`));
  }
  for (const note of c.notes) out.push('', `note: ${note}`);
  return out.join('\n') + '\n';
}

function mdEscape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function mdTable(header: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.map(mdEscape).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function toMarkdown(c: Comparison): string {
  const t = tables(c);
  const out = [`## Comparison of ${c.runs.map((r) => `\`${r.label}\``).join(', ')}`];
  out.push('', '### Metrics', '', '(in brackets: the difference to the first run)', '');
  out.push(mdTable(t.metrics.header, t.metrics.rows));
  out.push('', '### Forgetting', '', mdTable(t.forgetting.header, t.forgetting.rows));
  out.push('', '### Config keys that differ', '');
  out.push(t.config.rows.length ? mdTable(t.config.header, t.config.rows) : 'None.');
  if (c.samples.length) {
    out.push('', '### Generations', '');
    const header = ['prompt', 'reference', ...c.runs.map((r) => r.label)];
    const rows = c.samples.map((s) => [
      oneLine(s.prompt, 400),
      oneLine(s.reference, 400),
      ...s.predictions.map((p) => oneLine(p, 400)),
    ]);
    out.push(mdTable(header, rows));
  }
  for (const note of c.notes) out.push('', `> ${note}`);
  return out.join('\n') + '\n';
}

function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One wide table: section, name, one column per run, then the deltas against the first run. */
function toCsv(c: Comparison): string {
  const labels = c.runs.map((r) => r.label);
  const rest = labels.slice(1).map((l) => `delta ${l}`);
  const lines: (string | number | null)[][] = [['section', 'name', ...labels, ...rest]];
  for (const m of c.metrics) lines.push([m.section, m.name, ...m.values, ...m.deltas.slice(1)]);
  for (const key of ['base', 'tuned', 'change', 'threshold', 'verdict'] as const)
    lines.push(['forgetting', key, ...c.forgetting.map((f) => f[key])]);
  for (const d of c.configDiff) lines.push(['config', d.key, ...d.values]);
  for (const s of c.samples)
    lines.push(['generation', s.prompt, ...s.predictions], ['reference', s.prompt, s.reference]);
  return lines.map((line) => line.map(csvField).join(',')).join('\n') + '\n';
}
