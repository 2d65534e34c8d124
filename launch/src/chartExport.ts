// The chart's data as CSV, for "Export CSV" in the run chart (and anyone
// reading a run's curve into a spreadsheet).

import type { ChartPoint } from './progressModel';

const COLUMNS: readonly (keyof ChartPoint)[] = [
  'step',
  'loss',
  'evalLoss',
  'learningRate',
  'gradNorm',
];
const HEADER = ['step', 'loss', 'eval_loss', 'learning_rate', 'grad_norm'];

export function pointsToCsv(points: readonly ChartPoint[]): string {
  const rows = points.map((p) =>
    COLUMNS.map((c) => (typeof p[c] === 'number' ? String(p[c]) : '')).join(','),
  );
  return [HEADER.join(','), ...rows].join('\n') + '\n';
}
