// Percentiles of the measured series, and how figures and ratios are printed.

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export const median = (values: number[]): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export const fmt = (ms: number | undefined, digits?: number): string => {
  if (ms === undefined || !Number.isFinite(ms)) return 'n/a';
  const d = digits ?? (ms < 10 ? 1 : 0);
  return ms.toFixed(d);
};

export const ratio = (theirs: number | undefined, ours: number | undefined): string => {
  if (
    theirs === undefined ||
    ours === undefined ||
    !Number.isFinite(theirs) ||
    !Number.isFinite(ours) ||
    ours <= 0
  )
    return 'n/a';
  const r = theirs / ours;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`;
};
