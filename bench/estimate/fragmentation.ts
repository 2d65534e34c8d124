// Hold-out check of the fragmentation constants: refit them on the
// calibration models' rows only and score the rows they were not fitted on.

import { estimateMemory } from '../../engine/src/estimate/memory';
import { FRAGMENTATION, type FragmentationCoefficients } from '../../engine/src/estimate/overhead';
import { modelForRow, planForRow } from './plans';
import { settingsLabel, type Row } from './rows';
import { score, summaryLine } from './score';
import { GiB, pct } from './statistics';

const CALIBRATION_MODELS = new Set(['Qwen/Qwen2.5-0.5B', 'meta-llama/Llama-3.1-8B']);

const FRAG_KEYS = [
  'base',
  'logits',
  'recompute',
  'backwardGrads',
  'fp32CheckpointGrads',
  'sharded',
  'strandedLogits',
] as const;

/**
 * Least-squares fit (relative residuals) of the fragmentation coefficients on
 * the given rows: device_used − estimate(without fragmentation) is linear in
 * the coefficients, so each coefficient's column is the estimate with that
 * coefficient at 1 minus the estimate with all at 0. Negative coefficients
 * are dropped and the rest refitted (every driver can only add memory).
 */
function fitFragmentation(rows: Row[]): FragmentationCoefficients {
  const zero: FragmentationCoefficients = {
    base: 0,
    logits: 0,
    recompute: 0,
    backwardGrads: 0,
    fp32CheckpointGrads: 0,
    sharded: 0,
    strandedLogits: 0,
  };
  const X: number[][] = [];
  const y: number[] = [];
  for (const row of rows) {
    if (row.status !== 'ok') continue;
    const plan = planForRow(row);
    const model = modelForRow(row);
    const measured = Number(row.device_used_gib) * GiB;
    const base = estimateMemory(plan, model, undefined, {
      fragmentation: zero,
      floorAtMinimum: false,
    }).perGpuBytes;
    const feats = FRAG_KEYS.map(
      (k) =>
        estimateMemory(plan, model, undefined, {
          fragmentation: { ...zero, [k]: k === 'base' ? GiB : 1 },
          floorAtMinimum: false,
        }).perGpuBytes - base,
    );
    const w = 1 / measured;
    X.push(feats.map((v) => v * w));
    y.push((measured - base) * w);
  }
  let active: number[] = FRAG_KEYS.map((_, i) => i);
  for (;;) {
    const k = active.length;
    const A = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    const b = new Array<number>(k).fill(0);
    X.forEach((xr, i) => {
      active.forEach((p, a) => {
        b[a]! += xr[p]! * y[i]!;
        active.forEach((q, c) => (A[a]![c]! += xr[p]! * xr[q]!));
      });
    });
    active.forEach((_, a) => (A[a]![a]! += 1e-9));
    const sol = solve(A, b);
    let neg = -1;
    sol.forEach((v, i) => {
      if (v < 0 && (neg < 0 || v < sol[neg]!)) neg = i;
    });
    if (neg >= 0 && k > 1) {
      active = active.filter((_, i) => i !== neg);
      continue;
    }
    const c = { ...zero };
    active.forEach((p, a) => {
      const key = FRAG_KEYS[p]!;
      c[key] = Math.max(0, sol[a]!) * (key === 'base' ? GiB : 1);
    });
    return c;
  }
}

function describeFrag(c: FragmentationCoefficients): string {
  return (
    `base ${(c.base / GiB).toFixed(3)} GiB, logits ${c.logits.toFixed(3)}, ` +
    `recompute ${c.recompute.toFixed(3)}, backward grads ${c.backwardGrads.toFixed(3)}, ` +
    `fp32 grads under checkpointing ${c.fp32CheckpointGrads.toFixed(3)}, sharded ${c.sharded.toFixed(3)}, ` +
    `workspace-stranded logits ${c.strandedLogits.toFixed(3)}`
  );
}

function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i] as number]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  return M.map((r, i) => r[n]! / r[i]!);
}

/** Fits the fragmentation constants on the calibration models and scores the other rows with them. */
export function printHoldOut(rows: Row[], files: string[], verbose: boolean): void {
  const calib = rows.filter((r) => CALIBRATION_MODELS.has(r.model_id));
  const fitted = fitFragmentation(calib);
  const held = score(
    rows.filter((r) => !CALIBRATION_MODELS.has(r.model_id)),
    fitted,
  );
  const tuned = score(calib, fitted);
  console.log(
    `\nHold-out: fragmentation constants fitted on ${[...CALIBRATION_MODELS].join(' + ')} rows only:\n` +
      `  fitted:  ${describeFrag(fitted)}\n  shipped: ${describeFrag(FRAGMENTATION)}`,
  );
  console.log(summaryLine('  tuned-on rows (0.5B, 8B)', tuned));
  console.log(summaryLine('  rows it was not tuned on (1B, 7B)', held));
  for (const f of files) {
    const h = held.filter((s) => s.row.__file === f);
    if (h.length) console.log(summaryLine(`    ${f}`, h));
  }
  if (verbose) {
    for (const s of held.sort((a, b) => b.err - a.err).slice(0, 8)) {
      console.log(`    ${pct(s.err).padStart(6)} ${s.row.model_id} ${settingsLabel(s.row)}`);
    }
  }
}
