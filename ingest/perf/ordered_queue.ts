/**
 * Time ordering of perf records with FINISHED_ROUND barriers, as perf's ordered-events queue does
 * it: records are queued by timestamp; at each FINISHED_ROUND the records up to the largest
 * timestamp seen at the previous FINISHED_ROUND are delivered, in time order (ties in arrival
 * order). Memory is bounded by about two rounds (and by a hard cap, past which the older half
 * is delivered early).
 *
 * Timestamps are u64 held as two u32 halves so no bigint is made per record.
 *
 * @module
 */

/** Default cap on queued records. */
export const DEFAULT_MAX_QUEUED = 1 << 21;

/**
 * A time-ordering queue.
 *
 * @example
 * ```ts
 * import { OrderedQueue } from "./ordered_queue.ts";
 * const q = new OrderedQueue<string>();
 * const out: string[] = [];
 * q.push(0, 5, "b");
 * q.push(0, 3, "a");
 * q.round((x) => out.push(x)); // nothing is older than the previous round's maximum (0) yet
 * q.push(0, 9, "d");
 * q.push(0, 4, "c");
 * q.round((x) => out.push(x)); // delivers up to 5, the maximum at the previous round
 * q.flush((x) => out.push(x));
 * console.assert(out.join("") === "abcd");
 * ```
 */
export class OrderedQueue<T> {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private items: T[] = [];
  private n = 0;
  private maxHi = 0;
  private maxLo = 0;
  private limHi = 0;
  private limLo = 0;
  private lastHi = 0;
  private lastLo = 0;
  private emitted = false;
  /** Records that arrived with a time older than one already delivered. */
  unordered = 0;
  /** Times the cap forced an early delivery. */
  forcedFlushes = 0;

  /** @param maxQueued cap on queued records */
  constructor(readonly maxQueued: number = DEFAULT_MAX_QUEUED) {}

  /** Records queued. */
  get size(): number {
    return this.n;
  }

  /**
   * Queues a record.
   *
   * @param hi high 32 bits of the time
   * @param lo low 32 bits of the time
   * @param item the record
   * @param emit receives records if the cap forces an early delivery
   */
  push(hi: number, lo: number, item: T, emit?: (item: T) => void): void {
    if (this.n === this.hi.length) {
      const h = new Uint32Array(this.n * 2);
      h.set(this.hi);
      this.hi = h;
      const l = new Uint32Array(this.n * 2);
      l.set(this.lo);
      this.lo = l;
    }
    this.hi[this.n] = hi;
    this.lo[this.n] = lo;
    this.items[this.n] = item;
    this.n++;
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) {
      this.maxHi = hi;
      this.maxLo = lo;
    }
    if (this.emitted && (hi < this.lastHi || (hi === this.lastHi && lo < this.lastLo))) {
      this.unordered++;
    }
    if (this.n >= this.maxQueued && emit) {
      this.forcedFlushes++;
      this.deliver(emit, Math.floor(this.n / 2), -1, 0);
    }
  }

  /**
   * A FINISHED_ROUND: delivers the records up to the previous round's largest time.
   *
   * @param emit receives records in time order
   */
  round(emit: (item: T) => void): void {
    this.deliver(emit, -1, this.limHi, this.limLo);
    this.limHi = this.maxHi;
    this.limLo = this.maxLo;
  }

  /**
   * Delivers everything queued (end of input).
   *
   * @param emit receives records in time order
   */
  flush(emit: (item: T) => void): void {
    this.deliver(emit, this.n, -1, 0);
  }

  /**
   * Sorts and delivers either the first `count` records (count >= 0) or those with a time up to
   * (limHi, limLo).
   */
  private deliver(emit: (item: T) => void, count: number, limHi: number, limLo: number): void {
    const n = this.n;
    if (n === 0) return;
    const order = this.sortedOrder();
    const hi = this.hi, lo = this.lo, items = this.items;
    let k = 0;
    if (count >= 0) k = count;
    else {
      while (k < n) {
        const i = order[k]!;
        const h = hi[i]!;
        if (h > limHi || (h === limHi && lo[i]! > limLo)) break;
        k++;
      }
    }
    for (let j = 0; j < k; j++) {
      const i = order[j]!;
      this.lastHi = hi[i]!;
      this.lastLo = lo[i]!;
      this.emitted = true;
      emit(items[i]!);
    }
    // Keep the rest, in sorted order, at the front.
    const rest = n - k;
    const nh = new Uint32Array(Math.max(1024, rest * 2));
    const nl = new Uint32Array(nh.length);
    const ni: T[] = new Array(rest);
    for (let j = 0; j < rest; j++) {
      const i = order[k + j]!;
      nh[j] = hi[i]!;
      nl[j] = lo[i]!;
      ni[j] = items[i]!;
    }
    this.hi = nh;
    this.lo = nl;
    this.items = ni;
    this.n = rest;
  }

  /** A stable time order of the queued records: merges the already sorted runs. */
  private sortedOrder(): Uint32Array {
    const n = this.n, hi = this.hi, lo = this.lo;
    const starts: number[] = [0];
    for (let i = 1; i < n; i++) {
      if (hi[i]! < hi[i - 1]! || (hi[i] === hi[i - 1] && lo[i]! < lo[i - 1]!)) starts.push(i);
    }
    const order = new Uint32Array(n);
    if (starts.length === 1) {
      for (let i = 0; i < n; i++) order[i] = i;
      return order;
    }
    if (starts.length > 32) {
      const idx = Array.from({ length: n }, (_, i) => i);
      idx.sort((a, b) => (hi[a]! - hi[b]!) || (lo[a]! - lo[b]!) || (a - b));
      order.set(idx);
      return order;
    }
    const k = starts.length;
    const pos = starts.slice();
    const end = starts.slice(1);
    end.push(n);
    for (let o = 0; o < n; o++) {
      let best = -1;
      let bh = 0, bl = 0;
      for (let r = 0; r < k; r++) {
        const p = pos[r]!;
        if (p >= end[r]!) continue;
        const h = hi[p]!, l = lo[p]!;
        if (best < 0 || h < bh || (h === bh && l < bl)) {
          best = r;
          bh = h;
          bl = l;
        }
      }
      order[o] = pos[best]!;
      pos[best] = pos[best]! + 1;
    }
    return order;
  }
}
