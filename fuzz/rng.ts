/**
 * A small seeded pseudo-random generator for the fuzzer (sfc32), so that every fuzz input can be
 * regenerated from `(seed, target, index)` alone.
 *
 * @module
 */

/**
 * Mixes numbers and strings into one 32-bit value (FNV-1a over their decimal text).
 *
 * @param parts numbers and strings
 * @returns a 32-bit hash
 * @example
 * ```ts
 * import { hash32 } from "./rng.ts";
 * console.assert(hash32(1, "ingest", 7) === hash32(1, "ingest", 7));
 * console.assert(hash32(1, "ingest", 7) !== hash32(1, "ingest", 8));
 * ```
 */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = `${p}\u0001`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/**
 * Seeded generator (sfc32). Deterministic across runs and platforms.
 *
 * @example
 * ```ts
 * import { Rng } from "./rng.ts";
 * const a = new Rng(42);
 * const b = new Rng(42);
 * console.assert(a.int(1000) === b.int(1000));
 * ```
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * Seeds the generator.
   *
   * @param seed any 32-bit number
   */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /**
   * Next raw output.
   *
   * @returns a uniform 32-bit unsigned integer
   */
  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /**
   * A uniform integer below `n`.
   *
   * @param n exclusive upper bound (> 0)
   * @returns an integer in `[0, n)`
   */
  int(n: number): number {
    if (n <= 1) return 0;
    if (n <= 0x100000000) return Math.floor((this.u32() / 0x100000000) * n);
    return Math.floor(((this.u32() * 0x100000000 + this.u32()) / 2 ** 64) * n);
  }

  /**
   * A uniform integer in a closed range.
   *
   * @param lo inclusive lower bound
   * @param hi inclusive upper bound
   * @returns an integer in `[lo, hi]`
   */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /**
   * A biased coin.
   *
   * @param p probability of true
   * @returns true with probability `p`
   */
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }

  /**
   * A uniformly chosen element.
   *
   * @param xs a non-empty list
   * @returns one element
   */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new RangeError("pick from an empty list");
    return xs[this.int(xs.length)]!;
  }

  /**
   * An integer in `[0, n)` biased towards small values (log-uniform), for offsets near the start
   * of a file, where headers live.
   *
   * @param n exclusive upper bound
   * @returns the offset
   */
  low(n: number): number {
    if (n <= 1) return 0;
    const bits = Math.log2(n);
    return Math.min(n - 1, Math.floor(2 ** (this.u32() / 0x100000000 * bits)) - 1);
  }

  /**
   * Random bytes.
   *
   * @param n number of bytes
   * @returns random bytes
   */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
