/**
 * A streaming distribution of per-request modeled times (p50 / p90 / p99 / max) in bounded memory.
 *
 * Modeled times are sums of a few constants, so they take few distinct values: they are counted
 * exactly (value -> count) until `maxDistinct` distinct values are seen; beyond that the counts
 * move to logarithmic buckets of relative width 2^(1/128) (about 0.55%), and quantiles are bucket
 * midpoints. `max`, `min`, `count` and `mean` stay exact either way.
 *
 * Quantiles use the nearest-rank rule: the smallest value whose cumulative count reaches
 * ceil(q * count).
 *
 * @module
 */

/** Summary statistics of a {@linkcode Distribution}. */
export interface DistributionSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const PER_OCTAVE = 128;

/**
 * Counts values and answers quantiles.
 *
 * @example
 * ```ts
 * import { Distribution } from "./distribution.ts";
 * const d = new Distribution();
 * for (const v of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) d.add(v);
 * console.assert(d.quantile(0.5) === 5 && d.quantile(0.9) === 9 && d.quantile(0.99) === 10);
 * ```
 */
export class Distribution {
  #exact: Map<number, number> | null = new Map();
  #buckets: Map<number, number> | null = null;
  #maxDistinct: number;
  /** Values added. */
  count = 0;
  /** Sum of values. */
  sum = 0;
  /** Largest value (0 when empty). */
  max = 0;
  /** Smallest value (0 when empty). */
  min = 0;

  /** @param maxDistinct distinct values kept exactly before switching to buckets */
  constructor(maxDistinct = 4096) {
    this.#maxDistinct = maxDistinct;
  }

  /** True once values are held in approximate buckets. */
  get approximate(): boolean {
    return this.#buckets !== null;
  }

  /**
   * Adds one value.
   *
   * @param v a finite value >= 0
   */
  add(v: number): void {
    if (this.count === 0 || v > this.max) this.max = v;
    if (this.count === 0 || v < this.min) this.min = v;
    this.count++;
    this.sum += v;
    const ex = this.#exact;
    if (ex !== null) {
      ex.set(v, (ex.get(v) ?? 0) + 1);
      if (ex.size > this.#maxDistinct) {
        this.#buckets = new Map();
        for (const [val, c] of ex) this.#bucketAdd(val, c);
        this.#exact = null;
      }
      return;
    }
    this.#bucketAdd(v, 1);
  }

  #bucketAdd(v: number, c: number): void {
    const b = v <= 0 ? -Infinity : Math.floor(Math.log2(v) * PER_OCTAVE);
    const m = this.#buckets!;
    m.set(b, (m.get(b) ?? 0) + c);
  }

  /**
   * The nearest-rank quantile.
   *
   * @param q in [0, 1]
   * @returns the value (0 when empty)
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    const src = this.#exact ?? this.#buckets!;
    const keys = [...src.keys()].sort((a, b) => a - b);
    let cum = 0;
    for (const k of keys) {
      cum += src.get(k)!;
      if (cum >= rank) {
        if (this.#exact !== null) return k;
        if (k === -Infinity) return 0;
        const mid = 2 ** ((k + 0.5) / PER_OCTAVE);
        return Math.min(Math.max(mid, this.min), this.max);
      }
    }
    return this.max;
  }

  /**
   * Count, mean, p50, p90, p99 and max.
   *
   * @returns the summary
   */
  summary(): DistributionSummary {
    return {
      count: this.count,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.max,
    };
  }
}
