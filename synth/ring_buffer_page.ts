/**
 * Packs event records into kernel ring-buffer pages: the per-CPU data of a trace.dat
 * flyrecord and the output of `per_cpu/cpuN/trace_pipe_raw`.
 *
 * Page: `u64 timestamp`, `long commit` (4 or 8 bytes), then the data. Each record starts
 * with a 32-bit word holding `type_len` (5 bits) and `time_delta` (27 bits): `type_len`
 * 1..28 means a payload of `type_len * 4` bytes; 0 means the length is in the next word
 * (`payload + 4`, used above 112 bytes); 30 is a TIME_EXTEND carrying the upper bits of a
 * delta that does not fit in 27 bits. Bits 31 and 30 of `commit` flag events lost before the
 * page and a lost count stored after the data. Rules from `kernel/trace/ring_buffer.c`
 * (`rb_calculate_event_length`, `rb_update_event`, `rb_add_time_stamp`) as read by
 * libtraceevent's `kbuffer`.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";

/** Options of {@linkcode RingBufferPageWriter}. */
export interface PageWriterOptions {
  /** Page (sub-buffer) size in bytes, default 4096. */
  pageSize?: number;
  /** Size of the page's `commit` word = the kernel's `sizeof(long)`, default 8. */
  longSize?: 4 | 8;
  /** Byte order, default little endian. */
  littleEndian?: boolean;
}

const TS_BITS = 27n;
const TS_MASK = (1n << TS_BITS) - 1n;
const TYPE_TIME_EXTEND = 30;
const MAX_SMALL_DATA = 112;
const MISSED_EVENTS = 0x80000000;
const MISSED_STORED = 0x40000000;

/** Ring-buffer bytes a record of `payloadLength` bytes takes (header included, no time extend). */
export function recordSpan(payloadLength: number): number {
  const aligned = Math.max(4, Math.ceil(payloadLength / 4) * 4);
  return aligned > MAX_SMALL_DATA ? 8 + aligned : 4 + aligned;
}

/**
 * Writes records of one CPU into pages and hands each finished page to a sink.
 *
 * Records must come in non-decreasing timestamp order.
 *
 * @example
 * ```ts
 * import { RingBufferPageWriter } from "./ring_buffer_page.ts";
 * const pages: Uint8Array[] = [];
 * const w = new RingBufferPageWriter((p) => pages.push(p.slice()));
 * w.add(1000n, new Uint8Array(24));
 * w.add(1500n, new Uint8Array(24));
 * w.finish();
 * const v = new DataView(pages[0]!.buffer);
 * console.assert(v.getBigUint64(0, true) === 1000n && v.getBigUint64(8, true) === 56n);
 * console.assert(v.getUint32(16 + 28, true) === ((500 << 5) | 6));
 * ```
 */
export class RingBufferPageWriter {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Offset of the data area (8 + long size). */
  readonly dataOffset: number;
  readonly #longSize: 4 | 8;
  readonly #le: boolean;
  readonly #sink: (page: Uint8Array) => void;
  readonly #page: Uint8Array;
  readonly #view: DataView;
  #used = 0;
  #lastTs = 0n;
  #open = false;
  #lost: number | null | undefined = undefined;
  #pages = 0;
  #records = 0;

  /**
   * Creates a writer for one CPU.
   *
   * @param sink receives every finished page (the buffer is reused: copy it to keep it)
   * @param options page size, long size, byte order
   */
  constructor(sink: (page: Uint8Array) => void, options: PageWriterOptions = {}) {
    this.pageSize = options.pageSize ?? 4096;
    this.#longSize = options.longSize ?? 8;
    this.#le = options.littleEndian ?? true;
    this.dataOffset = 8 + this.#longSize;
    if (this.pageSize < 64 || this.pageSize % 4 !== 0) {
      throw new UsageError(`page size ${this.pageSize} must be a multiple of 4 and at least 64`);
    }
    this.#sink = sink;
    this.#page = new Uint8Array(this.pageSize);
    this.#view = new DataView(this.#page.buffer);
  }

  /** Number of pages handed to the sink so far. */
  get pages(): number {
    return this.#pages;
  }

  /** Number of records written so far. */
  get records(): number {
    return this.#records;
  }

  #dataSize(): number {
    return this.pageSize - this.dataOffset;
  }

  #startPage(ts: bigint): void {
    this.#page.fill(0);
    this.#view.setBigUint64(0, ts, this.#le);
    this.#used = 0;
    this.#lastTs = ts;
    this.#open = true;
  }

  #header(at: number, typeLen: number, delta: number): void {
    const word = this.#le ? ((delta << 5) | typeLen) >>> 0 : ((typeLen << 27) | delta) >>> 0;
    this.#view.setUint32(at, word, this.#le);
  }

  #flushPage(): void {
    if (!this.#open) return;
    let commit = this.#used;
    if (this.#lost !== undefined) {
      commit |= MISSED_EVENTS;
      const room = this.#dataSize() - this.#used >= this.#longSize;
      if (this.#lost !== null && room) {
        commit |= MISSED_STORED;
        const at = this.dataOffset + this.#used;
        if (this.#longSize === 8) this.#view.setBigUint64(at, BigInt(this.#lost), this.#le);
        else this.#view.setUint32(at, this.#lost, this.#le);
      }
      this.#lost = undefined;
    }
    commit >>>= 0;
    if (this.#longSize === 8) this.#view.setBigUint64(8, BigInt(commit), this.#le);
    else this.#view.setUint32(8, commit, this.#le);
    this.#sink(this.#page);
    this.#pages++;
    this.#open = false;
  }

  /**
   * Marks events as lost before the next record: the next record starts a new page whose
   * `commit` carries the missed-events flag (and the count, when given and there is room).
   *
   * @param count number of lost events, or null when unknown
   */
  markLost(count: number | null): void {
    this.#flushPage();
    this.#lost = count;
  }

  /**
   * Appends one record.
   *
   * @param ts absolute timestamp in clock units
   * @param payload the record bytes (common fields first)
   * @throws {UsageError} when timestamps go backwards or the record cannot fit in a page
   */
  add(ts: bigint, payload: Uint8Array): void {
    const aligned = Math.max(4, Math.ceil(payload.length / 4) * 4);
    const big = aligned > MAX_SMALL_DATA;
    const span = big ? 8 + aligned : 4 + aligned;
    if (span > this.#dataSize()) {
      throw new UsageError(
        `a record of ${payload.length} bytes does not fit in a ${this.pageSize}-byte page`,
      );
    }
    if (this.#open && ts < this.#lastTs) {
      throw new UsageError(`timestamps go backwards on one CPU (${ts} after ${this.#lastTs})`);
    }
    let delta = this.#open ? ts - this.#lastTs : 0n;
    const extend = delta > TS_MASK ? 8 : 0;
    if (!this.#open || this.#used + extend + span > this.#dataSize()) {
      this.#flushPage();
      this.#startPage(ts);
      delta = 0n;
    }
    let at = this.dataOffset + this.#used;
    if (delta > TS_MASK) {
      const upper = delta >> TS_BITS;
      if (upper > 0xffffffffn) throw new UsageError(`time gap of ${delta} is too large`);
      this.#header(at, TYPE_TIME_EXTEND, Number(delta & TS_MASK));
      this.#view.setUint32(at + 4, Number(upper), this.#le);
      at += 8;
      this.#used += 8;
      delta = 0n;
    }
    if (big) {
      this.#header(at, 0, Number(delta));
      this.#view.setUint32(at + 4, aligned + 4, this.#le);
      this.#page.set(payload, at + 8);
    } else {
      this.#header(at, aligned / 4, Number(delta));
      this.#page.set(payload, at + 4);
    }
    this.#used += span;
    this.#lastTs = ts;
    this.#records++;
  }

  /** Emits the last, partly filled page (if any). */
  finish(): void {
    this.#flushPage();
  }
}
