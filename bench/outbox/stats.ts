// Small statistics shared by the children (latency percentiles) and the report.

/** The q-quantile (0..1) of ascending `sorted`, nearest-rank; NaN when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** min / median / max of the values (NaNs ignored); all NaN when none is left. */
export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v.at(-1)! };
}

/** The ratios a[i] / b[i] for every index where both exist (same-rep ratios). */
export function pairedRatios(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): number[] {
  const out: number[] = [];
  for (const [rep, x] of a) {
    const y = b.get(rep);
    if (y !== undefined && y > 0) out.push(x / y);
  }
  return out;
}
