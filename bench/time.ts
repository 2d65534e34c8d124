// Accuracy benchmark of the training-time estimate against measured runs.
//
//   node --import tsx bench/time.ts
//
// Prints, for each run measured on an H100 (engine/src/estimate/timeCalibration.ts):
// measured tokens/s, the previous estimate's and this one's, and the error of
// the predicted time; then refits the five constants on all runs (they should
// come back as the shipped ones) and on all runs but one, scoring the one left
// out (leave-one-out), so the fit is seen not to be memorised. Print only: no
// timing, no assertions.

import { findCatalogModel } from '../engine/src/models/catalog';
import { layoutOf } from '../engine/src/estimate/arch';
import { FITTED, flopsPerToken, type ThroughputConstants } from '../engine/src/estimate/throughput';
import {
  MEASURED_RUNS,
  predictRun,
  timeRatio,
  type MeasuredRun,
} from '../engine/src/estimate/timeCalibration';

const KEYS: (keyof ThroughputConstants)[] = [
  'matmulEfficiency',
  'adapterSecondsPerTokenWidth',
  'variableShapeSecondsPerLayer',
  'hostSecondsPerAdapter',
  'hostSecondsPerQuantizedModule',
];

/** The estimate before issue 13: FLOPs at 35% (packed) or 15% (padded) of 989 TFLOP/s, × 0.75 for QLoRA. */
function previousTokensPerSecond(run: MeasuredRun): number {
  const layout = layoutOf(findCatalogModel(run.model)!);
  const perToken = flopsPerToken(layout, {
    method: run.method,
    lora: run.method === 'full' ? undefined : { r: 16, targets: 'all-linear' },
    checkpointing: true,
    packed: run.packing,
    paddedTokens: 0,
    attentionSpan: 2048 / 2,
  });
  const utilization = (run.packing ? 0.35 : 0.15) * (run.method === 'qlora' ? 0.75 : 1);
  return (989e12 * utilization) / perToken;
}

const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
const num = (n: number) => Math.round(n).toLocaleString('en-US');

function constantsOf(logs: number[]): ThroughputConstants {
  const c = { ...FITTED };
  KEYS.forEach((k, i) => (c[k] = FITTED[k] * Math.exp(logs[i]!)));
  return c;
}

/** Sum of squared log(predicted/measured time) over the runs. */
function loss(runs: readonly MeasuredRun[], logs: number[]): number {
  const c = constantsOf(logs);
  return runs.reduce((sum, r) => sum + Math.log(timeRatio(r, c)) ** 2, 0);
}

/** Nelder–Mead over log multipliers of the shipped constants. */
function fit(runs: readonly MeasuredRun[]): ThroughputConstants {
  const n = KEYS.length;
  let simplex = [new Array<number>(n).fill(0)];
  for (let i = 0; i < n; i++) simplex.push(simplex[0]!.map((x, j) => (i === j ? x + 0.3 : x)));
  let values = simplex.map((p) => loss(runs, p));
  for (let iter = 0; iter < 300; iter++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    const worst = simplex[n]!;
    const centroid = worst.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p[j]!, 0) / n);
    const along = (t: number) => centroid.map((c, j) => c + t * (worst[j]! - c));
    const reflected = along(-1);
    const fr = loss(runs, reflected);
    if (fr < values[0]!) {
      const expanded = along(-2);
      const fe = loss(runs, expanded);
      [simplex[n], values[n]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[n - 1]!) {
      [simplex[n], values[n]] = [reflected, fr];
    } else {
      const contracted = along(0.5);
      const fc = loss(runs, contracted);
      if (fc < values[n]!) [simplex[n], values[n]] = [contracted, fc];
      else {
        simplex = simplex.map((p) =>
          p.map((x, j) => simplex[0]![j]! + 0.5 * (x - simplex[0]![j]!)),
        );
        values = simplex.map((p) => loss(runs, p));
      }
    }
  }
  const best = values.indexOf(Math.min(...values));
  return constantsOf(simplex[best]!);
}

function main(): void {
  console.log('Training time: measured on one H100 80GB vs estimated (30 optimizer steps each)\n');
  console.log(
    'run                   batch        measured tok/s  previous est.  this est.  time error  (previous)  step s meas/est',
  );
  const errors: number[] = [];
  for (const run of MEASURED_RUNS) {
    const p = predictRun(run);
    const ratio = timeRatio(run);
    errors.push(Math.abs(ratio - 1));
    const previous = previousTokensPerSecond(run);
    const batch = `${run.microBatch}×${run.gradAccum}${run.packing ? ' packed' : ''}`;
    const measuredStep = p.secondsPerStep / ratio;
    console.log(
      `${run.id.padEnd(21)} ${batch.padEnd(12)} ${num(run.tokensPerSecond).padStart(14)} ${num(previous).padStart(14)} ${num(p.tokensPerSecond).padStart(10)} ${pct(ratio).padStart(11)} ${pct(run.tokensPerSecond / previous).padStart(11)}  ${measuredStep.toFixed(2)}/${p.secondsPerStep.toFixed(2)}`,
    );
  }
  const sorted = [...errors].sort((a, b) => a - b);
  const previousWorst = Math.max(
    ...MEASURED_RUNS.map((r) => previousTokensPerSecond(r) / r.tokensPerSecond),
  );
  console.log(
    `\n|error| median ${(100 * sorted[Math.floor(sorted.length / 2)]!).toFixed(1)}%, worst ${(100 * sorted[sorted.length - 1]!).toFixed(1)}%; the previous estimate was up to ${previousWorst.toFixed(1)}× too fast`,
  );

  const refit = fit(MEASURED_RUNS);
  console.log(`\nconstants: shipped vs refitted on all ${MEASURED_RUNS.length} runs`);
  for (const k of KEYS)
    console.log(
      `  ${k.padEnd(32)} ${FITTED[k].toPrecision(4).padStart(10)} ${refit[k].toPrecision(4).padStart(10)}`,
    );

  console.log(
    `\nleave-one-out: fitted on the other ${MEASURED_RUNS.length - 1} runs, error on the one left out`,
  );
  const loo: number[] = [];
  for (const run of MEASURED_RUNS) {
    const others = MEASURED_RUNS.filter((r) => r !== run);
    const ratio = timeRatio(run, fit(others));
    loo.push(Math.abs(ratio - 1));
    console.log(`  ${run.id.padEnd(21)} ${pct(ratio).padStart(8)}`);
  }
  const looSorted = [...loo].sort((a, b) => a - b);
  const within20 = loo.filter((e) => e <= 0.2).length;
  console.log(
    `  |error| median ${(100 * looSorted[Math.floor(loo.length / 2)]!).toFixed(1)}%, worst ${(100 * looSorted[loo.length - 1]!).toFixed(1)}%, ${within20} of ${loo.length} within 20%`,
  );
}

main();
