/** Small numeric helpers shared by the reset policy, the measurements and the tests. */

/** The middle value (upper median for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * xorshift32: a tiny seeded generator of 32-bit unsigned integers, so random
 * page sets and write patterns are the same on every run and a failure
 * reproduces from its seed.
 */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
