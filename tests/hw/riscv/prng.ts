/**
 * The tests' seeded random stream: xorshift32, reproducible for a given seed.
 *
 * @module
 */

/** A seeded, reproducible stream of uint32 values (xorshift32; seed 0 counts as 1). */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
