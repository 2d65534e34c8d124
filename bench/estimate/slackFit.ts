// The smallest memory's slack (overhead.ts SLACK) refitted from the data:
// the 20 resolved whole runs give its value (a 0.5 GiB interval each), and
// the 85 fixed-length rows of the shared truth bound it from above: a run
// completes in what nvidia-smi showed for it, so its smallest memory cannot
// exceed that. The fit is a grid search among the coefficients that respect
// the bound (fit() says in which order it ranks them); it is also run with
// one model shape held out.

import { estimateMemory } from '../../engine/src/estimate/memory';
import { SLACK, type SlackCoefficients } from '../../engine/src/estimate/overhead';
import { modelForRow, planForRow } from './plans';
import type { Row } from './rows';
import type { WholeRunsMeasured } from './smallestMemory';
import { GiB, median, pct, worst } from './statistics';

/** The shared truth's measurement and the allocated estimate each carry ≈2%. */
const BOUND_TOLERANCE = 0.02;
const KEYS = ['varyingLogits', 'mlpIntermediate', 'fullVaryingRows', 'accumulatedHole'] as const;
const ZERO: Required<SlackCoefficients> = {
  varyingLogits: 0,
  mlpIntermediate: 0,
  fullVaryingRows: 0,
  accumulatedHole: 0,
};
// accumulatedHole is 0 on every shared row (none accumulates): only the whole runs set it
const GRID: number[][] = [
  steps(0, 1.2, 0.02),
  steps(0, 24, 0.5),
  steps(0, 1.6, 0.05).map((g) => g * GiB),
  steps(0, 1.5, 0.05),
];

function steps(from: number, to: number, by: number): number[] {
  return Array.from({ length: Math.round((to - from) / by) + 1 }, (_, i) => from + i * by);
}

/** minimumBytes (GiB) = at0 + Σ c_k · feature_k: linear in the coefficients. */
interface Point {
  name: string;
  shape?: string;
  at0: number;
  features: number[];
}
interface WholePoint extends Point {
  low: number;
  high: number;
  resolved: boolean;
}
interface BoundPoint extends Point {
  measured: number;
}

function pointOf(minimum: (slack: SlackCoefficients) => number): Omit<Point, 'name'> {
  const at0 = minimum(ZERO) / GiB;
  const features = KEYS.map((k) => minimum({ ...ZERO, [k]: 1 }) / GiB - at0);
  return { at0, features };
}

const value = (p: Point, c: number[]) =>
  p.at0 + p.features.reduce((sum, f, i) => sum + f * (c[i] as number), 0);
const coefficientsOf = (c: SlackCoefficients) => KEYS.map((k) => c[k] ?? 0);
const errorOf = (p: WholePoint, c: number[]) => value(p, c) / ((p.low + p.high) / 2) - 1;

/**
 * Lexicographic: fewest runs that failed under a cap the estimate says they
 * fit, then the least worst error, then the least mean error.
 */
function fit(whole: WholePoint[], bound: BoundPoint[]): number[] | undefined {
  const resolved = whole.filter((p) => p.resolved);
  const scoreOf = (c: number[]) => {
    const errors = resolved.map((p) => Math.abs(errorOf(p, c)));
    return [
      whole.filter((p) => value(p, c) <= p.low).length,
      Math.round(worst(errors) * 1000),
      errors.reduce((a, b) => a + b, 0),
    ];
  };
  const better = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
    return false;
  };
  let best: { c: number[]; score: number[] } | undefined;
  const visit = (c: number[]): void => {
    if (c.length < GRID.length) {
      for (const x of GRID[c.length]!) visit([...c, x]);
      return;
    }
    const score = scoreOf(c);
    if (best && !better(score, best.score)) return;
    if (bound.some((p) => value(p, c) > p.measured * (1 + BOUND_TOLERANCE))) return;
    best = { c, score };
  };
  visit([]);
  return best?.c;
}

function describe(c: number[]): string {
  return `varying-length logits ${c[0]!.toFixed(2)}, MLP intermediate ${c[1]!.toFixed(1)}, full on varying rows ${(c[2]! / GiB).toFixed(2)} GiB, accumulated full's logits hole ${c[3]!.toFixed(2)}`;
}

function summary(label: string, whole: WholePoint[], bound: BoundPoint[], c: number[]): string {
  const errors = whole.filter((p) => p.resolved).map((p) => Math.abs(errorOf(p, c)));
  const above = bound.filter((p) => value(p, c) > p.measured * (1 + BOUND_TOLERANCE));
  const uncaught = whole.filter((p) => value(p, c) <= p.low).map((p) => p.name);
  return (
    `${label.padEnd(30)} whole runs median ${pct(median(errors)).padStart(5)} worst ${pct(worst(errors)).padStart(5)} (n=${errors.length})` +
    ` | shared rows above their measured memory: ${above.length} of ${bound.length}` +
    ` | runs that failed under a cap estimated at or below it: ${uncaught.length ? uncaught.join(', ') : 'none'}`
  );
}

export function printSlackFit(rows: Row[], measured: WholeRunsMeasured | undefined): void {
  const whole: WholePoint[] = (measured?.truths ?? []).map((t) => {
    const { plan, model, estimate } = t.analysis;
    const run = estimate?.run;
    return {
      name: t.run.name,
      shape: t.run.shape,
      low: t.low,
      high: t.high,
      resolved: t.resolved,
      ...pointOf(
        (slack) =>
          estimateMemory(plan!, model!, undefined, { run, slack, floorAtMinimum: false })
            .minimumBytes,
      ),
    };
  });
  if (whole.length === 0) return;
  const bound: BoundPoint[] = rows
    .filter((r) => r.status === 'ok')
    .map((row) => ({
      name: `${row.model_id} ${row.method}`,
      measured: Number(row.device_used_gib),
      ...pointOf(
        (slack) =>
          estimateMemory(planForRow(row), modelForRow(row), undefined, { slack }).minimumBytes,
      ),
    }));
  const shipped = coefficientsOf(SLACK);
  const refitted = fit(whole, bound);
  console.log(
    `\nSmallest memory's slack (overhead.ts SLACK), fitted on the resolved whole runs, bounded by the ${bound.length} shared-truth rows (smallest ≤ measured nvidia-smi, ±${pct(BOUND_TOLERANCE)})`,
  );
  console.log(`  shipped:  ${describe(shipped)}`);
  console.log(summary('  shipped', whole, bound, shipped));
  if (!refitted) return console.log('  no coefficients respect the bound');
  console.log(`  refitted: ${describe(refitted)}`);
  console.log(summary('  refitted', whole, bound, refitted));
  for (const shape of [...new Set(whole.map((p) => p.shape))]) {
    const c = fit(
      whole.filter((p) => p.shape !== shape),
      bound,
    );
    if (!c) continue;
    console.log(`  fitted without the ${shape} runs: ${describe(c)}`);
    console.log(
      summary(
        `    the ${shape} runs held out`,
        whole.filter((p) => p.shape === shape),
        bound,
        c,
      ),
    );
  }
}
