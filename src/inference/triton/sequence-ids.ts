/**
 * Correlation ids for Triton's sequence batcher: unique across the sessions of this process and,
 * with a random base, practically unique across instances sharing one Triton.
 */
let next = BigInt(Math.floor(Math.random() * 2 ** 40)) << 16n;

export function newSequenceId(): bigint {
  next += 1n;
  return next;
}
