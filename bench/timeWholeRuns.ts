// The whole runs of runner/bench/whole_runs.py as truth for the time model:
// each run's config (the template with its recorded changes), analysed by the
// engine as a user's would be, and its per-step times read from its event log.
// Two sets (TIMED_RUN_SETS): the 6-step runs the constants are fitted on, and
// the 24-step runs of the final runner, held out. Used by bench/time.ts (fit,
// leave-one-out) and bench/estimate.ts (the held-out table).
//
// A step's time runs from the previous `step` event, or from the `eval` event
// when an evaluation came between (the eval's own time is left out, as in
// template_run_results.py summarize(): eval event − previous step = eval_runtime to
// the millisecond). The first step runs from `start` (on_train_begin: model
// on the GPU, optimizer built), so it holds the first step's warm-up.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../engine/src/engine';
import {
  estimateTrainTime,
  HOST_PACED_UNCERTAINTY,
  MEASURED_UNCERTAINTY,
  type TrainTimeDetail,
} from '../engine/src/estimate/time';
import type { LearnedHostPace } from '../engine/src/estimate/hostPace';
import type { ThroughputConstants } from '../engine/src/estimate/throughput';
import type { GpuSpec } from '../engine/src/hardware/types';
import type { ModelArchitecture } from '../engine/src/models/types';
import type { Plan } from '../engine/src/plan';
import { buildEstimateReport } from '../engine/src/report/estimateReport';
import { configOf, modelDirs, RESULTS_DIR } from './estimate/smallestMemory';
import { LIVE_PACE_INTERVALS } from '../launch/src/hostPaces';
import { median, ratioPct, worst } from './estimate/statistics';
import { printHostPaceTransfer } from './hostPaceTransfer';
import { TIMED_RUN_SETS, type TimedRunFile, type TimedRunSet } from './timedRunSets';

export interface WholeRunTime {
  name: string;
  /** The results file it was measured in. */
  source: string;
  /** Layers of the model (the warm-up is per layer). */
  layers: number;
  /** Optimizer steps of the run. */
  steps: number;
  /** Median of steps 2..n (their mean without event logs): the steady step the step model predicts. */
  steadySeconds: number;
  /** First step less the steady step: the one-time warm-up. */
  warmupSeconds: number;
  /** train_seconds of the results file (start to last step, less in-training evaluations). */
  trainSeconds: number;
  plan: Plan;
  model: ModelArchitecture;
  gpu: GpuSpec | undefined;
  tokensPerEpoch: number;
  tokenLengths: readonly number[] | undefined;
  peftInputCast: boolean;
  /** Its padded batches ran cuDNN's attention (a plan per new shape): the runner before it turned that off. */
  cudnnAttentionPlans: boolean;
  /** The steady step of the config's own `train --probe` just before it (whole_runs.py --probe-steps). */
  probeSteadySeconds?: number;
  /**
   * The median of its first LIVE_PACE_INTERVALS step intervals (from its event log): the
   * steady step its step events carry when the editor learns its pace while it runs.
   */
  firstStepsSteadySeconds?: number;
}

interface Event {
  event: string;
  time: number;
  step?: number;
  /** The `start` event's plan: `steps.attention` since the runner chose the attention kernels. */
  plan?: { steps?: { attention?: { cudnn_sdpa?: boolean } | null } };
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

type Timing = Pick<
  WholeRunTime,
  'steps' | 'steadySeconds' | 'warmupSeconds' | 'firstStepsSteadySeconds'
>;

/** A run's event log (undefined without one). */
function eventsOf(name: string, events: string): Event[] | undefined {
  const log = path.join(RESULTS_DIR, events, `${name}.events.jsonl`);
  if (!fs.existsSync(log)) return undefined;
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Event);
}

/**
 * Whether a run's padded batches ran cuDNN's attention: its plan's `attention` step says
 * so since the runner turned it off for them; a plan without that step, or a run without
 * an event log (all measured before), ran torch's choice, cuDNN's.
 */
export function cudnnAttentionPlansOf(events: readonly Event[] | undefined): boolean {
  const steps = events?.find((e) => e.event === 'start')?.plan?.steps;
  if (!steps || !('attention' in steps)) return true;
  return steps.attention?.cudnn_sdpa !== false;
}

/** Steady step and warm-up from a run's event log (undefined without one, or under two steps). */
function timingOfEvents(events: readonly Event[] | undefined): Timing | undefined {
  if (!events) return undefined;
  const stepSeconds = stepSecondsOf(events);
  if (stepSeconds.length < 2) return undefined;
  const steadySeconds = median(stepSeconds.slice(1));
  const firstSteps = stepSeconds.slice(1, 1 + LIVE_PACE_INTERVALS);
  return {
    steps: stepSeconds.length,
    steadySeconds,
    warmupSeconds: stepSeconds[0]! - steadySeconds,
    firstStepsSteadySeconds:
      firstSteps.length === LIVE_PACE_INTERVALS ? median(firstSteps) : undefined,
  };
}

/**
 * The same from a run's summary (template_run_results.py summarize()): steps 2..n take
 * first_to_last_step_seconds less the evaluations between them, the first step the rest
 * of train_seconds.
 */
function timingOfSummary(run: TimedRun): Timing | undefined {
  const { steps, first_to_last_step_seconds: span, eval_in_training_seconds: evals } = run;
  if (!steps || steps < 2 || span === undefined || run.train_seconds === undefined)
    return undefined;
  const later = span - (evals ?? 0);
  const steadySeconds = later / (steps - 1);
  return { steps, steadySeconds, warmupSeconds: run.train_seconds - later - steadySeconds };
}

/** A run of a results file, with the summary figures the timing reads. */
type TimedRun = Parameters<typeof configOf>[0] & {
  probe?: { steady_step_seconds?: number };
  steps?: number;
  first_to_last_step_seconds?: number;
  eval_in_training_seconds?: number;
};

/** The runs of a set: the latest measurement of each, and the measurements it superseded. */
export interface TimedRuns {
  runs: WholeRunTime[];
  superseded: WholeRunTime[];
  /** Results files of the set not measured yet. */
  unmeasured: string[];
}

const cache = new Map<TimedRunSet, TimedRuns>();

/** The measured whole runs of one set with their analysed configs (empty when the results are absent). */
export function loadTimedRuns(set: TimedRunSet = TIMED_RUN_SETS.fitted): TimedRuns {
  const cached = cache.get(set);
  if (cached) return cached;
  const latest = new Map<string, WholeRunTime>();
  const superseded: WholeRunTime[] = [];
  const unmeasured: string[] = [];
  const dirs = modelDirs();
  for (const file of set.files) {
    const results = path.join(RESULTS_DIR, file.results);
    if (!fs.existsSync(results)) {
      unmeasured.push(file.results);
      continue;
    }
    const measured = JSON.parse(fs.readFileSync(results, 'utf8')) as { runs: TimedRun[] };
    for (const run of measured.runs) {
      const timed = timedRun(set, file, run, dirs);
      if (!timed) continue;
      const earlier = latest.get(run.name);
      if (earlier) superseded.push(earlier);
      latest.delete(run.name); // re-inserted: the table keeps the order measured
      latest.set(run.name, timed);
    }
  }
  fs.rmSync(path.dirname(dirs['1b']!), { recursive: true, force: true });
  const loaded = { runs: [...latest.values()], superseded, unmeasured };
  cache.set(set, loaded);
  return loaded;
}

/** The latest measurement of each run of a set (the fit and leave-one-out read these). */
export function loadWholeRunTimes(set: TimedRunSet = TIMED_RUN_SETS.fitted): WholeRunTime[] {
  return loadTimedRuns(set).runs;
}

function timedRun(
  set: TimedRunSet,
  file: TimedRunFile,
  run: TimedRun,
  dirs: ReturnType<typeof modelDirs>,
): WholeRunTime | undefined {
  if (run.status !== 'completed' || !run.train_seconds) return undefined;
  const events = file.events ? eventsOf(run.name, file.events) : undefined;
  const timing = file.events ? timingOfEvents(events) : timingOfSummary(run);
  if (!timing) return undefined;
  const { text, file: configFile } = configOf(run, dirs[run.shape]!, set.allocator);
  const analysis = analyze(text, configFile);
  const report = buildEstimateReport(analysis);
  if (!report || !analysis.plan || !analysis.model) return undefined;
  return {
    name: run.name,
    source: file.results,
    layers: analysis.model.numLayers,
    ...timing,
    trainSeconds: run.train_seconds,
    plan: analysis.plan,
    model: analysis.model,
    gpu: analysis.gpu,
    tokensPerEpoch: report.tokensPerEpoch,
    tokenLengths: analysis.data?.train?.tokenLengths,
    peftInputCast: set.peftInputCast && analysis.plan.method === 'lora',
    cudnnAttentionPlans: cudnnAttentionPlansOf(events),
    probeSteadySeconds: run.probe?.steady_step_seconds,
  };
}

/** Each run's estimate with the shipped constants, made once: the tables, band and summaries read it again. */
const shippedEstimates = new WeakMap<WholeRunTime, TrainTimeDetail>();

/** The engine's estimate of a whole run, as estimateReport.ts computes it, with other constants or a learnt pace. */
export function predictWholeRun(
  run: WholeRunTime,
  constants?: ThroughputConstants,
  hostPace?: LearnedHostPace,
): TrainTimeDetail {
  const shipped = !constants && !hostPace;
  const cached = shipped ? shippedEstimates.get(run) : undefined;
  if (cached) return cached;
  const estimate = estimateTrainTime(run.plan, run.model, run.gpu, run.tokensPerEpoch, {
    tokenLengths: run.tokenLengths,
    maxSteps: run.plan.training.maxSteps,
    constants,
    hostPace,
    peftInputCast: run.peftInputCast,
    cudnnAttentionPlans: run.cudnnAttentionPlans,
  });
  if (shipped) shippedEstimates.set(run, estimate);
  return estimate;
}

/** Steady step, warm-up and training seconds of each run, measured and estimated. */
export function printTimedRuns(set: TimedRunSet, timed: TimedRuns = loadTimedRuns(set)): void {
  const sources = set.files
    .map((f) =>
      timed.unmeasured.includes(f.results)
        ? `${f.results} (not measured yet)`
        : `${f.results} (${f.events ? `events in ${f.events}/` : 'timing from its summary figures'})`,
    )
    .join(', ');
  console.log(
    `\nWhole runs (runner/bench/whole_runs.py, ${set.label}; runner/bench/results/: ${sources})`,
  );
  if (!timed.runs.length) {
    console.log('  no results file');
    return;
  }
  console.log(
    'run                        steps  steady step s meas/est  warm-up s meas/est  train s meas/est   error',
  );
  const errors = timed.runs.map((run) => printTimedRun(run));
  const inside = timed.runs.filter(insideBand).length;
  console.log(
    `|error| median ${(100 * median(errors)).toFixed(1)}%, worst ${(100 * worst(errors)).toFixed(1)}%, ${errors.filter((e) => e > 0.2).length} of ${errors.length} above 20%; inside the band the estimate shows (±${Math.round(100 * MEASURED_UNCERTAINTY)}%, ±${Math.round(100 * HOST_PACED_UNCERTAINTY)}% where the host paces): ${inside} of ${errors.length}`,
  );
  if (!timed.superseded.length) return;
  console.log('Measured again later (the rows above); the earlier measurement, not counted:');
  for (const run of timed.superseded) printTimedRun(run, ` (${run.source})`);
  printRepeatSpread(timed);
  printEveryMeasurement(timed);
  printHostPaceTransfer(set, timed);
}

/**
 * Every measurement of the runs measured more than once, not only the latest: each
 * training time against the same estimate, and each run's median measurement. The
 * same run on other H100 machines moves by more than the 20% target, so the latest
 * measurement alone says as much about the machine as about the estimate.
 */
function printEveryMeasurement(timed: TimedRuns): void {
  const all = [...timed.superseded, ...timed.runs];
  const errors = all.map((run) => Math.abs(predictWholeRun(run).seconds / run.trainSeconds - 1));
  const medians = timed.runs.map((run) => {
    const seconds = all.filter((r) => sameTraining(r, run)).map((r) => r.trainSeconds);
    return Math.abs(predictWholeRun(run).seconds / median(seconds) - 1);
  });
  const within = (xs: number[]) => xs.filter((e) => e <= 0.2).length;
  console.log(
    `  every measurement (n=${all.length}): |error| median ${(100 * median(errors)).toFixed(1)}%, worst ${(100 * worst(errors)).toFixed(1)}%, ${within(errors)} of ${all.length} within 20%, ${all.filter(insideBand).length} inside the band the estimate shows`,
  );
  console.log(
    `  against each run's median measurement: |error| median ${(100 * median(medians)).toFixed(1)}%, worst ${(100 * worst(medians)).toFixed(1)}%, ${within(medians)} of ${medians.length} within 20%`,
  );
}

/** The same run through the same runner: a padded run before and after cuDNN's attention went off is not. */
function sameTraining(a: WholeRunTime, b: WholeRunTime): boolean {
  return a.name === b.name && a.cudnnAttentionPlans === b.cudnnAttentionPlans;
}

/** How far the same run's steady step moved between measurements (other machines, other days). */
function printRepeatSpread(timed: TimedRuns): void {
  // in the order measured: the superseded as they were superseded, then the latest of each run
  const ordered = [...timed.superseded, ...timed.runs];
  const ratios = timed.superseded.flatMap((earlier) => {
    const laters = ordered
      .slice(ordered.indexOf(earlier) + 1)
      .filter((r) => sameTraining(r, earlier));
    const latest = laters.at(-1);
    return latest ? [latest.steadySeconds / earlier.steadySeconds] : [];
  });
  if (!ratios.length) return;
  console.log(
    `  the same runs measured twice: steady step later/earlier median ${ratioPct(median(ratios))}, ` +
      `from ${ratioPct(Math.min(...ratios))} to ${ratioPct(Math.max(...ratios))} (n=${ratios.length}): ` +
      `the time truth of one measurement moves by that much`,
  );
}

/** The measured training time lies inside the band the estimate shows (seconds ± uncertainty). */
function insideBand(run: WholeRunTime): boolean {
  const p = predictWholeRun(run);
  return run.trainSeconds >= p.secondsLow && run.trainSeconds <= p.secondsHigh;
}

/** One row of the table; its |error|. */
function printTimedRun(run: WholeRunTime, suffix = ''): number {
  const p = predictWholeRun(run);
  const ratio = p.seconds / run.trainSeconds;
  console.log(
    `${run.name.padEnd(26)} ${String(run.steps).padStart(5)} ${`${run.steadySeconds.toFixed(3)}/${p.secondsPerStep.toFixed(3)}`.padStart(24)} ${`${run.warmupSeconds.toFixed(2)}/${p.warmupSeconds.toFixed(2)}`.padStart(19)} ${`${run.trainSeconds.toFixed(1)}/${p.seconds.toFixed(1)}`.padStart(16)} ${ratioPct(ratio).padStart(7)}${suffix}`,
  );
  return Math.abs(ratio - 1);
}
