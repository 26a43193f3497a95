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
  /** Values. */
  count: number;
  /** Arithmetic mean. */
  mean: number;
  /** Median (nearest rank). */
  p50: number;
  /** 90th percentile (nearest rank). */
  p90: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Largest value. */
  max: number;
}

const PER_OCTAVE = 128;

/**
 * Counts values and answers quantiles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Distribution } from "./distribution.ts";
 * const d = new Distribution();
 * for (const v of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) d.add(v);
 * assert(d.quantile(0.5) === 5 && d.quantile(0.9) === 9 && d.quantile(0.99) === 10);
 * ```
 */
export class Distribution {
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

  /**
   * Creates an empty distribution.
   *
   * @param maxDistinct distinct values kept exactly before switching to buckets
   */
  constructor(maxDistinct = 4096) {
    this.#maxDistinct = maxDistinct;
  }

  /** True once values are held in approximate buckets. */
  get approximate(): boolean {
    this.#flushLast();
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
    if (v === this.#lastValue) {
      // the common case: the same modeled time as the previous request
      this.#lastCount++;
      return;
    }
    this.#flushLast();
    this.#lastValue = v;
    this.#lastCount = 1;
  }

  #lastValue = NaN;
  #lastCount = 0;
  /** Exact mode: value -> slot in #counts. */
  #slots: Map<number, number> | null = new Map();
  #values = new Float64Array(64);
  #counts = new Float64Array(64);

  #flushLast(): void {
    if (this.#lastCount === 0) return;
    const v = this.#lastValue, c = this.#lastCount;
    this.#lastCount = 0;
    this.#lastValue = NaN;
    const slots = this.#slots;
    if (slots === null) {
      this.#bucketAdd(v, c);
      return;
    }
    const i = slots.get(v);
    if (i !== undefined) {
      this.#counts[i]! += c;
      return;
    }
    const n = slots.size;
    if (n === this.#values.length) {
      const values = new Float64Array(n * 2), counts = new Float64Array(n * 2);
      values.set(this.#values);
      counts.set(this.#counts);
      this.#values = values;
      this.#counts = counts;
    }
    this.#values[n] = v;
    this.#counts[n] = c;
    slots.set(v, n);
    if (n + 1 > this.#maxDistinct) {
      this.#buckets = new Map();
      for (let k = 0; k <= n; k++) this.#bucketAdd(this.#values[k]!, this.#counts[k]!);
      this.#slots = null;
    }
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
    this.#flushLast();
    const rank = Math.max(1, Math.ceil(q * this.count));
    let keys: number[], count: (k: number) => number;
    const slots = this.#slots;
    if (slots !== null) {
      keys = [...slots.keys()].sort((a, b) => a - b);
      count = (k) => this.#counts[slots.get(k)!]!;
    } else {
      const b = this.#buckets!;
      keys = [...b.keys()].sort((a, b) => a - b);
      count = (k) => b.get(k)!;
    }
    let cum = 0;
    for (const k of keys) {
      cum += count(k);
      if (cum >= rank) {
        if (slots !== null) return k;
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
