/**
 * `struct perf_event_attr` of any version (64 bytes and up): the few members a tracepoint reader
 * needs, read in the file's byte order.
 *
 * @module
 */
import type { ByteReader } from "../byte_reader.ts";
import { ATTR_SIZE_VER0, FLAG_SAMPLE_ID_ALL } from "./perf_constants.ts";

/** The members of `perf_event_attr` this reader uses. */
export interface PerfAttr {
  /** `PERF_TYPE_*` (2 = tracepoint). */
  type: number;
  /** `attr.size` as written (0 in the oldest files means version 0, 64 bytes). */
  size: number;
  /** For tracepoints, the event id (`ID:` of the format file). */
  config: bigint;
  /** `PERF_SAMPLE_*` bits. */
  sampleType: number;
  /** `PERF_FORMAT_*` bits. */
  readFormat: number;
  /** Non-sample records carry a `sample_id` trailer. */
  sampleIdAll: boolean;
}

/** Largest bit used in `sample_type` that this reader accepts as a number. */
const MAX_SAFE_BITS = 2 ** 52;

/**
 * Reads one `perf_event_attr` occupying `len` bytes at the reader's position (the reader ends
 * after them).
 *
 * @param r reader in the file's byte order
 * @param len bytes the attr occupies in this place of the file (>= 64)
 * @returns the attr
 * @throws {import("../../core/errors.ts").TraceError} when `len` is below 64 or the bytes run out
 * @example
 * ```ts
 * import { ByteReader } from "../byte_reader.ts";
 * import { readAttr } from "./perf_attr.ts";
 * const b = new Uint8Array(64);
 * const v = new DataView(b.buffer);
 * v.setUint32(0, 2, true);
 * v.setBigUint64(8, 0xbcn, true);
 * v.setBigUint64(40, 1n << 18n, true);
 * const a = readAttr(new ByteReader(b, true, "f", "attrs"), 64);
 * console.assert(a.type === 2 && a.config === 0xbcn && a.sampleIdAll);
 * ```
 */
export function readAttr(r: ByteReader, len: number): PerfAttr {
  const start = r.pos;
  if (len < ATTR_SIZE_VER0) {
    r.fail("bad_size", `perf_event_attr of ${len} bytes is smaller than ${ATTR_SIZE_VER0}`);
  }
  r.need(len, "perf_event_attr");
  const type = r.u32();
  const size = r.u32();
  const config = r.u64();
  r.u64(); // sample_period / sample_freq
  const st = r.u64();
  const rf = r.u64();
  const flags = r.u64();
  if (st >= BigInt(MAX_SAFE_BITS) || rf >= BigInt(MAX_SAFE_BITS)) {
    r.pos = start + 24;
    r.fail("bad_value", `sample_type 0x${st.toString(16)} has unknown high bits`);
  }
  // Bit fields start at the least significant bit on little-endian machines and at the most
  // significant one on big-endian machines.
  const bit = r.le ? FLAG_SAMPLE_ID_ALL : 63 - FLAG_SAMPLE_ID_ALL;
  r.pos = start + len;
  return {
    type,
    size,
    config,
    sampleType: Number(st),
    readFormat: Number(rf),
    sampleIdAll: ((flags >> BigInt(bit)) & 1n) === 1n,
  };
}

/**
 * The byte size `attr.size` stands for (0 = version 0).
 *
 * @param a the attr
 * @returns bytes of the attr structure
 */
export function attrStructSize(a: PerfAttr): number {
  return a.size === 0 ? ATTR_SIZE_VER0 : a.size;
}
