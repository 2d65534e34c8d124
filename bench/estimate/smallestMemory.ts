// The estimate's "fits" judged against the smallest memory each of 20 whole
// runs completes in (runner/bench/whole_runs.py on an H100: two model shapes,
// lora/full/qlora, packing and evaluation on and off; results in
// runner/bench/results/whole-runs-h100.json). A run's truth is the smallest
// per-process cap it completed under, plus what lies outside PyTorch's
// allocator (the CUDA context: nvidia-smi less reserved, measured on the same
// run uncapped). Caps step by 0.5 GiB, so the truth is an interval
// (largest failing cap, smallest passing cap]; errors are against its middle.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyTextEdits, chainEdits, removeKey, setKey, yamlScalar } from '../../engine/src/edits';
import { analyze } from '../../engine/src/engine';
import { buildEstimateReport, reportTrainTime } from '../../engine/src/report/estimateReport';
import { allocatorEdits, DEFAULT_ALLOCATOR } from './plans';
import { median } from './statistics';

const ROOT = path.resolve(__dirname, '..', '..');
/** The GPU machine's measured results (runner/bench/results). */
export const RESULTS_DIR = path.join(ROOT, 'runner', 'bench', 'results');

/** The sets of whole runs: the same 20 configs under each allocator the runner has used. */
export const WHOLE_RUN_SETS = {
  /** The runner's default since it sets PYTORCH_CUDA_ALLOC_CONF itself (allocator.py). */
  expandable: {
    file: 'whole-runs-h100-expandable.json',
    label: "expandable segments, the runner's allocator (final runner and templates)",
    allocator: undefined,
  },
  /** Before that: PyTorch's default allocator, estimated as such through launch.env. */
  cached: {
    file: 'whole-runs-h100.json',
    label: "PyTorch's default allocator (the runner before expandable segments)",
    allocator: DEFAULT_ALLOCATOR,
    /** PyTorch's OOM messages of the failing caps, parsed: the request that failed and the free-but-split reserve. */
    ooms: 'whole-runs-h100-ooms.json',
  },
} as const;
export type WholeRunSet = (typeof WHOLE_RUN_SETS)[keyof typeof WHOLE_RUN_SETS];
const TOKENIZER_DIR = path.join(RESULTS_DIR, 'whole-runs-tokenizer');
/** The shipped telecom templates the whole runs were made from. */
export const TEMPLATES = path.join(ROOT, 'templates', 'telecom-support');
const GIB = 1024 ** 3;

/** The shapes of runner/bench/template_run_model.py (SHAPES), as the config.json the runs loaded. */
const SHAPES: Record<string, Record<string, unknown>> = {
  '1b': {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    vocab_size: 128256,
    tie_word_embeddings: true,
    rope_theta: 500000,
    max_position_embeddings: 131072,
    rms_norm_eps: 1e-5,
    hidden_act: 'silu',
    torch_dtype: 'bfloat16',
  },
  '0.5b': {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    vocab_size: 151936,
    tie_word_embeddings: true,
    rope_theta: 1000000,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    hidden_act: 'silu',
    torch_dtype: 'bfloat16',
  },
};

interface Trial {
  cap_gib: number;
  completed: boolean;
  oom: boolean;
}

interface Oom {
  run: string;
  cap_gib: number;
  tried_gib: number;
  allocated_gib: number;
  reserved_free_gib: number;
}

interface WholeRun {
  name: string;
  shape: string;
  method: 'full' | 'lora' | 'qlora';
  status?: string;
  skipped?: string;
  train_seconds?: number;
  reserved_peak_bytes?: number;
  alloc_peak_whole_bytes?: number;
  smi_peak_gib?: number;
  changes: { key: string; bench: unknown }[];
  bisect?: {
    smallest_cap_gib: number | null;
    largest_failing_gib: number;
    verified: boolean;
    resolution_gib: number;
    trials: Trial[];
  };
}

/** A local model folder per shape: config.json, and the runs' tokenizer where the engine reads one. */
export function modelDirs(): Record<string, string> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tunelab-whole-runs-'));
  const dirs: Record<string, string> = {};
  for (const [shape, config] of Object.entries(SHAPES)) {
    const dir = path.join(base, shape);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    for (const file of fs.existsSync(TOKENIZER_DIR) ? fs.readdirSync(TOKENIZER_DIR) : [])
      if (file !== 'config.json')
        fs.copyFileSync(path.join(TOKENIZER_DIR, file), path.join(dir, file));
    dirs[shape] = dir;
  }
  return dirs;
}

/** The template with the run's recorded changes (data paths mapped back into this checkout). */
export function configOf(
  run: WholeRun,
  modelDir: string,
  allocator?: string,
): { text: string; file: string } {
  const file = path.join(TEMPLATES, `${run.method}.finetune.yaml`);
  const text = fs.readFileSync(file, 'utf8');
  const steps: Parameters<typeof chainEdits>[1] = [
    (p) => setKey(p, ['hardware'], 'gpu', 'H100-80GB'),
    ...allocatorEdits(allocator),
  ];
  for (const { key, bench } of run.changes) {
    const keys = key.split('.');
    const leaf = keys.pop()!;
    if (bench === '<removed>') steps.push((p) => removeKey(p, [...keys, leaf]));
    else if (key === 'model.name_or_path') steps.push((p) => setKey(p, keys, leaf, modelDir));
    else if (key.startsWith('data.') && typeof bench === 'string' && bench.endsWith('.jsonl'))
      steps.push((p) => setKey(p, keys, leaf, path.join('data', path.basename(bench))));
    else if (key.endsWith('output_dir')) continue;
    else if (typeof bench === 'string' || typeof bench === 'number' || typeof bench === 'boolean')
      steps.push((p) => setKey(p, keys, leaf, yamlScalar(bench)));
  }
  return { text: applyTextEdits(text, chainEdits(text, steps)), file };
}

/**
 * A measured whole run: its truth interval (largest failing cap, smallest
 * passing cap], each plus the CUDA context, the failing caps likewise, and its
 * config analysed once (plan, model, data, estimate) for the table and the slack fit.
 */
export interface WholeRunTruth {
  run: WholeRun;
  low: number;
  high: number;
  resolved: boolean;
  /** Caps the run failed under, plus the context, GiB. */
  failing: number[];
  analysis: ReturnType<typeof analyze>;
}

export interface WholeRunsMeasured {
  set: WholeRunSet;
  device: string;
  truths: WholeRunTruth[];
  /** Runs without a bisected smallest memory. */
  unmeasured: string[];
}

/** The whole runs of one set, each analysed as its config; undefined without the file. */
export function loadWholeRuns(
  set: WholeRunSet = WHOLE_RUN_SETS.expandable,
): WholeRunsMeasured | undefined {
  const results = path.join(RESULTS_DIR, set.file);
  if (!fs.existsSync(results)) return undefined;
  const measured = JSON.parse(fs.readFileSync(results, 'utf8')) as {
    device: string;
    runs: WholeRun[];
  };
  const dirs = modelDirs();
  const out: WholeRunsMeasured = { set, device: measured.device, truths: [], unmeasured: [] };
  for (const run of measured.runs) {
    const b = run.bisect;
    if (run.skipped || run.status !== 'completed' || !b || b.smallest_cap_gib === null) {
      out.unmeasured.push(run.name);
      continue;
    }
    const { text, file } = configOf(run, dirs[run.shape]!, set.allocator);
    const context = (run.smi_peak_gib ?? 0) - (run.reserved_peak_bytes ?? 0) / GIB;
    out.truths.push({
      run,
      low: b.largest_failing_gib + context,
      high: b.smallest_cap_gib + context,
      resolved: b.verified && b.resolution_gib <= 0.5 + 1e-9,
      failing: b.trials.filter((t) => t.oom).map((t) => t.cap_gib + context),
      analysis: analyze(text, file),
    });
  }
  fs.rmSync(path.dirname(dirs['1b']!), { recursive: true, force: true });
  return out;
}

export function printSmallestMemory(measured: WholeRunsMeasured | undefined): void {
  if (!measured) {
    console.log('\nSmallest memory of whole runs: no results file');
    return;
  }
  console.log(
    `\nWhole runs judged by the smallest memory they complete in, ${measured.set.label}, on ${measured.device} (runner/bench/results/${measured.set.file}; truth = smallest passing cap + CUDA context, an interval of 0.5 GiB)`,
  );
  console.log(
    'run                          truth GiB        estimate  error   fails at   predicted  train s  estimate s  error  allocated: measured / estimated  smallest  error  predicted  OOM: tried / free GiB',
  );
  const oomsFile = 'ooms' in measured.set ? path.join(RESULTS_DIR, measured.set.ooms) : undefined;
  const ooms =
    oomsFile && fs.existsSync(oomsFile)
      ? (JSON.parse(fs.readFileSync(oomsFile, 'utf8')) as { ooms: Oom[] }).ooms
      : [];
  const minErrors: number[] = [];
  let minPredicted = 0;
  const memErrors: number[] = [];
  const timeErrors: number[] = [];
  const timeMisses: string[] = [];
  const allocatedErrors: number[] = [];
  let failingCaps = 0;
  let failingCapsPredicted = 0;
  let unresolved = 0;
  for (const name of measured.unmeasured) console.log(`${name.padEnd(28)} not measured`);
  for (const { run, low, high, resolved, failing, analysis } of measured.truths) {
    const report = buildEstimateReport(analysis);
    if (!report) {
      console.log(`${run.name.padEnd(28)} no estimate`);
      continue;
    }
    const estimate = report.estimate.perGpuBytes / GIB;
    // PyTorch's allocated peak: the tensors themselves, before any allocator slack
    const allocated = Math.max(...Object.values(report.estimate.phases)) / GIB;
    const allocatedError = allocated / ((run.alloc_peak_whole_bytes ?? NaN) / GIB) - 1;
    if (Number.isFinite(allocatedError)) allocatedErrors.push(Math.abs(allocatedError));
    const error = estimate / ((low + high) / 2) - 1;
    if (resolved) memErrors.push(Math.abs(error));
    else unresolved++;
    const predicted = failing.filter((cap) => estimate > cap).length;
    failingCaps += failing.length;
    failingCapsPredicted += predicted;
    const minimum = report.estimate.minimumBytes / GIB;
    const minError = minimum / ((low + high) / 2) - 1;
    if (resolved) minErrors.push(Math.abs(minError));
    const minFailing = failing.filter((cap) => minimum > cap).length;
    minPredicted += minFailing;
    const oom = ooms.find(
      (o) => o.run === run.name && o.cap_gib === run.bisect!.largest_failing_gib,
    );
    // every whole run of these files was measured before the runner turned cuDNN's attention off
    const t = reportTrainTime(analysis, { cudnnAttentionPlans: true });
    const timeError = t && run.train_seconds ? t.seconds / run.train_seconds - 1 : NaN;
    if (Number.isFinite(timeError)) timeErrors.push(Math.abs(timeError));
    if (Math.abs(timeError) > 0.2) timeMisses.push(`${run.name} ${pct(timeError)}`);
    console.log(
      [
        run.name.padEnd(28),
        `${low.toFixed(2)}–${high.toFixed(2)}${resolved ? '' : '?'}`.padStart(12),
        estimate.toFixed(2).padStart(13),
        pct(error).padStart(7),
        String(failing.length).padStart(9),
        String(predicted).padStart(11),
        (run.train_seconds ?? NaN).toFixed(1).padStart(8),
        (t ? t.seconds.toFixed(1) : '—').padStart(11),
        pct(timeError).padStart(6),
        `${((run.alloc_peak_whole_bytes ?? NaN) / GIB).toFixed(2)} / ${allocated.toFixed(2)}`.padStart(
          14,
        ),
        minimum.toFixed(2).padStart(17),
        pct(minError).padStart(6),
        String(minFailing).padStart(10),
        (oom ? `${oom.tried_gib.toFixed(2)} / ${oom.reserved_free_gib.toFixed(2)}` : '—').padStart(
          20,
        ),
      ].join(' '),
    );
  }
  console.log(
    `memory: median |error| ${pct(median(memErrors))}, worst ${pct(Math.max(...memErrors))} over ${memErrors.length} runs resolved to 0.5 GiB (${unresolved} not resolved: the budget ran out), ${memErrors.filter((e) => e > 0.08).length} above 8%; capped runs that failed: ${failingCaps}, estimated above their cap (predicted not to fit): ${failingCapsPredicted}`,
  );
  console.log(
    `smallest memory (minimum_bytes: allocated + context + allocator slack, overhead.ts SLACK): median |error| ${pct(median(minErrors))}, worst ${pct(Math.max(...minErrors))} over ${minErrors.length} resolved runs, ${minErrors.filter((e) => e > 0.08).length} above 8%; failing caps predicted not to fit: ${minPredicted} of ${failingCaps}`,
  );
  if (ooms.length)
    console.log(
      '  the failing request is the fp32 logits block in every OOM; "free" is reserved but split, given back only where a segment is wholly free',
    );
  console.log(
    `allocated peak (tensors only): median |error| ${pct(median(allocatedErrors))}, worst ${pct(Math.max(...allocatedErrors))} over ${allocatedErrors.length} runs; what the smallest memory adds above it (allocator slack and the CUDA context) is where the estimate misses`,
  );
  console.log(
    `time: median |error| ${pct(median(timeErrors))}, worst ${pct(Math.max(...timeErrors))}, ${timeErrors.filter((e) => e > 0.2).length} of ${timeErrors.length} above 20% (6 steps each: a short run, the first step's warm-up weighs; ${'ooms' in measured.set ? "the LoRA runs paid peft's input cast, which the estimate of today's runner leaves out and npm run bench:time counts" : 'each training timed again over 24 steps in the held-out table below'})${timeMisses.length ? `: ${timeMisses.join(', ')}` : ''}`,
  );
  // Twins: evaluation on and off train the same batches, so their training times should match.
  const seconds = new Map(measured.truths.map((t) => [t.run.name, t.run.train_seconds ?? NaN]));
  const twinGaps = [...seconds]
    .filter(([name]) => name.endsWith('-eval') && seconds.has(name.replace(/-eval$/, '-noeval')))
    .map(([name, s]) => Math.abs(s / seconds.get(name.replace(/-eval$/, '-noeval'))! - 1));
  if (twinGaps.length)
    console.log(
      `  twins (evaluation on and off: the same batches, the same tokens per step) measured ${pct(median(twinGaps))} apart in the median, up to ${pct(Math.max(...twinGaps))}: six steps time the machine as much as the run`,
    );
  if (!('ooms' in measured.set)) return;
  // Per-step times of the event logs: why those miss (bench/TIME.md).
  console.log(
    "  each miss is one of two identical trainings (evaluation on and off: same batches, same tokens per step) measured 16-113% apart: 1b-lora-*-eval were the first packed and the first unpacked run on a fresh machine (first step 3.2-3.6 s, 1.2-1.4 s in the twin), 1b-full-unpacked-eval stalls 2.0 s on one step, 0.5b-full-unpacked-eval is its twin's faster half (per-step times: bench/TIME.md)",
  );
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%` : '—';
}
