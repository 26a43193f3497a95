/**
 * An exact running sum of non-negative integers, kept in two float64 words so the hot path never
 * touches `bigint`.
 *
 * @module
 */

const BASE = 2 ** 52;

/**
 * Exact sum of integers in [0, 2^52] each; the total may exceed 2^53.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExactSum } from "./exact_sum.ts";
 * const s = new ExactSum();
 * s.add(2 ** 52); s.add(2 ** 52); s.add(3);
 * assert(s.value() === 2n ** 53n + 3n);
 * ```
 */
export class ExactSum {
  #hi = 0;
  #lo = 0;

  /**
   * Adds a value.
   *
   * @param x an integer in [0, 2^52]
   */
  add(x: number): void {
    let lo = this.#lo + x;
    if (lo >= BASE) {
      const c = Math.floor(lo / BASE);
      this.#hi += c;
      lo -= c * BASE;
    }
    this.#lo = lo;
  }

  /**
   * The sum.
   *
   * @returns the exact total
   */
  value(): bigint {
    return BigInt(this.#hi) * BigInt(BASE) + BigInt(this.#lo);
  }
}
