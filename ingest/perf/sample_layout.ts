/**
 * Where the members of a `PERF_RECORD_SAMPLE` and of a non-sample record's `sample_id` trailer
 * sit, computed once per attr from its `sample_type` and `read_format`.
 *
 * Sample members come in this order when their bit is set: IDENTIFIER, IP, TID, TIME, ADDR, ID,
 * STREAM_ID, CPU, PERIOD, READ, CALLCHAIN, RAW, ... The trailer of other records (with
 * `sample_id_all`) is TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER, at the end of the record.
 *
 * @module
 */
import { READ_FORMAT, SAMPLE } from "./perf_constants.ts";

/** Offsets of one attr's sample and trailer members. */
export interface SampleLayout {
  /** `PERF_SAMPLE_*` bits. */
  readonly sampleType: number;
  /** `PERF_FORMAT_*` bits. */
  readonly readFormat: number;
  /** Offset from the record start (header included) of `{u32 pid, tid}`, or -1. */
  readonly tid: number;
  /** Offset of the u64 time, or -1. */
  readonly time: number;
  /** Offset of `{u32 cpu, res}`, or -1. */
  readonly cpu: number;
  /** Offset of the u64 id (IDENTIFIER or ID), or -1. */
  readonly id: number;
  /** Offset just after the fixed members (after PERIOD). */
  readonly fixedEnd: number;
  /** Offset of RAW's `u32 size` when no variable member precedes it; -1 otherwise or no RAW. */
  readonly rawFixed: number;
  /** Bytes of the `sample_id` trailer of non-sample records (0 without `sample_id_all`). */
  readonly trailerSize: number;
  /** Distance from the record end of the trailer's `{pid, tid}`, or 0 when absent. */
  readonly trailerTid: number;
  /** Distance from the record end of the trailer's time, or 0 when absent. */
  readonly trailerTime: number;
  /** Distance from the record end of the trailer's `{cpu, res}`, or 0 when absent. */
  readonly trailerCpu: number;
  /** Distance from the record end of the trailer's id, or 0 when absent. */
  readonly trailerId: number;
}

const has = (st: number, bit: number) => (Math.floor(st / bit) & 1) === 1;

/**
 * Computes the layout of an attr's records.
 *
 * @param sampleType `PERF_SAMPLE_*` bits
 * @param readFormat `PERF_FORMAT_*` bits
 * @param sampleIdAll whether non-sample records carry the trailer
 * @returns the layout
 * @example
 * ```ts
 * import { sampleLayout } from "./sample_layout.ts";
 * // IP|TID|TIME|CPU|PERIOD|RAW|IDENTIFIER, as `perf record -e tlb:tlb_flush` writes it
 * const l = sampleLayout(0x10587, 0, true);
 * console.assert(l.id === 8 && l.tid === 24 && l.time === 32 && l.cpu === 40 && l.fixedEnd === 56);
 * console.assert(l.trailerSize === 32 && l.trailerTime === 24);
 * ```
 */
export function sampleLayout(
  sampleType: number,
  readFormat: number,
  sampleIdAll: boolean,
): SampleLayout {
  let p = 8;
  let id = -1;
  if (has(sampleType, SAMPLE.IDENTIFIER)) {
    id = p;
    p += 8;
  }
  if (has(sampleType, SAMPLE.IP)) p += 8;
  const tid = has(sampleType, SAMPLE.TID) ? p : -1;
  if (tid >= 0) p += 8;
  const time = has(sampleType, SAMPLE.TIME) ? p : -1;
  if (time >= 0) p += 8;
  if (has(sampleType, SAMPLE.ADDR)) p += 8;
  if (has(sampleType, SAMPLE.ID)) {
    if (id < 0) id = p;
    p += 8;
  }
  if (has(sampleType, SAMPLE.STREAM_ID)) p += 8;
  const cpu = has(sampleType, SAMPLE.CPU) ? p : -1;
  if (cpu >= 0) p += 8;
  if (has(sampleType, SAMPLE.PERIOD)) p += 8;

  // Trailer, counted from the end.
  let q = 0;
  let tIdent = 0, tCpu = 0, tStream = 0, tId = 0, tTime = 0, tTid = 0;
  if (sampleIdAll) {
    if (has(sampleType, SAMPLE.IDENTIFIER)) tIdent = q += 8;
    if (has(sampleType, SAMPLE.CPU)) tCpu = q += 8;
    if (has(sampleType, SAMPLE.STREAM_ID)) tStream = q += 8;
    if (has(sampleType, SAMPLE.ID)) tId = q += 8;
    if (has(sampleType, SAMPLE.TIME)) tTime = q += 8;
    if (has(sampleType, SAMPLE.TID)) tTid = q += 8;
  }
  void tStream;
  return {
    sampleType,
    readFormat,
    tid,
    time,
    cpu,
    id,
    fixedEnd: p,
    rawFixed: has(sampleType, SAMPLE.RAW) && !has(sampleType, SAMPLE.READ) &&
        !has(sampleType, SAMPLE.CALLCHAIN)
      ? p
      : -1,
    trailerSize: q,
    trailerTid: tTid,
    trailerTime: tTime,
    trailerCpu: tCpu,
    trailerId: tIdent || tId,
  };
}

/**
 * Finds the RAW member of a sample: the offset of its `u32 size`, or -1 when the sample has no
 * RAW member or the record is too short for the members before it.
 *
 * @param l the attr's layout
 * @param v view over the record bytes
 * @param start record start in the view
 * @param size record size (header included)
 * @param le byte order
 * @returns offset (from the view's start) of RAW's size word, or -1
 */
export function rawOffset(
  l: SampleLayout,
  v: DataView,
  start: number,
  size: number,
  le: boolean,
): number {
  const st = l.sampleType;
  if (!has(st, SAMPLE.RAW)) return -1;
  let p = l.fixedEnd;
  if (has(st, SAMPLE.READ)) {
    const rf = l.readFormat;
    const extra = (has(rf, READ_FORMAT.TOTAL_TIME_ENABLED) ? 8 : 0) +
      (has(rf, READ_FORMAT.TOTAL_TIME_RUNNING) ? 8 : 0);
    const per = 8 + (has(rf, READ_FORMAT.ID) ? 8 : 0) + (has(rf, READ_FORMAT.LOST) ? 8 : 0);
    if (has(rf, READ_FORMAT.GROUP)) {
      if (p + 8 > size) return -1;
      const hi = v.getUint32(start + p + (le ? 4 : 0), le);
      const nr = v.getUint32(start + p + (le ? 0 : 4), le);
      if (hi !== 0 || nr > size) return -1;
      p += 8 + extra + nr * per;
    } else p += extra + per;
  }
  if (has(st, SAMPLE.CALLCHAIN)) {
    if (p + 8 > size) return -1;
    const hi = v.getUint32(start + p + (le ? 4 : 0), le);
    const nr = v.getUint32(start + p + (le ? 0 : 4), le);
    if (hi !== 0 || nr > size) return -1;
    p += 8 + nr * 8;
  }
  if (p + 4 > size) return -1;
  return start + p;
}
