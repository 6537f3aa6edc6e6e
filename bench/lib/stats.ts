/** Latency summary in milliseconds; `count` 0 gives zeros rather than NaN. */
export type LatencySummary = { count: number; p50: number; p95: number; p99: number; max: number; mean: number };

/** Nearest-rank percentile of an ascending array: the smallest value with at least q of the data at or below it. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted.length ? (sorted[sorted.length - 1] ?? 0) : 0),
    mean: round(sorted.length ? total / sorted.length : 0),
  };
}

/** Events per second over a span in milliseconds; a zero span gives 0 rather than Infinity. */
export function ratePerSecond(events: number, spanMs: number): number {
  return spanMs > 0 ? Math.round((events * 1_000) / spanMs) : 0;
}

/** `part / whole` as a fraction with three decimals; 0 when there is no whole. */
export function fraction(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1_000) / 1_000 : 0;
}

export function round(value: number, decimals = 1): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
