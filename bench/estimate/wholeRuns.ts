// Whole runs of the shipped templates, measured on an H100 by
// runner/bench/template_runs.py (results in runner/bench/results/
// template-runs-h100.json), against the estimate of the same config: peak
// memory (the phase that sets it, evaluation included) beside nvidia-smi and
// the reserved peak, and training time beside the step model's figure.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { setKey, applyTextEdits, chainEdits } from '../../engine/src/edits';
import { analyze } from '../../engine/src/engine';
import { buildEstimateReport } from '../../engine/src/report/estimateReport';

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS_DIR = path.join(ROOT, 'runner', 'bench', 'results');
/** The packed runs, then the unpacked ones (measured in a second call). */
const RESULTS = ['template-runs-h100.json', 'template-runs-unpacked-h100.json'].map((f) =>
  path.join(RESULTS_DIR, f),
);
const TEMPLATES = path.join(ROOT, 'templates', 'telecom-support');
const GIB = 1024 ** 3;

interface MeasuredRun {
  method: 'full' | 'lora' | 'qlora';
  packing: boolean;
  status: string;
  steps: number;
  train_seconds: number;
  tokens_per_second_median: number;
  alloc_peak_whole_bytes: number;
  reserved_peak_bytes: number;
  smi_peak_gib: number;
  changes: { key: string; bench: unknown }[];
}

/** The template as the run had it, with the catalog's model of the same shape. */
function configOf(run: MeasuredRun, model: string): { text: string; file: string } {
  const file = path.join(TEMPLATES, `${run.method}.finetune.yaml`);
  const text = fs.readFileSync(file, 'utf8');
  const benchValue = (key: string) => run.changes.find((c) => c.key === key)?.bench;
  const steps: Parameters<typeof chainEdits>[1] = [
    (p) => setKey(p, ['model'], 'name_or_path', model),
    (p) => setKey(p, ['hardware'], 'gpu', 'H100-80GB'),
    (p) => setKey(p, ['data'], 'packing', String(run.packing)),
  ];
  for (const key of ['training.max_steps', 'training.eval_steps']) {
    const value = benchValue(key);
    if (typeof value === 'number')
      steps.push((p) => setKey(p, ['training'], key.split('.')[1]!, String(value)));
  }
  return { text: applyTextEdits(text, chainEdits(text, steps)), file };
}

export function printWholeRuns(): void {
  const files = RESULTS.filter((f) => fs.existsSync(f));
  if (!files.length) {
    console.log(`\nWhole runs: no template-runs results in ${path.relative(ROOT, RESULTS_DIR)}`);
    return;
  }
  const loaded = files.map(
    (f) =>
      JSON.parse(fs.readFileSync(f, 'utf8')) as {
        device: string;
        runs: MeasuredRun[];
      },
  );
  const measured = { device: loaded[0]!.device, runs: loaded.flatMap((l) => l.runs) };
  console.log(
    `\nWhole runs of the telecom templates on ${measured.device} (random-init Llama-3.2-1B shape, estimated as meta-llama/Llama-3.2-1B; runner/bench/template_runs.py)`,
  );
  console.log(
    'template  packing  nvidia-smi  reserved  alloc  estimate (phase)       error   train s  estimate s       error',
  );
  for (const run of measured.runs.filter((r) => r.status === 'completed')) {
    const { text, file } = configOf(run, 'meta-llama/Llama-3.2-1B');
    const report = buildEstimateReport(analyze(text, file));
    if (!report) {
      console.log(`${run.method.padEnd(9)} no estimate`);
      continue;
    }
    const e = report.estimate;
    const memError = e.perGpuBytes / GIB / run.smi_peak_gib - 1;
    const t = report.trainTime;
    const timeError = t ? t.seconds / run.train_seconds - 1 : NaN;
    const gib = (bytes: number) => (bytes / GIB).toFixed(2);
    console.log(
      [
        run.method.padEnd(9),
        String(run.packing).padEnd(8),
        run.smi_peak_gib.toFixed(2).padStart(10),
        gib(run.reserved_peak_bytes).padStart(9),
        gib(run.alloc_peak_whole_bytes).padStart(6),
        `${gib(e.perGpuBytes)} (${e.peakRunPhase})`.padStart(17),
        pct(memError).padStart(11),
        run.train_seconds.toFixed(1).padStart(9),
        (t ? `${t.seconds.toFixed(1)} ±${Math.round(t.uncertainty * 100)}%` : '—').padStart(11),
        pct(timeError).padStart(11),
      ].join(' '),
    );
  }
  console.log(
    'Unpacked runs reserve far more than they allocate (a cached block per batch shape while memory is free), so nvidia-smi on a roomy card is not what they need: the next table judges the estimate by the smallest memory each of 20 whole runs completes in.',
  );
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%` : '—';
}
