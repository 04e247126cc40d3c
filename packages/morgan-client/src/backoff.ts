/** Reconnection delays: exponential from `initialMs` to `maxMs`, each drawn between half and all of it (jitter). */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** In [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export function backoffDelay(attempt: number, { initialMs, maxMs, random = Math.random }: BackoffOptions): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** attempt);
  return Math.round(ceiling * (0.5 + random() / 2));
}
