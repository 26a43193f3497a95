/**
 * Arrow encoding of declared tables.
 *
 * A {@linkcode TableSpec} (see `schema.ts`) fixes the Arrow schema of a table: {@linkcode
 * arrowSchemaFor} builds it, {@linkcode rowsToIPC} encodes a list of row objects as one Arrow
 * IPC *stream*, and {@linkcode SpecBatchWriter} encodes rows as they come, emitting one complete
 * IPC stream (schema, dictionaries, one record batch, end marker) per batch of rows. The
 * concatenation of such streams is what a table's `.arrows` file holds.
 *
 * Types: integers map to the Arrow integer of the same width and sign, `u64`/`i64` take
 * `bigint` values (a safe-integer `number` is accepted too), `utf8` is `Dictionary<Utf8, Int32>`
 * (the dictionary is rebuilt per batch), `list<...>` is `List` of non-null items, and nullable
 * columns carry a validity bitmap. Columns are filled into preallocated typed arrays and wrapped
 * with `makeData`, never built value by value through Arrow builders.
 *
 * @module
 */
import {
  Bool,
  type Data,
  type DataType,
  Dictionary,
  Field,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  makeData,
  makeVector,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
} from "apache-arrow";
import type { ColumnSpec, ColumnType, TableSpec } from "./schema.ts";

/** Receives one finished IPC stream per flushed batch. */
export type IPCSink = (bytes: Uint8Array) => void | Promise<void>;

/** Schema-level metadata key holding `<schema>.<name>` of the declared table. */
export const TABLE_METADATA_KEY = "iommu-replay.table";
/** Metadata key (schema and fields) holding the declaration's doc string. */
export const DOC_METADATA_KEY = "iommu-replay.doc";

type ScalarType = Exclude<ColumnType, `list<${string}>`>;
type ListItemType = "i64" | "u64" | "i32" | "u32" | "f64";

function scalarArrowType(t: ScalarType): DataType {
  switch (t) {
    case "i8":
      return new Int8();
    case "u8":
      return new Uint8();
    case "i16":
      return new Int16();
    case "u16":
      return new Uint16();
    case "i32":
      return new Int32();
    case "u32":
      return new Uint32();
    case "i64":
      return new Int64();
    case "u64":
      return new Uint64();
    case "f64":
      return new Float64();
    case "bool":
      return new Bool();
    case "utf8":
      return new Dictionary(new Utf8(), new Int32());
  }
}

function listItem(t: ColumnType): ListItemType | null {
  switch (t) {
    case "list<i64>":
      return "i64";
    case "list<u64>":
      return "u64";
    case "list<i32>":
      return "i32";
    case "list<u32>":
      return "u32";
    case "list<f64>":
      return "f64";
    default:
      return null;
  }
}

/**
 * The Arrow data type of a logical column type.
 *
 * @param t logical type
 * @returns a fresh Arrow type (`utf8` gets a new dictionary id each call)
 * @example
 * ```ts
 * import { arrowTypeFor } from "./arrow.ts";
 * console.assert(String(arrowTypeFor("u64")) === "Uint64");
 * console.assert(String(arrowTypeFor("list<i64>")) === "List<Int64>");
 * ```
 */
export function arrowTypeFor(t: ColumnType): DataType {
  const item = listItem(t);
  if (item !== null) return new List(new Field("item", scalarArrowType(item), false));
  return scalarArrowType(t as ScalarType);
}

function fieldFor(c: ColumnSpec): Field {
  return new Field(
    c.name,
    arrowTypeFor(c.type),
    c.nullable === true,
    new Map([[DOC_METADATA_KEY, c.doc]]),
  );
}

/**
 * The Arrow schema of a declared table. The schema metadata names the table
 * ({@linkcode TABLE_METADATA_KEY}) and every field carries its doc string.
 *
 * @param spec the declaration
 * @returns the Arrow schema (fields in declaration order)
 * @example
 * ```ts
 * import { arrowSchemaFor } from "./arrow.ts";
 * import { defineTable } from "./schema.ts";
 * const s = arrowSchemaFor(defineTable({
 *   schema: "main", name: "t", doc: "d",
 *   columns: [{ name: "a", type: "utf8", doc: "a", nullable: true }],
 * }));
 * console.assert(s.fields[0]!.nullable && String(s.fields[0]!.type) === "Dictionary<Int32, Utf8>");
 * ```
 */
export function arrowSchemaFor(spec: TableSpec): Schema {
  return new Schema(
    spec.columns.map(fieldFor),
    new Map([
      [TABLE_METADATA_KEY, `${spec.schema}.${spec.name}`],
      [DOC_METADATA_KEY, spec.doc],
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Column buffers: one per column, filled row by row into typed arrays, finished into Data.

/** Validity bitmap, allocated only once a null shows up. */
class Validity {
  bits: Uint8Array | null = null;
  nulls = 0;

  constructor(readonly capacity: number) {}

  setNull(i: number): void {
    if (this.bits === null) {
      // All rows before this one were valid.
      this.bits = new Uint8Array(Math.ceil(this.capacity / 8)).fill(0xff);
    }
    this.bits[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }

  /** The bitmap for `n` rows, or undefined when there is no null. */
  finish(n: number): Uint8Array | undefined {
    if (this.bits === null) return undefined;
    return this.bits.subarray(0, Math.ceil(n / 8));
  }
}

interface ColumnBuffer {
  /** Stores row `i`'s value; `value` is never null/undefined here. */
  set(i: number, value: unknown): void;
  validity: Validity;
  finish(n: number): Data;
}

const INT_RANGE: Record<"i8" | "u8" | "i16" | "u16" | "i32" | "u32", [number, number]> = {
  i8: [-128, 127],
  u8: [0, 255],
  i16: [-32768, 32767],
  u16: [0, 65535],
  i32: [-2147483648, 2147483647],
  u32: [0, 4294967295],
};

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Where a value sits, resolved to text only when an error is raised. */
interface Where {
  /** `<schema>.<table>.<column>` */
  readonly label: string;
  /** Row number of the batch's first row. */
  base(): number;
}

function bad(where: Where, i: number, what: string, value: unknown): never {
  const shown = typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value);
  throw new TypeError(`${where.label} (row ${where.base() + i}): ${what}, got ${shown}`);
}

function toInt(value: unknown, t: keyof typeof INT_RANGE, where: Where, i: number): number {
  const v = typeof value === "bigint" ? Number(value) : value;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    bad(where, i, `expected an integer (${t})`, value);
  }
  const [lo, hi] = INT_RANGE[t];
  if (v < lo || v > hi) bad(where, i, `out of range for ${t}`, value);
  return v;
}

function toBig(value: unknown, signed: boolean, where: Where, i: number): bigint {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
  else return bad(where, i, `expected a bigint (${signed ? "i64" : "u64"})`, value);
  if (signed ? v < I64_MIN || v > I64_MAX : v < 0n || v > U64_MAX) {
    bad(where, i, `out of range for ${signed ? "i64" : "u64"}`, value);
  }
  return v;
}

function toF64(value: unknown, where: Where, i: number): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return bad(where, i, "expected a number (f64)", value);
}

class IntBuffer implements ColumnBuffer {
  readonly validity: Validity;
  values: Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
  constructor(
    readonly type: DataType,
    readonly t: keyof typeof INT_RANGE,
    capacity: number,
    readonly where: Where,
  ) {
    this.validity = new Validity(capacity);
    const ctor = {
      i8: Int8Array,
      u8: Uint8Array,
      i16: Int16Array,
      u16: Uint16Array,
      i32: Int32Array,
      u32: Uint32Array,
    }[t];
    this.values = new ctor(capacity);
  }
  set(i: number, value: unknown): void {
    this.values[i] = toInt(value, this.t, this.where, i);
  }
  finish(n: number): Data {
    return makeData({
      type: this.type,
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.finish(n),
      data: this.values.subarray(0, n),
    } as never);
  }
}

class BigBuffer implements ColumnBuffer {
  readonly validity: Validity;
  values: BigInt64Array | BigUint64Array;
  constructor(readonly signed: boolean, capacity: number, readonly where: Where) {
    this.validity = new Validity(capacity);
    this.values = signed ? new BigInt64Array(capacity) : new BigUint64Array(capacity);
  }
  set(i: number, value: unknown): void {
    this.values[i] = toBig(value, this.signed, this.where, i);
  }
  finish(n: number): Data {
    return makeData({
      type: this.signed ? new Int64() : new Uint64(),
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.finish(n),
      data: this.values.subarray(0, n),
    } as never);
  }
}

class F64Buffer implements ColumnBuffer {
  readonly validity: Validity;
  values: Float64Array;
  constructor(capacity: number, readonly where: Where) {
    this.validity = new Validity(capacity);
    this.values = new Float64Array(capacity);
  }
  set(i: number, value: unknown): void {
    this.values[i] = toF64(value, this.where, i);
  }
  finish(n: number): Data {
    return makeData({
      type: new Float64(),
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.finish(n),
      data: this.values.subarray(0, n),
    });
  }
}

class BoolBuffer implements ColumnBuffer {
  readonly validity: Validity;
  bits: Uint8Array;
  constructor(capacity: number, readonly where: Where) {
    this.validity = new Validity(capacity);
    this.bits = new Uint8Array(Math.ceil(capacity / 8));
  }
  set(i: number, value: unknown): void {
    if (typeof value !== "boolean") bad(this.where, i, "expected a boolean", value);
    if (value) this.bits[i >> 3]! |= 1 << (i & 7);
  }
  finish(n: number): Data {
    return makeData({
      type: new Bool(),
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.finish(n),
      data: this.bits.subarray(0, Math.ceil(n / 8)),
    });
  }
}

const encoder = new TextEncoder();

/** Utf8 data from a list of strings, built from one offsets array and one byte buffer. */
function utf8Data(strings: readonly string[]): Data<Utf8> {
  const offsets = new Int32Array(strings.length + 1);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < strings.length; i++) {
    const b = encoder.encode(strings[i]!);
    parts.push(b);
    total += b.length;
    if (total > 0x7fffffff) throw new RangeError("string dictionary larger than 2 GiB");
    offsets[i + 1] = total;
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return makeData({ type: new Utf8(), length: strings.length, valueOffsets: offsets, data: bytes });
}

class DictBuffer implements ColumnBuffer {
  readonly validity: Validity;
  indices: Int32Array;
  readonly index = new Map<string, number>();
  readonly values: string[] = [];
  constructor(readonly type: DataType, capacity: number, readonly where: Where) {
    this.validity = new Validity(capacity);
    this.indices = new Int32Array(capacity);
  }
  set(i: number, value: unknown): void {
    if (typeof value !== "string") bad(this.where, i, "expected a string", value);
    let k = this.index.get(value);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(value);
      this.index.set(value, k);
    }
    this.indices[i] = k;
  }
  finish(n: number): Data {
    return makeData({
      type: this.type,
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.finish(n),
      data: this.indices.subarray(0, n),
      dictionary: makeVector(utf8Data(this.values)),
    } as never);
  }
}

type ItemArray = BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Float64Array;

function itemArray(t: ListItemType, n: number): ItemArray {
  switch (t) {
    case "i64":
      return new BigInt64Array(n);
    case "u64":
      return new BigUint64Array(n);
    case "i32":
      return new Int32Array(n);
    case "u32":
      return new Uint32Array(n);
    case "f64":
      return new Float64Array(n);
  }
}

class ListBuffer implements ColumnBuffer {
  readonly validity: Validity;
  offsets: Int32Array;
  items: ItemArray;
  count = 0;
  constructor(
    readonly type: List,
    readonly item: ListItemType,
    capacity: number,
    readonly where: Where,
  ) {
    this.validity = new Validity(capacity);
    this.offsets = new Int32Array(capacity + 1);
    this.items = itemArray(item, Math.max(16, capacity));
  }
  private put(v: unknown, i: number): void {
    const where = this.where;
    if (this.count === this.items.length) {
      const grown = itemArray(this.item, this.items.length * 2);
      grown.set(this.items as never);
      this.items = grown;
    }
    const k = this.count++;
    switch (this.item) {
      case "i64":
      case "u64":
        (this.items as BigInt64Array)[k] = toBig(v, this.item === "i64", where, i);
        break;
      case "i32":
      case "u32":
        (this.items as Int32Array)[k] = toInt(v, this.item, where, i);
        break;
      case "f64":
        (this.items as Float64Array)[k] = toF64(v, where, i);
        break;
    }
  }
  set(i: number, value: unknown): void {
    const where = this.where;
    if (typeof value !== "object" || value === null || !(Symbol.iterator in value)) {
      bad(where, i, "expected an array", value);
    }
    for (const v of value as Iterable<unknown>) this.put(v, i);
    if (this.count > 0x7fffffff) throw new RangeError(`${where.label}: list batch too large`);
    this.offsets[i + 1] = this.count;
  }
  finish(n: number): Data {
    // Rows never set (nulls) repeat the previous offset.
    for (let i = 1; i <= n; i++) {
      if (this.offsets[i]! < this.offsets[i - 1]!) this.offsets[i] = this.offsets[i - 1]!;
    }
    const end = this.offsets[n]!;
    const child = makeData({
      type: this.type.children[0]!.type,
      length: end,
      nullCount: 0,
      data: this.items.subarray(0, end),
    } as never);
    return makeData({
      type: this.type,
      length: n,
      nullCount: this.validity.nulls,
      nullBitmap: this.validity.finish(n),
      valueOffsets: this.offsets.subarray(0, n + 1),
      child,
    } as never);
  }
}

function makeBuffer(
  spec: TableSpec,
  field: Field,
  col: ColumnSpec,
  capacity: number,
  rowBase: () => number,
): ColumnBuffer {
  const where: Where = { label: `${spec.schema}.${spec.name}.${col.name}`, base: rowBase };
  const t = col.type;
  const item = listItem(t);
  if (item !== null) return new ListBuffer(field.type as List, item, capacity, where);
  switch (t as ScalarType) {
    case "i8":
    case "u8":
    case "i16":
    case "u16":
    case "i32":
    case "u32":
      return new IntBuffer(field.type, t as keyof typeof INT_RANGE, capacity, where);
    case "i64":
      return new BigBuffer(true, capacity, where);
    case "u64":
      return new BigBuffer(false, capacity, where);
    case "f64":
      return new F64Buffer(capacity, where);
    case "bool":
      return new BoolBuffer(capacity, where);
    case "utf8":
      return new DictBuffer(field.type, capacity, where);
  }
}

/** Fills one batch of rows. */
class BatchBuilder {
  readonly buffers: ColumnBuffer[];
  n = 0;
  constructor(
    readonly spec: TableSpec,
    readonly schema: Schema,
    readonly capacity: number,
    rowBase: () => number,
  ) {
    this.buffers = spec.columns.map((c, i) =>
      makeBuffer(spec, schema.fields[i]!, c, capacity, rowBase)
    );
  }

  add(row: object): void {
    const i = this.n;
    const r = row as Record<string, unknown>;
    const cols = this.spec.columns;
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      const v = r[col.name];
      const b = this.buffers[c]!;
      if (v === null || v === undefined) {
        if (col.nullable !== true) {
          throw new TypeError(
            `${this.spec.schema}.${this.spec.name}.${col.name}: null in a non-nullable column`,
          );
        }
        b.validity.setNull(i);
      } else {
        b.set(i, v);
      }
    }
    this.n++;
  }

  finish(): RecordBatch {
    const n = this.n;
    const children = this.buffers.map((b) => b.finish(n));
    const data = makeData({
      type: new Struct(this.schema.fields),
      length: n,
      nullCount: 0,
      children,
    } as never);
    return new RecordBatch(this.schema, data as never);
  }
}

function streamOf(schema: Schema, batches: RecordBatch[]): Uint8Array {
  const w = new RecordBatchStreamWriter();
  w.reset(undefined, schema);
  for (const b of batches) w.write(b);
  w.finish();
  return w.toUint8Array(true);
}

/**
 * Encodes rows of a declared table as one Arrow IPC stream (one record batch; a schema-only
 * stream when `rows` is empty).
 *
 * @param spec the table declaration
 * @param rows row objects keyed by column name (extra keys are ignored)
 * @returns the IPC stream bytes
 * @throws {TypeError} when a value does not fit its column (wrong type, out of range, null in a
 * non-nullable column); the message names the table, column and row
 * @example
 * ```ts
 * import { rowsToIPC } from "./arrow.ts";
 * import { defineTable } from "./schema.ts";
 * import { tableFromIPC } from "apache-arrow";
 * const spec = defineTable({
 *   schema: "main", name: "t", doc: "d",
 *   columns: [{ name: "addr", type: "u64", doc: "a" }, { name: "dev", type: "utf8", doc: "d" }],
 * });
 * const t = tableFromIPC(rowsToIPC(spec, [{ addr: 4096n, dev: "0000:00:01.0" }]));
 * console.assert(t.numRows === 1 && t.getChild("addr")!.get(0) === 4096n);
 * ```
 */
export function rowsToIPC(spec: TableSpec, rows: readonly object[]): Uint8Array {
  const schema = arrowSchemaFor(spec);
  if (rows.length === 0) return streamOf(schema, []);
  const b = new BatchBuilder(spec, schema, rows.length, () => 0);
  for (const r of rows) b.add(r);
  return streamOf(schema, [b.finish()]);
}

/** Options of {@linkcode SpecBatchWriter}. */
export interface SpecBatchWriterOptions {
  /** Rows per record batch (and per emitted IPC stream). Default 65536. */
  batchRows?: number;
}

/**
 * Streams rows of a declared table into Arrow IPC: every `batchRows` rows become one complete
 * IPC stream handed to the sink, so memory holds at most one batch. A table's file is the
 * concatenation of the streams. {@linkcode SpecBatchWriter.close} flushes the rest; if no row
 * was ever written it emits one schema-only stream so the (empty) table still exists.
 *
 * @example
 * ```ts
 * import { SpecBatchWriter } from "./arrow.ts";
 * import { defineTable } from "./schema.ts";
 * const spec = defineTable({
 *   schema: "main", name: "t", doc: "d", columns: [{ name: "x", type: "i32", doc: "x" }],
 * });
 * const out: Uint8Array[] = [];
 * const w = new SpecBatchWriter(spec, (b) => { out.push(b); }, { batchRows: 2 });
 * for (let x = 0; x < 5; x++) await w.append({ x });
 * await w.close();
 * console.assert(out.length === 3 && w.rowsWritten === 5);
 * ```
 */
export class SpecBatchWriter {
  /** The Arrow schema every emitted stream carries. */
  readonly schema: Schema;
  /** Rows per batch. */
  readonly batchRows: number;
  #builder: BatchBuilder;
  #rows = 0;
  #batches = 0;
  #closed = false;

  /**
   * Creates a writer.
   *
   * @param spec the table declaration
   * @param sink receives one IPC stream per batch (may return a promise: awaited before the
   * next batch is built)
   * @param options batch size
   */
  constructor(
    readonly spec: TableSpec,
    readonly sink: IPCSink,
    options: SpecBatchWriterOptions = {},
  ) {
    const n = options.batchRows ?? 65536;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`batchRows must be >= 1, got ${n}`);
    this.batchRows = n;
    this.schema = arrowSchemaFor(spec);
    this.#builder = this.#newBuilder();
  }

  #newBuilder(): BatchBuilder {
    const base = this.#rows;
    return new BatchBuilder(this.spec, this.schema, this.batchRows, () => base);
  }

  /** Rows appended so far. */
  get rowsWritten(): number {
    return this.#rows + this.#builder.n;
  }

  /** IPC streams handed to the sink so far. */
  get batchesWritten(): number {
    return this.#batches;
  }

  /**
   * Appends one row. When the batch becomes full it is flushed; the result is then the sink's
   * promise (if it returned one), otherwise `undefined`. `await w.append(row)` is always right;
   * hot loops may skip the await when the result is undefined.
   *
   * @param row row object keyed by column name
   * @returns undefined, or a promise when a flush to an async sink is under way
   * @throws {TypeError} when a value does not fit its column, or after close
   */
  append(row: object): void | Promise<void> {
    if (this.#closed) throw new TypeError(`${this.spec.name}: append after close`);
    this.#builder.add(row);
    if (this.#builder.n >= this.batchRows) return this.flush();
  }

  /**
   * Appends many rows, awaiting the sink as batches fill.
   *
   * @param rows row objects
   * @returns when every row is buffered or flushed
   */
  async appendAll(rows: Iterable<object> | AsyncIterable<object>): Promise<void> {
    for await (const r of rows) {
      const p = this.append(r);
      if (p) await p;
    }
  }

  /**
   * Emits the buffered rows (if any) as one IPC stream.
   *
   * @returns the sink's promise, or undefined
   */
  flush(): void | Promise<void> {
    const b = this.#builder;
    if (b.n === 0) return;
    const bytes = streamOf(this.schema, [b.finish()]);
    this.#rows += b.n;
    this.#batches++;
    this.#builder = this.#newBuilder();
    return this.sink(bytes);
  }

  /**
   * Flushes the rest and closes the writer. Emits a schema-only stream if nothing was written.
   *
   * @returns when the sink has taken the last stream
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#batches === 0) {
      this.#batches++;
      await this.sink(streamOf(this.schema, []));
    }
  }
}
