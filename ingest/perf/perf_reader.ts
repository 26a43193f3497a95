/**
 * perf.data reader (file and pipe mode): header, attrs and their ids, feature sections,
 * HEADER_TRACING_DATA, then the record stream (with `-z` zstd records decompressed as one stream),
 * time-ordered with FINISHED_ROUND barriers. Tracepoint samples are delivered in time order with
 * the thread's comm as `perf script` shows it and a view of their RAW payload (the ftrace record).
 *
 * @module
 */
import { TraceError, type TraceWarning } from "../../core/errors.ts";
import { RecordRows } from "../arrow/record_rows.ts";
import { ByteReader } from "../byte_reader.ts";
import type { FileSource } from "../file_source.ts";
import type { EventFormat } from "../format/types.ts";
import { CommTracker } from "./comm_tracker.ts";
import { type BatchEmit, OrderedQueue } from "./ordered_queue.ts";
import { type PerfAttr, readAttr } from "./perf_attr.ts";
import { FEAT, MISC_COMM_EXEC, PERF_TYPE_TRACEPOINT, REC } from "./perf_constants.ts";
import { emptyFeatures, type PerfFeatures, readFeature } from "./perf_features.ts";
import { type PerfFileHeader, readPerfHeader } from "./perf_header.ts";
import { rawOffset, type SampleLayout, sampleLayout } from "./sample_layout.ts";
import { parseTracingData, type TracingData } from "./tracing_data.ts";
import { ZstdStream } from "./zstd_stream.ts";

/** One event selector (attr) of the session. */
export interface PerfEvsel {
  /** Position in the session's attr list. */
  index: number;
  /** The attr as read. */
  attr: PerfAttr;
  /** Sample ids of this attr. */
  ids: bigint[];
  /** Where its samples keep their members. */
  layout: SampleLayout;
  /** The tracepoint's format (null when not a tracepoint or not in the tracing data). */
  format: EventFormat | null;
  /** Byte order of its RAW data (from the tracing data). */
  rawLittleEndian: boolean;
}

/** A tracepoint sample, in time order. The object is reused: copy what you keep. */
export interface PerfSample {
  /** The attr the sample belongs to. */
  evsel: PerfEvsel;
  /** The tracepoint format of the RAW payload. */
  format: EventFormat;
  /** Time (ns), high and low 32 bits. */
  tsHi: number;
  /** Low 32 bits of the time. */
  tsLo: number;
  /** Process id (`TID` member; `common_pid` without one). */
  pid: number;
  /** Thread id (`TID` member; `common_pid` without one). */
  tid: number;
  /** CPU (0 without a `CPU` member). */
  cpu: number;
  /** The thread's comm as `perf script` prints it. */
  comm: string;
  /** A number unique to this thread and comm (changes when the comm changes). */
  commKey: number;
  /** Record bytes and a view over the same buffer. */
  view: DataView;
  /** Bytes of the buffer holding the record. */
  bytes: Uint8Array;
  /** Start of the RAW data (the ftrace record: common_type, flags, ...) in `bytes`. */
  raw: number;
  /** Length of the RAW data (includes perf's alignment padding). */
  rawLen: number;
  /** Byte order of the RAW data (from the tracing data). */
  littleEndian: boolean;
}

/**
 * Takes tracepoint samples as rows of their tables (the fast path of an ingest: no object and no
 * call per sample). Samples reach `add` in time order, in blocks.
 */
export interface PerfSampleRows {
  /**
   * The table of an attr's samples, at its first sample (in time order; the rows before it have
   * been added).
   *
   * @param ev the attr (it has a format)
   * @returns the table's ordinal, stored in `RecordRows.table`
   */
  table(ev: PerfEvsel): number;
  /**
   * Takes a block of rows (records are the RAW data; their buffers change after the call) and
   * empties it.
   *
   * @param rows the rows
   */
  add(rows: RecordRows): void;
}

/** Counters of a read. */
export interface PerfReadStats {
  /** Records read (compressed records count once, plus what they hold). */
  records: number;
  /** Tracepoint samples delivered. */
  samples: number;
  /** Samples of attrs that are not tracepoints (cycles, dummy, ...): skipped. */
  otherSamples: number;
  /** Tracepoint samples whose id has no format in the tracing data. */
  unknownFormat: number;
  /** Samples whose id matches no attr, or that have no/damaged RAW data. */
  badSamples: number;
  /** ID_INDEX entries whose id no attr lists. */
  unknownIndexIds: number;
  /** Events the kernel reported lost (PERF_RECORD_LOST + LOST_SAMPLES). */
  lostEvents: bigint;
  /** Bytes of a damaged or truncated tail not read. */
  lostBytes: number;
  /** Records that arrived older than one already delivered. */
  unordered: number;
  /** Largest CPU number seen + 1. */
  cpus: number;
}

/** The session facts known after reading. */
export interface PerfSession {
  /** File name. */
  file: string;
  /** The file header. */
  header: PerfFileHeader;
  /** Feature sections (or HEADER_FEATURE records) read. */
  features: PerfFeatures;
  /** The tracing data (formats), null when absent. */
  tracing: TracingData | null;
  /** Every attr, in file order. */
  evsels: PerfEvsel[];
  /** True when the data came in PERF_RECORD_COMPRESSED(2) records. */
  compressed: boolean;
}

/** Options of {@linkcode readPerfData}. */
export interface PerfReadOptions {
  /** Bytes read from the file at a time (default 4 MiB). */
  chunkSize?: number;
  /** Cap on queued records before an early delivery (default 2M). */
  maxQueued?: number;
  /** Progress: tracepoint samples delivered so far (called every ~64K). */
  onProgress?: (samples: number) => void;
  /**
   * Asked before each new read window (every few MiB of records): a promise to await before
   * reading on (the consumer's output is behind), or null.
   */
  backpressure?: () => Promise<void> | null;
  /**
   * Receives the samples instead of `onSample` (which is then not called): no object is filled
   * per sample.
   */
  rows?: PerfSampleRows;
}

/** Result of {@linkcode readPerfData}. */
export interface PerfReadResult {
  /** What the file said about the recording. */
  session: PerfSession;
  /** Counters. */
  stats: PerfReadStats;
  /** Recoverable problems met. */
  warnings: TraceWarning[];
}

/** A buffer records lie in (a window of the file or a decompressed piece), shared by them. */
interface Chunk {
  bytes: Uint8Array;
  view: DataView;
}

const DEC = new TextDecoder();
/** Largest feature section or tracing data accepted (perf 6.1 writes tens of KB). */
export const MAX_METADATA = 256 << 20;
/** Feature sections this reader parses (others are only listed as present). */
const PARSED_FEATURES = new Set<number>([
  FEAT.TRACING_DATA,
  FEAT.HOSTNAME,
  FEAT.OSRELEASE,
  FEAT.VERSION,
  FEAT.ARCH,
  FEAT.NRCPUS,
  FEAT.CMDLINE,
  FEAT.CLOCKID,
  FEAT.COMPRESSED,
]);
const TWO32 = 4294967296;

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

class Reader {
  readonly le: boolean;
  readonly evsels: PerfEvsel[] = [];
  readonly features: PerfFeatures = emptyFeatures();
  tracing: TracingData | null = null;
  compressed = false;
  readonly warnings: TraceWarning[] = [];
  readonly stats: PerfReadStats = {
    records: 0,
    samples: 0,
    otherSamples: 0,
    unknownFormat: 0,
    badSamples: 0,
    unknownIndexIds: 0,
    lostEvents: 0n,
    lostBytes: 0,
    unordered: 0,
    cpus: 0,
  };
  private byId = new Map<number | string, PerfEvsel>();
  private readonly queue: OrderedQueue<Chunk>;
  private readonly comms = new CommTracker();
  private zstd: ZstdStream | null = null;
  private leftover: Uint8Array = new Uint8Array(0);
  private zstdDead = false;
  private readonly sample: PerfSample;
  /** Delivers records taken from the queue, in time order. */
  private readonly emit: BatchEmit<Chunk> = (hi, lo, refs, a, b, c, order, k) => {
    const rows = this.opts.rows ?? null;
    if (rows !== null) {
      this.emitRows(hi, lo, refs, a, b, c, order, k, rows);
      return;
    }
    for (let j = 0; j < k; j++) {
      const i = order === null ? j : order[j]!;
      const meta = b[i]!;
      this.deliver(hi[i]!, lo[i]!, refs[i]!, a[i]!, meta >>> 16, meta & 0xffff, c[i]!);
    }
  };

  /**
   * `emit` with `opts.rows`: samples become rows of `out` (one loop, no call per sample), other
   * records go to `deliver`; the rows are handed over before returning (the records' buffers may
   * be reused once they leave the queue).
   */
  private emitRows(
    hi: Uint32Array,
    lo: Uint32Array,
    refs: readonly Chunk[],
    a: Int32Array,
    b: Int32Array,
    c: Int32Array,
    order: Uint32Array | null,
    k: number,
    rows: PerfSampleRows,
  ): void {
    const out = this.out;
    const evsels = this.evsels;
    const st = this.stats;
    const comms = this.comms;
    const tableOf = this.tableOf;
    const le = this.le;
    for (let j = 0; j < k; j++) {
      const i = order === null ? j : order[j]!;
      const meta = b[i]!;
      const ch = refs[i]!;
      const off = a[i]!;
      if (meta >>> 16 !== REC.SAMPLE) {
        this.deliver(hi[i]!, lo[i]!, ch, off, meta >>> 16, meta & 0xffff, c[i]!);
        continue;
      }
      const size = meta & 0xffff;
      const ev = evsels[c[i]!]!;
      if (!ev.format) {
        if (ev.attr.type === PERF_TYPE_TRACEPOINT) st.unknownFormat++;
        else st.otherSamples++;
        continue;
      }
      const v = ch.view;
      const l = ev.layout;
      const raw = l.rawFixed >= 0
        ? (l.rawFixed + 4 <= size ? off + l.rawFixed : -1)
        : rawOffset(l, v, off, size, le);
      if (raw < 0) {
        st.badSamples++;
        continue;
      }
      const rawLen = v.getUint32(raw, le);
      if (raw + 4 + rawLen > off + size || rawLen < 8) {
        st.badSamples++;
        continue;
      }
      let pid: number, tid: number;
      if (l.tid >= 0) {
        pid = v.getInt32(off + l.tid, le);
        tid = v.getInt32(off + l.tid + 4, le);
      } else {
        // No TID in the sample: take common_pid from the ftrace record.
        pid = tid = v.getInt32(raw + 4 + 4, le);
      }
      const cpu = l.cpu >= 0 ? v.getUint32(off + l.cpu, le) : 0;
      if (cpu >= st.cpus) st.cpus = cpu + 1;
      const th = comms.thread(pid, tid);
      let table = tableOf[ev.index];
      if (table === undefined) {
        // Rows before a new table go first: the events index names the tables made by then.
        if (out.length > 0) this.addRows(rows, out);
        table = tableOf[ev.index] = rows.table(ev);
      }
      if (ch !== this.lastChunk) {
        this.lastChunk = ch;
        this.lastBuf = out.bufferOf(v, ch.bytes);
      }
      out.push(table, hi[i]!, lo[i]!, cpu, tid, th.key, th.name, this.lastBuf, raw + 4, rawLen);
      if (out.length === out.capacity) this.addRows(rows, out);
      const n = ++st.samples;
      if ((n & 0xffff) === 0 && this.opts.onProgress) this.opts.onProgress(n);
    }
    if (out.length > 0) this.addRows(rows, out);
  }

  /** Rows of samples not yet handed to `opts.rows`. */
  private readonly out = new RecordRows();
  /** Table ordinal of each attr (by index) once its first sample is delivered. */
  private readonly tableOf: number[] = [];
  /** The buffer of the last row and its index in `out`. */
  private lastChunk: Chunk | null = null;
  private lastBuf = 0;

  private addRows(rows: PerfSampleRows, out: RecordRows): void {
    rows.add(out);
    out.clear();
    this.lastChunk = null;
  }
  /**
   * Attr index + 1 by sample id, for ids below 65536 (others in `byId`; 0: no attr). A typed
   * array: ids start in the thousands, and a JS array written there first turns into a hash table.
   */
  private idDense = new Int32Array(0);

  constructor(
    readonly src: FileSource,
    readonly header: PerfFileHeader,
    readonly opts: PerfReadOptions,
    readonly onSample: (s: PerfSample) => void,
  ) {
    this.le = header.littleEndian;
    this.queue = new OrderedQueue<Chunk>(opts.maxQueued);
    this.sample = {
      evsel: null as unknown as PerfEvsel,
      format: null as unknown as EventFormat,
      tsHi: 0,
      tsLo: 0,
      pid: 0,
      tid: 0,
      cpu: 0,
      comm: "",
      commKey: 0,
      view: new DataView(new ArrayBuffer(0)),
      bytes: new Uint8Array(0),
      raw: 0,
      rawLen: 0,
      littleEndian: header.littleEndian,
    };
    for (const a of header.attrs) this.addEvsel(a.attr, a.ids);
  }

  private where(section: string, offset: number) {
    return { file: this.src.name, section, offset };
  }

  addEvsel(attr: PerfAttr, ids: bigint[]): void {
    const ev: PerfEvsel = {
      index: this.evsels.length,
      attr,
      ids,
      layout: sampleLayout(attr.sampleType, attr.readFormat, attr.sampleIdAll),
      format: null,
      rawLittleEndian: this.sample.littleEndian,
    };
    if (this.tracing) ev.format = this.formatOf(ev);
    this.evsels.push(ev);
    for (const id of ids) {
      if (id < 65536n) {
        const i = Number(id);
        if (i >= this.idDense.length) {
          let n = Math.max(64, this.idDense.length);
          while (n <= i) n *= 2;
          const d = new Int32Array(n);
          d.set(this.idDense);
          this.idDense = d;
        }
        this.idDense[i] = ev.index + 1;
      } else this.byId.set(idKeyBig(id), ev);
    }
  }

  private formatOf(ev: PerfEvsel): EventFormat | null {
    if (ev.attr.type !== PERF_TYPE_TRACEPOINT || !this.tracing) return null;
    if (ev.attr.config > 0x7fffffffn) return null;
    return this.tracing.byId.get(Number(ev.attr.config)) ?? null;
  }

  setTracing(t: TracingData): void {
    this.tracing = t;
    this.sample.littleEndian = t.littleEndian;
    for (const ev of this.evsels) {
      ev.format = this.formatOf(ev);
      ev.rawLittleEndian = t.littleEndian;
    }
  }

  readFileFeatures(): void {
    for (const [id, sec] of this.header.features) {
      const section = `feature ${id}`;
      if (!PARSED_FEATURES.has(id)) {
        this.features.present.push(id);
        continue;
      }
      if (sec.size > MAX_METADATA) {
        throw new TraceError(
          "limit_exceeded",
          `${sec.size}-byte feature section exceeds the ${MAX_METADATA}-byte limit`,
          this.where(section, sec.offset),
        );
      }
      const bytes = this.src.readAt(sec.offset, sec.size, section);
      if (id === 1) {
        this.features.present.push(id);
        this.setTracing(parseTracingData(bytes, this.src.name, sec.offset, this.warnings));
        continue;
      }
      readFeature(
        id,
        new ByteReader(bytes, this.le, this.src.name, section, sec.offset),
        this.features,
      );
    }
  }

  private evselById(v: DataView, at: number): PerfEvsel | null {
    const le = this.le;
    const lo = v.getUint32(at + (le ? 0 : 4), le);
    const hi = v.getUint32(at + (le ? 4 : 0), le);
    if (hi === 0 && lo < 65536) {
      const x = lo < this.idDense.length ? this.idDense[lo]! : 0;
      return x === 0 ? null : this.evsels[x - 1]!;
    }
    return this.byId.get(hi < 0x200000 ? hi * TWO32 + lo : `${hi}:${lo}`) ?? null;
  }

  private evselForSample(v: DataView, off: number, size: number): PerfEvsel | null {
    const evs = this.evsels;
    if (evs.length === 1) return evs[0]!;
    const first = evs[0];
    if (!first) return null;
    const idPos = first.layout.id;
    if (idPos < 0) return first;
    if (idPos + 8 > size) return null;
    return this.evselById(v, off + idPos);
  }

  private evselForOther(v: DataView, off: number, size: number): PerfEvsel | null {
    const evs = this.evsels;
    const first = evs[0];
    if (!first || !first.attr.sampleIdAll) return null;
    if (evs.length === 1) return first;
    const d = first.layout.trailerId;
    if (d === 0) return first;
    if (d > size - 8) return null;
    return this.evselById(v, off + size - d);
  }

  /** Queues a sample record at its arrival (the hot path: most records are samples). */
  sampleArrived(ch: Chunk, off: number, size: number): void {
    const v = ch.view;
    const le = this.le;
    const ev = this.evselForSample(v, off, size);
    if (!ev) {
      this.stats.badSamples++;
      return;
    }
    const t = ev.layout.time;
    const meta = (REC.SAMPLE << 16) | size;
    const q = this.queue;
    if (t < 0 || t + 8 > size) q.push(0, 0, ch, off, meta, ev.index);
    else {
      const at = off + t;
      q.push(
        v.getUint32(at + (le ? 4 : 0), le),
        v.getUint32(at + (le ? 0 : 4), le),
        ch,
        off,
        meta,
        ev.index,
      );
    }
    if (q.size >= q.maxQueued) q.spill(this.emit);
  }

  /** Handles one record at its arrival. Returns a promise only for compressed records. */
  handle(ch: Chunk, off: number, size: number, fileOff: number): Promise<void> | void {
    const le = this.le;
    const v = ch.view;
    const bytes = ch.bytes;
    const type = v.getUint32(off, le);
    this.stats.records++;
    switch (type) {
      case REC.SAMPLE:
        this.sampleArrived(ch, off, size);
        return;
      case REC.COMM:
      case REC.FORK:
      case REC.EXIT: {
        const misc = v.getUint16(off + 4, le);
        const ev = this.evselForOther(v, off, size);
        const d = ev ? ev.layout.trailerTime : 0;
        if (!ev || d === 0 || d > size - 8) {
          this.deliver(0, 0, ch, off, type, size, misc);
          return;
        }
        const at = off + size - d;
        const q = this.queue;
        q.push(
          v.getUint32(at + (le ? 4 : 0), le),
          v.getUint32(at + (le ? 0 : 4), le),
          ch,
          off,
          (type << 16) | size,
          misc,
        );
        if (q.size >= q.maxQueued) q.spill(this.emit);
        return;
      }
      case REC.ID_INDEX: {
        // {u64 nr; {u64 id, idx, cpu, tid}[nr]}: each id must belong to an attr.
        if (size < 16) return;
        const nr = Math.min(Number(v.getBigUint64(off + 8, le) & 0xffffffn), (size - 16) / 32);
        for (let i = 0; i < nr; i++) {
          if (!this.evselById(v, off + 16 + i * 32)) this.stats.unknownIndexIds++;
        }
        return;
      }
      case REC.LOST:
        if (size >= 24) this.stats.lostEvents += v.getBigUint64(off + 16, le);
        return;
      case REC.LOST_SAMPLES:
        if (size >= 16) this.stats.lostEvents += v.getBigUint64(off + 8, le);
        return;
      case REC.FINISHED_ROUND:
        this.queue.roundBatch(this.emit);
        return;
      case REC.HEADER_ATTR:
        this.headerAttr(bytes, off, size, fileOff);
        return;
      case REC.HEADER_FEATURE: {
        const r = new ByteReader(
          bytes.subarray(off, off + size),
          le,
          this.src.name,
          "feature record",
          fileOff,
        );
        r.pos = 8;
        const id = r.u64();
        if (id < 256n) {
          readFeature(Number(id), r, this.features);
        }
        return;
      }
      case REC.HEADER_TRACING_DATA: {
        // The payload follows the 16-byte record (not counted in its size).
        const n = v.getUint32(off + 8, le);
        const payload = bytes.subarray(off + size, off + size + n);
        if (!this.features.present.includes(FEAT.TRACING_DATA)) {
          this.features.present.push(FEAT.TRACING_DATA);
        }
        this.setTracing(parseTracingData(payload, this.src.name, fileOff + size, this.warnings));
        return;
      }
      case REC.COMPRESSED:
      case REC.COMPRESSED2:
        return this.decompress(bytes, v, off, size, fileOff, type === REC.COMPRESSED2);
      default:
        return;
    }
  }

  private headerAttr(bytes: Uint8Array, off: number, size: number, fileOff: number): void {
    const r = new ByteReader(
      bytes.subarray(off, off + size),
      this.le,
      this.src.name,
      "attr record",
      fileOff,
    );
    r.pos = 12;
    const declared = r.u32();
    const attrBytes = declared === 0 ? 64 : declared;
    if (8 + attrBytes > size) {
      r.pos = 12;
      r.fail("bad_size", `attr size ${declared} exceeds the ${size}-byte record`);
    }
    r.pos = 8;
    const attr = readAttr(r, attrBytes);
    const ids: bigint[] = [];
    while (r.pos + 8 <= size) ids.push(r.u64());
    this.addEvsel(attr, ids);
  }

  private async decompress(
    bytes: Uint8Array,
    v: DataView,
    off: number,
    size: number,
    fileOff: number,
    v2: boolean,
  ): Promise<void> {
    if (this.zstdDead) return;
    this.compressed = true;
    if (this.features.compression && this.features.compression.type !== 1) {
      throw new TraceError(
        "unknown_compression",
        `compression type ${this.features.compression.type} is not zstd (1)`,
        this.where("compressed record", fileOff),
      );
    }
    let start = off + 8;
    let end = off + size;
    if (v2) {
      if (size < 16) return this.zstdFail("COMPRESSED2 record shorter than 16 bytes", fileOff);
      const n = v.getBigUint64(off + 8, this.le);
      start = off + 16;
      if (n > BigInt(size - 16)) {
        return this.zstdFail(`COMPRESSED2 data_size ${n} exceeds the record`, fileOff);
      }
      end = start + Number(n);
    }
    this.zstd ??= new ZstdStream();
    let out: Uint8Array;
    try {
      out = await this.zstd.push(bytes.subarray(start, end));
    } catch (e) {
      return this.zstdFail(`zstd stream does not decompress: ${(e as Error).message}`, fileOff);
    }
    if (out.length === 0) return;
    const bp = this.opts.backpressure?.();
    if (bp) await bp;
    let buf: Uint8Array;
    if (this.leftover.length === 0) buf = out;
    else {
      buf = new Uint8Array(this.leftover.length + out.length);
      buf.set(this.leftover);
      buf.set(out, this.leftover.length);
    }
    const bv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const chunk: Chunk = { bytes: buf, view: bv };
    let p = 0;
    while (p + 8 <= buf.length) {
      const rs = bv.getUint16(p + 6, this.le);
      if (rs < 8) {
        this.leftover = new Uint8Array(0);
        return this.zstdFail(`record of size ${rs} inside the compressed stream`, fileOff);
      }
      if (p + rs > buf.length) break;
      const t = bv.getUint32(p, this.le);
      if (t === REC.COMPRESSED || t === REC.COMPRESSED2) {
        this.warnOnce(
          "nested_compressed",
          "a compressed record inside compressed data was skipped",
          fileOff,
        );
      } else {
        const r = this.handle(chunk, p, rs, fileOff);
        if (r) await r;
      }
      p += rs;
    }
    this.leftover = p < buf.length ? buf.slice(p) : new Uint8Array(0);
  }

  private zstdFail(why: string, fileOff: number): void {
    this.zstdDead = true;
    this.warnings.push({
      code: "damaged_tail",
      message: `${why}; the compressed records from here on are not read`,
      location: this.where("compressed record", fileOff),
    });
  }

  private warned = new Set<string>();
  private warnOnce(code: string, message: string, offset: number): void {
    if (this.warned.has(code)) return;
    this.warned.add(code);
    this.warnings.push({ code, message, location: this.where("data", offset) });
  }

  /** Delivers a record in time order. */
  deliver(
    hi: number,
    lo: number,
    ch: Chunk,
    off: number,
    type: number,
    size: number,
    aux: number,
  ): void {
    const v = ch.view;
    const le = this.le;
    switch (type) {
      case REC.SAMPLE: {
        const ev = this.evsels[aux]!;
        const fmt = ev.format;
        if (!fmt) {
          if (ev.attr.type === PERF_TYPE_TRACEPOINT) this.stats.unknownFormat++;
          else this.stats.otherSamples++;
          return;
        }
        const l = ev.layout;
        const s = this.sample;
        const raw = l.rawFixed >= 0
          ? (l.rawFixed + 4 <= size ? off + l.rawFixed : -1)
          : rawOffset(l, v, off, size, le);
        if (raw < 0) {
          this.stats.badSamples++;
          return;
        }
        const rawLen = v.getUint32(raw, le);
        if (raw + 4 + rawLen > off + size || rawLen < 8) {
          this.stats.badSamples++;
          return;
        }
        s.tsHi = hi;
        s.tsLo = lo;
        if (l.tid >= 0) {
          s.pid = v.getInt32(off + l.tid, le);
          s.tid = v.getInt32(off + l.tid + 4, le);
        } else {
          // No TID in the sample: take common_pid from the ftrace record.
          s.pid = s.tid = v.getInt32(raw + 4 + 4, le);
        }
        const cpu = l.cpu >= 0 ? v.getUint32(off + l.cpu, le) : 0;
        s.cpu = cpu;
        if (cpu >= this.stats.cpus) this.stats.cpus = cpu + 1;
        const th = this.comms.thread(s.pid, s.tid);
        s.comm = th.name;
        s.commKey = th.key;
        s.evsel = ev;
        s.format = fmt;
        s.view = v;
        s.bytes = ch.bytes;
        s.raw = raw + 4;
        s.rawLen = rawLen;
        const n = ++this.stats.samples;
        this.onSample(s);
        if (this.opts.onProgress && (n & 0xffff) === 0) this.opts.onProgress(n);
        return;
      }
      case REC.COMM: {
        if (size < 17) return;
        const pid = v.getInt32(off + 8, le);
        const tid = v.getInt32(off + 12, le);
        const b = ch.bytes;
        let e = off + 16;
        const lim = off + size;
        while (e < lim && b[e] !== 0) e++;
        this.comms.comm(
          pid,
          tid,
          DEC.decode(b.subarray(off + 16, e)),
          (aux & MISC_COMM_EXEC) !== 0,
        );
        return;
      }
      case REC.FORK:
        if (size < 24) return;
        this.comms.fork(
          v.getInt32(off + 8, le),
          v.getInt32(off + 12, le),
          v.getInt32(off + 16, le),
          v.getInt32(off + 20, le),
        );
        return;
      default:
        return;
    }
  }

  /** Reads the records of [start, end) of the file. */
  /** Bytes a TRACING_DATA or AUXTRACE record carries after its header (-1: damaged, reported). */
  private extraBytes(
    type: number,
    v: DataView,
    o: number,
    size: number,
    pos: number,
    end: number,
  ): number {
    if (type === REC.HEADER_TRACING_DATA) {
      if (size < 16) {
        this.damaged("tracing data record shorter than 16 bytes", pos, end);
        return -1;
      }
      const n = v.getUint32(o + 8, this.le);
      if (n > MAX_METADATA) {
        throw new TraceError(
          "limit_exceeded",
          `${n}-byte tracing data exceeds the ${MAX_METADATA}-byte limit`,
          this.where("tracing data record", pos),
        );
      }
      return align8(n);
    }
    if (size < 16) return 0;
    const n = v.getBigUint64(o + 8, this.le);
    if (n > BigInt(end - pos)) {
      this.damaged(`AUXTRACE data size ${n} exceeds the data left`, pos, end);
      return -1;
    }
    return Number(n);
  }

  private damaged(why: string, pos: number, end: number): void {
    const lost = end - pos;
    this.stats.lostBytes += lost;
    this.warnings.push({
      code: "damaged_tail",
      message: `${why}; ${lost} bytes of records not read`,
      location: this.where("data", pos),
    });
  }

  /** Windows read before the current one, whose buffers may be reused. */
  private retired: Chunk[] = [];

  /**
   * The file window `[pos, pos + len)`. Its buffer is one of `chunk` bytes taken back from an
   * earlier window no queued record lies in (no new memory once the queue has settled), or new.
   */
  private window(prev: Chunk, pos: number, len: number, chunk: number): Chunk {
    const src = this.src;
    if (prev.bytes.length > 0) this.retired.push(prev);
    if (!src.readInto || len > chunk) {
      const win = src.readAt(pos, len, "data");
      return { bytes: win, view: new DataView(win.buffer, win.byteOffset, win.byteLength) };
    }
    let buf: ArrayBuffer | null = null;
    const r = this.retired;
    for (let i = 0; i < r.length; i++) {
      const old = r[i]!;
      if (old.bytes.buffer.byteLength !== chunk || this.queue.holds(old)) continue;
      buf = old.bytes.buffer as ArrayBuffer;
      r.splice(i, 1);
      break;
    }
    // Windows still held are few (the queue spans about two rounds); drop the rest from the list.
    if (r.length > 8) r.splice(0, r.length - 8);
    const win = new Uint8Array(buf ?? new ArrayBuffer(chunk), 0, len);
    src.readInto(pos, win, "data");
    return { bytes: win, view: new DataView(win.buffer, 0, len) };
  }

  /** Reads the records of [start, end) of the file. */
  async readRegion(start: number, end: number): Promise<void> {
    const le = this.le;
    const chunk = Math.max(this.opts.chunkSize ?? 4 << 20, 1 << 16);
    let wc: Chunk = { bytes: new Uint8Array(0), view: new DataView(new ArrayBuffer(0)) };
    let wv = wc.view;
    let ws = start; // file offset of the window
    let we = start; // end of the window
    let pos = start;
    // No closures over these variables: they stay in registers in the hot loop.
    while (pos < end) {
      if (end - pos < 8) {
        this.damaged(`${end - pos} bytes after the last record`, pos, end);
        break;
      }
      if (pos + 16 > we && we < end) {
        const bp = this.opts.backpressure?.();
        if (bp) await bp;
        const len = Math.min(chunk, end - pos);
        wc = this.window(wc, pos, len, chunk);
        wv = wc.view;
        ws = pos;
        we = pos + len;
      }
      let o = pos - ws;
      const type = wv.getUint32(o, le);
      const size = wv.getUint16(o + 6, le);
      if (size < 8) {
        this.damaged(`record of type ${type} has size ${size}`, pos, end);
        break;
      }
      let total = size;
      if (type === REC.HEADER_TRACING_DATA || type === REC.AUXTRACE) {
        if (pos + 16 > we) {
          this.damaged(`record of type ${type} shorter than 16 bytes`, pos, end);
          break;
        }
        const t = this.extraBytes(type, wv, o, size, pos, end);
        if (t < 0) break;
        total = size + t;
      }
      if (total > end - pos) {
        this.damaged(
          `record of type ${type} needs ${total} bytes, ${end - pos} left (truncated)`,
          pos,
          end,
        );
        break;
      }
      if (pos + total > we) {
        const len = Math.min(Math.max(total, chunk), end - pos);
        wc = this.window(wc, pos, len, chunk);
        wv = wc.view;
        ws = pos;
        we = pos + len;
        o = 0;
      }
      if (type === REC.SAMPLE) {
        this.stats.records++;
        this.sampleArrived(wc, o, size);
      } else {
        const r = this.handle(wc, o, size, pos);
        if (r) await r;
      }
      pos += total;
    }
    if (this.leftover.length > 0) {
      this.stats.lostBytes += this.leftover.length;
      this.warnings.push({
        code: "damaged_tail",
        message: `the compressed stream ends inside a record (${this.leftover.length} bytes)`,
        location: this.where("data", end),
      });
      this.leftover = new Uint8Array(0);
    }
    this.queue.flushBatch(this.emit);
    this.stats.unordered = this.queue.unordered;
    if (this.queue.forcedFlushes > 0) {
      this.warnings.push({
        code: "reorder_window",
        message: `more than ${this.queue.maxQueued} records between FINISHED_ROUNDs: ` +
          `delivered early ${this.queue.forcedFlushes} times, order may differ from perf`,
      });
    }
  }

  close(): void {
    this.zstd?.close();
  }
}

function idKeyBig(id: bigint): number | string {
  const hi = Number(id >> 32n);
  const lo = Number(id & 0xffffffffn);
  return hi < 0x200000 ? hi * TWO32 + lo : `${hi}:${lo}`;
}

/**
 * Reads a perf.data file or pipe capture and delivers its tracepoint samples in time order.
 *
 * @param src the file
 * @param onSample receives each tracepoint sample (a reused object)
 * @param opts chunk size, reorder cap, progress
 * @returns the session facts, counters and warnings
 * @throws {TraceError} on a bad header, attrs, feature sections or tracing data
 * @example
 * ```ts
 * import { memorySource } from "../file_source.ts";
 * import { readPerfData } from "./perf_reader.ts";
 * const pipe = new Uint8Array(16);
 * pipe.set(new TextEncoder().encode("PERFILE2"));
 * pipe[8] = 16;
 * const r = await readPerfData(memorySource(pipe, "empty.data"), () => {});
 * console.assert(r.session.header.pipe && r.stats.samples === 0);
 * ```
 */
export async function readPerfData(
  src: FileSource,
  onSample: (s: PerfSample) => void,
  opts: PerfReadOptions = {},
): Promise<PerfReadResult> {
  const header = readPerfHeader(src);
  const rd = new Reader(src, header, opts, onSample);
  try {
    if (!header.pipe) rd.readFileFeatures();
    await rd.readRegion(header.data.offset, header.data.offset + header.data.size);
  } finally {
    rd.close();
  }
  const st = rd.stats;
  if (!rd.tracing && rd.evsels.some((e) => e.attr.type === PERF_TYPE_TRACEPOINT)) {
    rd.warnings.push({
      code: "no_tracing_data",
      message: `tracepoint attrs but no tracing data: ${st.unknownFormat} samples not decoded`,
    });
  } else if (st.unknownFormat > 0) {
    rd.warnings.push({
      code: "unknown_events",
      message: `${st.unknownFormat} tracepoint samples have no format in the tracing data`,
    });
  }
  if (st.otherSamples > 0) {
    rd.warnings.push({
      code: "non_tracepoint_samples",
      message: `${st.otherSamples} samples of non-tracepoint events were skipped`,
    });
  }
  if (st.badSamples > 0) {
    rd.warnings.push({
      code: "bad_samples",
      message:
        `${st.badSamples} samples with an unknown id or without a usable RAW payload were skipped`,
    });
  }
  if (st.unknownIndexIds > 0) {
    rd.warnings.push({
      code: "unknown_ids",
      message: `ID_INDEX lists ${st.unknownIndexIds} sample ids that no attr has`,
    });
  }
  if (st.lostEvents > 0n) {
    rd.warnings.push({
      code: "lost_events",
      message: `perf reported ${st.lostEvents} lost events`,
    });
  }
  if (st.unordered > 0) {
    rd.warnings.push({
      code: "unordered_events",
      message: `${st.unordered} records arrived after later ones were delivered`,
    });
  }
  return {
    session: {
      file: src.name,
      header,
      features: rd.features,
      tracing: rd.tracing,
      evsels: rd.evsels,
      compressed: rd.compressed,
    },
    stats: st,
    warnings: rd.warnings,
  };
}
