/**
 * The engine behind {@linkcode writeTraceDat} and {@linkcode TraceDatStreamWriter}: takes the
 * trace's description and its events, keeps per-CPU ring-buffer data in a
 * {@linkcode ByteStore}, and lays out the trace.dat file as trace-cmd does.
 *
 * File layouts (`lib/trace-cmd/trace-output.c` of trace-cmd 3.x; research/formats.md §1):
 *
 * v6: `17 08 44 "tracing" "6\0"`, endian, long size, page size; header_page/header_event;
 * ftrace formats; event formats; kallsyms; printk; cmdlines; `u32 cpus`;
 * `"options  \0"` + options + `u16 0`; `"flyrecord\0"` + per CPU `u64 offset, u64 size` +
 * `u64 len, "[clock]"`; page-aligned CPU data. Each instance: a BUFFER option
 * (`u64 offset, name\0`, followed by CPUCOUNT) pointing at its own flyrecord block.
 *
 * v7: the same start plus `name\0version\0` of the compression and the `u64` offset of the
 * first options section; then sections (`u16 id, u16 flags, u32 string offset, u64 size`):
 * headers (16), ftrace events (17), event formats (18), kallsyms (19), printk (20), cmdlines
 * (21), options (0), and per buffer a flyrecord section (3) followed by an options section
 * holding its BUFFER option; last the strings section (15). Options sections chain through
 * `DONE` (`u16 0, u32 8, u64 next`).
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import { eventKey, type TraceEvent } from "../core/event.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import { HEADER_EVENT_TEXT, renderHeaderPage } from "../ingest/known_formats/render_format.ts";
import { compressBlock, type Compression, DEFAULT_COMPRESSION_VERSION } from "./compression.ts";
import { type ByteStore, CpuDataStream } from "./cpu_data_store.ts";
import { encodeRecord } from "./record_encoder.ts";

/** Extra options written in the options section. */
export interface TraceDatOptions {
  /** DATE option: the `0x...` µs offset text `trace-cmd record --date` stores. */
  date?: string;
  /** OFFSET option: ns added to every timestamp (`--ts-offset`). */
  offset?: bigint;
  /** TSC2NSEC option: `ns = ts * mult >> shift` (offset stored, not applied by trace-cmd). */
  tsc2nsec?: { mult: number; shift: number; offset: bigint };
  /** UNAME option (default `Linux synth <kernel> x86_64`). */
  uname?: string;
  /** VERSION option (default `iommu-replay synth`). */
  version?: string;
  /** TRACEID option (omitted by default). */
  traceId?: bigint;
  /** TRACECLOCK option text (default: the clock list with the chosen clock in brackets). */
  traceClock?: string;
  /** Write CPUSTAT options (default true). */
  cpustat?: boolean;
  /** Further raw options, written as given (`data` in the file's byte order). */
  extra?: readonly { id: number; data: Uint8Array }[];
}

/** Everything about a trace.dat except its events. */
export interface TraceDatHeader {
  /** File version (default 7). */
  version?: 6 | 7;
  /** Compression of a v7 file (default `zstd`, like trace-cmd); v6 files are never compressed. */
  compression?: Compression;
  /** Version string stored after the compression name. */
  compressionVersion?: string;
  /** Kernel release, for the default UNAME (default `6.18.0`). */
  kernel?: string;
  /** Trace clock name (default `local`). */
  clock?: string;
  /** Number of CPUs; events must have `cpu < cpus`. */
  cpus: number;
  /** Event format files, e.g. from `knownFormats()`. */
  formats: readonly { system: string; text: string }[];
  /** Format files of the `ftrace` system (default none). */
  ftraceFormats?: readonly string[];
  /** `saved_cmdlines` pairs (default: the pid/comm pairs seen in the events). */
  cmdlines?: ReadonlyMap<number, string> | readonly (readonly [number, string])[];
  /** `/proc/kallsyms` text (default empty). */
  kallsyms?: string;
  /** `printk_formats` text (default empty). */
  printk?: string;
  /** Options. */
  options?: TraceDatOptions;
  /** Buffer instances written even when they have no events (events name theirs in `buffer`). */
  instances?: readonly string[];
  /** Write a big-endian file (default little endian). */
  bigEndian?: boolean;
  /** The kernel's `sizeof(long)`: page commit size and the layout of the formats (default 8). */
  longSize?: 4 | 8;
  /** `sizeof(long)` of the recording user space, stored in the file header (default `longSize`). */
  userLongSize?: 4 | 8;
  /** Ring-buffer page size (default 4096). */
  pageSize?: number;
  /** header_page text (default: rendered for `longSize` and `pageSize`). */
  headerPage?: string;
  /** header_event text (default: the 5.x/6.x kernel text). */
  headerEvent?: string;
  /** Lost events: before the first event of `cpu` (in `buffer`) with `ts >= ts`. */
  lost?: readonly { cpu: number; ts: bigint; count: number | null; buffer?: string }[];
  /** Fill missing event fields with zeros instead of failing. */
  allowMissingFields?: boolean;
}

/** A piece of the output file: bytes, or the stored data of one CPU. */
export type FilePart = Uint8Array | { cpu: CpuDataStream; withChunkCount: boolean };

/** Byte size of a part as it lands in the file. */
export function partSize(p: FilePart): number {
  return p instanceof Uint8Array ? p.length : p.cpu.store.size + (p.withChunkCount ? 4 : 0);
}

const TEXT = new TextEncoder();
const CLOCKS = [
  "local",
  "global",
  "counter",
  "uptime",
  "perf",
  "mono",
  "mono_raw",
  "boot",
  "tai",
  "x86-tsc",
];

/** Growable byte buffer with numbers in the file's byte order. */
class Out {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  length = 0;
  constructor(readonly le: boolean) {}
  #room(n: number): number {
    if (this.length + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.length + n));
      next.set(this.#buf.subarray(0, this.length));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  u8(v: number): this {
    const at = this.#room(1);
    this.#view.setUint8(at, v);
    return this;
  }
  u16(v: number): this {
    const at = this.#room(2);
    this.#view.setUint16(at, v, this.le);
    return this;
  }
  u32(v: number): this {
    const at = this.#room(4);
    this.#view.setUint32(at, v >>> 0, this.le);
    return this;
  }
  i32(v: number): this {
    const at = this.#room(4);
    this.#view.setInt32(at, v, this.le);
    return this;
  }
  u64(v: bigint | number): this {
    const at = this.#room(8);
    this.#view.setBigUint64(at, BigInt(v), this.le);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.#room(b.length);
    this.#buf.set(b, at);
    return this;
  }
  str(s: string): this {
    return this.bytes(TEXT.encode(s));
  }
  cstr(s: string): this {
    return this.str(s).u8(0);
  }
  /** Overwrites a u64 at a position already written. */
  patchU64(at: number, v: bigint | number): void {
    this.#view.setBigUint64(at, BigInt(v), this.le);
  }
  done(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

interface BufferState {
  name: string;
  cpus: (CpuDataStream | undefined)[];
  lost: { cpu: number; ts: bigint; count: number | null }[][];
}

/** Factory of the per-CPU stores. */
export type StoreFactory = () => ByteStore;

/**
 * Accumulates events and produces the parts of the trace.dat file.
 *
 * @example
 * ```ts
 * import { TraceDatBuilder } from "./tracedat_builder.ts";
 * import { MemoryByteStore } from "./cpu_data_store.ts";
 * import { knownFormats } from "../ingest/known_formats/known_formats.ts";
 * const b = new TraceDatBuilder(
 *   { cpus: 1, compression: "none", formats: knownFormats("6.18", { systems: ["tlb"] }) },
 *   () => new MemoryByteStore(),
 * );
 * b.add({ ts: 1n, cpu: 0, pid: 1, comm: "init", system: "tlb", event: "tlb_flush", buffer: "",
 *   flags: 0, preempt_count: 0, fields: { reason: 0, pages: 1 } });
 * const parts = b.finish();
 * console.assert(parts.length > 3);
 * ```
 */
export class TraceDatBuilder {
  readonly #h: TraceDatHeader;
  readonly #version: 6 | 7;
  readonly #compression: Compression;
  readonly #le: boolean;
  readonly #longSize: 4 | 8;
  readonly #pageSize: number;
  readonly #formats = new Map<string, EventFormat>();
  readonly #formatTexts: { system: string; text: string; name: string }[] = [];
  readonly #buffers = new Map<string, BufferState>();
  readonly #storeFactory: StoreFactory;
  readonly #cmdlines = new Map<number, string>();
  #events = 0;
  #finished = false;

  /**
   * Parses the formats and prepares the buffers.
   *
   * @param header the trace's description
   * @param storeFactory makes the storage of each CPU's data
   * @throws {UsageError} on inconsistent settings or unparsable formats
   */
  constructor(header: TraceDatHeader, storeFactory: StoreFactory) {
    this.#h = header;
    this.#version = header.version ?? 7;
    if (this.#version !== 6 && this.#version !== 7) {
      throw new UsageError(`trace.dat version ${header.version} is not 6 or 7`);
    }
    this.#compression = header.compression ?? (this.#version === 7 ? "zstd" : "none");
    if (this.#version === 6 && this.#compression !== "none") {
      throw new UsageError("trace.dat v6 files cannot be compressed (use version 7)");
    }
    if (!["none", "zstd", "zlib"].includes(this.#compression)) {
      throw new UsageError(`unknown compression ${this.#compression}`);
    }
    this.#le = !header.bigEndian;
    this.#longSize = header.longSize ?? 8;
    this.#pageSize = header.pageSize ?? 4096;
    if (!Number.isInteger(header.cpus) || header.cpus < 1 || header.cpus > 4096) {
      throw new UsageError(`cpus must be an integer between 1 and 4096, got ${header.cpus}`);
    }
    this.#storeFactory = storeFactory;
    const ids = new Map<number, string>();
    for (const { system, text } of header.formats) {
      let f: EventFormat;
      try {
        f = parseFormatFile(text, system, this.#longSize);
      } catch (e) {
        throw new UsageError(`format of system ${system}: ${(e as Error).message}`);
      }
      const key = eventKey(system, f.name);
      const clash = ids.get(f.id);
      if (clash && clash !== key) {
        throw new UsageError(`event id ${f.id} is used by both ${clash} and ${key}`);
      }
      ids.set(f.id, key);
      if (!this.#formats.has(key)) {
        this.#formats.set(key, f);
        this.#formatTexts.push({ system, text, name: f.name });
      }
    }
    this.#buffer("");
    for (const name of header.instances ?? []) this.#buffer(name);
    for (const l of header.lost ?? []) {
      this.#checkCpu(l.cpu);
      this.#buffer(l.buffer ?? "").lost[l.cpu]!.push(l);
    }
    for (const b of this.#buffers.values()) {
      for (const list of b.lost) list.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
    }
  }

  #checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.#h.cpus) {
      throw new UsageError(`cpu ${cpu} is outside 0..${this.#h.cpus - 1}`);
    }
  }

  #buffer(name: string): BufferState {
    let b = this.#buffers.get(name);
    if (!b) {
      b = {
        name,
        cpus: new Array(this.#h.cpus).fill(undefined),
        lost: Array.from({ length: this.#h.cpus }, () => []),
      };
      this.#buffers.set(name, b);
    }
    return b;
  }

  /** Number of events added. */
  get events(): number {
    return this.#events;
  }

  /** The parsed format of an event type, if known. */
  format(system: string, event: string): EventFormat | undefined {
    return this.#formats.get(eventKey(system, event));
  }

  /**
   * Adds one event. Per buffer and CPU, events must come in non-decreasing `ts` order.
   *
   * @param e the event; `ts` is the raw clock value written into the ring buffer
   * @throws {UsageError} for an unknown event type, a bad CPU or a field that does not encode
   */
  add(e: TraceEvent): void {
    if (this.#finished) throw new UsageError("trace already finished");
    this.#checkCpu(e.cpu);
    const format = this.#formats.get(eventKey(e.system, e.event));
    if (!format) {
      throw new UsageError(`no format for event ${e.system}:${e.event} (add it to formats)`);
    }
    const payload = encodeRecord(e, format, {
      littleEndian: this.#le,
      maxAlign: this.#longSize === 8 ? 8 : 4,
      allowMissing: this.#h.allowMissingFields ?? false,
    });
    const b = this.#buffer(e.buffer);
    let cpu = b.cpus[e.cpu];
    if (!cpu) {
      cpu = new CpuDataStream(this.#storeFactory(), {
        compression: this.#compression,
        pageSize: this.#pageSize,
        longSize: this.#longSize,
        littleEndian: this.#le,
      });
      b.cpus[e.cpu] = cpu;
    }
    const lost = b.lost[e.cpu]!;
    while (lost.length > 0 && lost[0]!.ts <= e.ts) cpu.markLost(lost.shift()!.count);
    cpu.add(e.ts, payload);
    if (e.pid !== 0 && e.comm !== "" && e.comm !== "<...>") this.#cmdlines.set(e.pid, e.comm);
    this.#events++;
  }

  /** Releases the per-CPU stores. */
  dispose(): void {
    for (const b of this.#buffers.values()) for (const c of b.cpus) c?.store.dispose();
  }

  // ------------------------------------------------------------------ metadata blocks

  #headerInfo(): Uint8Array {
    const hp = this.#h.headerPage ??
      renderHeaderPage(
        { longSize: this.#longSize, int64Align: this.#longSize === 8 ? 8 : 4, charSigned: false },
        this.#pageSize,
      );
    const he = this.#h.headerEvent ?? HEADER_EVENT_TEXT;
    const o = new Out(this.#le);
    const hpb = TEXT.encode(hp);
    const heb = TEXT.encode(he);
    o.cstr("header_page").u64(hpb.length).bytes(hpb);
    o.cstr("header_event").u64(heb.length).bytes(heb);
    return o.done();
  }

  #ftraceBlock(): Uint8Array {
    const o = new Out(this.#le);
    const list = this.#h.ftraceFormats ?? [];
    o.u32(list.length);
    for (const t of list) {
      const b = TEXT.encode(t);
      o.u64(b.length).bytes(b);
    }
    return o.done();
  }

  #eventsBlock(): Uint8Array {
    const bySystem = new Map<string, Uint8Array[]>();
    for (const { system, text } of this.#formatTexts) {
      let l = bySystem.get(system);
      if (!l) bySystem.set(system, l = []);
      l.push(TEXT.encode(text));
    }
    const o = new Out(this.#le);
    o.u32(bySystem.size);
    for (const [system, texts] of bySystem) {
      o.cstr(system).u32(texts.length);
      for (const t of texts) o.u64(t.length).bytes(t);
    }
    return o.done();
  }

  #textBlock(text: string, sizeBytes: 4 | 8): Uint8Array {
    const b = TEXT.encode(text);
    const o = new Out(this.#le);
    if (sizeBytes === 4) o.u32(b.length);
    else o.u64(b.length);
    return o.bytes(b).done();
  }

  #cmdlinesText(): string {
    const pairs = this.#h.cmdlines
      ? [...this.#h.cmdlines] as (readonly [number, string])[]
      : [...this.#cmdlines].sort((a, b) => a[0] - b[0]);
    return pairs.map(([pid, comm]) => `${pid} ${comm}\n`).join("");
  }

  #clock(): string {
    return this.#h.clock ?? "local";
  }

  #traceClockText(): string {
    if (this.#h.options?.traceClock !== undefined) return this.#h.options.traceClock;
    const clock = this.#clock();
    const list = CLOCKS.includes(clock) ? CLOCKS : [...CLOCKS, clock];
    return list.map((c) => (c === clock ? `[${c}]` : c)).join(" ") + "\n";
  }

  #cpustatTexts(): string[] {
    const out: string[] = [];
    const ns = (t: bigint | null) => {
      const v = t ?? 0n;
      return `${(v / 1_000_000_000n).toString().padStart(5)}.${
        ((v % 1_000_000_000n) / 1000n).toString().padStart(6, "0")
      }`;
    };
    for (const b of this.#buffers.values()) {
      if (b.name !== "") out.push(`\nBuffer: ${b.name}\n\n`);
      for (let i = 0; i < this.#h.cpus; i++) {
        const c = b.cpus[i];
        out.push(
          `CPU: ${i}\nentries: 0\noverrun: 0\ncommit overrun: 0\n` +
            `bytes: ${c?.rawBytes ?? 0}\noldest event ts: ${ns(c?.firstTs ?? null)}\n` +
            `now ts: ${ns(c?.lastTs ?? null)}\ndropped events: 0\nread events: ${
              c?.records ?? 0
            }\n`,
        );
      }
    }
    return out;
  }

  /** The options that are not offsets: DATE ... CPUSTAT, extra. */
  #userOptions(): { id: number; data: Uint8Array }[] {
    const opts = this.#h.options ?? {};
    const list: { id: number; data: Uint8Array }[] = [];
    const cstr = (s: string) => new Out(this.#le).cstr(s).done();
    if (opts.date !== undefined) list.push({ id: 1, data: cstr(opts.date) });
    if (opts.offset !== undefined) list.push({ id: 7, data: cstr(opts.offset.toString()) });
    if (opts.tsc2nsec) {
      list.push({
        id: 14,
        data: new Out(this.#le).u32(opts.tsc2nsec.mult).u32(opts.tsc2nsec.shift)
          .u64(opts.tsc2nsec.offset).done(),
      });
    }
    list.push({ id: 4, data: TEXT.encode(this.#traceClockText()) });
    const kernel = this.#h.kernel ?? "6.18.0";
    list.push({ id: 5, data: cstr(opts.uname ?? `Linux synth ${kernel} x86_64`) });
    list.push({ id: 9, data: cstr(opts.version ?? "iommu-replay synth") });
    if (opts.traceId !== undefined) {
      list.push({ id: 11, data: new Out(this.#le).u64(opts.traceId).done() });
    }
    if (opts.cpustat ?? true) {
      for (const t of this.#cpustatTexts()) list.push({ id: 2, data: cstr(t) });
    }
    for (const x of opts.extra ?? []) list.push(x);
    return list;
  }

  // ------------------------------------------------------------------ assembly

  #start(): Out {
    const o = new Out(this.#le);
    o.bytes(new Uint8Array([0x17, 0x08, 0x44])).str("tracing").cstr(String(this.#version));
    o.u8(this.#le ? 0 : 1).u8(this.#h.userLongSize ?? this.#longSize).u32(this.#pageSize);
    return o;
  }

  /**
   * Finishes the per-CPU data and returns the file as parts in order.
   *
   * @returns the parts; their sizes add up to the file size
   */
  finish(): FilePart[] {
    if (!this.#finished) {
      this.#finished = true;
      for (const b of this.#buffers.values()) for (const c of b.cpus) c?.finish();
    }
    return this.#version === 6 ? this.#assembleV6() : this.#assembleV7();
  }

  #assembleV6(): FilePart[] {
    const parts: FilePart[] = [];
    let pos = 0;
    const push = (p: FilePart) => {
      parts.push(p);
      pos += partSize(p);
    };
    const head = this.#start();
    head.bytes(this.#headerInfo()).bytes(this.#ftraceBlock()).bytes(this.#eventsBlock());
    head.bytes(this.#textBlock(this.#h.kallsyms ?? "", 4));
    head.bytes(this.#textBlock(this.#h.printk ?? "", 4));
    head.bytes(this.#textBlock(this.#cmdlinesText(), 8));
    head.u32(this.#h.cpus);
    head.str("options  ").u8(0);
    const options = this.#userOptions();
    const instances = [...this.#buffers.values()].filter((b) => b.name !== "");
    const patchAt = new Map<string, number>();
    const opt = (id: number, data: Uint8Array) => head.u16(id).u32(data.length).bytes(data);
    for (const x of options) opt(x.id, x.data);
    for (const b of instances) {
      const name = TEXT.encode(b.name);
      head.u16(3).u32(8 + name.length + 1);
      patchAt.set(b.name, head.length);
      head.u64(0).bytes(name).u8(0);
      opt(8, new Out(this.#le).u32(this.#h.cpus).done());
    }
    head.u16(0);
    // Top buffer flyrecord block.
    const top = this.#buffers.get("")!;
    const headBytesBefore = head.length;
    const block = (b: BufferState, start: number): { table: Uint8Array; data: FilePart[] } => {
      const t = new Out(this.#le);
      t.str("flyrecord").u8(0);
      const clock = TEXT.encode(`[${this.#clock()}]`);
      const tableLen = 10 + 16 * this.#h.cpus + 8 + clock.length;
      let p = start + tableLen;
      const data: FilePart[] = [];
      for (let i = 0; i < this.#h.cpus; i++) {
        const c = b.cpus[i];
        const aligned = Math.ceil(p / this.#pageSize) * this.#pageSize;
        const size = c ? c.store.size : 0;
        t.u64(aligned).u64(size);
        if (aligned > p) data.push(new Uint8Array(aligned - p));
        if (c && size > 0) data.push({ cpu: c, withChunkCount: false });
        p = aligned + size;
      }
      t.u64(clock.length).bytes(clock);
      return { table: t.done(), data };
    };
    const topBlock = block(top, headBytesBefore);
    head.bytes(topBlock.table);
    const headBytes = head.done();
    push(headBytes);
    for (const d of topBlock.data) push(d);
    for (const b of instances) {
      const offset = pos;
      new DataView(headBytes.buffer).setBigUint64(patchAt.get(b.name)!, BigInt(offset), this.#le);
      const blk = block(b, offset);
      push(blk.table);
      for (const d of blk.data) push(d);
    }
    return parts;
  }

  #assembleV7(): FilePart[] {
    const compressed = this.#compression !== "none";
    const parts: FilePart[] = [];
    let pos = 0;
    const push = (p: FilePart) => {
      parts.push(p);
      pos += partSize(p);
    };
    const strings = new Out(true);
    const desc = (s: string) => {
      const at = strings.length;
      strings.cstr(s);
      return at;
    };
    const sectionHeader = (id: number, flags: number, d: string, size: number) =>
      new Out(this.#le).u16(id).u16(flags).i32(desc(d)).u64(size).done();
    const metaSection = (id: number, d: string, body: Uint8Array): number => {
      const at = pos;
      if (compressed) {
        const z = compressBlock(this.#compression, body);
        const wrapped = new Out(this.#le).u32(z.length).u32(body.length).bytes(z).done();
        push(sectionHeader(id, 1, d, wrapped.length));
        push(wrapped);
      } else {
        push(sectionHeader(id, 0, d, body.length));
        push(body);
      }
      return at;
    };
    const start = this.#start();
    const cname = this.#compression;
    const cver = compressed
      ? this.#h.compressionVersion ?? DEFAULT_COMPRESSION_VERSION[cname as "zstd" | "zlib"]
      : "";
    start.cstr(cname).cstr(cver);
    const firstOptionsAt = start.length;
    start.u64(0);
    const startBytes = start.done();
    push(startBytes);

    const sectionOffsets: [number, number][] = [];
    sectionOffsets.push([16, metaSection(16, "headers", this.#headerInfo())]);
    sectionOffsets.push([17, metaSection(17, "ftrace events", this.#ftraceBlock())]);
    sectionOffsets.push([18, metaSection(18, "events format", this.#eventsBlock())]);
    sectionOffsets.push([
      19,
      metaSection(19, "kallsyms", this.#textBlock(this.#h.kallsyms ?? "", 4)),
    ]);
    sectionOffsets.push([20, metaSection(20, "printk", this.#textBlock(this.#h.printk ?? "", 4))]);
    const cmdlinesAt = metaSection(21, "command lines", this.#textBlock(this.#cmdlinesText(), 8));

    // First options section: section offsets, user options, CMDLINES, CPUCOUNT, DONE.
    const optionsSection = (
      build: (o: Out) => void,
    ): { bytes: Uint8Array; doneAt: number; at: number } => {
      const body = new Out(this.#le);
      build(body);
      body.u16(0).u32(8);
      const doneAt = body.length;
      body.u64(0);
      const bodyBytes = body.done();
      const at = pos;
      push(sectionHeader(0, 0, "options", bodyBytes.length));
      push(bodyBytes);
      return { bytes: bodyBytes, doneAt, at };
    };
    const opt = (o: Out, id: number, data: Uint8Array) => o.u16(id).u32(data.length).bytes(data);
    const first = optionsSection((o) => {
      for (const [id, off] of sectionOffsets) opt(o, id, new Out(this.#le).u64(off).done());
      for (const x of this.#userOptions()) opt(o, x.id, x.data);
      opt(o, 21, new Out(this.#le).u64(cmdlinesAt).done());
      opt(o, 8, new Out(this.#le).u32(this.#h.cpus).done());
    });
    new DataView(startBytes.buffer).setBigUint64(firstOptionsAt, BigInt(first.at), this.#le);
    let previous = first;

    for (const b of this.#buffers.values()) {
      const sectionAt = pos;
      const cpuInfo: { cpu: number; offset: number; size: number }[] = [];
      const dataParts: FilePart[] = [];
      let p = pos + 16;
      for (let i = 0; i < this.#h.cpus; i++) {
        const c = b.cpus[i];
        const aligned = Math.ceil(p / this.#pageSize) * this.#pageSize;
        if (!c || c.store.size === 0) continue;
        if (aligned > p) dataParts.push(new Uint8Array(aligned - p));
        const part: FilePart = { cpu: c, withChunkCount: compressed };
        dataParts.push(part);
        // trace-cmd records the compressed size without the leading chunk count.
        cpuInfo.push({ cpu: i, offset: aligned, size: c.store.size });
        p = aligned + partSize(part);
      }
      const bodySize = p - (pos + 16);
      push(sectionHeader(3, compressed ? 1 : 0, `buffer flyrecord ${b.name}`, bodySize));
      for (const d of dataParts) push(d);
      const opts = optionsSection((o) => {
        const name = TEXT.encode(b.name);
        const clock = TEXT.encode(this.#clock());
        const data = new Out(this.#le).u64(sectionAt).bytes(name).u8(0).bytes(clock).u8(0)
          .u32(this.#pageSize).u32(cpuInfo.length);
        for (const c of cpuInfo) data.u32(c.cpu).u64(c.offset).u64(c.size);
        opt(o, 3, data.done());
      });
      new DataView(previous.bytes.buffer).setBigUint64(previous.doneAt, BigInt(opts.at), this.#le);
      previous = opts;
    }

    // Strings: the section's own description is part of the table it holds.
    const stringsDesc = desc("strings");
    const table = strings.done();
    let body = table;
    let flags = 0;
    if (compressed) {
      const z = compressBlock(this.#compression, table);
      body = new Out(this.#le).u32(z.length).u32(table.length).bytes(z).done();
      flags = 1;
    }
    push(new Out(this.#le).u16(15).u16(flags).i32(stringsDesc).u64(body.length).done());
    push(body);
    return parts;
  }
}
