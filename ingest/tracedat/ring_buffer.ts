/**
 * The kernel ring-buffer page (= trace.dat flyrecord CPU data = `trace_pipe_raw`): page header,
 * record headers with every type_len (0, 1-28, 29 padding, 30 time extend, 31 absolute), the
 * lost-event flags.
 *
 * A {@linkcode PageCursor} walks one page; it yields data records with timestamps relative to a
 * base (JS numbers, exact for traces shorter than 104 days), so the hot loop makes no BigInt.
 *
 * @module
 */
import type { HeaderPage } from "../format/types.ts";

/** `commit` bits (kernel/trace/ring_buffer.c). */
export const RB_MISSED_EVENTS = 0x80000000;
/** Lost-event count stored after the data. */
export const RB_MISSED_STORED = 0x40000000;
/** Size bits of `commit`. */
export const COMMIT_MASK = (1 << 27) - 1;

/** Why a page walk stopped early. */
export type PageProblem = null | string;

/**
 * Walks the records of one page.
 *
 * @example
 * ```ts
 * import { PageCursor } from "./ring_buffer.ts";
 * const page = new Uint8Array(4096);
 * const v = new DataView(page.buffer);
 * v.setBigUint64(0, 1000n, true); // page timestamp
 * v.setBigUint64(8, 12n, true); // commit: 12 data bytes
 * v.setUint32(16, (5 << 5) | 2, true); // type_len 2 (8-byte payload), delta 5
 * const c = new PageCursor(
 *   { timestampSize: 8, commitSize: 8, dataOffset: 16, dataSize: 4080 },
 *   true,
 * );
 * c.load(page, 0, 4096, 0n);
 * console.assert(c.next() && c.rel === 1005 && c.recLen === 8);
 * ```
 */
export class PageCursor {
  /** Page bytes. */
  bytes: Uint8Array = new Uint8Array(0);
  /** View over `bytes`. */
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Absolute raw page timestamp. */
  pageTs = 0n;
  /** Current time relative to the base given to `load` (clock units). */
  rel = 0;
  /** Start of the current record's payload in `bytes`. */
  recStart = 0;
  /** Payload length of the current record. */
  recLen = 0;
  /** Events lost before this page: -1 unknown count, 0 none, n stored count. */
  missed = 0;
  /** Set when the page was malformed; the walk stopped there. */
  problem: PageProblem = null;
  /** Number of discarded (type 29 with a delta) records skipped. */
  discarded = 0;
  private pos = 0;
  private end = 0;
  private base = 0n;

  /**
   * @param hp header_page layout (commit size, data offset)
   * @param le byte order
   */
  constructor(readonly hp: HeaderPage, readonly le: boolean) {}

  /**
   * Loads a page.
   *
   * @param bytes buffer holding the page
   * @param at page start in `bytes`
   * @param pageSize page size
   * @param base timestamps are reported relative to this raw value
   * @returns false if the page header itself is bad (see `problem`)
   */
  load(bytes: Uint8Array, at: number, pageSize: number, base: bigint): boolean {
    if (this.bytes !== bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const v = this.view;
    const le = this.le;
    this.problem = null;
    this.missed = 0;
    this.base = base;
    this.pageTs = v.getBigUint64(at, le);
    const cs = this.hp.commitSize;
    const commitLow = cs === 8 ? v.getUint32(at + 8 + (le ? 0 : 4), le) : v.getUint32(at + 8, le);
    const size = commitLow & COMMIT_MASK;
    const dataStart = at + this.hp.dataOffset;
    this.pos = dataStart;
    this.end = dataStart + size;
    this.rel = Number(this.pageTs - base);
    if (this.end > at + pageSize) {
      this.problem = `page commit size ${size} exceeds the page (${pageSize - this.hp.dataOffset})`;
      this.end = this.pos;
      return false;
    }
    if (commitLow & RB_MISSED_EVENTS) {
      this.missed = -1;
      if (commitLow & RB_MISSED_STORED && this.end + cs <= at + pageSize) {
        this.missed = cs === 8 ? Number(v.getBigUint64(this.end, le)) : v.getUint32(this.end, le);
      }
    }
    return true;
  }

  /**
   * Advances to the next data record.
   *
   * @returns false at the end of the page (or on a malformed record, see `problem`)
   */
  next(): boolean {
    const v = this.view;
    const le = this.le;
    while (this.pos + 4 <= this.end) {
      const w = v.getUint32(this.pos, le);
      const typeLen = le ? w & 31 : w >>> 27;
      const delta = le ? w >>> 5 : w & 0x7ffffff;
      if (typeLen >= 1 && typeLen <= 28) {
        const len = typeLen * 4;
        if (this.pos + 4 + len > this.end) {
          return this.bad(`record of ${len} bytes overruns the page`);
        }
        this.rel += delta;
        this.recStart = this.pos + 4;
        this.recLen = len;
        this.pos += 4 + len;
        return true;
      }
      if (this.pos + 8 > this.end) {
        if (typeLen === 29 && delta === 0) {
          this.pos = this.end;
          return false;
        }
        return this.bad(`type_len ${typeLen} record header overruns the page`);
      }
      const a0 = v.getUint32(this.pos + 4, le);
      switch (typeLen) {
        case 0: {
          if (a0 < 4 || this.pos + 4 + a0 > this.end) {
            return this.bad(`type_len 0 record length ${a0} overruns the page`);
          }
          this.rel += delta;
          this.recStart = this.pos + 8;
          this.recLen = a0 - 4;
          this.pos += 4 + a0;
          return true;
        }
        case 29:
          if (delta === 0) {
            this.pos = this.end;
            return false;
          }
          // A discarded event: skipped, but libtraceevent still adds its delta.
          if (this.pos + 4 + a0 > this.end || a0 === 0) {
            return this.bad(`padding record length ${a0} overruns the page`);
          }
          this.rel += delta;
          this.discarded++;
          this.pos += 4 + a0;
          break;
        case 30:
          this.rel += a0 * 134217728 + delta;
          this.pos += 8;
          break;
        case 31: {
          const cur = this.base + BigInt(this.rel);
          const abs = ((BigInt(a0) << 27n) | BigInt(delta)) | (cur & (0xf8n << 56n));
          this.rel = Number(abs - this.base);
          this.pos += 8;
          break;
        }
      }
    }
    return false;
  }

  private bad(why: string): false {
    this.problem = why;
    this.pos = this.end;
    return false;
  }
}
