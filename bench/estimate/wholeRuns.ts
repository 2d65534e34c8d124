// Whole runs of the shipped templates, measured on an H100 by
// runner/bench/template_runs.py (runner/bench/results/template-runs-*.json: the
// first re-runs and the final ones), against the estimate of the same config:
// peak memory (the phase that sets it, evaluation included) beside nvidia-smi,
// the reserved peak and the smallest memory the template completes in, and
// training time beside the step model's figure.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { setKey, applyTextEdits, chainEdits } from '../../engine/src/edits';
import { analyze } from '../../engine/src/engine';
import { buildEstimateReport, reportTrainTime } from '../../engine/src/report/estimateReport';
import { hostPaceOfStep, type PacedRun } from '../../engine/src/estimate/hostPace';
import type { TrainTimeDetail } from '../../engine/src/estimate/time';
import { machinePacedRuns } from '../hostPaceTransfer';
import { allocatorEdits, DEFAULT_ALLOCATOR } from './plans';
import { within20Summary } from './statistics';
import { RESULTS_DIR, TEMPLATES, type WholeRunsMeasured } from './smallestMemory';

/** A set of template runs: its files (packed, unpacked) and what set them apart. */
interface TemplateRunSet {
  label: string;
  files: string[];
  allocator: string | undefined;
  /** Its padded batches ran cuDNN's attention, a plan per new shape. */
  cudnnAttentionPlans: boolean;
  /** File → the machine whose whole runs were measured in the same calls (the pace learnt there). */
  machines?: Record<string, string>;
  /** Each run followed its own `train --probe` (template_runs.py --probe-steps): the pace it taught. */
  probed?: boolean;
  /** File → the one packing its runs count for (its others repeat runs of an earlier file). */
  packingOf?: Record<string, boolean>;
}

const RUN_SETS: TemplateRunSet[] = [
  {
    label:
      "first re-runs (max_steps 15, packed and unpacked in two calls; LoRA paid peft's input cast, which the estimate no longer counts; PyTorch's default allocator)",
    files: ['template-runs-h100.json', 'template-runs-unpacked-h100.json'],
    allocator: DEFAULT_ALLOCATOR,
    cudnnAttentionPlans: true,
  },
  {
    label:
      "runner and templates before expandable segments (max_steps 12, one call; peft input cast skipped, eval batch = micro-batch; PyTorch's default allocator)",
    files: ['template-runs-final-h100.json'],
    allocator: DEFAULT_ALLOCATOR,
    cudnnAttentionPlans: true,
  },
  {
    label:
      "final runner and templates (max_steps 12; the runner's expandable segments; qlora unpacked in a later session, the first call's budget ran out)",
    files: [
      'template-runs-h100-expandable.json',
      'template-runs-h100-expandable-qlora-unpacked.json',
    ],
    allocator: undefined,
    cudnnAttentionPlans: true,
  },
  {
    label:
      "the three unpacked templates again once the runner turned cuDNN's attention off for padded batches (max_steps 12; expandable segments): lora on one H100, then lora, full and qlora on another, whose host ran the same lora template 1.5× faster",
    files: [
      'template_runs-h100-final-unpacked.json',
      'template_runs-h100-final-unpacked-full.json',
      'template_runs-h100-final-unpacked-qlora.json',
    ],
    allocator: undefined,
    cudnnAttentionPlans: false,
    machines: {
      'template_runs-h100-final-unpacked.json': 'whole-runs-h100-steps24-attention.json',
      'template_runs-h100-final-unpacked-full.json': 'seventh',
      'template_runs-h100-final-unpacked-qlora.json': 'seventh',
    },
  },
  {
    label:
      'the three unpacked templates on an eighth H100, after its whole runs (max_steps 12; expandable segments): the pace those runs taught, a prediction made before the templates ran',
    files: ['template_runs-h100-final-unpacked-dec07.json'],
    allocator: undefined,
    cudnnAttentionPlans: false,
    machines: { 'template_runs-h100-final-unpacked-dec07.json': 'eighth' },
  },
  {
    label:
      'the three unpacked templates as the first runs on a ninth H100 (another CPU, Xeon model 207), each after its own 16-step probe (`train --probe 16`, as `tunelab launch --probe`): the estimate before any run there, then with the pace the probe taught',
    files: ['template_runs-h100-probe-dec07.json'],
    allocator: undefined,
    cudnnAttentionPlans: false,
    probed: true,
  },
  {
    label:
      'all six templates on a tenth H100 (Xeon model 207, like the ninth), each after its own 16-step probe, packed lora and full its first runs (three calls on one machine; the second call ran packed lora and full again: 28.0 and 23.7 s): the estimate before any run there, then with the pace the probe taught',
    files: [
      'template_runs-h100-probe-packed-dec07b.json',
      'template_runs-h100-probe-dec07b.json',
      'template_runs-h100-probe-qlora-dec07b.json',
    ],
    allocator: undefined,
    cudnnAttentionPlans: false,
    probed: true,
    packingOf: { 'template_runs-h100-probe-dec07b.json': false },
  },
];
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
  probe?: { steps: number; process_seconds: number; steady_step_seconds?: number };
}

/** The template as the run had it, with the catalog's model of the same shape. */
function configOf(
  run: MeasuredRun,
  model: string,
  allocator: string | undefined,
): { text: string; file: string } {
  const file = path.join(TEMPLATES, `${run.method}.finetune.yaml`);
  const text = fs.readFileSync(file, 'utf8');
  const benchValue = (key: string) => run.changes.find((c) => c.key === key)?.bench;
  const steps: Parameters<typeof chainEdits>[1] = [
    (p) => setKey(p, ['model'], 'name_or_path', model),
    (p) => setKey(p, ['hardware'], 'gpu', 'H100-80GB'),
    (p) => setKey(p, ['data'], 'packing', String(run.packing)),
    ...allocatorEdits(allocator),
  ];
  for (const key of ['training.max_steps', 'training.eval_steps']) {
    const value = benchValue(key);
    if (typeof value === 'number')
      steps.push((p) => setKey(p, ['training'], key.split('.')[1]!, String(value)));
  }
  return { text: applyTextEdits(text, chainEdits(text, steps)), file };
}

/** name → smallest passing cap + the run's CUDA context, GiB (the whole runs' bisected truth). */
function smallestOfWholeRuns(measured: WholeRunsMeasured | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of measured?.truths ?? []) if (t.run.bisect?.verified) out.set(t.run.name, t.high);
  return out;
}

export function printWholeRuns(
  expandableRuns: WholeRunsMeasured | undefined,
  cachedRuns: WholeRunsMeasured | undefined,
): void {
  const probed: ProbedErrors[] = [];
  for (const set of RUN_SETS) {
    // the smallest memory of the same template under the same allocator
    const smallest = smallestOfWholeRuns(set.allocator ? cachedRuns : expandableRuns);
    const files = set.files.filter((f) => fs.existsSync(path.join(RESULTS_DIR, f)));
    if (!files.length) {
      console.log(`\nWhole runs (${set.label}): no results in runner/bench/results`);
      continue;
    }
    const loaded = files.map((f) => ({
      ...(JSON.parse(fs.readFileSync(path.join(RESULTS_DIR, f), 'utf8')) as {
        device: string;
        runs: MeasuredRun[];
      }),
      machine: set.machines?.[f],
      packing: set.packingOf?.[f],
    }));
    const runs = loaded.flatMap((l) =>
      l.runs
        .filter((run) => l.packing === undefined || run.packing === l.packing)
        .map((run) => ({ ...run, machine: l.machine })),
    );
    const errors = printSet(
      set.label,
      loaded[0]!.device,
      runs,
      smallest,
      set.allocator,
      set.cudnnAttentionPlans,
    );
    if (set.probed) {
      printProbes(runs);
      probed.push(...errors);
    }
  }
  printProbedSummary(probed, RUN_SETS.filter((set) => set.probed).length);
  console.log(
    'Unpacked runs reserve far more than they allocate (a cached block per batch shape while memory is free), so nvidia-smi on a roomy card is not what they need: "smallest" is the memory the same template completes in as a whole run (bisected cap + CUDA context, whole-runs-h100[-expandable].json, the same allocator), and the next tables judge the estimate by it over all 20 whole runs under each allocator.',
  );
}

function printSet(
  label: string,
  device: string,
  runs: readonly (MeasuredRun & { machine?: string })[],
  smallest: Map<string, number>,
  allocator: string | undefined,
  cudnnAttentionPlans: boolean,
): ProbedErrors[] {
  const probed: ProbedErrors[] = [];
  console.log(
    `\nWhole runs of the telecom templates on ${device}, ${label} (random-init Llama-3.2-1B shape, estimated as meta-llama/Llama-3.2-1B; runner/bench/template_runs.py)`,
  );
  console.log(
    `template  packing    tok/s  nvidia-smi  reserved  alloc  smallest  estimate (phase)  vs smallest   train s  estimate s       error${runs.some((r) => r.machine) ? '  with the pace learnt there (the whole runs of the same machine)' : ''}${runs.some((r) => r.probe) ? '  with the pace its probe taught' : ''}`,
  );
  for (const run of runs.filter((r) => r.status === 'completed')) {
    const { text, file } = configOf(run, 'meta-llama/Llama-3.2-1B', allocator);
    const analysis = analyze(text, file);
    const report = buildEstimateReport(analysis);
    if (!report) {
      console.log(`${run.method.padEnd(9)} no estimate`);
      continue;
    }
    const e = report.estimate;
    const need = smallest.get(`1b-${run.method}-${run.packing ? 'packed' : 'unpacked'}-eval`);
    const memError = need ? e.perGpuBytes / GIB / need - 1 : NaN;
    // the report's figure is today's runner's; earlier sets ran padded batches under cuDNN's attention
    const t = reportTrainTime(analysis, { cudnnAttentionPlans });
    const timeError = t ? t.seconds / run.train_seconds - 1 : NaN;
    const probeTime = run.probe
      ? pacedTime(text, file, probedRuns([run]), cudnnAttentionPlans)
      : undefined;
    if (run.probe?.steady_step_seconds)
      probed.push({
        before: t ? Math.abs(timeError) : Infinity,
        after: probeTime ? Math.abs(probeTime.seconds / run.train_seconds - 1) : Infinity,
      });
    const gib = (bytes: number) => (bytes / GIB).toFixed(2);
    console.log(
      [
        run.method.padEnd(9),
        String(run.packing).padEnd(8),
        Math.round(run.tokens_per_second_median).toLocaleString('en-US').padStart(7),
        run.smi_peak_gib.toFixed(2).padStart(10),
        gib(run.reserved_peak_bytes).padStart(9),
        gib(run.alloc_peak_whole_bytes).padStart(6),
        (need ? need.toFixed(2) : '—').padStart(9),
        `${gib(e.perGpuBytes)} (${e.peakRunPhase})`.padStart(17),
        pct(memError).padStart(12),
        run.train_seconds.toFixed(1).padStart(9),
        (t ? `${t.seconds.toFixed(1)} ±${Math.round(t.uncertainty * 100)}%` : '—').padStart(11),
        pct(timeError).padStart(11),
        run.machine ? learntPaceColumn(text, file, run, cudnnAttentionPlans) : '',
        run.probe ? pacedColumn(run, probeTime) : '',
      ].join(' '),
    );
  }
  return probed;
}

/** The same template estimated as Tunelab would after the machine's whole runs taught it a pace. */
function learntPaceColumn(
  text: string,
  file: string,
  run: MeasuredRun & { machine?: string },
  cudnnAttentionPlans: boolean,
): string {
  const t = pacedTime(text, file, machinePacedRuns(run.machine!), cudnnAttentionPlans);
  return pacedColumn(run, t);
}

/** The template's time estimate with a target's paced runs. */
function pacedTime(
  text: string,
  file: string,
  paced: readonly PacedRun[],
  cudnnAttentionPlans: boolean,
): TrainTimeDetail | undefined {
  return reportTrainTime(analyze(text, file, { pacedRuns: () => paced }), { cudnnAttentionPlans });
}

/** That estimate, the pace it took and its error against the run. */
function pacedColumn(run: MeasuredRun, t: TrainTimeDetail | undefined): string {
  if (!t) return '—';
  const pace = t.hostPace ? `×${t.hostPace.pace.toFixed(2)} of ${t.hostPace.runs}` : 'no pace';
  return ` ${t.seconds.toFixed(1)} ±${Math.round(t.uncertainty * 100)}% (${pace}) ${pct(t.seconds / run.train_seconds - 1)}`;
}

/** Each run's probe pace, solved once (the row, the cost line and the pairings read it). */
const probePaces = new WeakMap<MeasuredRun, PacedRun | undefined>();

/** The pace each run's probe teaches, as the launcher keeps it: its steady step against the estimate's step parts. */
function probedRuns(runs: readonly MeasuredRun[]): PacedRun[] {
  const paced: PacedRun[] = [];
  for (const run of runs) {
    if (!probePaces.has(run)) {
      const steady = run.probe?.steady_step_seconds;
      const { text, file } = configOf(run, 'meta-llama/Llama-3.2-1B', undefined);
      const t = reportTrainTime(analyze(text, file));
      const pace = t && steady ? hostPaceOfStep(t.stepParts, steady) : undefined;
      probePaces.set(run, pace === undefined ? undefined : { method: run.method, pace });
    }
    const known = probePaces.get(run);
    if (known) paced.push(known);
  }
  return paced;
}

/** What the probes cost, and what one probe teaches the other methods. */
function printProbes(runs: readonly MeasuredRun[]): void {
  const done = runs.filter((r) => r.status === 'completed' && r.probe?.steady_step_seconds);
  for (const run of done) {
    const [own] = probedRuns([run]);
    console.log(
      `  ${nameOf(run)} probe: ${run.probe!.steps} steps in ${run.probe!.process_seconds.toFixed(0)} s (the process, start-up included); steady step ${run.probe!.steady_step_seconds!.toFixed(3)} s, ${own ? `pace ×${own.pace.toFixed(2)}` : 'GPU-paced: no host pace to teach'}`,
    );
  }
  for (const teacher of done) {
    const taught = probedRuns([teacher]);
    const errors = done
      .filter((r) => r !== teacher)
      .map((r) => {
        const { text, file } = configOf(r, 'meta-llama/Llama-3.2-1B', undefined);
        return `${nameOf(r)} ${pacedColumn(r, pacedTime(text, file, taught, false)).trim()}`;
      });
    console.log(`  only the ${nameOf(teacher)} probe, for the others: ${errors.join('; ')}`);
  }
}

/** A probed run's |error| of training time: before any run on its machine, and with its probe's pace. */
interface ProbedErrors {
  before: number;
  after: number;
}

/** Every probed template run above, each its machine's first of that config. */
function printProbedSummary(runs: readonly ProbedErrors[], machines: number): void {
  if (!runs.length) return;
  console.log(
    `\nThe probed template runs above (${runs.length} on ${machines} machines, each after its own 16-step probe): the estimate before any run there ${within20Summary(runs.map((r) => r.before))}; with the pace its probe taught ${within20Summary(runs.map((r) => r.after))}`,
  );
}

/** The template and its packing: a set may hold both of one method. */
function nameOf(run: MeasuredRun): string {
  return `${run.method} ${run.packing ? 'packed' : 'unpacked'}`;
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%` : '—';
}
