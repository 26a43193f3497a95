/**
 * xorshift32 (Marsaglia): a tiny deterministic generator for synthetic inputs in tests and
 * benchmarks.
 *
 * @module
 */

/**
 * A xorshift32 generator.
 *
 * @param seed non-zero 32-bit seed
 * @returns a function giving the next value, an integer in [1, 2^32)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xorshift32 } from "./xorshift.ts";
 * const a = xorshift32(7), b = xorshift32(7);
 * assert(a() === b() && a() === b());
 * ```
 */
export function xorshift32(seed: number): () => number {
  let x = seed | 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
