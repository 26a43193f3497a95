/**
 * Requests in columns, and the loop that replays them under one policy.
 *
 * The engine turns each request into page frames once and appends it to a
 * {@linkcode RequestBatch}: typed columns plus indexes into the engine's tables of sources and
 * binding views. Policy runs then replay a whole batch at a time, one run after the other
 * (policy-major), either on the engine's thread or in a replay worker (`replay_worker.ts`), which
 * receives the same columns. {@linkcode evaluateRequest} is the one place where a request meets a
 * policy, for both paths and for the runs replayed as each request arrives.
 *
 * @module
 */
import { bigintToNumber } from "./pfn_math.ts";
import type { RequestInfo } from "./policy.ts";
import type { PolicyRun } from "./policy_run.ts";
import type { BindingView } from "./state.ts";

/** Flag bits of {@linkcode RequestBatch.flags}. */
export const FLAG_FULL: number = 1, FLAG_DMA: number = 2, FLAG_SKIP: number = 4;

/** Requests per batch. */
export const BATCH_SIZE: number = 8192;

/** Bytes per request in a batch's buffer. */
const ROW_BYTES = 3 * 8 + 8 + 3 * 4 + 1;

/**
 * A batch as it travels to a worker: one buffer (transferred, not cloned) holding every column.
 * Times outside the signed 64-bit range (none in real traces) travel in `wideTs`.
 */
export interface BatchWire {
  /** The columns' buffer. */
  buffer: ArrayBuffer;
  /** Requests it holds. */
  capacity: number;
  /** Requests filled. */
  n: number;
  /** Ordinal (position in the replay) of the first request. */
  first: number;
  /** Times that did not fit the `ts` column, by row. */
  wideTs: [number, bigint][];
}

/**
 * A batch of requests in columns over one buffer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FLAG_FULL, RequestBatch } from "./request_batch.ts";
 * const b = new RequestBatch(4, 10);
 * b.push(7, 100n, 0, 16, 20, FLAG_FULL, 0, 0);
 * const c = RequestBatch.fromWire(b.toWire(true));
 * assert(c.n === 1 && c.first === 10 && c.endPfn[0] === 20 && c.tsAt(0) === 100n);
 * ```
 */
export class RequestBatch {
  /** Requests filled. */
  n = 0;
  /** Ordinal (position in the replay) of the first request. */
  first: number;
  /** Requests it holds. */
  readonly capacity: number;
  /** `request_id`. */
  readonly id: Float64Array;
  /** First page frame. */
  readonly startPfn: Float64Array;
  /** One past the last page frame. */
  readonly endPfn: Float64Array;
  /** Time (ns), when it fits 64 signed bits (else in `wideTs`). */
  readonly ts: BigInt64Array;
  /** CPU, or -1. */
  readonly cpu: Int32Array;
  /** Index into the source table. */
  readonly source: Int32Array;
  /** Index into the view table. */
  readonly view: Int32Array;
  /** {@linkcode FLAG_FULL} | {@linkcode FLAG_DMA} | {@linkcode FLAG_SKIP}. */
  readonly flags: Uint8Array;
  readonly #buffer: ArrayBuffer;
  readonly #wideTs: Map<number, bigint>;

  /**
   * Creates an empty batch, or one over a received buffer.
   *
   * @param capacity requests it can hold
   * @param first ordinal of its first request
   * @param buffer a buffer of `capacity` rows (default: a new one)
   * @param wideTs times that did not fit the `ts` column
   */
  constructor(
    capacity: number,
    first: number,
    buffer: ArrayBuffer = new ArrayBuffer(capacity * ROW_BYTES),
    wideTs: Map<number, bigint> = new Map(),
  ) {
    if (buffer.byteLength < capacity * ROW_BYTES) throw new RangeError("batch buffer too small");
    this.capacity = capacity;
    this.first = first;
    this.#buffer = buffer;
    this.#wideTs = wideTs;
    const c = capacity;
    this.id = new Float64Array(buffer, 0, c);
    this.startPfn = new Float64Array(buffer, 8 * c, c);
    this.endPfn = new Float64Array(buffer, 16 * c, c);
    this.ts = new BigInt64Array(buffer, 24 * c, c);
    this.cpu = new Int32Array(buffer, 32 * c, c);
    this.source = new Int32Array(buffer, 36 * c, c);
    this.view = new Int32Array(buffer, 40 * c, c);
    this.flags = new Uint8Array(buffer, 44 * c, c);
  }

  /**
   * Rebuilds a batch received from another thread.
   *
   * @param w what {@linkcode RequestBatch.toWire} made
   * @returns the batch
   */
  static fromWire(w: BatchWire): RequestBatch {
    const b = new RequestBatch(w.capacity, w.first, w.buffer, new Map(w.wideTs));
    b.n = w.n;
    return b;
  }

  /**
   * The batch for posting to another thread.
   *
   * @param transfer hand over this batch's own buffer (it must not be used after), else a copy
   * @returns the wire form
   */
  toWire(transfer: boolean): BatchWire {
    return {
      buffer: transfer ? this.#buffer : this.#buffer.slice(0),
      capacity: this.capacity,
      n: this.n,
      first: this.first,
      wideTs: [...this.#wideTs],
    };
  }

  /**
   * Empties the batch for reuse.
   *
   * @param first ordinal of its next first request
   * @returns the batch
   */
  reset(first: number): RequestBatch {
    this.n = 0;
    this.first = first;
    this.#wideTs.clear();
    return this;
  }

  /** True when no more requests fit. */
  get full(): boolean {
    return this.n === this.capacity;
  }

  /**
   * Time of row `i`.
   *
   * @param i the row
   * @returns its time (ns)
   */
  tsAt(i: number): bigint {
    return this.#wideTs.size > 0 && this.#wideTs.has(i) ? this.#wideTs.get(i)! : this.ts[i]!;
  }

  /**
   * Appends one request.
   *
   * @param id request_id
   * @param ts time (ns)
   * @param cpu CPU or -1
   * @param startPfn first page frame
   * @param endPfn one past the last page frame
   * @param flags flag bits
   * @param source source table index
   * @param view view table index
   */
  push(
    id: number,
    ts: bigint,
    cpu: number,
    startPfn: number,
    endPfn: number,
    flags: number,
    source: number,
    view: number,
  ): void {
    const i = this.n++;
    this.id[i] = id;
    if (BigInt.asIntN(64, ts) === ts) this.ts[i] = ts;
    else this.#wideTs.set(i, ts);
    this.cpu[i] = cpu;
    this.startPfn[i] = startPfn;
    this.endPfn[i] = endPfn;
    this.flags[i] = flags;
    this.source[i] = source;
    this.view[i] = view;
  }
}

/**
 * The {@linkcode RequestInfo} policies see, loaded from a batch row. `tsNs` is computed on first
 * read: converting a bigint costs about as much as evaluating a cheap policy, and only
 * timer-driven policies need it.
 */
export class LiveRequest implements RequestInfo {
  id = 0;
  cpu = -1;
  startPfn = 0;
  endPfn = 0;
  pages = 0;
  full = false;
  dma = false;
  source = "";
  #ts = 0n;
  #tsNs = 0;
  /** 0: `#ts` and `#tsNs` valid; 1: `#tsNs` stale; 2: both still in the batch row. */
  #stale = 0;
  #batch: RequestBatch | null = null;
  #row = 0;

  /** Time (ns). */
  get ts(): bigint {
    if (this.#stale === 2) {
      this.#ts = this.#batch!.tsAt(this.#row);
      this.#stale = 1;
    }
    return this.#ts;
  }

  set ts(ts: bigint) {
    this.#ts = ts;
    this.#stale = 1;
  }

  /** Time (ns) as a number. */
  get tsNs(): number {
    if (this.#stale !== 0) {
      this.#tsNs = bigintToNumber(this.ts);
      this.#stale = 0;
    }
    return this.#tsNs;
  }

  /**
   * Loads row `i` of a batch (its time is read from the batch only if asked for).
   *
   * @param b the batch
   * @param i the row
   * @param sources the source table
   */
  load(b: RequestBatch, i: number, sources: readonly string[]): void {
    this.id = b.id[i]!;
    this.#batch = b;
    this.#row = i;
    this.#stale = 2;
    this.cpu = b.cpu[i]!;
    const s = b.startPfn[i]!, e = b.endPfn[i]!, f = b.flags[i]!;
    this.startPfn = s;
    this.endPfn = e;
    this.pages = e - s;
    this.full = (f & FLAG_FULL) !== 0;
    this.dma = (f & FLAG_DMA) !== 0;
    this.source = sources[b.source[i]!]!;
  }
}

/**
 * Replays the loaded request under one policy, or counts it skipped or out of the policy's scope.
 *
 * @param run the policy's run
 * @param q the request
 * @param view what it reaches
 * @param skip nothing bound or an empty range
 */
export function evaluateRequest(
  run: PolicyRun,
  q: LiveRequest,
  view: BindingView,
  skip: boolean,
): void {
  const p = run.policy;
  if (p.advance !== undefined) p.advance(q.tsNs, run);
  if (p.scope === (q.dma ? "sva" : "dma")) run.requestsOutOfScope++;
  else if (skip) run.skip();
  else run.replay(q, view);
}

/** A run replayed batch by batch, and its place in the sequential order of anomalies. */
export interface BatchRun {
  /** The run. */
  run: PolicyRun;
  /** Its slot: anomalies of request `k` get seq `k * stride + slot`. */
  slot: number;
}

/**
 * Replays a batch under several runs, one run at a time.
 *
 * @param b the batch
 * @param runs the runs
 * @param views the view table
 * @param sources the source table
 * @param stride seq stride (see {@linkcode BatchRun.slot})
 * @param q a scratch request
 */
export function evaluateBatch(
  b: RequestBatch,
  runs: readonly BatchRun[],
  views: readonly BindingView[],
  sources: readonly string[],
  stride: number,
  q: LiveRequest,
): void {
  for (const { run, slot } of runs) {
    const anomalies = run.anomalies, p = run.policy;
    // requests outside the policy's scope are only counted, unless it keeps timers
    const scope = p.advance !== undefined ? -1 : p.scope === "sva" ? 1 : p.scope === "dma" ? 0 : -1;
    const flags = b.flags, vs = b.view;
    for (let i = 0; i < b.n; i++) {
      const f = flags[i]!;
      if (scope >= 0 && ((f & FLAG_DMA) !== 0 ? 1 : 0) === scope) {
        run.requestsOutOfScope++;
        continue;
      }
      q.load(b, i, sources);
      anomalies.seq = (b.first + i) * stride + slot;
      evaluateRequest(run, q, views[vs[i]!]!, (f & FLAG_SKIP) !== 0);
    }
  }
}
