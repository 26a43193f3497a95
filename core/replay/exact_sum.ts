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
   * What was added since a point given by the words {@linkcode ExactSum.hiWord} and
   * {@linkcode ExactSum.loWord} had then, when it is below 2^53 (else -1).
   *
   * @param hi `hiWord` then
   * @param lo `loWord` then
   * @returns the difference, or -1
   */
  since(hi: number, lo: number): number {
    const d = (this.#hi - hi) * BASE + (this.#lo - lo);
    return d < 2 ** 53 ? d : -1;
  }

  /** High word (units of 2^52). */
  get hiWord(): number {
    return this.#hi;
  }

  /** Low word. */
  get loWord(): number {
    return this.#lo;
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
