/**
 * Writes small perf.data files for tests: file or pipe mode, either byte order, attrs of any
 * size, tracepoint samples with RAW payloads encoded from the bundled format files, COMM / FORK /
 * EXIT / LOST records with `sample_id` trailers, FINISHED_ROUND, and `-z` style zstd data (one
 * stream cut into COMPRESSED or COMPRESSED2 records). Lets tests build what no machine here
 * records: big-endian files, lost events, out-of-order rounds, damaged sizes.
 *
 * @module
 */
import { zstdCompressSync } from "node:zlib";
import type { FieldValue } from "../../../core/event.ts";
import { parseFormatFile } from "../../format/format_file.ts";
import type { EventFormat } from "../../format/types.ts";
import { HEADER_EVENT_TEXT, knownFormat, knownHeaderPage } from "../../known_formats/mod.ts";
import { encodeRecord } from "../../../synth/record_encoder.ts";

/** One record to write, in file order. */
export type SynthRecord =
  | {
    kind: "sample";
    /** `system:event` of one of the tracepoints. */
    event: string;
    time: bigint;
    pid: number;
    tid: number;
    cpu: number;
    fields: Record<string, FieldValue>;
    flags?: number;
    preempt?: number;
  }
  /** A sample of the software attr (`softwareAttr`). */
  | { kind: "software_sample"; time: bigint; pid: number; tid: number; cpu: number }
  | { kind: "comm"; pid: number; tid: number; comm: string; time: bigint; exec?: boolean }
  | { kind: "fork" | "exit"; pid: number; ppid: number; tid: number; ptid: number; time: bigint }
  | { kind: "lost"; lost: bigint; time: bigint }
  | { kind: "lost_samples"; lost: bigint; time: bigint }
  | { kind: "round" }
  /** Arbitrary bytes (a damaged or unusual record). */
  | { kind: "bytes"; bytes: Uint8Array };

/** What to write. */
export interface SynthPerfOptions {
  /** Default true. */
  littleEndian?: boolean;
  /** Pipe mode (default false). */
  pipe?: boolean;
  /** Compress the kernel records: COMPRESSED (`zstd`) or COMPRESSED2 (`zstd2`) records. */
  compress?: "none" | "zstd" | "zstd2";
  /** Compressed bytes per compressed record (default 64). */
  pieceSize?: number;
  /** `attr.size` (64 = version 0, 128 = perf 6.1's, 136 = newer). Default 128. */
  attrSize?: number;
  /** Write `attr.size` as 0 (files from before the field was filled). */
  attrSizeZero?: boolean;
  /** Kernel version of the bundled formats (default 6.18). */
  kernel?: string;
  /** Tracepoints, `system:event`; attr i gets ids 100 + 2i and 101 + 2i. */
  tracepoints: string[];
  /** Also write a software (non-tracepoint) attr with ids 900, 901. */
  softwareAttr?: boolean;
  /** Leave out the tracing data. */
  noTracingData?: boolean;
  /** The records, in file order. */
  records: SynthRecord[];
  /** OSRELEASE feature text (default `6.18.44-synth`). */
  osRelease?: string;
}

/** The written file and the formats its tracing data holds. */
export interface SynthPerf {
  /** The file. */
  bytes: Uint8Array;
  /** Formats written into the tracing data. */
  formats: EventFormat[];
}

const TEXT = new TextEncoder();
/** IP|TID|TIME|CPU|PERIOD|RAW|IDENTIFIER */
const SAMPLE_TYPE = 0x10587;
const SOFTWARE_SAMPLE_TYPE = 0x10087;

class Out {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  n = 0;
  constructor(readonly le: boolean) {}
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let len = this.buf.length * 2;
    while (len < this.n + k) len *= 2;
    const b = new Uint8Array(len);
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u8(v: number): this {
    this.room(1);
    this.view.setUint8(this.n, v);
    this.n += 1;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.view.setUint16(this.n, v, this.le);
    this.n += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.view.setUint32(this.n, v >>> 0, this.le);
    this.n += 4;
    return this;
  }
  u64(v: bigint | number): this {
    this.room(8);
    this.view.setBigUint64(this.n, BigInt.asUintN(64, BigInt(v)), this.le);
    this.n += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
    return this;
  }
  pad(to: number): this {
    while (this.n % to !== 0) this.u8(0);
    return this;
  }
  setU16(at: number, v: number): void {
    this.view.setUint16(at, v, this.le);
  }
  setU64(at: number, v: number): void {
    this.view.setBigUint64(at, BigInt(v), this.le);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

function attrBytes(
  le: boolean,
  size: number,
  writtenSize: number,
  type: number,
  config: bigint,
  sampleType: number,
): Uint8Array {
  const o = new Out(le);
  o.u32(type).u32(writtenSize).u64(config).u64(1).u64(sampleType).u64(0);
  const bit = le ? 18n : 63n - 18n; // sample_id_all
  o.u64(1n << bit);
  while (o.n < size) o.u8(0);
  return o.done();
}

function tracingData(le: boolean, kernel: string, formats: { system: string; text: string }[]) {
  const o = new Out(le);
  o.bytes(new Uint8Array([0x17, 0x08, 0x44])).bytes(TEXT.encode("tracing0.6\0"));
  o.u8(le ? 0 : 1).u8(8).u32(4096);
  const hp = TEXT.encode(knownHeaderPage(kernel));
  o.bytes(TEXT.encode("header_page\0")).u64(hp.length).bytes(hp);
  const he = TEXT.encode(HEADER_EVENT_TEXT);
  o.bytes(TEXT.encode("header_event\0")).u64(he.length).bytes(he);
  o.u32(0); // ftrace formats
  const systems = [...new Set(formats.map((f) => f.system))];
  o.u32(systems.length);
  for (const s of systems) {
    const fs = formats.filter((f) => f.system === s);
    o.bytes(TEXT.encode(s + "\0")).u32(fs.length);
    for (const f of fs) {
      const t = TEXT.encode(f.text);
      o.u64(t.length).bytes(t);
    }
  }
  o.u32(0); // kallsyms
  o.u32(0); // printk
  const cmd = TEXT.encode("1 init\n");
  o.u64(cmd.length).bytes(cmd);
  return o.done();
}

function headerString(le: boolean, s: string): Uint8Array {
  const t = TEXT.encode(s + "\0");
  const len = Math.ceil(t.length / 8) * 8;
  const o = new Out(le);
  o.u32(len).bytes(t);
  while (o.n < 4 + len) o.u8(0);
  return o.done();
}

/**
 * Builds a perf.data file.
 *
 * @param opts what to write
 * @returns the bytes and the formats written into the tracing data
 * @example
 * ```ts
 * import { synthPerfData } from "./synth_perf.ts";
 * const f = synthPerfData({
 *   tracepoints: ["tlb:tlb_flush"],
 *   records: [{ kind: "sample", event: "tlb:tlb_flush", time: 5n, pid: 1, tid: 1, cpu: 0,
 *     fields: { pages: 1n, reason: 3 } }],
 * });
 * console.assert(new TextDecoder().decode(f.bytes.subarray(0, 8)) === "PERFILE2");
 * ```
 */
export function synthPerfData(opts: SynthPerfOptions): SynthPerf {
  const le = opts.littleEndian ?? true;
  const kernel = opts.kernel ?? "6.18";
  const attrSize = opts.attrSize ?? 128;
  const known = opts.tracepoints.map((tp) => {
    const [system, name] = tp.split(":") as [string, string];
    const k = knownFormat(kernel, system, name);
    if (!k) throw new Error(`no bundled format for ${tp}`);
    return { key: tp, system, text: k.text, format: parseFormatFile(k.text, system) };
  });
  const byKey = new Map(known.map((k) => [k.key, k]));
  const attrs = known.map((k, i) => ({
    type: 2,
    config: BigInt(k.format.id),
    sampleType: SAMPLE_TYPE,
    ids: [BigInt(100 + 2 * i), BigInt(101 + 2 * i)],
  }));
  if (opts.softwareAttr) {
    attrs.push({ type: 1, config: 9n, sampleType: SOFTWARE_SAMPLE_TYPE, ids: [900n, 901n] });
  }
  const firstId = (i: number) => attrs[i]!.ids[0]!;
  const idOf = (event: string) => firstId(known.findIndex((k) => k.key === event));

  // Kernel records.
  const rec = new Out(le);
  const trailer = (o: Out, pid: number, tid: number, time: bigint) => {
    o.u32(pid).u32(tid).u64(time).u32(0).u32(0).u64(firstId(0));
  };
  const recordsOut: Uint8Array[] = [];
  for (const r of opts.records) {
    const o = new Out(le);
    switch (r.kind) {
      case "sample": {
        const k = byKey.get(r.event);
        if (!k) throw new Error(`unknown tracepoint ${r.event}`);
        const raw = encodeRecord(
          {
            ts: r.time,
            cpu: r.cpu,
            pid: r.tid,
            comm: "",
            system: k.system,
            event: k.format.name,
            buffer: "",
            flags: r.flags ?? 0,
            preempt_count: r.preempt ?? 0,
            fields: r.fields,
          },
          k.format,
          { littleEndian: le },
        );
        const rawLen = Math.ceil((raw.length + 4) / 8) * 8 - 4;
        o.u32(9).u16(0).u16(0);
        o.u64(idOf(r.event)).u64(0xffffffff81000000n).u32(r.pid).u32(r.tid).u64(r.time);
        o.u32(r.cpu).u32(0).u64(1).u32(rawLen).bytes(raw);
        while (o.n < 8 + 48 + 4 + rawLen) o.u8(0);
        break;
      }
      case "software_sample":
        o.u32(9).u16(0).u16(0).u64(900n).u64(0xffffffff81000000n).u32(r.pid).u32(r.tid);
        o.u64(r.time).u32(r.cpu).u32(0);
        break;
      case "comm": {
        o.u32(3).u16(r.exec ? 1 << 13 : 0).u16(0).u32(r.pid).u32(r.tid);
        o.bytes(TEXT.encode(r.comm + "\0")).pad(8);
        trailer(o, r.pid, r.tid, r.time);
        break;
      }
      case "fork":
      case "exit":
        o.u32(r.kind === "fork" ? 7 : 4).u16(0).u16(0).u32(r.pid).u32(r.ppid).u32(r.tid).u32(
          r.ptid,
        );
        o.u64(r.time);
        trailer(o, r.pid, r.tid, r.time);
        break;
      case "lost":
        o.u32(2).u16(0).u16(0).u64(firstId(0)).u64(r.lost);
        trailer(o, -1, -1, r.time);
        break;
      case "lost_samples":
        o.u32(13).u16(0).u16(0).u64(r.lost);
        trailer(o, -1, -1, r.time);
        break;
      case "round":
        o.u32(68).u16(0).u16(8);
        break;
      case "bytes":
        recordsOut.push(r.bytes);
        continue;
    }
    if (r.kind !== "round") o.setU16(6, o.n);
    recordsOut.push(o.done());
  }
  for (const b of recordsOut) rec.bytes(b);
  let data = rec.done();

  const compress = opts.compress ?? "none";
  if (compress !== "none") {
    const z = zstdCompressSync(data);
    const piece = opts.pieceSize ?? 64;
    const o = new Out(le);
    for (let at = 0; at < z.length; at += piece) {
      const part = z.subarray(at, Math.min(z.length, at + piece));
      const start = o.n;
      if (compress === "zstd") {
        o.u32(81).u16(0).u16(0).bytes(part);
        o.setU16(start + 6, o.n - start);
      } else {
        o.u32(83).u16(0).u16(0).u64(part.length).bytes(part).pad(8);
        o.setU16(start + 6, o.n - start);
      }
    }
    data = o.done();
  }

  const td = opts.noTracingData ? null : tracingData(le, kernel, known);
  const osr = headerString(le, opts.osRelease ?? "6.18.44-synth");
  const nrcpus = new Out(le).u32(2).u32(2).done();
  const compFeat = new Out(le).u32(1).u32(1).u32(1).u32(10).u32(4096 * 3).done();
  const features: [number, Uint8Array][] = [];
  if (td) features.push([1, td]);
  // perf reads the feature bitmap of a byte-swapped file as 32-bit words unless HOSTNAME is set.
  features.push([3, headerString(le, "synth")], [4, osr], [7, nrcpus]);
  if (compress !== "none") features.push([27, compFeat]);

  const written = opts.attrSizeZero ? 0 : attrSize;
  const out = new Out(le);
  if (opts.pipe) {
    out.bytes(TEXT.encode(le ? "PERFILE2" : "2ELIFREP")).u64(16);
    for (const a of attrs) {
      const start = out.n;
      out.u32(64).u16(0).u16(0);
      out.bytes(attrBytes(le, attrSize, written, a.type, a.config, a.sampleType));
      for (const id of a.ids) out.u64(id);
      out.setU16(start + 6, out.n - start);
    }
    for (const [id, body] of features) {
      if (id === 1) continue;
      const start = out.n;
      out.u32(80).u16(0).u16(0).u64(id).bytes(body);
      out.setU16(start + 6, out.n - start);
    }
    if (td) {
      // The size counts the padding to 8 bytes (perf checks that it does).
      const padded = Math.ceil(td.length / 8) * 8;
      out.u32(66).u16(0).u16(16).u32(padded).u32(0).bytes(td);
      for (let i = td.length; i < padded; i++) out.u8(0);
    }
    out.bytes(data);
    return { bytes: out.done(), formats: known.map((k) => k.format) };
  }
  // File mode: header, attrs, ids, data, feature table, feature sections.
  const headerSize = 104;
  const entry = attrSize + 16;
  const attrsAt = headerSize;
  const idsAt = attrsAt + entry * attrs.length;
  const idsLen = attrs.reduce((n, a) => n + a.ids.length * 8, 0);
  const dataAt = idsAt + idsLen;
  out.bytes(TEXT.encode(le ? "PERFILE2" : "2ELIFREP")).u64(headerSize).u64(entry);
  out.u64(attrsAt).u64(entry * attrs.length).u64(dataAt).u64(data.length).u64(0).u64(0);
  let bits = 0n;
  for (const [id] of features) bits |= 1n << BigInt(id);
  out.u64(bits).u64(0).u64(0).u64(0);
  let idPos = idsAt;
  for (const a of attrs) {
    out.bytes(attrBytes(le, attrSize, written, a.type, a.config, a.sampleType));
    out.u64(idPos).u64(a.ids.length * 8);
    idPos += a.ids.length * 8;
  }
  for (const a of attrs) for (const id of a.ids) out.u64(id);
  out.bytes(data);
  const tableAt = out.n;
  let secAt = tableAt + features.length * 16;
  for (const [, body] of features) {
    out.u64(secAt).u64(body.length);
    secAt += body.length;
  }
  for (const [, body] of features) out.bytes(body);
  return { bytes: out.done(), formats: known.map((k) => k.format) };
}

/**
 * Offsets of the parts of a file-mode synthetic file (for tests that damage them).
 *
 * @param bytes a file from {@linkcode synthPerfData} (file mode, little endian)
 * @returns where the attrs, data and feature table start and end
 */
export function synthLayout(bytes: Uint8Array): {
  attrs: number;
  data: number;
  dataEnd: number;
  features: number;
} {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = Number(v.getBigUint64(40, true));
  const dataEnd = data + Number(v.getBigUint64(48, true));
  return { attrs: Number(v.getBigUint64(24, true)), data, dataEnd, features: dataEnd };
}
