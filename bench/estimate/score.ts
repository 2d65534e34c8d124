// Scores the estimator (and the naive rules) on the rows measured to fit.

import { estimateMemory } from '../../engine/src/estimate/memory';
import type { FragmentationCoefficients } from '../../engine/src/estimate/overhead';
import { gpuPoor, naiveRule } from './naive';
import { gpuForRow, modelForRow, planForRow } from './plans';
import type { Row } from './rows';
import { GiB, median, pct, worst } from './statistics';

export interface Scored {
  row: Row;
  measured: number;
  estimate: number;
  allocatedEstimate: number;
  err: number;
  naive: number;
  poor: number;
}

export function score(rows: Row[], frag: FragmentationCoefficients): Scored[] {
  const out: Scored[] = [];
  for (const row of rows) {
    if (row.status !== 'ok') continue;
    const model = modelForRow(row);
    const est = estimateMemory(planForRow(row), model, gpuForRow(row), { fragmentation: frag });
    const measured = Number(row.device_used_gib);
    const estimate = est.perGpuBytes / GiB;
    out.push({
      row,
      measured,
      estimate,
      allocatedEstimate: est.phases[est.peakPhase] / GiB,
      err: Math.abs(estimate - measured) / measured,
      naive: Math.abs(naiveRule(row) - measured) / measured,
      poor: Math.abs(gpuPoor(row, model) - measured) / measured,
    });
  }
  return out;
}

export function summaryLine(label: string, s: Scored[]): string {
  const e = s.map((x) => x.err);
  const n = s.map((x) => x.naive);
  const p = s.map((x) => x.poor);
  return (
    `${label.padEnd(34)} n=${String(s.length).padStart(3)}  ` +
    `estimator median ${pct(median(e)).padStart(6)} worst ${pct(worst(e)).padStart(6)} | ` +
    `rule of thumb median ${pct(median(n)).padStart(6)} worst ${pct(worst(n)).padStart(7)} | ` +
    `gpu_poor median ${pct(median(p)).padStart(6)} worst ${pct(worst(p)).padStart(7)}`
  );
}
