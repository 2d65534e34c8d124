// Would a host pace read from one run on a machine estimate its other runs?
// For every pair of host-paced whole runs measured on the same machine (one
// results file, or files that name the same `machine`), the pace solved from
// one run's steady step (hostPaceOfStep) estimates the other's training time;
// printed per machine against the same pairs without a pace; then the median
// pace of several of the machine's other runs; last, the pace Tunelab itself
// learns from a target's completed runs (learnHostPace), through the estimate's
// own path and band.

import {
  hostPaceOfStep,
  learnHostPace,
  withHostPace,
  type PacedRun,
} from '../engine/src/estimate/hostPace';
import { FITTED } from '../engine/src/estimate/throughput';
import { LIVE_PACE_INTERVALS } from '../launch/src/hostPaces';
import { median, within20Summary } from './estimate/statistics';
import { loadTimedRuns, predictWholeRun, type TimedRuns, type WholeRunTime } from './timeWholeRuns';
import { TIMED_RUN_SETS, type TimedRunSet } from './timedRunSets';

/** |estimate / measured − 1| of a run's training time, at a host pace or the model's own. */
function error(run: WholeRunTime, hostPace?: number): number {
  const constants = hostPace === undefined ? undefined : withHostPace(FITTED, hostPace);
  return Math.abs(predictWholeRun(run, constants).seconds / run.trainSeconds - 1);
}

const summary = within20Summary;

/** A host-paced whole run, the pace its steady step reads, and where it ran. */
interface PacedWholeRun {
  run: WholeRunTime;
  pace: number;
  machine: string;
  /** Timed from its event logs: the runner's median step, what Tunelab learns from. */
  fromEvents: boolean;
}

const pacedRunsOfSet = new WeakMap<TimedRunSet, PacedWholeRun[]>();

/**
 * Every measurement of the set whose host paced it, with its pace (solved from the step
 * parts of its cached estimate), once per set; a GPU-paced step says nothing of the host.
 */
function pacedWholeRuns(set: TimedRunSet): PacedWholeRun[] {
  const known = pacedRunsOfSet.get(set);
  if (known) return known;
  const timed = loadTimedRuns(set);
  const fileOf = new Map(set.files.map((f) => [f.results, f]));
  const paced: PacedWholeRun[] = [];
  for (const run of [...timed.superseded, ...timed.runs]) {
    const pace = hostPaceOfStep(predictWholeRun(run).stepParts, run.steadySeconds);
    const file = fileOf.get(run.source);
    if (pace !== undefined)
      paced.push({ run, pace, machine: file?.machine ?? run.source, fromEvents: !!file?.events });
  }
  pacedRunsOfSet.set(set, paced);
  return paced;
}

function groupByMachine(runs: readonly PacedWholeRun[]): Map<string, PacedWholeRun[]> {
  const byMachine = new Map<string, PacedWholeRun[]>();
  for (const r of runs) byMachine.set(r.machine, [...(byMachine.get(r.machine) ?? []), r]);
  return byMachine;
}

export function printHostPaceTransfer(set: TimedRunSet, timed: TimedRuns): void {
  const machineOf = new Map(set.files.map((f) => [f.results, f.machine ?? f.results]));
  const paced = pacedWholeRuns(set);
  const byMachine = groupByMachine(paced);
  const machines = [...byMachine].filter(([, runs]) => runs.length >= 2);
  if (!machines.length) return;
  console.log(
    "  a host pace learnt on the same machine (solved from one host-paced run's steady step, estimating another run's training time there), per machine (results file):",
  );
  const withPace: number[] = [];
  const without: number[] = [];
  for (const [machine, runs] of machines) {
    const mine = { with: [] as number[], without: [] as number[] };
    for (const from of runs)
      for (const to of runs)
        if (from !== to) {
          mine.with.push(error(to.run, from.pace));
          mine.without.push(error(to.run));
        }
    withPace.push(...mine.with);
    without.push(...mine.without);
    const paces = runs.map((r) => r.pace);
    console.log(
      `    ${machine.replace(/\.json$/, '').padEnd(36)} paces ${Math.min(...paces).toFixed(2)}-${Math.max(...paces).toFixed(2)}: with the other run's pace ${summary(mine.with)}; without ${summary(mine.without)}`,
    );
  }
  console.log(
    `    all pairs: with the other run's pace ${summary(withPace)}; without ${summary(without)}`,
  );
  // a machine's history: the median pace of k of its other runs (every choice of k), then of all
  for (const k of [2, 3, Infinity]) {
    const withMedian: number[] = [];
    const same: number[] = [];
    for (const [, runs] of machines)
      for (const to of runs) {
        const others = runs.filter((r) => r !== to).map((r) => r.pace);
        for (const chosen of k === Infinity ? [others] : choose(others, k)) {
          withMedian.push(error(to.run, median(chosen)));
          same.push(error(to.run));
        }
      }
    if (!withMedian.length) continue;
    console.log(
      `    the median pace of ${k === Infinity ? "all the machine's other runs" : `${k} other runs`}: ${summary(withMedian)}; without ${summary(same)}`,
    );
  }
  // Tunelab learns from the runner's steady step, the median of the step intervals: only
  // runs timed from their event logs have it (a summary's mean carries a first run's stalls)
  const learnable = groupByMachine(paced.filter((r) => r.fromEvents));
  const all = [...timed.superseded, ...timed.runs];
  printLearntPace(machineOf, all, learnable, 'every measurement');
  printLearntPace(machineOf, timed.runs, learnable, 'the latest measurement of each run');
  printLearntPace(machineOf, all, byMachine, 'every measurement, summary-timed runs taught too');
  printLearntPace(machineOf, timed.runs, byMachine, 'the latest, summary-timed runs taught too');
  printProbedRuns(all);
  printPaceWhileRunning(all);
}

/**
 * The pace a run teaches while it runs (its first LIVE_PACE_INTERVALS step intervals, as
 * its step events carry them) against the pace of all its steps: what the next estimate
 * there takes from a first run stopped or failed after them, and what a probe reads
 * (the same steps of another process of the config, printed above).
 */
function printPaceWhileRunning(all: readonly WholeRunTime[]): void {
  const diffs: number[] = [];
  const probeDiffs: number[] = [];
  for (const run of all) {
    if (run.firstStepsSteadySeconds === undefined) continue;
    diffs.push(run.firstStepsSteadySeconds / run.steadySeconds - 1);
    if (run.probeSteadySeconds !== undefined)
      probeDiffs.push(run.probeSteadySeconds / run.steadySeconds - 1);
  }
  if (!diffs.length) return;
  const spread = (xs: number[]) =>
    `median |difference| ${(100 * median(xs.map(Math.abs))).toFixed(1)}%, from ${pct(Math.min(...xs))} to ${pct(Math.max(...xs))}`;
  console.log(
    `  a run's steady step told while it runs (its first ${LIVE_PACE_INTERVALS} timed steps, the runner's step events) against all its steps (${diffs.length} runs with an event log of ${LIVE_PACE_INTERVALS + 1} steps or more): ${spread(diffs)}` +
      (probeDiffs.length
        ? `; its probe's (another process, just before) against the same: ${spread(probeDiffs)} (${probeDiffs.length} runs)`
        : ''),
  );
}

/**
 * Runs that followed their own config's pace probe (`train --probe 16`, as `tunelab launch
 * --probe` runs it): each estimated before any run on its machine, then with the pace
 * its probe taught (a GPU-paced probe teaches none: the estimate stands).
 */
function printProbedRuns(all: readonly WholeRunTime[]): void {
  const probed = all.filter((r) => r.probeSteadySeconds !== undefined);
  if (!probed.length) return;
  const without: number[] = [];
  const withProbe: number[] = [];
  let inside = 0;
  const rows: string[] = [];
  for (const run of probed) {
    const pace = probePaceOf(run);
    const taught =
      pace === undefined
        ? undefined
        : { pace, runs: 1, target: 'its probe', basis: 'config' as const };
    const before = predictWholeRun(run).seconds / run.trainSeconds - 1;
    const estimate = predictWholeRun(run, undefined, taught);
    const after = estimate.seconds / run.trainSeconds - 1;
    without.push(Math.abs(before));
    withProbe.push(Math.abs(after));
    if (Math.abs(after) <= estimate.uncertainty) inside++;
    rows.push(
      `${run.name} ${pct(before)} → ${pace === undefined ? 'GPU-paced, unchanged' : `×${pace.toFixed(2)} ${pct(after)}`}`,
    );
  }
  console.log(
    `  after a pace probe of the same config on the same machine (${probed.length} runs): without a pace ${summary(without)}; with the probe's ${summary(withProbe)}, ${inside} inside the band the estimate shows`,
  );
  console.log(`    ${rows.join('; ')}`);
}

/** The pace a run's own probe taught (undefined without a probe, or where the GPU paced it). */
function probePaceOf(run: WholeRunTime): number | undefined {
  return run.probeSteadySeconds === undefined
    ? undefined
    : hostPaceOfStep(predictWholeRun(run).stepParts, run.probeSteadySeconds);
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

/**
 * Every run (host-paced or not) estimated as Tunelab would after the machine's other
 * runs completed there, and the pace probes run there (whole_runs.py --probe-steps):
 * learnHostPace over their paces (the run's own config's probe first, else the same
 * method's, else all), the estimate's own band with it.
 */
function printLearntPace(
  machineOf: Map<string, string>,
  all: readonly WholeRunTime[],
  byMachine: Map<string, PacedWholeRun[]>,
  which: string,
): void {
  const errors: number[] = [];
  let inside = 0;
  let learnt = 0;
  for (const run of all) {
    const machine = machineOf.get(run.source) ?? run.source;
    const others = [
      ...(byMachine.get(machine) ?? [])
        .filter((r) => r.run !== run)
        .map((r) => ({ pace: r.pace, method: r.run.plan.method ?? 'lora' })),
      ...probesOn(machineOf, all, machine, run),
    ];
    const pace = learnHostPace(others, run.plan.method ?? 'lora', machine);
    const estimate = predictWholeRun(run, undefined, pace);
    const e = Math.abs(estimate.seconds / run.trainSeconds - 1);
    errors.push(e);
    if (e <= estimate.uncertainty) inside++;
    if (estimate.hostPaced && estimate.hostPace) learnt++;
  }
  console.log(
    `    ${which}, estimated with the pace Tunelab learns from the machine's other completed runs and its probes (learnHostPace: the config's own probe, else the same method's, else all; ${learnt} of ${all.length} host-paced with a pace): ${summary(errors)}, ${inside} inside the band the estimate shows`,
  );
}

/** The paces the probes run on a machine teach, `run`'s own config's marked (sameConfig). */
function probesOn(
  machineOf: Map<string, string>,
  all: readonly WholeRunTime[],
  machine: string,
  run: WholeRunTime,
): PacedRun[] {
  const probes: PacedRun[] = [];
  for (const other of all) {
    if ((machineOf.get(other.source) ?? other.source) !== machine) continue;
    const pace = probePaceOf(other);
    if (pace !== undefined)
      probes.push({ pace, method: other.plan.method ?? 'lora', sameConfig: other === run });
  }
  return probes;
}

/**
 * The paces of the host-paced whole runs measured on one machine (a results file of the
 * held-out set, or the `machine` several name), timed from their event logs: what
 * Tunelab would have learnt there.
 */
export function machinePacedRuns(machine: string): PacedRun[] {
  return pacedWholeRuns(TIMED_RUN_SETS.heldOut)
    .filter((r) => r.machine === machine && r.fromEvents && r.run.plan.method)
    .map((r) => ({ pace: r.pace, method: r.run.plan.method! }));
}

/** Every choice of k of the values. */
function choose(values: readonly number[], k: number): number[][] {
  if (k === 0) return [[]];
  if (values.length < k) return [];
  const [first, ...rest] = values;
  return [...choose(rest, k - 1).map((c) => [first!, ...c]), ...choose(rest, k)];
}
