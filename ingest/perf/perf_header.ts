/**
 * The perf.data file header (`PERFILE2`, 104 bytes; pipe mode: 16 bytes), the attr section with
 * each attr's id array, and the feature section table. Byte-swapped magic means the file was
 * written on a machine of the other byte order.
 *
 * @module
 */
import { TraceError } from "../../core/errors.ts";
import { ByteReader } from "../byte_reader.ts";
import type { FileSource } from "../file_source.ts";
import { type PerfAttr, readAttr } from "./perf_attr.ts";
import { ATTR_SIZE_VER0, FEAT, FEAT_BITS } from "./perf_constants.ts";

/** A `{u64 offset, u64 size}` section of the file. */
export interface FileSection {
  /** Byte offset in the file. */
  offset: number;
  /** Byte size. */
  size: number;
}

/** An attr with the ids of its per-CPU/per-thread instances. */
export interface AttrEntry {
  /** The attr. */
  attr: PerfAttr;
  /** Sample ids of this attr (u64, as bigint). */
  ids: bigint[];
}

/** The parsed header of a perf.data file or pipe. */
export interface PerfFileHeader {
  /** Byte order of the file. */
  littleEndian: boolean;
  /** Pipe mode (16-byte header; attrs, features and tracing data come as records). */
  pipe: boolean;
  /** Header size field (104, or 72 in files older than feature sections, 16 for pipes). */
  headerSize: number;
  /** File mode: attr entries from the attr section; empty for pipes. */
  attrs: AttrEntry[];
  /** The record data: file mode's data section, or everything after a pipe's header. */
  data: FileSection;
  /** File mode: feature id -> section. */
  features: Map<number, FileSection>;
}

const MAGIC_LE = "PERFILE2";
const MAGIC_BE = "2ELIFREP";
/** Largest id array accepted per attr (a 4096-CPU machine with many threads stays far below). */
const MAX_IDS = 1 << 22;
/** Largest attrs section accepted (thousands of events stay far below). */
const MAX_ATTRS_BYTES = 64 << 20;

/**
 * Reads the header, attrs and feature table.
 *
 * @param src the file
 * @returns the header
 * @throws {TraceError} on a wrong magic, a size that lies, or sections outside the file
 * @example
 * ```ts
 * import { memorySource } from "../file_source.ts";
 * import { readPerfHeader } from "./perf_header.ts";
 * const b = new Uint8Array(16);
 * b.set(new TextEncoder().encode("PERFILE2"));
 * b[8] = 16;
 * const h = readPerfHeader(memorySource(b, "pipe.data"));
 * console.assert(h.pipe && h.data.offset === 16);
 * ```
 */
export function readPerfHeader(src: FileSource): PerfFileHeader {
  const head = src.readAt(0, Math.min(src.size, 104), "file header");
  const fail = (
    code: "bad_magic" | "truncated" | "bad_size" | "bad_value",
    why: string,
    at = 0,
  ) => {
    throw new TraceError(code, why, { file: src.name, section: "file header", offset: at });
  };
  if (head.length < 16) fail("truncated", `needs 16 bytes, file has ${head.length}`);
  const magic = new TextDecoder().decode(head.subarray(0, 8));
  if (magic === "PERFFILE") fail("bad_magic", "perf.data version 1 (PERFFILE) is not supported");
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) fail("bad_magic", "not a perf.data file (magic)");
  const le = magic === MAGIC_LE;
  const r = new ByteReader(head, le, src.name, "file header");
  r.pos = 8;
  const hsize = r.u64();
  if (hsize === 16n) {
    return {
      littleEndian: le,
      pipe: true,
      headerSize: 16,
      attrs: [],
      data: { offset: 16, size: src.size - 16 },
      features: new Map(),
    };
  }
  if (hsize !== 104n && hsize !== 72n) {
    fail("bad_size", `header size ${hsize} is not 104, 72 or 16`, 8);
  }
  const headerSize = Number(hsize);
  if (head.length < headerSize) {
    fail("truncated", `needs ${headerSize} bytes, file has ${head.length}`);
  }
  const attrSize = r.u64();
  const section = (what: string): FileSection => {
    const at = r.pos;
    const offset = r.u64();
    const size = r.u64();
    if (offset > BigInt(src.size) || size > BigInt(src.size) - offset) {
      fail(
        "bad_size",
        `${what} section [${offset}, +${size}) lies outside the ${src.size}-byte file`,
        at,
      );
    }
    return { offset: Number(offset), size: Number(size) };
  };
  const attrsSec = section("attrs");
  const dataSec = section("data");
  section("event_types");
  let featBits: number[] = [];
  if (headerSize === 104) {
    const at = r.pos;
    for (let w = 0; w < FEAT_BITS / 64; w++) {
      const word = r.u64();
      for (let b = 0; b < 64; b++) if ((word >> BigInt(b)) & 1n) featBits.push(w * 64 + b);
    }
    // A big-endian machine with a 32-bit long writes the bitmap as u32 words; like perf, read it
    // so when the u64 reading lacks HOSTNAME, which every perf since features exist writes.
    if (!le && !featBits.includes(FEAT.HOSTNAME)) {
      r.pos = at;
      featBits = [];
      for (let w = 0; w < FEAT_BITS / 32; w++) {
        const word = r.u32();
        for (let b = 0; b < 32; b++) if ((word >>> b) & 1) featBits.push(w * 32 + b);
      }
    }
  }
  if (attrSize < BigInt(ATTR_SIZE_VER0 + 16) || attrSize > 65536n) {
    fail(
      "bad_value",
      `attr_size ${attrSize} is not a perf_event_attr plus its 16-byte ids section`,
      16,
    );
  }
  const attrs = readAttrs(src, le, attrsSec, Number(attrSize));
  const features = readFeatureTable(src, le, dataSec, featBits);
  return { littleEndian: le, pipe: false, headerSize, attrs, data: dataSec, features };
}

function readAttrs(src: FileSource, le: boolean, sec: FileSection, attrSize: number): AttrEntry[] {
  if (sec.size % attrSize !== 0) {
    throw new TraceError(
      "bad_size",
      `attrs section of ${sec.size} bytes is not a multiple of attr_size ${attrSize}`,
      { file: src.name, section: "attrs", offset: sec.offset },
    );
  }
  if (sec.size > MAX_ATTRS_BYTES) {
    throw new TraceError(
      "limit_exceeded",
      `${sec.size}-byte attrs section exceeds the ${MAX_ATTRS_BYTES}-byte limit`,
      { file: src.name, section: "attrs", offset: sec.offset },
    );
  }
  const bytes = src.readAt(sec.offset, sec.size, "attrs");
  const r = new ByteReader(bytes, le, src.name, "attrs", sec.offset);
  const out: AttrEntry[] = [];
  const n = sec.size / attrSize;
  for (let i = 0; i < n; i++) {
    const at = i * attrSize;
    r.pos = at;
    const attr = readAttr(r, attrSize - 16);
    const idsAt = r.pos;
    const idOff = r.u64();
    const idSize = r.u64();
    if (idOff > BigInt(src.size) || idSize > BigInt(src.size) - idOff || idSize % 8n !== 0n) {
      r.pos = idsAt;
      r.fail(
        "bad_size",
        `attr ${i}: ids [${idOff}, +${idSize}) lie outside the file or are not u64s`,
      );
    }
    const nIds = Number(idSize) / 8;
    if (nIds > MAX_IDS) {
      throw new TraceError(
        "limit_exceeded",
        `attr ${i}: ${nIds} ids exceed the limit of ${MAX_IDS}`,
        {
          file: src.name,
          section: "attrs",
          offset: sec.offset + idsAt,
        },
      );
    }
    const idBytes = src.readAt(Number(idOff), Number(idSize), "attr ids");
    const iv = new DataView(idBytes.buffer, idBytes.byteOffset, idBytes.byteLength);
    const ids: bigint[] = [];
    for (let k = 0; k < nIds; k++) ids.push(iv.getBigUint64(k * 8, le));
    out.push({ attr, ids });
  }
  return out;
}

function readFeatureTable(
  src: FileSource,
  le: boolean,
  data: FileSection,
  bits: number[],
): Map<number, FileSection> {
  const out = new Map<number, FileSection>();
  if (bits.length === 0) return out;
  const at = data.offset + data.size;
  const table = src.readAt(at, bits.length * 16, "feature table");
  const r = new ByteReader(table, le, src.name, "feature table", at);
  for (const id of bits) {
    const where = r.pos;
    const offset = r.u64();
    const size = r.u64();
    if (offset > BigInt(src.size) || size > BigInt(src.size) - offset) {
      r.pos = where;
      r.fail("bad_size", `feature ${id} section [${offset}, +${size}) lies outside the file`);
    }
    out.set(id, { offset: Number(offset), size: Number(size) });
  }
  return out;
}
