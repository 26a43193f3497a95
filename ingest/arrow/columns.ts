/**
 * Growable Arrow column builders over typed arrays, one per column kind. A builder appends
 * either straight from an event record's bytes (the fast path for binary traces) or from a decoded
 * {@linkcode FieldValue} (text and perf sources), and turns into Arrow `Data` once per batch.
 *
 * @module
 */
import {
  type Data,
  DataType,
  Dictionary,
  Field,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  makeData,
  makeVector,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import type { FieldValue } from "../../core/event.ts";
import { decodeCString, dynamicLocation } from "../format/field_decoder.ts";
import type { FieldFormat } from "../format/types.ts";

/** A typed array of integers (an integer column's values). */
export type IntArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

type IntCtor = {
  new (n: number): IntArray;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): IntArray;
  BYTES_PER_ELEMENT: number;
};

/**
 * Rows a new column has room for; buffers double as rows come. Small, because a trace may hold
 * thousands of event types (a table each) that see only a few events.
 */
const INITIAL_ROWS = 64;

/** Arrow integer type and typed array constructor for a byte size and signedness. */
export function intKind(size: number, signed: boolean): { type: DataType; ctor: IntCtor } {
  switch (size) {
    case 1:
      return signed
        ? { type: new Int8(), ctor: Int8Array }
        : { type: new Uint8(), ctor: Uint8Array };
    case 2:
      return signed
        ? { type: new Int16(), ctor: Int16Array }
        : { type: new Uint16(), ctor: Uint16Array };
    case 4:
      return signed
        ? { type: new Int32(), ctor: Int32Array }
        : { type: new Uint32(), ctor: Uint32Array };
    default:
      return signed
        ? { type: new Int64(), ctor: BigInt64Array }
        : { type: new Uint64(), ctor: BigUint64Array };
  }
}

/** Validity bitmap, allocated only when a null appears. */
export class Validity {
  bits: Uint8Array | null = null;
  nulls = 0;
  set(i: number, valid: boolean, cap: number): void {
    if (valid) {
      if (this.bits) this.bits[i >> 3]! |= 1 << (i & 7);
      return;
    }
    if (!this.bits) {
      this.bits = new Uint8Array(Math.ceil(cap / 8)).fill(0xff);
    }
    this.bits[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }
  grow(cap: number): void {
    if (this.bits && this.bits.length * 8 < cap) {
      const nb = new Uint8Array(Math.ceil(cap / 8)).fill(0xff);
      nb.set(this.bits);
      this.bits = nb;
    }
  }
  reset(): void {
    this.bits = null;
    this.nulls = 0;
  }
}

/** One column under construction. */
export interface ColumnBuilder {
  /** Column name. */
  readonly name: string;
  /** Arrow type of the column. */
  readonly type: DataType;
  /** Rows appended since the last `finish`. */
  readonly length: number;
  /** Appends from a record (binary sources). */
  appendRecord(v: DataView, bytes: Uint8Array, start: number, len: number): void;
  /** Appends a decoded value (null = unknown). */
  appendValue(x: FieldValue | undefined): void;
  /** The batch's Arrow data; the builder is then empty. */
  finish(): Data;
  /**
   * The batch's buffers and dictionary strings (see {@linkcode ColumnParts}); the builder is then
   * empty. The parts view the builder's buffers, which the next rows overwrite: copy them (or
   * encode them) before appending again.
   */
  parts(): ColumnParts;
}

/**
 * A finished batch of one column as plain typed arrays and strings, so it can be posted to a
 * worker and turned into Arrow `Data` there by {@linkcode dataFromParts}.
 */
export interface ColumnParts {
  /** Rows in the batch. */
  length: number;
  /** Null rows in the batch. */
  nullCount: number;
  /** Validity bitmap (bit set = valid), null when no row is null. */
  nullBitmap: Uint8Array | null;
  /** Values (integer columns) or dictionary indices (string columns). */
  values: IntArray | null;
  /** List offsets. */
  offsets: Int32Array | null;
  /** List items. */
  child: ColumnParts | null;
  /** Dictionary strings (dictionary columns). */
  dict: string[] | null;
}

/**
 * The Arrow data of a column's parts; what every builder's `finish` returns.
 *
 * @param type the column's type (Int*, Dictionary<Utf8, Int32> or List<Int*>)
 * @param p the parts
 * @returns the data (viewing the parts' buffers)
 */
export function dataFromParts(type: DataType, p: ColumnParts): Data {
  const base = { type, length: p.length, nullCount: p.nullCount, nullBitmap: p.nullBitmap };
  if (DataType.isList(type)) {
    return makeData({
      ...base,
      valueOffsets: p.offsets,
      child: dataFromParts((type as List).children[0]!.type, p.child!),
    } as never) as Data;
  }
  if (DataType.isDictionary(type)) {
    const dictionary = vectorFromArray(p.dict ?? [], new Utf8());
    return makeData({ ...base, data: p.values, dictionary } as never) as Data;
  }
  return makeData({ ...base, data: p.values } as never) as Data;
}

/** Bytes {@linkcode packParts} needs for a column's parts. */
export function packedSize(p: ColumnParts): number {
  const pad = (n: number) => (n + 7) & ~7;
  let n = 0;
  if (p.nullBitmap) n += pad(p.nullBitmap.byteLength);
  if (p.values) n += pad(p.values.byteLength);
  if (p.offsets) n += pad(p.offsets.byteLength);
  if (p.child) n += packedSize(p.child);
  return n;
}

/**
 * Copies a column's parts into `buf` from byte `at` (8-byte aligned pieces) and returns the same
 * parts viewing `buf`, so one buffer carries a whole batch to a worker.
 *
 * @param p the parts (viewing a builder's buffers)
 * @param buf the destination, at least {@linkcode packedSize} bytes from `at`
 * @param at where to start (a multiple of 8)
 * @returns the copied parts and the next free byte
 */
export function packParts(
  p: ColumnParts,
  buf: ArrayBufferLike,
  at: number,
): [ColumnParts, number] {
  const copy = <T extends ArrayBufferView>(a: T | null): T | null => {
    if (a === null) return null;
    const len = a.byteLength;
    new Uint8Array(buf, at, len).set(new Uint8Array(a.buffer, a.byteOffset, len));
    const C = a.constructor as unknown as new (b: ArrayBufferLike, o: number, n: number) => T;
    const el = (a as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const out = new C(buf, at, len / el);
    at += (len + 7) & ~7;
    return out;
  };
  const q: ColumnParts = {
    length: p.length,
    nullCount: p.nullCount,
    nullBitmap: copy(p.nullBitmap),
    values: copy(p.values),
    offsets: copy(p.offsets),
    child: null,
    dict: p.dict,
  };
  if (p.child) [q.child, at] = packParts(p.child, buf, at);
  return [q, at];
}

function noParts(length: number): ColumnParts {
  return {
    length,
    nullCount: 0,
    nullBitmap: null,
    values: null,
    offsets: null,
    child: null,
    dict: null,
  };
}

/**
 * Integer column. Values live in one byte buffer written through a DataView, so every integer
 * column shares one shape (monomorphic hot paths); little-endian records are copied byte for byte.
 */
export class IntColumn implements ColumnBuilder {
  /** Arrow integer type of the column (from `size` and `signed`). */
  readonly type: DataType;
  private ctor: IntCtor;
  /** Value bytes (rows `[0, n)` are set). Written directly by `RawTables` on its hot path. */
  buf: Uint8Array = new Uint8Array(INITIAL_ROWS * 8);
  /** `buf` as 32-bit words (host order = little endian). */
  i32: Int32Array = new Int32Array(this.buf.buffer);
  private dv: DataView = new DataView(this.buf.buffer);
  /** Rows `buf` has room for. */
  cap: number;
  /** Rows appended. */
  n = 0;
  /** Null bitmap (allocated at the first null). */
  readonly valid = new Validity();
  /** Records are little endian: values are copied byte for byte. */
  readonly copy: boolean;

  /**
   * Makes an empty integer column.
   *
   * @param name column name
   * @param size byte size (1, 2, 4, 8)
   * @param signed signedness
   * @param field the format field read by `appendRecord` (null for value-only columns)
   * @param le byte order of the records
   */
  constructor(
    readonly name: string,
    readonly size: number,
    readonly signed: boolean,
    readonly field: FieldFormat | null = null,
    readonly le = true,
  ) {
    const k = intKind(size, signed);
    this.type = k.type;
    this.ctor = k.ctor;
    this.cap = this.buf.length / size;
    // Arrow buffers are little endian; so is every host Deno runs on.
    this.copy = le;
  }

  get length(): number {
    return this.n;
  }

  /** Doubles the room. */
  grow(): void {
    this.growTo(this.cap * 2);
  }

  /** Room for at least `rows` rows (one new buffer, its size a power of two times the old). */
  private growTo(rows: number): void {
    let len = this.buf.length * 2;
    while (len < rows * this.size) len *= 2;
    const nb = new Uint8Array(len);
    nb.set(this.buf);
    this.buf = nb;
    this.i32 = new Int32Array(nb.buffer);
    this.dv = new DataView(nb.buffer);
    this.cap = nb.length / this.size;
    this.valid.grow(this.cap);
  }

  /** Makes room for `rows` rows in all. */
  reserve(rows: number): void {
    if (this.cap < rows) this.growTo(rows);
  }

  /**
   * Appends `src[idx[j]]` for `j` in `[a, b)` to a 4-byte column.
   *
   * @param src values
   * @param idx rows of `src` to take
   * @param a first position in `idx`
   * @param b end position in `idx`
   */
  push32Rows(src: Int32Array, idx: Int32Array, a: number, b: number): void {
    let n = this.n;
    this.reserve(n + b - a);
    const w = this.i32;
    for (let j = a; j < b; j++) w[n++] = src[idx[j]!]!;
    this.n = n;
  }

  /** Writes `x` as row `i`, little endian, truncated to the column's size. */
  private put(i: number, x: number | bigint): void {
    const dv = this.dv;
    const o = i * this.size;
    switch (this.size) {
      case 1:
        dv.setUint8(o, Number(x) & 0xff);
        break;
      case 2:
        dv.setUint16(o, Number(x) & 0xffff, true);
        break;
      case 4:
        dv.setUint32(o, Number(x) >>> 0, true);
        break;
      default:
        dv.setBigUint64(o, BigInt.asUintN(64, typeof x === "bigint" ? x : BigInt(x)), true);
    }
  }

  /** Appends a number or bigint (no checks). */
  push(x: number | bigint): void {
    if (this.n >= this.cap) this.grow();
    this.put(this.n++, x);
  }

  /** Appends a 32-bit integer to a 4-byte column (hot path for cpu and pid). */
  push32(x: number): void {
    if (this.n >= this.cap) this.grow();
    this.i32[this.n++] = x;
  }

  /** Appends a byte to a 1-byte column (hot path for flags and preempt_count). */
  push8(x: number): void {
    if (this.n >= this.cap) this.grow();
    this.buf[this.n++] = x;
  }

  appendRecord(v: DataView, b: Uint8Array, start: number, len: number): void {
    const f = this.field!;
    if (this.n >= this.cap) this.grow();
    const size = this.size;
    if (f.offset + size > len) {
      this.valid.set(this.n, false, this.cap);
      this.n++;
      return;
    }
    const at = start + f.offset;
    const o = this.n * size;
    if (this.copy) {
      const dv = this.dv;
      switch (size) {
        case 1:
          this.buf[o] = b[at]!;
          break;
        case 2:
          dv.setUint16(o, v.getUint16(at, true), true);
          break;
        case 4:
          dv.setUint32(o, v.getUint32(at, true), true);
          break;
        default:
          dv.setUint32(o, v.getUint32(at, true), true);
          dv.setUint32(o + 4, v.getUint32(at + 4, true), true);
      }
    } else {
      const dv = this.dv;
      switch (size) {
        case 1:
          dv.setUint8(o, v.getUint8(at));
          break;
        case 2:
          dv.setUint16(o, v.getUint16(at, false), true);
          break;
        case 4:
          dv.setUint32(o, v.getUint32(at, false), true);
          break;
        default:
          dv.setBigUint64(o, v.getBigUint64(at, false), true);
      }
    }
    if (this.valid.bits) this.valid.set(this.n, true, this.cap);
    this.n++;
  }

  appendValue(x: FieldValue | undefined): void {
    if (this.n >= this.cap) this.grow();
    if (typeof x === "number" || typeof x === "bigint" || typeof x === "boolean") {
      this.put(this.n, typeof x === "boolean" ? (x ? 1 : 0) : x);
      if (this.valid.bits) this.valid.set(this.n, true, this.cap);
    } else {
      this.valid.set(this.n, false, this.cap);
    }
    this.n++;
  }

  /**
   * The batch's data. It views this builder's buffers (no copy), which the next rows overwrite:
   * serialize it before appending again (as `TableBuilder.flush` does).
   */
  finish(): Data {
    return dataFromParts(this.type, this.parts());
  }

  parts(): ColumnParts {
    const p = noParts(this.n);
    p.nullCount = this.valid.nulls;
    p.nullBitmap = this.valid.nulls ? this.valid.bits!.subarray(0, Math.ceil(this.n / 8)) : null;
    p.values = new this.ctor(this.buf.buffer as ArrayBuffer, 0, this.n);
    this.n = 0;
    this.valid.reset();
    return p;
  }
}

/**
 * Timestamp column (Int64) taking each value as two 32-bit words (`RawTables.tsPushSplit` splits
 * `add + rel` once for the table and the events index).
 */
export class TsColumn implements ColumnBuilder {
  /** Arrow type of the column: Int64. */
  readonly type: Int64 = new Int64();
  private arr = new BigInt64Array(INITIAL_ROWS);
  private words = new Int32Array(this.arr.buffer);
  private n = 0;
  /**
   * Makes an empty timestamp column.
   *
   * @param name column name
   */
  constructor(readonly name: string) {}

  get length(): number {
    return this.n;
  }

  /** Doubles the room when full. */
  private ensure(): void {
    if (this.n < this.arr.length) return;
    const na = new BigInt64Array(this.arr.length * 2);
    na.set(this.arr);
    this.arr = na;
    this.words = new Int32Array(na.buffer);
  }

  /** Appends the 64-bit value `hi * 2^32 + lo` given as its two 32-bit words. */
  pushWords(lo: number, hi: number): void {
    this.ensure();
    this.words[2 * this.n] = lo;
    this.words[2 * this.n + 1] = hi;
    this.n++;
  }

  /**
   * Appends the times `hi[idx[j]] * 2^32 + lo[idx[j]]` for `j` in `[a, b)`.
   *
   * @param lo low words
   * @param hi high words
   * @param idx rows to take
   * @param a first position in `idx`
   * @param b end position in `idx`
   */
  pushWordsRows(lo: Int32Array, hi: Int32Array, idx: Int32Array, a: number, b: number): void {
    const need = this.n + b - a;
    if (need > this.arr.length) {
      let len = this.arr.length * 2;
      while (len < need) len *= 2;
      const na = new BigInt64Array(len);
      na.set(this.arr);
      this.arr = na;
      this.words = new Int32Array(na.buffer);
    }
    const w = this.words;
    let o = 2 * this.n;
    for (let j = a; j < b; j++) {
      const i = idx[j]!;
      w[o] = lo[i]!;
      w[o + 1] = hi[i]!;
      o += 2;
    }
    this.n = need;
  }

  /** Appends a bigint. */
  push(x: bigint): void {
    this.ensure();
    this.arr[this.n++] = x;
  }

  appendRecord(): void {
    throw new Error("TsColumn is filled by push");
  }

  appendValue(x: FieldValue | undefined): void {
    this.push(typeof x === "bigint" ? x : BigInt(Number(x ?? 0)));
  }

  finish(): Data {
    // A view, not a copy: see IntColumn.finish.
    return dataFromParts(this.type, this.parts());
  }

  parts(): ColumnParts {
    const p = noParts(this.n);
    p.values = this.arr.subarray(0, this.n);
    this.n = 0;
    return p;
  }
}

/** Dictionary-encoded string column (Dictionary<Utf8, Int32>); the dictionary resets per batch. */
export class StringColumn implements ColumnBuilder {
  /** Arrow type of the column: dictionary-encoded Utf8 with Int32 indices. */
  readonly type: Dictionary<Utf8, Int32> = new Dictionary(new Utf8(), new Int32());
  private idx = new Int32Array(INITIAL_ROWS);
  private n = 0;
  private dict = new Map<string, number>();
  private values: string[] = [];
  private valid = new Validity();

  /**
   * Makes an empty string column.
   *
   * @param name column name
   * @param field the format field read by `appendRecord` (null for value-only columns)
   * @param le byte order
   */
  constructor(
    readonly name: string,
    readonly field: FieldFormat | null = null,
    readonly le = true,
  ) {}

  get length(): number {
    return this.n;
  }

  private keyed = new Map<number, number>();
  private lastKey = NaN;
  private lastIdx = 0;
  /** Key -> dictionary index for keys below 1024 (made on first use). */
  private smallKeyed: Int32Array | null = null;

  /**
   * Appends the string identified by a numeric key (e.g. a pid for its comm), computing it only the
   * first time the key appears in this batch.
   *
   * @param key numeric key
   * @param make produces the string
   */
  pushKeyed(key: number, make: (key: number) => string): void {
    let k = this.lastIdx;
    if (key !== this.lastKey) {
      k = this.keyIndex(key);
      if (k < 0) {
        k = this.intern(make(key));
        this.setKeyIndex(key, k);
      }
      this.lastKey = key;
      this.lastIdx = k;
    }
    this.pushIndex(k);
  }

  /**
   * {@linkcode pushKeyed} with the string at hand (no callback).
   *
   * @param key numeric key
   * @param s the string of `key`
   */
  pushKeyedString(key: number, s: string): void {
    let k = this.lastIdx;
    if (key !== this.lastKey) {
      k = this.keyIndex(key);
      if (k < 0) {
        k = this.intern(s);
        this.setKeyIndex(key, k);
      }
      this.lastKey = key;
      this.lastIdx = k;
    }
    this.pushIndex(k);
  }

  /**
   * {@linkcode pushKeyedString} of `keys[idx[j]]`, `names[idx[j]]` for `j` in `[a, b)`.
   *
   * @param keys numeric keys
   * @param names the string of each key
   * @param idx rows to take
   * @param a first position in `idx`
   * @param b end position in `idx`
   */
  pushKeyedRows(keys: Int32Array, names: string[], idx: Int32Array, a: number, b: number): void {
    this.reserve(this.n + b - a);
    const out = this.idx;
    let n = this.n;
    let lastKey = this.lastKey;
    let k = this.lastIdx;
    for (let j = a; j < b; j++) {
      const i = idx[j]!;
      const key = keys[i]!;
      if (key !== lastKey) {
        k = this.keyIndex(key);
        if (k < 0) {
          k = this.intern(names[i]!);
          this.setKeyIndex(key, k);
        }
        lastKey = key;
      }
      out[n++] = k;
    }
    this.lastKey = lastKey;
    this.lastIdx = k;
    this.n = n;
  }

  /**
   * {@linkcode pushKeyedString} of the same key and string `count` times.
   *
   * @param key numeric key
   * @param s the string of `key`
   * @param count rows
   */
  pushKeyedStringN(key: number, s: string, count: number): void {
    if (count <= 0) return;
    this.pushKeyedString(key, s);
    this.reserve(this.n + count - 1);
    this.idx.fill(this.lastIdx, this.n, this.n + count - 1);
    this.n += count - 1;
  }

  /** Makes room for `rows` rows in all. */
  private reserve(rows: number): void {
    if (rows <= this.idx.length) return;
    let len = this.idx.length * 2;
    while (len < rows) len *= 2;
    const na = new Int32Array(len);
    na.set(this.idx);
    this.idx = na;
    this.valid.grow(na.length);
  }

  /** The dictionary index cached for a key in this batch, or -1. */
  private keyIndex(key: number): number {
    if (key >= 0 && key < 1024) {
      const sk = this.smallKeyed;
      return sk === null ? -1 : sk[key]!;
    }
    return this.keyed.get(key) ?? -1;
  }

  /** Caches the dictionary index `k` of a key for this batch. */
  private setKeyIndex(key: number, k: number): void {
    if (key >= 0 && key < 1024) {
      if (this.smallKeyed === null) this.smallKeyed = new Int32Array(1024).fill(-1);
      this.smallKeyed[key] = k;
    } else this.keyed.set(key, k);
  }

  /** The dictionary index of a string (added when new). */
  private intern(s: string): number {
    let k = this.dict.get(s);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(s);
      this.dict.set(s, k);
    }
    return k;
  }

  /** Appends a dictionary index (a valid row). */
  private pushIndex(k: number): void {
    if (this.n >= this.idx.length) {
      const na = new Int32Array(this.idx.length * 2);
      na.set(this.idx);
      this.idx = na;
      this.valid.grow(na.length);
    }
    if (this.valid.bits) this.valid.set(this.n, true, this.idx.length);
    this.idx[this.n++] = k;
  }

  /** Appends a string (null = unknown). */
  push(s: string | null): void {
    if (this.n >= this.idx.length) {
      const na = new Int32Array(this.idx.length * 2);
      na.set(this.idx);
      this.idx = na;
      this.valid.grow(na.length);
    }
    if (s === null) {
      this.valid.set(this.n, false, this.idx.length);
      this.idx[this.n++] = 0;
      return;
    }
    let k = this.dict.get(s);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(s);
      this.dict.set(s, k);
    }
    if (this.valid.bits) this.valid.set(this.n, true, this.idx.length);
    this.idx[this.n++] = k;
  }

  appendRecord(v: DataView, b: Uint8Array, start: number, len: number): void {
    const f = this.field!;
    if (f.kind === "data_loc" || f.kind === "rel_loc") {
      const loc = dynamicLocation(v, start, len, f, this.le);
      this.push(loc ? decodeCString(b, start + loc[0], start + loc[0] + loc[1]) : null);
    } else if (f.kind === "flex") {
      this.push(f.offset <= len ? decodeCString(b, start + f.offset, start + len) : null);
    } else {
      this.push(
        f.offset < len
          ? decodeCString(b, start + f.offset, start + Math.min(len, f.offset + f.size))
          : null,
      );
    }
  }

  appendValue(x: FieldValue | undefined): void {
    if (x === null || x === undefined) this.push(null);
    else if (typeof x === "string") this.push(x);
    else if (Array.isArray(x)) {
      this.push(JSON.stringify(x, (_k, y) => typeof y === "bigint" ? y.toString() : y));
    } else this.push(String(x));
  }

  finish(): Data {
    return dataFromParts(this.type, this.parts());
  }

  parts(): ColumnParts {
    const p = noParts(this.n);
    p.nullCount = this.valid.nulls;
    // Views, not copies: see IntColumn.finish.
    p.nullBitmap = this.valid.nulls ? this.valid.bits!.subarray(0, Math.ceil(this.n / 8)) : null;
    p.values = this.idx.subarray(0, this.n);
    p.dict = this.values;
    this.n = 0;
    this.dict = new Map();
    this.keyed = new Map();
    this.smallKeyed?.fill(-1);
    this.lastKey = NaN;
    this.values = [];
    this.valid.reset();
    return p;
  }
}

/**
 * A dictionary column whose indices are known small integers (a table's ordinal, a buffer's index):
 * no lookups per row; the dictionary is the full list of names at flush time.
 */
export class KeyedDictColumn implements ColumnBuilder {
  readonly type: Dictionary<Utf8, Int32> = new Dictionary(new Utf8(), new Int32());
  private idx = new Int32Array(INITIAL_ROWS);
  private n = 0;

  /**
   * @param name column name
   * @param names the dictionary: index -> string (read at flush; may grow meanwhile)
   */
  constructor(readonly name: string, readonly names: readonly string[]) {}

  get length(): number {
    return this.n;
  }

  /** Appends the index of a name in `names`. */
  push(i: number): void {
    if (this.n >= this.idx.length) {
      const na = new Int32Array(this.idx.length * 2);
      na.set(this.idx);
      this.idx = na;
    }
    this.idx[this.n++] = i;
  }

  /**
   * Appends `src[idx[j]]` for `j` in `[a, b)`.
   *
   * @param src name indices
   * @param idx rows to take
   * @param a first position in `idx`
   * @param b end position in `idx`
   */
  pushRows(src: Int32Array, idx: Int32Array, a: number, b: number): void {
    const need = this.n + b - a;
    if (need > this.idx.length) {
      let len = this.idx.length * 2;
      while (len < need) len *= 2;
      const na = new Int32Array(len);
      na.set(this.idx);
      this.idx = na;
    }
    const out = this.idx;
    let n = this.n;
    for (let j = a; j < b; j++) out[n++] = src[idx[j]!]!;
    this.n = n;
  }

  appendRecord(): void {
    throw new Error("KeyedDictColumn is filled by push");
  }

  appendValue(x: FieldValue | undefined): void {
    const i = this.names.indexOf(String(x ?? ""));
    this.push(i < 0 ? 0 : i);
  }

  finish(): Data {
    return dataFromParts(this.type, this.parts());
  }

  parts(): ColumnParts {
    const p = noParts(this.n);
    p.values = this.idx.subarray(0, this.n);
    p.dict = [...this.names];
    this.n = 0;
    return p;
  }
}

/** List<int> column for non-string arrays (fixed, flexible and `__data_loc` arrays). */
export class ListColumn implements ColumnBuilder {
  readonly type: DataType;
  private child: IntColumn;
  private offsets = new Int32Array(INITIAL_ROWS + 1);
  private n = 0;
  private valid = new Validity();

  /**
   * @param name column name
   * @param field the format field
   * @param le byte order
   */
  constructor(readonly name: string, readonly field: FieldFormat, readonly le = true) {
    const es = [1, 2, 4, 8].includes(field.elemSize) ? field.elemSize : 1;
    this.child = new IntColumn("item", es, field.signed, null, le);
    this.type = new List(new Field("item", this.child.type, true));
  }

  get length(): number {
    return this.n;
  }

  private grow(): void {
    if (this.n + 1 < this.offsets.length) return;
    const na = new Int32Array(this.offsets.length * 2);
    na.set(this.offsets);
    this.offsets = na;
    this.valid.grow(na.length);
  }

  appendRecord(v: DataView, _b: Uint8Array, start: number, len: number): void {
    const f = this.field;
    let at: number;
    let bytes: number;
    if (f.kind === "data_loc" || f.kind === "rel_loc") {
      const loc = dynamicLocation(v, start, len, f, this.le);
      if (!loc) return this.appendValue(null);
      at = loc[0];
      bytes = loc[1];
    } else if (f.kind === "flex") {
      if (f.offset > len) return this.appendValue(null);
      at = f.offset;
      bytes = len - f.offset;
    } else {
      if (f.offset >= len) return this.appendValue(null);
      at = f.offset;
      bytes = Math.min(f.size, len - f.offset);
    }
    const es = this.child.size;
    const count = Math.floor(bytes / es);
    for (let i = 0; i < count; i++) {
      const p = start + at + i * es;
      switch (es) {
        case 1:
          this.child.push(f.signed ? v.getInt8(p) : v.getUint8(p));
          break;
        case 2:
          this.child.push(f.signed ? v.getInt16(p, this.le) : v.getUint16(p, this.le));
          break;
        case 4:
          this.child.push(f.signed ? v.getInt32(p, this.le) : v.getUint32(p, this.le));
          break;
        default:
          this.child.push(f.signed ? v.getBigInt64(p, this.le) : v.getBigUint64(p, this.le));
      }
    }
    this.grow();
    this.valid.set(this.n, true, this.offsets.length);
    this.n++;
    this.offsets[this.n] = this.child.length;
  }

  appendValue(x: FieldValue | undefined): void {
    this.grow();
    if (Array.isArray(x)) {
      for (const e of x as readonly (number | bigint)[]) this.child.appendValue(e);
      this.valid.set(this.n, true, this.offsets.length);
    } else {
      this.valid.set(this.n, false, this.offsets.length);
    }
    this.n++;
    this.offsets[this.n] = this.child.length;
  }

  finish(): Data {
    return dataFromParts(this.type, this.parts());
  }

  parts(): ColumnParts {
    const p = noParts(this.n);
    p.child = this.child.parts();
    p.nullCount = this.valid.nulls;
    p.nullBitmap = this.valid.nulls ? this.valid.bits!.slice(0, Math.ceil(this.n / 8)) : null;
    p.offsets = this.offsets.slice(0, this.n + 1);
    this.n = 0;
    this.offsets = new Int32Array(INITIAL_ROWS + 1);
    this.valid.reset();
    return p;
  }
}

/**
 * The column builder for a format field.
 *
 * @param name column name
 * @param f the field
 * @param le byte order of the records
 * @returns builder
 */
export function columnFor(name: string, f: FieldFormat, le: boolean): ColumnBuilder {
  if (f.isString) return new StringColumn(name, f, le);
  if (f.kind === "int") {
    if ([1, 2, 4, 8].includes(f.size)) return new IntColumn(name, f.size, f.signed, f, le);
    // Odd-sized integers (e.g. 16-byte) are kept as their bytes.
    return new ListColumn(
      name,
      { ...f, kind: "array", elemSize: 1, count: f.size, signed: false },
      le,
    );
  }
  return new ListColumn(name, f, le);
}

/** Re-export for callers that build vectors directly. */
export { makeVector };
