// The 20 whole runs of runner/bench/whole_runs.py as truth for the time model:
// each run's config (the template with its recorded changes), analysed by the
// engine as a user's would be, and its per-step times read from its event log.
// Used by bench/time.ts (fit, leave-one-out) and bench/estimate/smallestMemory.ts.
//
// A step's time runs from the previous `step` event, or from the `eval` event
// when an evaluation came between (the eval's own time is left out, as in
// template_run_results.py summarize(): eval event − previous step = eval_runtime to
// the millisecond). The first step runs from `start` (on_train_begin: model
// on the GPU, optimizer built), so it holds the first step's warm-up.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../engine/src/engine';
import { estimateTrainTime, type TrainTimeDetail } from '../engine/src/estimate/time';
import type { ThroughputConstants } from '../engine/src/estimate/throughput';
import type { GpuSpec } from '../engine/src/hardware/types';
import type { ModelArchitecture } from '../engine/src/models/types';
import type { Plan } from '../engine/src/plan';
import { buildEstimateReport } from '../engine/src/report/estimateReport';
import { configOf, modelDirs } from './estimate/smallestMemory';
import { median } from './estimate/statistics';

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(ROOT, 'runner', 'bench', 'results', 'whole-runs-h100.json');
const EVENTS = path.join(ROOT, 'runner', 'bench', 'results', 'whole-runs-h100-events');

export interface WholeRunTime {
  name: string;
  /** Layers of the model (the warm-up is per layer). */
  layers: number;
  /** Seconds of each optimizer step, from the events (evaluations left out). */
  stepSeconds: number[];
  /** Median of steps 2..n: the steady step the step model predicts. */
  steadySeconds: number;
  /** First step less the steady step: the one-time warm-up. */
  warmupSeconds: number;
  /** train_seconds of the results file (start to last step, less in-training evaluations). */
  trainSeconds: number;
  /** The sum of stepSeconds: train_seconds recomputed from the events. */
  eventSeconds: number;
  plan: Plan;
  model: ModelArchitecture;
  gpu: GpuSpec | undefined;
  tokensPerEpoch: number;
  tokenLengths: readonly number[] | undefined;
}

interface Event {
  event: string;
  time: number;
  step?: number;
}

/** Seconds of each optimizer step of one event log. */
export function stepSecondsOf(events: readonly Event[]): number[] {
  const start = events.find((e) => e.event === 'start');
  if (!start) return [];
  let previous = start.time;
  let steps = 0;
  const seconds: number[] = [];
  for (const e of events) {
    if (e.event === 'end') break;
    if (e.event === 'step') {
      seconds.push(e.time - previous);
      previous = e.time;
      steps++;
    } else if (e.event === 'eval' && steps > 0) previous = e.time;
  }
  return seconds;
}

let cache: WholeRunTime[] | undefined;

/** The measured whole runs with their analysed configs (empty when the results are absent). */
export function loadWholeRunTimes(): WholeRunTime[] {
  if (cache) return cache;
  cache = [];
  if (!fs.existsSync(RESULTS)) return cache;
  const measured = JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as {
    runs: Parameters<typeof configOf>[0][];
  };
  const dirs = modelDirs();
  for (const run of measured.runs) {
    const log = path.join(EVENTS, `${run.name}.events.jsonl`);
    if (run.status !== 'completed' || !run.train_seconds || !fs.existsSync(log)) continue;
    const events = fs
      .readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Event);
    const stepSeconds = stepSecondsOf(events);
    if (stepSeconds.length < 2) continue;
    const { text, file } = configOf(run, dirs[run.shape]!);
    const analysis = analyze(text, file);
    const report = buildEstimateReport(analysis);
    if (!report || !analysis.plan || !analysis.model) continue;
    const steadySeconds = median(stepSeconds.slice(1));
    cache.push({
      name: run.name,
      layers: analysis.model.numLayers,
      stepSeconds,
      steadySeconds,
      warmupSeconds: stepSeconds[0]! - steadySeconds,
      trainSeconds: run.train_seconds,
      eventSeconds: stepSeconds.reduce((a, b) => a + b, 0),
      plan: analysis.plan,
      model: analysis.model,
      gpu: analysis.gpu,
      tokensPerEpoch: report.tokensPerEpoch,
      tokenLengths: analysis.data?.train?.tokenLengths,
    });
  }
  fs.rmSync(path.dirname(dirs['1b']!), { recursive: true, force: true });
  return cache;
}

/** The engine's estimate of a whole run, as estimateReport.ts computes it, with other constants. */
export function predictWholeRun(
  run: WholeRunTime,
  constants?: ThroughputConstants,
): TrainTimeDetail {
  return estimateTrainTime(run.plan, run.model, run.gpu, run.tokensPerEpoch, {
    tokenLengths: run.tokenLengths,
    maxSteps: run.plan.training.maxSteps,
    constants,
    // measured before the runner skipped peft's LoRA input cast under autocast
    peftInputCast: run.plan.method === 'lora',
  });
}
