/**
 * Percentile summaries for every figure the harness reports. Reuses the nearest-rank summary of the
 * triton-client benchmark so both benchmarks compute p50/p95/p99 the same way.
 */
import { summarize } from "../triton-client/stats";

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** p50/p95/p99/mean/max in the samples' unit (ms here), or null when there are no samples. */
export function distribution(samples: readonly number[]): Distribution | null {
  if (samples.length === 0) return null;
  const summary = summarize(samples);
  let max = -Infinity;
  for (const value of samples) if (value > max) max = value;
  return { n: summary.n, p50: summary.median, p95: summary.p95, p99: summary.p99, mean: summary.mean, max: round(max, 2) };
}

/** b / a for each percentile: 1.00 means the gateway adds nothing. */
export function ratio(b: Distribution | null, a: Distribution | null): { p50: number; p95: number; p99: number } | null {
  if (!a || !b) return null;
  const of = (x: number, y: number) => (y === 0 ? Number.NaN : round(x / y, 3));
  return { p50: of(b.p50, a.p50), p95: of(b.p95, a.p95), p99: of(b.p99, a.p99) };
}

/** b − a for each percentile (what the gateway adds, in the samples' unit). */
export function difference(b: Distribution | null, a: Distribution | null): { p50: number; p95: number; p99: number } | null {
  if (!a || !b) return null;
  return { p50: round(b.p50 - a.p50, 3), p95: round(b.p95 - a.p95, 3), p99: round(b.p99 - a.p99, 3) };
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * A distribution's shape in `points` evenly spaced quantiles, with its sample count: enough for a
 * CDF plot, and a fixed size however many samples there were (keeps results JSON small).
 */
export function sketch(samples: readonly number[], points = 200): { n: number; quantiles: number[] } {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length <= points) return { n: sorted.length, quantiles: sorted.map((v) => round(v, 3)) };
  const quantiles = Array.from({ length: points }, (_, i) => round(sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) / points) * sorted.length))]!, 3));
  return { n: sorted.length, quantiles };
}
