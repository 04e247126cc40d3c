/** Percentile summaries for the benchmark (nearest-rank on a sorted copy). */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("no samples");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    n: sorted.length,
    median: round(rank(0.5)),
    p95: round(rank(0.95)),
    p99: round(rank(0.99)),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
  };
}

/** ours / reference for each statistic: below 1 means ours is faster. */
export function ratios(ours: Summary, reference: Summary): Record<"median" | "p95" | "p99", number> {
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  return { median: ratio(ours.median, reference.median), p95: ratio(ours.p95, reference.p95), p99: ratio(ours.p99, reference.p99) };
}
