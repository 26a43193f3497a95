/**
 * Time ordering of perf records with FINISHED_ROUND barriers, as perf's ordered-events queue does
 * it: records are queued by timestamp; at each FINISHED_ROUND the records up to the largest
 * timestamp seen at the previous FINISHED_ROUND are delivered, in time order (ties in arrival
 * order). Memory is bounded by about two rounds (and by a hard cap, past which the older half
 * is delivered early).
 *
 * A queued record is a reference to the buffer it lies in (shared by many records) and three
 * numbers (e.g. offset, type/size, attr index), held in typed arrays: no object per record.
 * Timestamps are u64 held as two u32 halves, so no bigint is made either.
 *
 * @module
 */

/** Default cap on queued records. */
export const DEFAULT_MAX_QUEUED = 1 << 21;

/** Receives a record: its time halves, its buffer and its three numbers. */
export type Emit<T> = (hi: number, lo: number, ref: T, a: number, b: number, c: number) => void;

/**
 * Receives delivered records in bulk (no call per record): records `order[j]` (or `j` when `order`
 * is null), for `j < k`, of the arrays, in time order. The arrays are only read.
 */
export type BatchEmit<T> = (
  hi: Uint32Array,
  lo: Uint32Array,
  refs: readonly T[],
  a: Int32Array,
  b: Int32Array,
  c: Int32Array,
  order: Uint32Array | null,
  k: number,
) => void;

/** A {@linkcode BatchEmit} calling `emit` once per record. */
function each<T>(emit: Emit<T>): BatchEmit<T> {
  return (hi, lo, refs, a, b, c, order, k) => {
    for (let j = 0; j < k; j++) {
      const i = order === null ? j : order[j]!;
      emit(hi[i]!, lo[i]!, refs[i]!, a[i]!, b[i]!, c[i]!);
    }
  };
}

/**
 * A time-ordering queue.
 *
 * @example
 * ```ts
 * import { OrderedQueue } from "./ordered_queue.ts";
 * const q = new OrderedQueue<string>();
 * const out: string[] = [];
 * const emit = (_h: number, lo: number, ref: string) => out.push(`${ref}${lo}`);
 * q.push(0, 5, "b", 0, 0, 0);
 * q.push(0, 3, "a", 0, 0, 0);
 * q.round(emit); // nothing is older than the previous round's maximum (0) yet
 * q.push(0, 9, "d", 0, 0, 0);
 * q.push(0, 4, "c", 0, 0, 0);
 * q.round(emit); // delivers up to 5, the maximum at the previous round
 * q.flush(emit);
 * console.assert(out.join(" ") === "a3 c4 b5 d9");
 * ```
 */
export class OrderedQueue<T> {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private c = new Int32Array(1024);
  private refs: T[] = [];
  private spareHi = new Uint32Array(0);
  private spareLo = new Uint32Array(0);
  private spareA = new Int32Array(0);
  private spareB = new Int32Array(0);
  private spareC = new Int32Array(0);
  private order = new Uint32Array(0);
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

  /**
   * Creates an empty queue.
   *
   * @param maxQueued cap on queued records
   */
  constructor(readonly maxQueued: number = DEFAULT_MAX_QUEUED) {}

  /** Records queued. */
  get size(): number {
    return this.n;
  }

  /**
   * Whether a queued record lies in `ref` (a reader reuses a buffer only when none does).
   *
   * @param ref the buffer (or object) given to `push`
   * @returns true if some queued record holds it
   */
  holds(ref: T): boolean {
    const refs = this.refs;
    for (let i = 0; i < this.n; i++) if (refs[i] === ref) return true;
    return false;
  }

  /** Doubles the arrays. */
  private grow(): void {
    const len = this.hi.length * 2;
    const g = <A extends Uint32Array | Int32Array>(x: A, y: A): A => {
      y.set(x);
      return y;
    };
    this.hi = g(this.hi, new Uint32Array(len));
    this.lo = g(this.lo, new Uint32Array(len));
    this.a = g(this.a, new Int32Array(len));
    this.b = g(this.b, new Int32Array(len));
    this.c = g(this.c, new Int32Array(len));
  }

  /**
   * Queues a record.
   *
   * @param hi high 32 bits of the time
   * @param lo low 32 bits of the time
   * @param ref the buffer (or any object) the record lies in
   * @param a first number (int32)
   * @param b second number (int32)
   * @param c third number (int32)
   * @param emit receives records if the cap forces an early delivery
   */
  push(hi: number, lo: number, ref: T, a: number, b: number, c: number, emit?: Emit<T>): void {
    const n = this.n;
    if (n === this.hi.length) this.grow();
    this.hi[n] = hi;
    this.lo[n] = lo;
    this.a[n] = a;
    this.b[n] = b;
    this.c[n] = c;
    this.refs[n] = ref;
    this.n = n + 1;
    if (hi > this.maxHi || (hi === this.maxHi && lo > this.maxLo)) {
      this.maxHi = hi;
      this.maxLo = lo;
    }
    if (this.emitted && (hi < this.lastHi || (hi === this.lastHi && lo < this.lastLo))) {
      this.unordered++;
    }
    if (this.n >= this.maxQueued && emit) this.spill(each(emit));
  }

  /**
   * At the cap (see `maxQueued`): delivers the older half early. A caller that pushes without an
   * `emit` calls this when `size` reaches `maxQueued`.
   *
   * @param emit receives records in time order
   */
  spill(emit: BatchEmit<T>): void {
    this.forcedFlushes++;
    this.deliver(emit, Math.floor(this.n / 2), -1, 0);
  }

  /**
   * A FINISHED_ROUND: delivers the records up to the previous round's largest time.
   *
   * @param emit receives records in time order
   */
  round(emit: Emit<T>): void {
    this.roundBatch(each(emit));
  }

  /**
   * {@linkcode round} handing the records over in bulk.
   *
   * @param emit receives records in time order
   */
  roundBatch(emit: BatchEmit<T>): void {
    this.deliver(emit, -1, this.limHi, this.limLo);
    this.limHi = this.maxHi;
    this.limLo = this.maxLo;
  }

  /**
   * Delivers everything queued (end of input).
   *
   * @param emit receives records in time order
   */
  flush(emit: Emit<T>): void {
    this.flushBatch(each(emit));
  }

  /**
   * {@linkcode flush} handing the records over in bulk.
   *
   * @param emit receives records in time order
   */
  flushBatch(emit: BatchEmit<T>): void {
    this.deliver(emit, this.n, -1, 0);
  }

  /**
   * Sorts and delivers either the first `count` records (count >= 0) or those with a time up to
   * (limHi, limLo).
   */
  private deliver(emit: BatchEmit<T>, count: number, limHi: number, limLo: number): void {
    const n = this.n;
    if (n === 0) return;
    const order = this.sortedOrder();
    const hi = this.hi, lo = this.lo, a = this.a, b = this.b, c = this.c, refs = this.refs;
    const k = count >= 0 ? count : upTo(hi, lo, order, n, limHi, limLo);
    if (k === 0) return;
    // Keep the records not delivered, in sorted order, at the front of the spare arrays.
    const rest = n - k;
    if (this.spareHi.length < this.hi.length) this.allocSpare();
    const nh = this.spareHi, nl = this.spareLo, na = this.spareA, nb = this.spareB;
    const nc = this.spareC;
    const nr: T[] = new Array(rest);
    for (let j = 0; j < rest; j++) nr[j] = refs[order === null ? k + j : order[k + j]!]!;
    keep(order, k, rest, hi, nh);
    keep(order, k, rest, lo, nl);
    keep(order, k, rest, a, na);
    keep(order, k, rest, b, nb);
    keep(order, k, rest, c, nc);
    this.spareHi = hi;
    this.spareLo = lo;
    this.spareA = a;
    this.spareB = b;
    this.spareC = c;
    this.hi = nh;
    this.lo = nl;
    this.a = na;
    this.b = nb;
    this.c = nc;
    this.refs = nr;
    this.n = rest;
    const last = order === null ? k - 1 : order[k - 1]!;
    this.lastHi = hi[last]!;
    this.lastLo = lo[last]!;
    this.emitted = true;
    // The old arrays are only read from here on (a push during emit goes to the new ones).
    emit(hi, lo, refs, a, b, c, order, k);
  }

  /** Spare arrays as long as the current ones. */
  private allocSpare(): void {
    const len = this.hi.length;
    this.spareHi = new Uint32Array(len);
    this.spareLo = new Uint32Array(len);
    this.spareA = new Int32Array(len);
    this.spareB = new Int32Array(len);
    this.spareC = new Int32Array(len);
  }

  /** A stable time order of the queued records (null: already in order). */
  private sortedOrder(): Uint32Array | null {
    const n = this.n, hi = this.hi, lo = this.lo;
    const starts: number[] = [0];
    for (let i = 1; i < n; i++) {
      if (hi[i]! < hi[i - 1]! || (hi[i] === hi[i - 1] && lo[i]! < lo[i - 1]!)) starts.push(i);
    }
    if (starts.length === 1) return null;
    if (this.order.length < n) this.order = new Uint32Array(this.hi.length);
    const order = this.order;
    if (starts.length === 2) return mergeTwo(hi, lo, starts[1]!, n, order);
    if (starts.length > 32) return sortAll(hi, lo, n, order);
    return mergeRuns(hi, lo, starts, n, order);
  }
}

/** How many records, in time order, have a time up to (limHi, limLo). */
function upTo(
  hi: Uint32Array,
  lo: Uint32Array,
  order: Uint32Array | null,
  n: number,
  limHi: number,
  limLo: number,
): number {
  let k = 0;
  if (order === null) {
    while (k < n && (hi[k]! < limHi || (hi[k] === limHi && lo[k]! <= limLo))) k++;
    return k;
  }
  while (k < n) {
    const i = order[k]!;
    const h = hi[i]!;
    if (h > limHi || (h === limHi && lo[i]! > limLo)) break;
    k++;
  }
  return k;
}

/** Copies the `rest` records after the first `k` (in time order) of `from` to the front of `to`. */
function keep<A extends Uint32Array | Int32Array>(
  order: Uint32Array | null,
  k: number,
  rest: number,
  from: A,
  to: A,
): void {
  if (order === null) to.set(from.subarray(k, k + rest));
  else for (let j = 0; j < rest; j++) to[j] = from[order[k + j]!]!;
}

// The orderings of `sortedOrder`, each its own function: the runs seen vary from round to round,
// and a branch first taken late would make V8 optimize all of `sortedOrder` again.

/** Merges the runs `[0, q)` and `[q, n)` into `order`; ties go to the earlier run. */
function mergeTwo(
  hi: Uint32Array,
  lo: Uint32Array,
  q: number,
  n: number,
  order: Uint32Array,
): Uint32Array {
  let p = 0, o = 0;
  const pe = q;
  while (p < pe && q < n) {
    if (hi[q]! < hi[p]! || (hi[q] === hi[p] && lo[q]! < lo[p]!)) order[o++] = q++;
    else order[o++] = p++;
  }
  while (p < pe) order[o++] = p++;
  while (q < n) order[o++] = q++;
  return order;
}

/** Sorts `[0, n)` into `order` (stable). */
function sortAll(hi: Uint32Array, lo: Uint32Array, n: number, order: Uint32Array): Uint32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((x, y) => (hi[x]! - hi[y]!) || (lo[x]! - lo[y]!) || (x - y));
  order.set(idx);
  return order;
}

/** Merges the sorted runs starting at `starts` (one per CPU buffer, usually); ties go to the
 * earlier run. */
function mergeRuns(
  hi: Uint32Array,
  lo: Uint32Array,
  starts: number[],
  n: number,
  order: Uint32Array,
): Uint32Array {
  const k = starts.length;
  const pos = Int32Array.from(starts);
  const end = Int32Array.from([...starts.slice(1), n]);
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
