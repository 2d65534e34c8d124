// Relative errors summarised: median, worst, as a percentage.

export const GiB = 1024 ** 3;

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
export function worst(xs: number[]): number {
  return xs.length ? Math.max(...xs) : NaN;
}
export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** A predicted/measured ratio as a signed error: 1.05 → +5.0%. */
export const ratioPct = (ratio: number) =>
  `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
/** |errors| of training times: `median 6.5%, worst 40.3%, 81 of 86 within 20%`. */
export const within20Summary = (xs: number[]) =>
  `median ${pct(median(xs))}, worst ${pct(worst(xs))}, ${xs.filter((e) => e <= 0.2).length} of ${xs.length} within 20%`;
