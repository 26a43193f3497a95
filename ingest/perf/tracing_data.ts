/**
 * perf's HEADER_TRACING_DATA: the trace.dat v6 metadata prefix (`17 08 44 "tracing"`, version
 * `"0.6"`), read with the same metadata parser as trace.dat. It holds the format files of the
 * recorded tracepoints, printk formats and (from version 0.6) saved cmdlines; no options and no
 * CPU data.
 *
 * @module
 */
import { TraceError, type TraceWarning } from "../../core/errors.ts";
import { ByteReader } from "../byte_reader.ts";
import type { EventFormat } from "../format/types.ts";
import {
  type HeaderInfo,
  readCmdlines,
  readEventFormats,
  readFtraceFormats,
  readHeaderInfo,
  readKallsyms,
  readPrintk,
} from "../tracedat/metadata.ts";

/** The parsed tracing data. */
export interface TracingData {
  /** Version string (`"0.6"`). */
  version: string;
  /** Byte order of the traced kernel's records. */
  littleEndian: boolean;
  /** Userspace `sizeof(long)` byte of the header. */
  userLongSize: number;
  /** Kernel `sizeof(long)` (from header_page). */
  longSize: number;
  /** Ring-buffer page size. */
  pageSize: number;
  /** header_page / header_event. */
  header: HeaderInfo;
  /** Every event format (ftrace and event systems). */
  formats: EventFormat[];
  /** Formats by event id. */
  byId: Map<number, EventFormat>;
  /** printk formats text. */
  printk: string;
  /** Saved cmdlines (pid -> comm); empty before version 0.6. */
  cmdlines: Map<number, string>;
  /** Raw kallsyms text (perf 6.1 writes none). */
  kallsyms: Uint8Array;
  /** Bytes consumed. */
  size: number;
}

const MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

/**
 * Parses tracing data bytes.
 *
 * @param bytes the tracing data (a feature section or the payload of a TRACING_DATA record)
 * @param file file name for errors
 * @param base file offset of `bytes[0]`, for errors
 * @param warnings collects unparsable formats
 * @returns the parsed tracing data
 * @throws {import("../../core/errors.ts").TraceError} on a bad magic, version, size or layout
 * @example
 * ```ts
 * import { parseTracingData } from "./tracing_data.ts";
 * try {
 *   parseTracingData(new Uint8Array(4), "perf.data", 100, []);
 * } catch (e) {
 *   console.assert((e as Error).message.startsWith("perf.data: tracing data at byte 100"));
 * }
 * ```
 */
export function parseTracingData(
  bytes: Uint8Array,
  file: string,
  base: number,
  warnings: TraceWarning[],
): TracingData {
  const r0 = new ByteReader(bytes, true, file, "tracing data", base);
  r0.need(MAGIC.length, "tracing data magic");
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      r0.fail("bad_value", "tracing data does not start with 17 08 44 'tracing'");
    }
  }
  r0.pos = MAGIC.length;
  const version = r0.cstring("tracing data version");
  if (!/^0\.[0-9]+$/.test(version)) {
    throw new TraceError(
      "unsupported_version",
      `tracing data version '${version.slice(0, 20)}' is not 0.x`,
      { file, section: "tracing data", offset: base + MAGIC.length },
    );
  }
  const endian = r0.u8();
  if (endian > 1) {
    r0.pos--;
    r0.fail("bad_value", `endianness byte ${endian} is neither 0 nor 1`);
  }
  const le = endian === 0;
  const userLongSize = r0.u8();
  const r = new ByteReader(bytes, le, file, "tracing data", base);
  r.pos = r0.pos;
  const firstWarning = warnings.length;
  const pageSize = r.u32();
  const header = readHeaderInfo(r);
  const longSize = header.headerPage.commitSize;
  const ftrace = readFtraceFormats(r, longSize, warnings);
  const events = readEventFormats(r, longSize, warnings);
  const kallsyms = readKallsyms(r);
  const printk = readPrintk(r);
  const minor = Number(version.slice(2));
  const cmdlines = minor >= 6 ? readCmdlines(r) : new Map<number, string>();
  for (const w of warnings.slice(firstWarning)) {
    // The shared metadata reader reports offsets inside `bytes` and no file name.
    if (w.location) w.location = { ...w.location, file, offset: base + w.location.offset };
  }
  const formats = [...ftrace, ...events];
  const byId = new Map<number, EventFormat>();
  for (const f of formats) byId.set(f.id, f);
  return {
    version,
    littleEndian: le,
    userLongSize,
    longSize,
    pageSize,
    header,
    formats,
    byId,
    printk,
    cmdlines,
    kallsyms,
    size: r.pos,
  };
}
