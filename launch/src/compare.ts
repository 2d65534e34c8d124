// The comparison of two or more evaluated runs (docs/evaluation.md,
// `tunelab compare`, the editor's Compare runs view): metrics with deltas
// against the first run, forgetting against each run's base model, the config
// keys that differ, the last losses and a few generations side by side. Pure:
// the caller reads the files (compareSources.ts); renderers in compareRender.ts.

import { parseYaml } from '../../engine/src/parse';
import type { EvalResult, Verdict } from './evalResult';
import type { ChartPoint } from './progressModel';

export interface CompareInput {
  /** Short name in tables: the run id, or the eval.json file's stem. */
  label: string;
  /** Where it came from: a run id or a file path. */
  source: string;
  result: EvalResult;
  /** The run's config (path and text), when found. */
  config?: { path: string; text: string };
  /** The training's loss curve, when its log is at hand. */
  points?: readonly ChartPoint[];
}

export type MetricSection = 'training' | 'task' | 'generation' | 'forgetting' | 'lm_eval';

export interface MetricRow {
  section: MetricSection;
  name: string;
  values: (number | null)[];
  /** value − the first run's value; null for the first run and where either is missing. */
  deltas: (number | null)[];
  better?: 'higher' | 'lower';
}

export interface ForgettingRow {
  label: string;
  base: number | null;
  tuned: number | null;
  change: number | null;
  threshold: number | null;
  verdict: Verdict | null;
}

export interface ConfigDiffRow {
  key: string;
  /** The value as written (scalars as text, lists as JSON); null where the key is absent. */
  values: (string | null)[];
}

export interface SampleRow {
  prompt: string;
  reference: string | null;
  predictions: (string | null)[];
}

export interface ComparedRun {
  label: string;
  source: string;
  config: string | null;
  method: string | null;
  model: string | null;
  checkpoint: number | null;
}

export interface Comparison {
  runs: ComparedRun[];
  metrics: MetricRow[];
  forgetting: ForgettingRow[];
  configDiff: ConfigDiffRow[];
  samples: SampleRow[];
  curves: { label: string; points: ChartPoint[] }[];
  /** Things that could not be compared (an unparsable config), for the reader. */
  notes: string[];
}

/** Generations shown side by side: "a few". */
export const MAX_SAMPLES = 3;

const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

function lastOf(points: readonly ChartPoint[] | undefined, key: 'loss' | 'evalLoss') {
  for (let i = (points?.length ?? 0) - 1; i >= 0; i--) {
    const value = num(points![i][key]);
    if (value !== null) return value;
  }
  return null;
}

function row(
  section: MetricSection,
  name: string,
  values: (number | null)[],
  better?: 'higher' | 'lower',
): MetricRow {
  const first = values[0];
  const deltas = values.map((value, i) =>
    // 12 significant digits: 1.08 − 1.23 is −0.15, not −0.1499999999999999.
    i === 0 || value === null || first === null ? null : Number((value - first).toPrecision(12)),
  );
  return { section, name, values, deltas, ...(better ? { better } : {}) };
}

/** Keys in the order they first appear across the runs. */
function unionKeys(objects: (Record<string, unknown> | null | undefined)[]): string[] {
  const keys = new Set<string>();
  for (const object of objects) for (const key of Object.keys(object ?? {})) keys.add(key);
  return [...keys];
}

function metricRows(inputs: readonly CompareInput[]): MetricRow[] {
  const results = inputs.map((input) => input.result);
  const rows: MetricRow[] = [];
  const add = (r: MetricRow) => {
    if (r.values.some((value) => value !== null)) rows.push(r);
  };
  add(
    row(
      'training',
      'last train loss',
      inputs.map((i) => lastOf(i.points, 'loss')),
      'lower',
    ),
  );
  add(
    row(
      'training',
      'last eval loss',
      inputs.map((i) => lastOf(i.points, 'evalLoss')),
      'lower',
    ),
  );
  add(
    row(
      'task',
      'loss',
      results.map((r) => num(r.task?.loss)),
      'lower',
    ),
  );
  add(
    row(
      'task',
      'perplexity',
      results.map((r) => num(r.task?.perplexity)),
      'lower',
    ),
  );
  const generation = results.map((r) => r.task?.generation?.metrics);
  for (const name of unionKeys(generation))
    add(
      row(
        'generation',
        name,
        generation.map((m) => num(m?.[name])),
        'higher',
      ),
    );
  add(
    row(
      'forgetting',
      'bits per byte (tuned)',
      results.map((r) => num(r.forgetting?.tuned?.bits_per_byte)),
      'lower',
    ),
  );
  add(
    row(
      'forgetting',
      'change vs base',
      results.map((r) => num(r.forgetting?.change)),
      'lower',
    ),
  );
  const tasks = results.map((r) => r.lm_eval?.tasks);
  for (const name of unionKeys(tasks)) {
    const metric = tasks.map((t) => t?.[name]?.metric).find(Boolean) ?? 'score';
    add(
      row(
        'lm_eval',
        `${name} ${metric}`,
        tasks.map((t) => num(t?.[name]?.tuned)),
        'higher',
      ),
    );
    add(
      row(
        'lm_eval',
        `${name} change vs base`,
        tasks.map((t) => num(t?.[name]?.change)),
        'higher',
      ),
    );
  }
  return rows;
}

function forgettingRows(inputs: readonly CompareInput[]): ForgettingRow[] {
  return inputs.map(({ label, result }) => {
    const f = result.forgetting;
    const verdict = f?.verdict;
    return {
      label,
      base: num(f?.base?.bits_per_byte),
      tuned: num(f?.tuned?.bits_per_byte),
      change: num(f?.change),
      threshold: num(f?.threshold),
      verdict: verdict === 'pass' || verdict === 'warn' || verdict === 'fail' ? verdict : null,
    };
  });
}

function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A config as dotted keys (`lora.r`); lists stay whole (`target_modules` is one value). */
export function flattenConfig(value: unknown, prefix = '', into = new Map<string, string>()) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) into.set(prefix, '{}');
    for (const [key, child] of entries)
      flattenConfig(child, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix) into.set(prefix, scalarText(value));
  return into;
}

function configDiff(inputs: readonly CompareInput[], notes: string[]): ConfigDiffRow[] {
  const flat = inputs.map((input) => {
    if (!input.config) return undefined;
    const parsed = parseYaml(input.config.text);
    const error = parsed.findings.find((finding) => finding.severity === 'error');
    if (!parsed.complete || error) {
      notes.push(`${input.config.path}: not compared, ${error?.message ?? 'unreadable YAML'}`);
      return undefined;
    }
    return flattenConfig(parsed.value);
  });
  const present = flat.filter((map): map is Map<string, string> => map !== undefined);
  if (present.length < 2) return [];
  const keys = new Set<string>();
  for (const map of present) for (const key of map.keys()) keys.add(key);
  const rows: ConfigDiffRow[] = [];
  for (const key of keys) {
    const values = flat.map((map) => (map ? (map.get(key) ?? null) : null));
    const compared = flat.flatMap((map, i) => (map ? [values[i]] : []));
    if (compared.some((value) => value !== compared[0])) rows.push({ key, values });
  }
  return rows;
}

function sampleRows(inputs: readonly CompareInput[]): SampleRow[] {
  const byPrompt = new Map<string, SampleRow>();
  inputs.forEach(({ result }, index) => {
    for (const sample of result.samples ?? []) {
      if (typeof sample.prompt !== 'string') continue;
      let entry = byPrompt.get(sample.prompt);
      if (!entry) {
        if (byPrompt.size >= MAX_SAMPLES) continue;
        entry = {
          prompt: sample.prompt,
          reference: typeof sample.reference === 'string' ? sample.reference : null,
          predictions: inputs.map(() => null),
        };
        byPrompt.set(sample.prompt, entry);
      }
      if (typeof sample.prediction === 'string') entry.predictions[index] = sample.prediction;
    }
  });
  return [...byPrompt.values()];
}

export function compareRuns(inputs: readonly CompareInput[]): Comparison {
  if (inputs.length < 2) throw new Error('a comparison needs at least two runs');
  const notes: string[] = [];
  return {
    runs: inputs.map(({ label, source, result, config }) => ({
      label,
      source,
      config: config?.path ?? null,
      method: result.model?.method ?? null,
      model: result.model?.base ?? null,
      checkpoint: num(result.model?.checkpoint),
    })),
    metrics: metricRows(inputs),
    forgetting: forgettingRows(inputs),
    configDiff: configDiff(inputs, notes),
    samples: sampleRows(inputs),
    curves: inputs.map(({ label, points }) => ({ label, points: [...(points ?? [])] })),
    notes,
  };
}

/** The headline task metric of a result, in the order the doc lists them. */
export function headlineMetric(result: EvalResult): { name: string; value: number } | undefined {
  const metrics = result.task?.generation?.metrics ?? {};
  for (const name of ['exact_match', 'chrf', 'rouge_l', 'bleu', 'json_schema', 'json_valid']) {
    const value = num(metrics[name]);
    if (value !== null) return { name, value };
  }
  for (const [name, value] of Object.entries(metrics))
    if (num(value) !== null) return { name, value: value as number };
  const perplexity = num(result.task?.perplexity);
  return perplexity === null ? undefined : { name: 'perplexity', value: perplexity };
}

export const VERDICT_MARK: Record<Verdict, string> = { pass: '✓', warn: '⚠', fail: '✗' };

/** `chrf 48.3 · forgetting +4.4% ✓`: one line for the Runs view and the CLI. */
export function verdictLine(result: EvalResult): string {
  const parts: string[] = [];
  const headline = headlineMetric(result);
  if (headline) parts.push(`${headline.name} ${formatNumber(headline.value)}`);
  const f = result.forgetting;
  const change = num(f?.change);
  if (change !== null) {
    const mark = f?.verdict && VERDICT_MARK[f.verdict] ? ` ${VERDICT_MARK[f.verdict]}` : '';
    parts.push(`forgetting ${formatPercent(change)}${mark}`);
  }
  return parts.join(' · ');
}

/** Four significant digits, no trailing zeros; tiny and huge values in exponent form. */
export function formatNumber(value: number | null): string {
  if (value === null) return '–';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

export function formatDelta(value: number | null): string {
  if (value === null) return '';
  return (value > 0 ? '+' : '') + formatNumber(value);
}

export function formatPercent(value: number | null): string {
  if (value === null) return '–';
  return `${value > 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;
}
