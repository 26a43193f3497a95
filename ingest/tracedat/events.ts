/**
 * Reading the events of an opened trace.dat: per-CPU page streams (plain or compressed chunks),
 * merged across CPUs and buffers in timestamp order (ties: top buffer first, then lower CPU, as
 * trace-cmd does), with trace-cmd's timestamp corrections.
 *
 * Memory is bounded by one block of pages per CPU stream, not by the trace.
 *
 * @module
 */
import { TraceError, type TraceWarning } from "../../core/errors.ts";
import { ByteReader } from "../byte_reader.ts";
import type { FileSource } from "../file_source.ts";
import type { EventFormat } from "../format/types.ts";
import { type Decompressor, decompressorFor } from "./compression.ts";
import { PageCursor } from "./ring_buffer.ts";
import { makeTimestampCorrector, type TimestampCorrector } from "./timestamps.ts";
import type { BufferWithData, TraceDat } from "./tracedat_file.ts";

/** Pages per compressed chunk as trace-cmd writes them. */
const PAGES_IN_CHUNK = 10;

/**
 * Most pages a compressed chunk of CPU data may hold (trace-cmd writes 10, `PAGES_IN_CHUNK`;
 * fewer than 64 are allowed when many streams share {@linkcode MAX_STREAM_MEMORY}); a chunk
 * claiming more is damage, and its data is not decompressed.
 */
export const MAX_CHUNK_PAGES = 64;

/**
 * Most bytes of pages held at once by all CPU streams together: merging the streams by time
 * keeps at least one page (a decompressed chunk when compressed) of every stream in memory,
 * so a file listing very many CPUs or buffers over the same data is refused above this.
 */
export const MAX_STREAM_MEMORY = 512 << 20;

/** Counters of what reading found, reported in `trace_info` and by the CLI. */
export interface ReadStats {
  /** Data records returned. */
  events: number;
  /** Records whose event id has no format, by id. */
  unknownIds: Map<number, number>;
  /** Events the kernel reported lost (stored counts). */
  lostEvents: number;
  /** Pages flagged "events lost" without a stored count. */
  lostPagesUnknownCount: number;
  /** Pages that were malformed (walk stopped early). */
  damagedPages: number;
  /** Bytes of CPU data that could not be read (truncated or undecodable tail). */
  lostBytes: number;
  /** Discarded (type_len 29) records skipped. */
  discarded: number;
  /** Lost-event marks per (buffer, cpu): `"name:cpu" -> count` (-1 unknown). */
  lostByCpu: Map<string, number>;
}

/** The record the iterator is on. Valid until the iterator advances. */
export interface RecordCursor {
  /** Timestamp relative to `base` (raw clock units). */
  rel: number;
  /** CPU the record was written on. */
  cpu: number;
  /** Index in `TraceDat.buffers`. */
  bufferIndex: number;
  /** Page bytes holding the record. */
  bytes: Uint8Array;
  /** A DataView over `bytes` (same buffer and offset). */
  view: DataView;
  /** Payload start in `bytes`. */
  start: number;
  /** Payload length. */
  len: number;
  /** Format of the record's event type. */
  format: EventFormat;
}

/** Yields pages of one CPU. */
interface PageSource {
  /** Next page: the buffer and the page's start in it; null at the end. */
  next(): { bytes: Uint8Array; at: number } | null;
}

function plainPages(
  src: FileSource,
  offset: number,
  size: number,
  pageSize: number,
  where: string,
  stats: ReadStats,
  warnings: TraceWarning[],
  blockPages: number,
): PageSource {
  let avail = size;
  if (offset + size > src.size) {
    avail = Math.max(0, src.size - offset);
    const lost = size - avail;
    stats.lostBytes += lost;
    warnings.push({
      code: "damaged_tail",
      message: `${where}: data truncated, ${avail} of ${size} bytes present (${lost} lost)`,
      location: { file: src.name, section: where, offset: Math.min(offset + avail, src.size) },
    });
  }
  const whole = Math.floor(avail / pageSize);
  let page = 0;
  let block: Uint8Array = new Uint8Array(0);
  let blockFirst = 0;
  return {
    next() {
      if (page >= whole) return null;
      if (page >= blockFirst + block.length / pageSize || block.length === 0) {
        const n = Math.min(blockPages, whole - page);
        block = src.readAt(offset + page * pageSize, n * pageSize, where);
        blockFirst = page;
      }
      const at = (page - blockFirst) * pageSize;
      page++;
      return { bytes: block, at };
    },
  };
}

function compressedPages(
  src: FileSource,
  le: boolean,
  offset: number,
  size: number,
  pageSize: number,
  decomp: Decompressor,
  where: string,
  stats: ReadStats,
  warnings: TraceWarning[],
  chunkLimit: number,
): PageSource {
  // The BUFFER option's size does not count the chunk headers, so chunks are bounded by the file.
  void size;
  const end = src.size;
  let pos = offset;
  let chunks = -1;
  let chunk = 0;
  let data: Uint8Array = new Uint8Array(0);
  let pageInChunk = 0;
  let dead = false;
  const fail = (e: unknown, at: number) => {
    dead = true;
    const remaining = Math.max(0, end - at);
    stats.lostBytes += remaining;
    warnings.push({
      code: "damaged_tail",
      message: `${where}: stopped at a damaged chunk (${
        (e as Error).message
      }); ${remaining} bytes lost`,
      location: { file: src.name, section: where, offset: Math.min(at, src.size) },
    });
  };
  return {
    next() {
      for (;;) {
        if (dead) return null;
        if (pageInChunk * pageSize + pageSize <= data.length) {
          const at = pageInChunk * pageSize;
          pageInChunk++;
          return { bytes: data, at };
        }
        if (chunks < 0) {
          try {
            const h = new ByteReader(src.readAt(pos, 4, where), le, src.name, where, pos);
            chunks = h.u32();
            pos += 4;
          } catch (e) {
            fail(e, pos);
            return null;
          }
        }
        if (chunk >= chunks) return null;
        const at = pos;
        try {
          if (pos + 8 > end) throw new Error(`chunk ${chunk} header past the end of the data`);
          const h = new ByteReader(src.readAt(pos, 8, where), le, src.name, where, pos);
          const csize = h.u32();
          const usize = h.u32();
          if (pos + 8 + csize > end) {
            throw new Error(`chunk ${chunk} of ${csize} bytes runs past the end of the data`);
          }
          const comp = src.readAt(pos + 8, csize, where);
          const loc = { file: src.name, section: where, offset: pos };
          data = decomp(comp, usize, loc, chunkLimit);
          pos += 8 + csize;
          chunk++;
          pageInChunk = 0;
        } catch (e) {
          fail(e, at);
          return null;
        }
      }
    },
  };
}

/** One CPU of one buffer: a page source and a cursor over the current page. */
class CpuStream {
  readonly cursor: PageCursor;
  /** Format of the current record. */
  format: EventFormat | undefined = undefined;
  private pending: { bytes: Uint8Array; at: number } | null;
  done = false;

  constructor(
    readonly pages: PageSource,
    readonly formats: (EventFormat | undefined)[],
    readonly t: TraceDat,
    readonly cpu: number,
    readonly bufferIndex: number,
    readonly pageSize: number,
    readonly stats: ReadStats,
    readonly warnings: TraceWarning[],
    readonly where: string,
  ) {
    this.cursor = new PageCursor(t.header.headerPage, t.littleEndian);
    this.pending = pages.next();
    if (!this.pending) this.done = true;
  }

  firstPageTs(): bigint | null {
    if (!this.pending) return null;
    const p = this.pending;
    return new DataView(p.bytes.buffer, p.bytes.byteOffset + p.at, 8).getBigUint64(
      0,
      this.t.littleEndian,
    );
  }

  /** Moves to the next record with a known format. */
  advance(base: bigint): boolean {
    const c = this.cursor;
    for (;;) {
      if (this.pending) {
        const p = this.pending;
        this.pending = null;
        if (!c.load(p.bytes, p.at, this.pageSize, base)) {
          this.stats.damagedPages++;
          this.warnings.push({
            code: "damaged_page",
            message: `${this.where}: ${c.problem}`,
            location: { file: this.t.src.name, section: this.where, offset: 0 },
          });
        } else if (c.missed !== 0) {
          const key = `${this.t.buffers[this.bufferIndex]!.name}:${this.cpu}`;
          if (c.missed > 0) this.stats.lostEvents += c.missed;
          else this.stats.lostPagesUnknownCount++;
          this.stats.lostByCpu.set(key, (this.stats.lostByCpu.get(key) ?? 0) + c.missed);
        }
      }
      if (c.next()) {
        if (c.recLen < 8) continue;
        const id = c.view.getUint16(c.recStart, this.t.littleEndian);
        const f = this.formats[id];
        if (f) {
          this.format = f;
          return true;
        }
        this.stats.unknownIds.set(id, (this.stats.unknownIds.get(id) ?? 0) + 1);
        continue;
      }
      if (c.problem) {
        this.stats.damagedPages++;
        this.warnings.push({
          code: "damaged_page",
          message: `${this.where}: ${c.problem}`,
          location: { file: this.t.src.name, section: this.where, offset: 0 },
        });
        c.problem = null;
      }
      this.stats.discarded += c.discarded;
      c.discarded = 0;
      this.pending = this.pages.next();
      if (!this.pending) {
        this.done = true;
        return false;
      }
    }
  }
}

/** Options for {@linkcode readRecords}. */
export interface ReadOptions {
  /** Only these buffers (by name; `""` is the top buffer). Default: all. */
  buffers?: readonly string[];
  /** Only these CPUs. Default: all. */
  cpus?: readonly number[];
}

/** An event iterator with its timestamp base and statistics. */
export interface RecordReader {
  /** Raw clock value that `rel` is relative to. */
  readonly base: bigint;
  /** Final timestamp (ns after corrections, or raw counts) of the current record. */
  readonly ts: TimestampCorrector;
  /** Pages, records and losses counted so far. */
  readonly stats: ReadStats;
  /** Warnings raised while reading (damaged pages, unknown event ids, ...). */
  readonly warnings: TraceWarning[];
  /** The current record (valid after `next()` returned true, until the next call). */
  readonly cursor: RecordCursor;
  /** Moves to the next record in time order; false at the end. The fastest way to read. */
  next(): boolean;
  /** Records in time order, as a generator over the same reused cursor. */
  records(): Generator<RecordCursor>;
}

/** New zeroed statistics. */
export function emptyStats(): ReadStats {
  return {
    events: 0,
    unknownIds: new Map(),
    lostEvents: 0,
    lostPagesUnknownCount: 0,
    damagedPages: 0,
    lostBytes: 0,
    discarded: 0,
    lostByCpu: new Map(),
  };
}

/**
 * Prepares reading the events of an opened trace.dat.
 *
 * @param t the opened trace
 * @param opts buffer / CPU selection
 * @returns the reader
 * @throws {TraceError} `limit_exceeded` when the selected CPU streams would hold more than
 *   {@linkcode MAX_STREAM_MEMORY} bytes of pages at once
 */
export function readRecords(t: TraceDat, opts: ReadOptions = {}): RecordReader {
  const stats = emptyStats();
  const warnings: TraceWarning[] = [];
  const streams: CpuStream[] = [];
  const formats: (EventFormat | undefined)[] = new Array(65536);
  for (const [id, f] of t.byId) if (id < 65536) formats[id] = f;
  let nStreams = 0;
  let held = 0;
  for (const b of t.buffers) {
    if (opts.buffers && !opts.buffers.includes(b.name)) continue;
    for (const cd of b.cpus) {
      if (cd.size === 0 || (opts.cpus && !opts.cpus.includes(cd.cpu))) continue;
      nStreams++;
      held += b.pageSize * (b.compressed ? PAGES_IN_CHUNK : 1);
    }
  }
  if (held > MAX_STREAM_MEMORY) {
    throw new TraceError(
      "limit_exceeded",
      `${nStreams} CPU data streams would hold ${held} bytes of pages at once ` +
        `(limit ${MAX_STREAM_MEMORY})`,
      { file: t.src.name, section: "buffers", offset: 0 },
    );
  }
  // A decompressed chunk may hold up to MAX_CHUNK_PAGES pages when the budget allows it.
  const chunkLimit = (pageSize: number) =>
    Math.max(
      PAGES_IN_CHUNK * pageSize,
      Math.min(MAX_CHUNK_PAGES * pageSize, Math.floor(MAX_STREAM_MEMORY / Math.max(nStreams, 1))),
    );
  // Read-ahead of plain pages: up to 32 pages per stream, within the same budget.
  const blockPages = Math.max(
    1,
    Math.min(nStreams > 64 ? 4 : 32, Math.floor(MAX_STREAM_MEMORY / Math.max(held, 1))),
  );
  t.buffers.forEach((b: BufferWithData, bi) => {
    if (opts.buffers && !opts.buffers.includes(b.name)) return;
    const decomp = b.compressed
      ? decompressorFor(t.compression.name, {
        file: t.src.name,
        section: "buffer",
        offset: b.sectionOffset,
      })
      : null;
    for (const cd of b.cpus) {
      if (cd.size === 0) continue;
      if (opts.cpus && !opts.cpus.includes(cd.cpu)) continue;
      const where = `${b.name ? `buffer '${b.name}' ` : ""}cpu${cd.cpu} data`;
      const pages = decomp
        ? compressedPages(
          t.src,
          t.littleEndian,
          cd.offset,
          cd.size,
          b.pageSize,
          decomp,
          where,
          stats,
          warnings,
          chunkLimit(b.pageSize),
        )
        : plainPages(t.src, cd.offset, cd.size, b.pageSize, where, stats, warnings, blockPages);
      streams.push(
        new CpuStream(pages, formats, t, cd.cpu, bi, b.pageSize, stats, warnings, where),
      );
    }
  });
  let base: bigint | null = null;
  for (const s of streams) {
    const f = s.firstPageTs();
    if (f !== null && (base === null || f < base)) base = f;
  }
  const b0 = base ?? 0n;
  const corrector = makeTimestampCorrector(t, b0);
  // Binary heap of live streams ordered by (rel, stream index): ties go to the top buffer, then
  // the lower CPU, as trace-cmd orders them.
  const heap: number[] = [];
  const less = (a: number, b: number) => {
    const ka = streams[a]!.cursor.rel;
    const kb = streams[b]!.cursor.rel;
    return ka < kb || (ka === kb && a < b);
  };
  const up = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  const cur: RecordCursor = {
    rel: 0,
    cpu: 0,
    bufferIndex: 0,
    bytes: new Uint8Array(0),
    view: new DataView(new ArrayBuffer(0)),
    start: 0,
    len: 0,
    format: undefined as unknown as EventFormat,
  };
  let started = false;
  let current: CpuStream | null = null;
  let finished = false;
  const next = (): boolean => {
    if (!started) {
      started = true;
      for (let i = 0; i < streams.length; i++) {
        if (streams[i]!.advance(b0)) {
          heap.push(i);
          up(heap.length - 1);
        }
      }
    } else if (current) {
      if (current.advance(b0)) down(0);
      else {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
      }
      current = null;
    }
    if (heap.length === 0) {
      if (!finished) {
        finished = true;
        for (const [id, n] of stats.unknownIds) {
          warnings.push({
            code: "unknown_event",
            message:
              `${n} records with event id ${id}, which has no format in the file, were skipped`,
          });
        }
      }
      return false;
    }
    const s = streams[heap[0]!]!;
    const c = s.cursor;
    cur.rel = c.rel;
    cur.cpu = s.cpu;
    cur.bufferIndex = s.bufferIndex;
    cur.bytes = c.bytes;
    cur.view = c.view;
    cur.start = c.recStart;
    cur.len = c.recLen;
    cur.format = s.format!;
    stats.events++;
    current = s;
    return true;
  };
  return {
    base: b0,
    ts: corrector,
    stats,
    warnings,
    cursor: cur,
    next,
    *records() {
      while (next()) yield cur;
    },
  };
}
