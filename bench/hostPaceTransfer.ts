// Would a host pace read from one run on a machine estimate its other runs?
// For every pair of host-paced whole runs measured on the same machine (one
// results file, or files that name the same `machine`), the pace solved from
// one run's steady step (hostPaceOf) estimates the other's training time;
// printed per machine against the same pairs without a pace; then the median
// pace of several of the machine's other runs, as a history of runs would give.

import { withHostPace } from '../engine/src/estimate/hostPace';
import { FITTED } from '../engine/src/estimate/throughput';
import { hostPaceOf } from '../engine/src/estimate/time';
import { median, worst } from './estimate/statistics';
import {
  predictWholeRun,
  wholeRunOptions,
  type TimedRuns,
  type TimedRunSet,
  type WholeRunTime,
} from './timeWholeRuns';

/** |estimate / measured − 1| of a run's training time, at a host pace or the model's own. */
function error(run: WholeRunTime, hostPace?: number): number {
  const constants = hostPace === undefined ? undefined : withHostPace(FITTED, hostPace);
  return Math.abs(predictWholeRun(run, constants).seconds / run.trainSeconds - 1);
}

const summary = (xs: number[]) =>
  `median ${(100 * median(xs)).toFixed(1)}%, worst ${(100 * worst(xs)).toFixed(1)}%, ${xs.filter((e) => e <= 0.2).length} of ${xs.length} within 20%`;

export function printHostPaceTransfer(set: TimedRunSet, timed: TimedRuns): void {
  const machineOf = new Map(set.files.map((f) => [f.results, f.machine ?? f.results]));
  const byMachine = new Map<string, { run: WholeRunTime; pace: number }[]>();
  for (const run of [...timed.superseded, ...timed.runs]) {
    const pace = hostPaceOf(
      run.plan,
      run.model,
      run.gpu,
      run.tokensPerEpoch,
      wholeRunOptions(run),
      run.steadySeconds,
    );
    if (pace === undefined) continue; // GPU-paced: its step says nothing of the host
    const machine = machineOf.get(run.source) ?? run.source;
    byMachine.set(machine, [...(byMachine.get(machine) ?? []), { run, pace }]);
  }
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
}

/** Every choice of k of the values. */
function choose(values: readonly number[], k: number): number[][] {
  if (k === 0) return [[]];
  if (values.length < k) return [];
  const [first, ...rest] = values;
  return [...choose(rest, k - 1).map((c) => [first!, ...c]), ...choose(rest, k)];
}
