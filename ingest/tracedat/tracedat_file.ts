/**
 * Opening a trace-cmd `trace.dat` (v6 and v7): the file start, metadata blocks or sections,
 * options, buffers and the per-CPU data table. Reading the events themselves is
 * {@linkcode ./events.ts}.
 *
 * @module
 */
import { TraceError, type TraceWarning } from "../../core/errors.ts";
import { ByteReader } from "../byte_reader.ts";
import { FileCursor, type FileSource } from "../file_source.ts";
import type { EventFormat, HeaderPage } from "../format/types.ts";
import { decompressorFor } from "./compression.ts";
import {
  type BinReader,
  type HeaderInfo,
  readCmdlines,
  readEventFormats,
  readFtraceFormats,
  readHeaderInfo,
  readKallsyms,
  readPrintk,
} from "./metadata.ts";
import { type BufferDesc, emptyOptions, OPT, readOptions, type TraceOptions } from "./options.ts";

/** The trace.dat magic: `17 08 44` + `tracing`. */
export const TRACEDAT_MAGIC = new Uint8Array([
  0x17,
  0x08,
  0x44,
  0x74,
  0x72,
  0x61,
  0x63,
  0x69,
  0x6e,
  0x67,
]);

/** Section header flag: the payload is compressed. */
export const SEC_FL_COMPRESS = 1;

/** An opened trace.dat: everything but the events. */
export interface TraceDat {
  /** The file being read. */
  src: FileSource;
  /** File format version (6 or 7). */
  version: number;
  /** True when the file (and the traced kernel) is little-endian. */
  littleEndian: boolean;
  /** `sizeof(long)` of the recording userspace (the kernel's comes from header_page). */
  userLongSize: number;
  /** Ring-buffer page size in bytes (from the file header). */
  pageSize: number;
  /** Compression `name` and `version` (v7), `none` when uncompressed. */
  compression: { name: string; version: string };
  /** The `header_page` / `header_event` block. */
  header: HeaderInfo;
  /** Kernel long size (header_page `commit` size). */
  longSize: number;
  /** Every event format in the file, in file order. */
  formats: EventFormat[];
  /** Event id -> format. */
  byId: Map<number, EventFormat>;
  /** The kallsyms block as stored (empty when absent). */
  kallsyms: Uint8Array;
  /** The printk formats block as text (`""` when absent). */
  printk: string;
  /** Saved cmdlines: pid -> command name. */
  cmdlines: Map<number, string>;
  /** CPU count from the file. */
  cpus: number;
  /** What the options section said. */
  options: TraceOptions;
  /** Buffers: the top-level one first (name `""`), then instances. */
  buffers: BufferWithData[];
  /** Trace clock of the top buffer (`local`, `x86-tsc`, ...), null if the file does not say. */
  clock: string | null;
  /** v6 `latency` files / v7 BUFFER_TEXT: the latency trace text. */
  latencyText: string | null;
  /** Warnings raised while opening. */
  warnings: TraceWarning[];
}

/** A buffer with its data layout resolved. */
export interface BufferWithData extends BufferDesc {
  /** True when the per-CPU data is stored in compressed chunks. */
  compressed: boolean;
}

/** Limits applied while opening. */
const MAX_CPUS = 1 << 16;

/** A ring-buffer page size the reader accepts: a power of two from 64 bytes to 16 MiB. */
function validPageSize(n: number): boolean {
  return n >= 64 && n <= (1 << 24) && (n & (n - 1)) === 0;
}

function sectionLoc(src: FileSource, section: string, offset: number) {
  return { file: src.name, section, offset };
}

/**
 * Returns true if the bytes start with the trace.dat magic.
 *
 * @param head the first bytes of a file
 * @returns whether it is a trace.dat
 */
export function isTraceDat(head: Uint8Array): boolean {
  if (head.length < TRACEDAT_MAGIC.length) return false;
  for (let i = 0; i < TRACEDAT_MAGIC.length; i++) if (head[i] !== TRACEDAT_MAGIC[i]) return false;
  return true;
}

/** Parses the `[local] global counter` clock text: the bracketed name. */
export function selectedClock(text: string | null): string | null {
  if (!text) return null;
  const m = /\[([^\]]+)\]/.exec(text);
  if (m) return m[1]!;
  const t = text.trim();
  return t === "" ? null : t.split(/\s+/)[0]!;
}

/**
 * Opens a trace.dat and reads everything but the events.
 *
 * @param src the file
 * @returns the opened trace
 * @throws {TraceError} naming the file, section and byte offset of the first problem
 */
export function openTraceDat(src: FileSource): TraceDat {
  const warnings: TraceWarning[] = [];
  const c = new FileCursor(src, true, "file header", 0);
  const magic = c.take(10, "magic");
  if (!isTraceDat(magic)) {
    throw new TraceError(
      "bad_magic",
      "not a trace.dat file (bad magic)",
      sectionLoc(src, "file header", 0),
    );
  }
  const verAt = c.pos;
  const verText = c.cstring("version", 16);
  const version = Number(verText);
  if (!(version === 6 || version === 7)) {
    throw new TraceError(
      "unsupported_version",
      `trace.dat version '${verText}' is not supported (6 and 7 are)`,
      sectionLoc(src, "file header", verAt),
    );
  }
  const endianAt = c.pos;
  const endian = c.u8();
  if (endian > 1) {
    throw new TraceError(
      "bad_value",
      `endianness byte ${endian} is not 0 or 1`,
      sectionLoc(src, "file header", endianAt),
    );
  }
  const le = endian === 0;
  c.le = le;
  const userLongSize = c.u8();
  const pageAt = c.pos;
  const pageSize = c.u32();
  if (!validPageSize(pageSize)) {
    throw new TraceError(
      "bad_value",
      `page size ${pageSize} is not a power of two between 64 and 16M`,
      sectionLoc(src, "file header", pageAt),
    );
  }
  const opts = emptyOptions();
  let compression = { name: "none", version: "" };
  let header: HeaderInfo;
  let ftrace: EventFormat[];
  let events: EventFormat[];
  let kallsyms: Uint8Array;
  let printk: string;
  let cmdlines: Map<number, string>;
  let cpus = 0;
  let latencyText: string | null = null;
  const buffers: BufferWithData[] = [];

  if (version === 6) {
    header = readHeaderInfo(c);
    const longSize = header.headerPage.commitSize;
    ftrace = readFtraceFormats(c, longSize, warnings);
    events = readEventFormats(c, longSize, warnings);
    kallsyms = readKallsyms(c);
    printk = readPrintk(c);
    cmdlines = readCmdlines(c);
    c.section = "cpus";
    cpus = c.size32("cpu count", MAX_CPUS);
    let tag = c.text(10, "data tag");
    if (tag === "options  \0") {
      readOptions(c, false, opts, warnings, src.name);
      c.section = "data tag";
      tag = c.text(10, "data tag");
    }
    if (tag === "flyrecord\0") {
      const top = readFlyrecordV6(c, "", cpus, opts.traceclockSeen, pageSize);
      buffers.push(top);
      for (const b of opts.buffers) {
        if (b.latency || b.name === "") continue;
        if (!(b.sectionOffset >= 0 && b.sectionOffset + 10 <= src.size)) {
          throw new TraceError(
            "bad_size",
            `buffer '${b.name}' offset ${b.sectionOffset} is past the end of the file`,
            sectionLoc(src, "options", 0),
          );
        }
        const ic = new FileCursor(src, le, `buffer '${b.name}'`, b.sectionOffset);
        const t = ic.text(10, "flyrecord tag");
        if (t !== "flyrecord\0") {
          ic.pos -= 10;
          ic.fail("bad_value", `buffer '${b.name}' offset does not point at 'flyrecord'`);
        }
        buffers.push(readFlyrecordV6(ic, b.name, cpus, opts.traceclockSeen, pageSize));
      }
    } else if (tag === "latency  \0") {
      latencyText = c.text(c.remaining, "latency text");
    } else {
      c.pos -= 10;
      c.fail("bad_value", `expected 'flyrecord' or 'latency', found ${JSON.stringify(tag)}`);
    }
  } else {
    c.section = "compression";
    const cname = c.cstring("compression name", 64);
    const cver = c.cstring("compression version", 64);
    compression = { name: cname, version: cver };
    const decomp = decompressorFor(cname, sectionLoc(src, "compression", c.pos));
    c.section = "file header";
    const firstOptions = c.size64("first options offset", src.size);
    const afterHeader = c.pos;
    // Options chain (the DONE option of each section gives the next one).
    const visited = new Set<number>();
    let next = firstOptions;
    while (next !== 0) {
      if (visited.has(next)) {
        throw new TraceError(
          "bad_value",
          "options sections form a loop",
          sectionLoc(src, "options", next),
        );
      }
      visited.add(next);
      const sec = readSection(src, le, next, decomp, "options");
      if (sec.id !== OPT.DONE) {
        throw new TraceError(
          "bad_value",
          `section at ${next} has id ${sec.id}, expected options (0)`,
          sectionLoc(src, "options", next),
        );
      }
      next = readOptions(sec.reader, true, opts, warnings, src.name);
      if (next > src.size) {
        throw new TraceError(
          "bad_size",
          `next options offset ${next} is past the end of the file`,
          sectionLoc(src, "options", sec.reader.base),
        );
      }
    }
    const offsets = opts.sections.size >= 3 ? opts.sections : scanSections(src, le, afterHeader);
    const need = (id: number, name: string): BinReader => {
      const off = offsets.get(id);
      if (off === undefined) {
        throw new TraceError("truncated", `no ${name} section`, sectionLoc(src, name, afterHeader));
      }
      const sec = readSection(src, le, off, decomp, name);
      if (sec.id !== id) {
        throw new TraceError(
          "bad_value",
          `section at ${off} has id ${sec.id}, expected ${id} (${name})`,
          sectionLoc(src, name, off),
        );
      }
      return sec.reader;
    };
    header = readHeaderInfo(need(OPT.HEADER_INFO, "header_info"));
    const longSize = header.headerPage.commitSize;
    ftrace = readFtraceFormats(need(OPT.FTRACE_EVENTS, "ftrace formats"), longSize, warnings);
    events = readEventFormats(need(OPT.EVENT_FORMATS, "event formats"), longSize, warnings);
    kallsyms = offsets.has(OPT.KALLSYMS)
      ? readKallsyms(need(OPT.KALLSYMS, "kallsyms"))
      : new Uint8Array(0);
    printk = offsets.has(OPT.PRINTK) ? readPrintk(need(OPT.PRINTK, "printk formats")) : "";
    cmdlines = offsets.has(OPT.CMDLINES) ? readCmdlines(need(OPT.CMDLINES, "cmdlines")) : new Map();
    cpus = opts.cpuCount ?? 0;
    for (const b of opts.buffers) {
      if (b.latency) {
        latencyText = readLatencyV7(src, le, b.sectionOffset, decomp);
        continue;
      }
      const hdr = readSectionHeader(src, le, b.sectionOffset, `buffer '${b.name}'`);
      const compressed = (hdr.flags & SEC_FL_COMPRESS) !== 0;
      if (compressed && !decomp) {
        throw new TraceError(
          "unknown_compression",
          `buffer '${b.name}' is compressed but the file declares no compression`,
          sectionLoc(src, `buffer '${b.name}'`, b.sectionOffset),
        );
      }
      for (const cd of b.cpus) {
        if (cd.cpu >= MAX_CPUS) {
          throw new TraceError(
            "bad_value",
            `cpu id ${cd.cpu} too large`,
            sectionLoc(src, `buffer '${b.name}'`, b.sectionOffset),
          );
        }
        cpus = Math.max(cpus, cd.cpu + 1);
      }
      if (b.pageSize !== 0 && !validPageSize(b.pageSize)) {
        throw new TraceError(
          "bad_value",
          `buffer '${b.name}' page size ${b.pageSize} is not a power of two between 64 and 16M`,
          sectionLoc(src, "options", 0),
        );
      }
      buffers.push({ ...b, pageSize: b.pageSize || pageSize, compressed });
    }
    // Top-level buffer first, then instances in file order.
    buffers.sort((a, b) => (a.name === "" ? -1 : b.name === "" ? 1 : 0));
  }

  const formats = [...ftrace, ...events];
  const byId = new Map<number, EventFormat>();
  for (const f of formats) byId.set(f.id, f);
  const topClock = buffers.find((b) => b.name === "")?.clock ?? null;
  const clock = topClock ?? selectedClock(opts.traceclockText);
  return {
    src,
    version,
    littleEndian: le,
    userLongSize,
    pageSize,
    compression,
    header,
    longSize: header.headerPage.commitSize,
    formats,
    byId,
    kallsyms,
    printk,
    cmdlines,
    cpus,
    options: opts,
    buffers,
    clock,
    latencyText,
    warnings,
  };
}

function readFlyrecordV6(
  c: FileCursor,
  name: string,
  cpus: number,
  clockBlock: boolean,
  pageSize: number,
): BufferWithData {
  c.section = name ? `flyrecord '${name}'` : "flyrecord";
  const at = c.pos;
  const list = [];
  for (let i = 0; i < cpus; i++) {
    const offset = c.size64(`cpu${i} data offset`, c.src.size);
    const size = c.u64();
    list.push({ cpu: i, offset, size: Number(size) });
  }
  let clock: string | null = null;
  if (clockBlock) {
    const n = c.size64("trace clock size", c.remaining - 8);
    clock = selectedClock(c.text(n, "trace clock"));
  }
  return {
    name,
    clock,
    pageSize,
    cpus: list,
    sectionOffset: at,
    latency: false,
    compressed: false,
  };
}

interface SectionHeader {
  id: number;
  flags: number;
  description: number;
  size: number;
  /** Offset of the payload. */
  dataAt: number;
}

function readSectionHeader(
  src: FileSource,
  le: boolean,
  offset: number,
  name: string,
): SectionHeader {
  if (!(offset >= 0 && offset + 16 <= src.size)) {
    throw new TraceError(
      "bad_size",
      `section offset ${offset} leaves no room for a section header in the ${src.size}-byte file`,
      sectionLoc(src, `${name} section header`, Math.min(Math.max(offset, 0), src.size)),
    );
  }
  const c = new FileCursor(src, le, `${name} section header`, offset);
  const id = c.u16();
  const flags = c.u16();
  const description = c.i32();
  const size = c.size64("section size", src.size - offset - 16);
  return { id, flags, description, size, dataAt: offset + 16 };
}

function readSection(
  src: FileSource,
  le: boolean,
  offset: number,
  decomp: ReturnType<typeof decompressorFor>,
  name: string,
): { id: number; reader: ByteReader } {
  const h = readSectionHeader(src, le, offset, name);
  const raw = src.readAt(h.dataAt, h.size, name);
  if (!(h.flags & SEC_FL_COMPRESS)) {
    return { id: h.id, reader: new ByteReader(raw, le, src.name, name, h.dataAt) };
  }
  if (!decomp) {
    throw new TraceError(
      "unknown_compression",
      "section is compressed but the file declares no compression",
      sectionLoc(src, name, offset),
    );
  }
  const r = new ByteReader(raw, le, src.name, name, h.dataAt);
  const csize = r.size32("compressed size", r.remaining - 8);
  const usize = r.u32();
  const data = r.take(csize, "compressed data");
  const out = decomp(data, usize, sectionLoc(src, name, h.dataAt));
  return { id: h.id, reader: new ByteReader(out, le, src.name, `${name} (decompressed)`, 0) };
}

function scanSections(src: FileSource, le: boolean, from: number): Map<number, number> {
  const out = new Map<number, number>();
  let at = from;
  while (at + 16 <= src.size) {
    let h: SectionHeader;
    try {
      h = readSectionHeader(src, le, at, "section");
    } catch {
      break;
    }
    if (!out.has(h.id)) out.set(h.id, at);
    at = h.dataAt + h.size;
  }
  return out;
}

function readLatencyV7(
  src: FileSource,
  le: boolean,
  offset: number,
  decomp: ReturnType<typeof decompressorFor>,
): string {
  const h = readSectionHeader(src, le, offset, "latency");
  const raw = src.readAt(h.dataAt, h.size, "latency");
  if (!(h.flags & SEC_FL_COMPRESS) || !decomp) return new TextDecoder().decode(raw);
  const r = new ByteReader(raw, le, src.name, "latency", h.dataAt);
  const n = r.size32("latency chunk count", r.remaining / 8);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const cs = r.size32("chunk size", r.remaining - 4);
    const us = r.u32();
    parts.push(
      new TextDecoder().decode(
        decomp(r.take(cs), us, sectionLoc(src, "latency", h.dataAt + r.pos)),
      ),
    );
  }
  return parts.join("");
}

/** The header_page layout of an opened trace. */
export function headerPageOf(t: TraceDat): HeaderPage {
  return t.header.headerPage;
}
