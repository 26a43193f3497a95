/**
 * Spill files for the streamed normalizer's rows: requests and observed commands leave the
 * normalizer in their final order but keep keys (mm, device, submission) that are named only when
 * normalization ends, and the replay needs the final bindings before the first request. So the rows
 * go to disk in compact column chunks while normalizing and are read back, chunk by chunk, for the
 * replay: memory holds one chunk per file.
 *
 * A file is a sequence of chunks: `u32 magic, u32 rows, u32 payload bytes`, then the payload: one
 * column after the other, each padded to 8 bytes. Integer columns are typed arrays; nullable numbers
 * are float64 with NaN for null; strings are a JSON string table followed by int32 indices (-1 for
 * null). Private to the replay pipeline: not an interchange format.
 *
 * @module
 */
import type { ObservedRec, RequestRec } from "../core/normalize/builder.ts";

type ColKind = "i64" | "u64" | "f64" | "i32" | "u8" | "str";

type ColArray =
  | BigInt64Array
  | BigUint64Array
  | Float64Array
  | Int32Array
  | Uint8Array;

function alloc(kind: ColKind, n: number): ColArray {
  switch (kind) {
    case "i64":
      return new BigInt64Array(n);
    case "u64":
      return new BigUint64Array(n);
    case "f64":
      return new Float64Array(n);
    case "i32":
    case "str":
      return new Int32Array(n);
    case "u8":
      return new Uint8Array(n);
  }
}

const pad8 = (n: number) => (n + 7) & ~7;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A chunk of columns, written and read back whole. */
class Chunk {
  readonly cols: ColArray[];
  /** Per string column: its string table and the index of each string. */
  readonly strings: (string[] | null)[];
  readonly #index: (Map<string, number> | null)[];
  rows = 0;

  constructor(readonly kinds: readonly ColKind[], readonly capacity: number) {
    this.cols = kinds.map((k) => alloc(k, capacity));
    this.strings = kinds.map((k) => (k === "str" ? [] : null));
    this.#index = kinds.map((k) => (k === "str" ? new Map() : null));
  }

  /** The index of a string in column `c` (-1 for null). */
  str(c: number, s: string | null): number {
    if (s === null) return -1;
    const idx = this.#index[c]!;
    let i = idx.get(s);
    if (i === undefined) {
      i = this.strings[c]!.length;
      this.strings[c]!.push(s);
      idx.set(s, i);
    }
    return i;
  }

  encode(magic: number): Uint8Array {
    const n = this.rows;
    const parts: Uint8Array[] = [];
    let size = 0;
    for (let c = 0; c < this.kinds.length; c++) {
      if (this.kinds[c] === "str") {
        const json = encoder.encode(JSON.stringify(this.strings[c]));
        const head = new Uint8Array(8);
        new DataView(head.buffer).setUint32(0, json.length, true);
        parts.push(head, json, new Uint8Array(pad8(json.length) - json.length));
        size += 8 + pad8(json.length);
      }
      const a = this.cols[c]!;
      const bytes = new Uint8Array(a.buffer, 0, n * a.BYTES_PER_ELEMENT);
      parts.push(bytes, new Uint8Array(pad8(bytes.length) - bytes.length));
      size += pad8(bytes.length);
    }
    const out = new Uint8Array(12 + size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, magic, true);
    dv.setUint32(4, n, true);
    dv.setUint32(8, size, true);
    let off = 12;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  static decode(kinds: readonly ColKind[], rows: number, payload: Uint8Array): Chunk {
    const c = new Chunk(kinds, 0);
    c.rows = rows;
    let off = 0;
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[k]!;
      if (kind === "str") {
        const len = dv.getUint32(off, true);
        off += 8;
        c.strings[k] = JSON.parse(decoder.decode(payload.subarray(off, off + len))) as string[];
        off += pad8(len);
      }
      const proto = alloc(kind, 0);
      const bytes = rows * proto.BYTES_PER_ELEMENT;
      // copy into an aligned buffer of its own (the payload's offset need not be aligned)
      const buf = payload.slice(off, off + bytes).buffer;
      c.cols[k] = kind === "i64"
        ? new BigInt64Array(buf)
        : kind === "u64"
        ? new BigUint64Array(buf)
        : kind === "f64"
        ? new Float64Array(buf)
        : kind === "u8"
        ? new Uint8Array(buf)
        : new Int32Array(buf);
      off += pad8(bytes);
    }
    return c;
  }
}

/** Writes chunks of one kind of row to a file. */
class SpillWriter {
  readonly #file: Deno.FsFile;
  #chunk: Chunk;
  #rows = 0;

  constructor(
    readonly path: string,
    readonly magic: number,
    readonly kinds: readonly ColKind[],
    readonly chunkRows: number,
  ) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
    this.#chunk = new Chunk(kinds, chunkRows);
  }

  /** The chunk being filled and the row to fill (flushes a full chunk first). */
  protected slot(): { c: Chunk; i: number } {
    if (this.#chunk.rows === this.chunkRows) this.#flush();
    this.#rows++;
    return { c: this.#chunk, i: this.#chunk.rows++ };
  }

  get rows(): number {
    return this.#rows;
  }

  #flush(): void {
    if (this.#chunk.rows === 0) return;
    const b = this.#chunk.encode(this.magic);
    let off = 0;
    while (off < b.length) off += this.#file.writeSync(b.subarray(off));
    this.#chunk = new Chunk(this.kinds, this.chunkRows);
  }

  close(): void {
    this.#flush();
    this.#file.close();
  }
}

function readChunks(path: string, magic: number, kinds: readonly ColKind[]): Generator<Chunk> {
  return (function* () {
    const f = Deno.openSync(path, { read: true });
    try {
      const head = new Uint8Array(12);
      const exact = (buf: Uint8Array): boolean => {
        let off = 0;
        while (off < buf.length) {
          const n = f.readSync(buf.subarray(off));
          if (n === null) {
            if (off === 0) return false;
            throw new Error(`${path}: spill file cut short`);
          }
          off += n;
        }
        return true;
      };
      while (exact(head)) {
        const dv = new DataView(head.buffer);
        if (dv.getUint32(0, true) !== magic) throw new Error(`${path}: not a spill file`);
        const rows = dv.getUint32(4, true);
        const payload = new Uint8Array(dv.getUint32(8, true));
        if (!exact(payload)) throw new Error(`${path}: spill file cut short`);
        yield Chunk.decode(kinds, rows, payload);
      }
    } finally {
      f.close();
    }
  })();
}

const nn = (x: number | null): number => (x === null ? NaN : x);
const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

/** A spilled request: the request's facts, its mm key and its emission order. */
export interface SpilledRequest
  extends
    Pick<RequestRec, "ts" | "seq" | "cpu" | "pid" | "pasid" | "start" | "end" | "source" | "full"> {
  /** Address-space key (see `StreamResolver.mmId`). */
  mm: number;
}

const REQ_MAGIC = 0x31515253; // "SRQ1"
// ts, seq, cpu, mm, pid, pasid, start, end, source, full
const REQ_KINDS: readonly ColKind[] = [
  "i64",
  "f64",
  "f64",
  "i32",
  "f64",
  "f64",
  "u64",
  "u64",
  "str",
  "u8",
];

/** Writes requests as the normalizer streams them. */
export class RequestSpillWriter extends SpillWriter {
  /**
   * Creates (truncates) the file.
   *
   * @param path the file
   * @param chunkRows rows per chunk
   */
  constructor(path: string, chunkRows = 16384) {
    super(path, REQ_MAGIC, REQ_KINDS, chunkRows);
  }

  /**
   * Appends a request.
   *
   * @param r the request
   * @param mm its address-space key
   */
  add(r: Readonly<RequestRec>, mm: number): void {
    const { c, i } = this.slot();
    const col = c.cols;
    (col[0] as BigInt64Array)[i] = r.ts;
    (col[1] as Float64Array)[i] = r.seq;
    (col[2] as Float64Array)[i] = nn(r.cpu);
    (col[3] as Int32Array)[i] = mm;
    (col[4] as Float64Array)[i] = nn(r.pid);
    (col[5] as Float64Array)[i] = nn(r.pasid);
    (col[6] as BigUint64Array)[i] = r.start;
    (col[7] as BigUint64Array)[i] = r.end;
    (col[8] as Int32Array)[i] = c.str(8, r.source);
    (col[9] as Uint8Array)[i] = r.full ? 1 : 0;
  }
}

/**
 * Reads spilled requests back, one chunk at a time.
 *
 * @param path the file
 * @returns chunks of requests
 */
export function* readRequestSpill(path: string): Generator<SpilledRequest[]> {
  for (const c of readChunks(path, REQ_MAGIC, REQ_KINDS)) {
    const ts = c.cols[0] as BigInt64Array, seq = c.cols[1] as Float64Array;
    const cpu = c.cols[2] as Float64Array, mm = c.cols[3] as Int32Array;
    const pid = c.cols[4] as Float64Array, pasid = c.cols[5] as Float64Array;
    const start = c.cols[6] as BigUint64Array, end = c.cols[7] as BigUint64Array;
    const source = c.cols[8] as Int32Array, full = c.cols[9] as Uint8Array;
    const names = c.strings[8]!;
    const out = new Array<SpilledRequest>(c.rows);
    for (let i = 0; i < c.rows; i++) {
      out[i] = {
        ts: ts[i]!,
        seq: seq[i]!,
        cpu: orNull(cpu[i]!),
        mm: mm[i]!,
        pid: orNull(pid[i]!),
        pasid: orNull(pasid[i]!),
        start: start[i]!,
        end: end[i]!,
        source: names[source[i]!]!,
        full: full[i] === 1,
      };
    }
    yield out;
  }
}

/** A spilled observed command: its facts, device key, submission key and emission order. */
export interface SpilledObserved extends Omit<ObservedRec, "device"> {
  /** Device key (see `StreamResolver.deviceName`). */
  device: number;
}

const OBS_MAGIC = 0x3153424f; // "OBS1"
// ts, seq, cpu, iommu, submission, kind, domain_id, pasid, sid, device,
// addr, addr null, size, size null, granularity, raw, fields
const OBS_KINDS: readonly ColKind[] = [
  "i64",
  "f64",
  "f64",
  "str",
  "f64",
  "str",
  "f64",
  "f64",
  "f64",
  "i32",
  "u64",
  "u8",
  "u64",
  "u8",
  "str",
  "str",
  "str",
];

/** Writes observed commands as the normalizer streams them. */
export class ObservedSpillWriter extends SpillWriter {
  /**
   * Creates (truncates) the file.
   *
   * @param path the file
   * @param chunkRows rows per chunk
   */
  constructor(path: string, chunkRows = 8192) {
    super(path, OBS_MAGIC, OBS_KINDS, chunkRows);
  }

  /**
   * Appends an observed command.
   *
   * @param o the command
   * @param device its device key
   */
  add(o: Readonly<ObservedRec>, device: number): void {
    const { c, i } = this.slot();
    const col = c.cols;
    (col[0] as BigInt64Array)[i] = o.ts;
    (col[1] as Float64Array)[i] = o.seq;
    (col[2] as Float64Array)[i] = nn(o.cpu);
    (col[3] as Int32Array)[i] = c.str(3, o.iommu);
    (col[4] as Float64Array)[i] = o.submission;
    (col[5] as Int32Array)[i] = c.str(5, o.kind);
    (col[6] as Float64Array)[i] = nn(o.domain_id);
    (col[7] as Float64Array)[i] = nn(o.pasid);
    (col[8] as Float64Array)[i] = nn(o.sid);
    (col[9] as Int32Array)[i] = device;
    (col[10] as BigUint64Array)[i] = o.addr ?? 0n;
    (col[11] as Uint8Array)[i] = o.addr === null ? 1 : 0;
    (col[12] as BigUint64Array)[i] = o.size ?? 0n;
    (col[13] as Uint8Array)[i] = o.size === null ? 1 : 0;
    (col[14] as Int32Array)[i] = c.str(14, o.granularity);
    (col[15] as Int32Array)[i] = c.str(15, o.raw);
    (col[16] as Int32Array)[i] = c.str(16, o.fields);
  }
}

/**
 * Reads spilled observed commands back, one chunk at a time.
 *
 * @param path the file
 * @returns chunks of commands
 */
export function* readObservedSpill(path: string): Generator<SpilledObserved[]> {
  for (const c of readChunks(path, OBS_MAGIC, OBS_KINDS)) {
    const f = c.cols;
    const s = (k: number, i: number): string | null => {
      const j = (f[k] as Int32Array)[i]!;
      return j < 0 ? null : c.strings[k]![j]!;
    };
    const num = (k: number, i: number) => orNull((f[k] as Float64Array)[i]!);
    const out = new Array<SpilledObserved>(c.rows);
    for (let i = 0; i < c.rows; i++) {
      out[i] = {
        ts: (f[0] as BigInt64Array)[i]!,
        seq: (f[1] as Float64Array)[i]!,
        cpu: num(2, i),
        iommu: s(3, i),
        submission: (f[4] as Float64Array)[i]!,
        kind: s(5, i)!,
        domain_id: num(6, i),
        pasid: num(7, i),
        sid: num(8, i),
        device: (f[9] as Int32Array)[i]!,
        addr: (f[11] as Uint8Array)[i] === 1 ? null : (f[10] as BigUint64Array)[i]!,
        size: (f[13] as Uint8Array)[i] === 1 ? null : (f[12] as BigUint64Array)[i]!,
        granularity: s(14, i),
        raw: s(15, i),
        fields: s(16, i),
      };
    }
    yield out;
  }
}
