/**
 * Raw event tables: one Arrow table per event type (`<system>.<event>`), typed from the format
 * file, plus the `main.events` index, written as record batches of bounded size. Each flushed
 * batch is one complete Arrow IPC stream (schema, dictionaries, batch, end marker); a table's file
 * is the concatenation of its streams.
 *
 * Columns: `ts` (int64 ns), `cpu`, `pid`, `comm`, `flags`, `preempt_count`, `buffer`, then the
 * event's own fields under their format-file names. An own field whose name collides with one of
 * those common columns is renamed `f_<name>` (e.g. `sched_load_se.pid` -> `f_pid`).
 *
 * @module
 */
import {
  AsyncByteQueue,
  type Data,
  Field,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
} from "apache-arrow";
import { TraceError } from "../../core/errors.ts";
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat, FieldFormat } from "../format/types.ts";
import {
  type ColumnBuilder,
  columnFor,
  type ColumnParts,
  dataFromParts,
  IntColumn,
  KeyedDictColumn,
  ListColumn,
  StringColumn,
  TsColumn,
} from "./columns.ts";
import type { RecordRows } from "./record_rows.ts";

/** A table's finished batch as column parts, to be encoded by {@linkcode encodeBatch}. */
export interface BatchParts {
  /** The table's Arrow schema (the same object for every batch of a table). */
  schema: Schema;
  /** Rows in the batch. */
  length: number;
  /** One per schema field. */
  columns: ColumnParts[];
}

/**
 * One batch as one complete Arrow IPC stream (schema, dictionaries, batch, end marker): the bytes
 * of every `.arrows` file, whichever thread encodes them.
 *
 * @param schema the table's schema
 * @param length rows
 * @param columns the columns' parts, in schema order
 * @returns the IPC stream
 */
export function encodeBatch(schema: Schema, length: number, columns: ColumnParts[]): Uint8Array {
  const { chunks, size } = encodeBatchChunks(schema, length, columns);
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Keeps the pieces an Arrow writer emits (its own queue would be joined into a new buffer). */
class ChunkList extends AsyncByteQueue {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  override write(value: Parameters<AsyncByteQueue["write"]>[0]): void {
    // The writer hands over Uint8Arrays (its `_write` converts every piece).
    const b = value as Uint8Array;
    if (b.byteLength > 0) {
      this.chunks.push(b);
      this.size += b.byteLength;
    }
  }
}

/**
 * {@linkcode encodeBatch} as the pieces of the stream, in order (some view `columns`' buffers), so
 * a writer can copy them into a buffer it reuses: a new buffer per batch costs its page faults.
 *
 * @param schema the table's schema
 * @param length rows
 * @param columns the columns' parts, in schema order
 * @returns the pieces and their total size
 */
export function encodeBatchChunks(
  schema: Schema,
  length: number,
  columns: ColumnParts[],
): { chunks: Uint8Array[]; size: number } {
  const children: Data[] = columns.map((p, i) => dataFromParts(schema.fields[i]!.type, p));
  const data = makeData({ type: new Struct(schema.fields), length, children } as never);
  const batch = new RecordBatch(schema, data as never);
  // What `RecordBatchStreamWriter.writeAll([batch])` does, into a ChunkList.
  const sink = new ChunkList();
  const w = new RecordBatchStreamWriter();
  w.reset(sink);
  w.write(batch);
  w.finish();
  return { chunks: sink.chunks, size: sink.size };
}

/** Receives finished IPC streams. */
export interface IpcSink {
  /** Called once per flushed batch of a table. May start an asynchronous write. */
  write(schema: string, table: string, ipc: Uint8Array): void;
  /**
   * When present, called instead of `write` with the batch's column parts (e.g. copied to a
   * worker that encodes and writes them). They view buffers the next rows overwrite: the sink
   * copies what it keeps before it returns.
   */
  writeParts?(schema: string, table: string, batch: BatchParts): void;
  /**
   * Optional back-pressure: a promise to await before producing more when too many bytes are still
   * being written, or null when the producer may go on.
   */
  backpressure?(): Promise<void> | null;
}

/** Names of the common columns, in order. */
export const COMMON_COLUMNS = ["ts", "cpu", "pid", "comm", "flags", "preempt_count", "buffer"];

/**
 * The column name of an event's own field.
 *
 * @param name field name from the format file
 * @param taken names already used
 * @returns `name`, or `f_<name>` if it collides with a common column
 */
export function ownColumnName(name: string, taken: Set<string>): string {
  let n = name;
  if (taken.has(n)) n = `f_${name}`;
  while (taken.has(n)) n += "_";
  taken.add(n);
  return n;
}

/** How a source field became a column (written to the manifest). */
export interface ColumnInfo {
  /** Column name in the table. */
  name: string;
  /** Format-file field it came from (null for common columns). */
  field: string | null;
  /** Arrow type, as text. */
  type: string;
}

/** A table being built. */
export class TableBuilder {
  /** The `ts` column (always first). */
  readonly ts: TsColumn;
  /** Every column in schema order: `ts`, the common columns, then the event's own. */
  readonly cols: ColumnBuilder[];
  /** The event's own columns. */
  readonly own: ColumnBuilder[];
  /** How each column was made, in schema order (written to the manifest). */
  readonly info: ColumnInfo[];
  /** The table's Arrow schema (one object for every batch). */
  readonly schemaObj: Schema;
  /** Rows appended so far. */
  rows = 0;
  /** Rows flushed to the sink so far. */
  written = 0;

  /**
   * Makes an empty table.
   *
   * @param schema DuckDB schema (the trace system, or `main`)
   * @param name table name
   * @param common the common columns after `ts`
   * @param own the event's own columns
   * @param ownFields source field names of `own`
   */
  constructor(
    readonly schema: string,
    readonly name: string,
    common: ColumnBuilder[],
    own: ColumnBuilder[],
    ownFields: (string | null)[],
  ) {
    this.ts = new TsColumn("ts");
    this.own = own;
    this.cols = [this.ts, ...common, ...own];
    this.schemaObj = new Schema(this.cols.map((c) => new Field(c.name, c.type, true)));
    this.info = this.cols.map((c, i) => ({
      name: c.name,
      field: i > common.length ? ownFields[i - common.length - 1] ?? null : null,
      type: String(c.type),
    }));
  }

  /** Builds this batch's IPC stream and empties the builders. */
  flush(): Uint8Array | null {
    const n = this.ts.length;
    if (n === 0) return null;
    const parts = this.cols.map((c) => c.parts());
    this.written += n;
    return encodeBatch(this.schemaObj, n, parts);
  }

  /**
   * This batch's column parts and empties the builders. The parts view the builders' buffers:
   * copy them before appending again.
   */
  flushParts(): BatchParts | null {
    const n = this.ts.length;
    if (n === 0) return null;
    const columns = this.cols.map((c) => c.parts());
    this.written += n;
    return { schema: this.schemaObj, length: n, columns };
  }
}

/** Appends to a 4-byte integer column (the hot path of `addRecord`, inlined by hand). */
function put32(c: IntColumn, x: number): void {
  const n = c.n;
  if (n >= c.cap) c.grow();
  c.i32[n] = x;
  c.n = n + 1;
}

/** Appends to a 1-byte integer column. */
function put8(c: IntColumn, x: number): void {
  const n = c.n;
  if (n >= c.cap) c.grow();
  c.buf[n] = x;
  c.n = n + 1;
}

/** Appends to a 1-byte column the byte at `at` of each row's record (0 past its end). */
function rowBytes(
  col: IntColumn,
  at: number,
  r: RecordRows,
  g: Int32Array,
  a: number,
  b: number,
): void {
  const bytes = r.bytes, buf = r.buf, start = r.start, len = r.len;
  let n = col.n;
  col.reserve(n + b - a);
  const w = col.buf;
  for (let j = a; j < b; j++) {
    const i = g[j]!;
    w[n++] = at < len[i]! ? bytes[buf[i]!]![start[i]! + at]! : 0;
  }
  col.n = n;
}

/**
 * Appends a planned 8-byte field of each row's record (`appendRecord` for a record shorter than
 * the plan's `min`). The next three are the same for 4, 2 and 1 bytes.
 */
function rows8(
  col: IntColumn,
  o: number,
  min: number,
  r: RecordRows,
  g: Int32Array,
  a: number,
  b: number,
): void {
  const views = r.views, buf = r.buf, start = r.start, len = r.len;
  col.reserve(col.n + b - a);
  let w = col.i32;
  let n = col.n;
  for (let j = a; j < b; j++) {
    const i = g[j]!;
    const l = len[i]!;
    if (l >= min) {
      const v = views[buf[i]!]!, at = start[i]! + o;
      w[2 * n] = v.getInt32(at, true);
      w[2 * n + 1] = v.getInt32(at + 4, true);
      n++;
    } else {
      col.n = n;
      col.appendRecord(views[buf[i]!]!, r.bytes[buf[i]!]!, start[i]!, l);
      w = col.i32;
      n = col.n;
    }
  }
  col.n = n;
}

/** {@linkcode rows8} for a 4-byte field. */
function rows4(
  col: IntColumn,
  o: number,
  min: number,
  r: RecordRows,
  g: Int32Array,
  a: number,
  b: number,
): void {
  const views = r.views, buf = r.buf, start = r.start, len = r.len;
  col.reserve(col.n + b - a);
  let w = col.i32;
  let n = col.n;
  for (let j = a; j < b; j++) {
    const i = g[j]!;
    const l = len[i]!;
    if (l >= min) w[n++] = views[buf[i]!]!.getInt32(start[i]! + o, true);
    else {
      col.n = n;
      col.appendRecord(views[buf[i]!]!, r.bytes[buf[i]!]!, start[i]!, l);
      w = col.i32;
      n = col.n;
    }
  }
  col.n = n;
}

/** {@linkcode rows8} for a 2-byte field. */
function rows2(
  col: IntColumn,
  o: number,
  min: number,
  r: RecordRows,
  g: Int32Array,
  a: number,
  b: number,
): void {
  const bytes = r.bytes, buf = r.buf, start = r.start, len = r.len;
  col.reserve(col.n + b - a);
  let w = col.buf;
  let n = col.n;
  for (let j = a; j < b; j++) {
    const i = g[j]!;
    const l = len[i]!;
    if (l >= min) {
      const by = bytes[buf[i]!]!, at = start[i]! + o;
      w[2 * n] = by[at]!;
      w[2 * n + 1] = by[at + 1]!;
      n++;
    } else {
      col.n = n;
      col.appendRecord(r.views[buf[i]!]!, bytes[buf[i]!]!, start[i]!, l);
      w = col.buf;
      n = col.n;
    }
  }
  col.n = n;
}

/** {@linkcode rows8} for a 1-byte field. */
function rows1(
  col: IntColumn,
  o: number,
  min: number,
  r: RecordRows,
  g: Int32Array,
  a: number,
  b: number,
): void {
  const bytes = r.bytes, buf = r.buf, start = r.start, len = r.len;
  col.reserve(col.n + b - a);
  let w = col.buf;
  let n = col.n;
  for (let j = a; j < b; j++) {
    const i = g[j]!;
    const l = len[i]!;
    if (l >= min) w[n++] = bytes[buf[i]!]![start[i]! + o]!;
    else {
      col.n = n;
      col.appendRecord(r.views[buf[i]!]!, bytes[buf[i]!]!, start[i]!, l);
      w = col.buf;
      n = col.n;
    }
  }
  col.n = n;
}

/** Appends each row's record to a column not in the plan (strings, lists, ...). */
function rowsAppend(
  col: ColumnBuilder,
  r: RecordRows,
  g: Int32Array,
  a: number,
  b: number,
): void {
  const views = r.views, bytes = r.bytes, buf = r.buf, start = r.start, len = r.len;
  for (let j = a; j < b; j++) {
    const i = g[j]!;
    col.appendRecord(views[buf[i]!]!, bytes[buf[i]!]!, start[i]!, len[i]!);
  }
}

/** Common columns of an event table. */
export interface CommonColumns {
  /** `cpu` column (UInt32). */
  cpu: IntColumn;
  /** `pid` column: common_pid (Int32). */
  pid: IntColumn;
  /** `comm` column: command name of pid. */
  comm: StringColumn;
  /** `flags` column: common_flags (UInt8). */
  flags: IntColumn;
  /** `preempt_count` column: common_preempt_count (UInt8). */
  preempt: IntColumn;
  /** `buffer` column: buffer instance (`''` = top-level buffer). */
  buffer: StringColumn;
}

/** An event type's table with typed access to its common columns. */
export interface EventTable {
  /** The table's column builders. */
  builder: TableBuilder;
  /** Its common columns, for typed appends. */
  common: CommonColumns;
  /** The event's format (binary sources), null for tables built from decoded fields and the index. */
  format: EventFormat | null;
  /** Source field names of the own columns, in order. */
  fieldNames: string[];
  /** Position of this table among the trace's tables (a small integer key). */
  ordinal: number;
  /** How `addRecord` copies the own fields (null: column by column). */
  plan?: RecordPlan | null;
  /**
   * Offsets of `common_flags` and `common_preempt_count` in the records (binary tables; 2 and 3
   * when the format lacks them), for `addRecordRows`.
   */
  flagsAt?: number;
  /** See `flagsAt`. */
  preemptAt?: number;
}

/**
 * The own integer columns of a binary table grouped by byte size, with their record offsets, so
 * a record long enough for all of them is copied by four tight loops instead of a call per column.
 */
export interface RecordPlan {
  /** Shortest record holding every planned field (shorter ones take the per-column path). */
  minLen: number;
  /** 8-byte planned columns. */
  c8: IntColumn[];
  /** Record offsets of `c8`, same order. */
  o8: number[];
  /** 4-byte planned columns. */
  c4: IntColumn[];
  /** Record offsets of `c4`, same order. */
  o4: number[];
  /** 2-byte planned columns. */
  c2: IntColumn[];
  /** Record offsets of `c2`, same order. */
  o2: number[];
  /** 1-byte planned columns. */
  c1: IntColumn[];
  /** Record offsets of `c1`, same order. */
  o1: number[];
  /** Columns not planned (strings, lists, big-endian records), appended one by one. */
  rest: ColumnBuilder[];
}

/** The plan of a table's own columns, or null when none is a little-endian integer field. */
function recordPlan(own: ColumnBuilder[]): RecordPlan | null {
  const p: RecordPlan = {
    minLen: 0,
    c8: [],
    o8: [],
    c4: [],
    o4: [],
    c2: [],
    o2: [],
    c1: [],
    o1: [],
    rest: [],
  };
  let planned = 0;
  for (const c of own) {
    if (!(c instanceof IntColumn) || c.field === null || !c.copy) {
      p.rest.push(c);
      continue;
    }
    const off = c.field.offset;
    p.minLen = Math.max(p.minLen, off + c.size);
    planned++;
    if (c.size === 8) (p.c8.push(c), p.o8.push(off));
    else if (c.size === 4) (p.c4.push(c), p.o4.push(off));
    else if (c.size === 2) (p.c2.push(c), p.o2.push(off));
    else (p.c1.push(c), p.o1.push(off));
  }
  return planned > 0 ? p : null;
}

function makeCommon(): CommonColumns {
  return {
    cpu: new IntColumn("cpu", 4, false),
    pid: new IntColumn("pid", 4, true),
    comm: new StringColumn("comm"),
    flags: new IntColumn("flags", 1, false),
    preempt: new IntColumn("preempt_count", 1, false),
    buffer: new StringColumn("buffer"),
  };
}

function commonList(c: CommonColumns): ColumnBuilder[] {
  return [c.cpu, c.pid, c.comm, c.flags, c.preempt, c.buffer];
}

/**
 * Most event types (tables) one trace may create. A kernel has about 2,500 tracepoints; a text
 * trace naming a new event on every line would otherwise cost a table (and its time) per line.
 */
export const MAX_EVENT_TABLES = 8192;

/** Options of {@linkcode RawTables}. */
export interface RawTablesOptions {
  /** Rows per record batch (default 65536). */
  batchRows?: number;
  /** Also build `main.events` (default true). */
  eventsIndex?: boolean;
  /** Most tables (default {@linkcode MAX_EVENT_TABLES}); one more is `limit_exceeded`. */
  maxTables?: number;
  /** The input's name, for that error (default `<trace>`). */
  file?: string;
}

/**
 * All raw tables of one trace, flushing full batches to a sink.
 *
 * @example
 * ```ts
 * import { RawTables } from "./raw_tables.ts";
 * const out: string[] = [];
 * const rt = new RawTables({ write: (s, t) => out.push(`${s}.${t}`) });
 * const t = rt.tableForFields("demo", "ev", [{ name: "x", value: 1 }]);
 * rt.addValues(t, 5n, 0, 1, "a", 0, 0, "", [1]);
 * rt.finish();
 * console.assert(out.includes("demo.ev") && out.includes("main.events"));
 * ```
 */
export class RawTables {
  private byKey = new Map<string, EventTable>();
  private tables: EventTable[] = [];
  private index: EventTable | null;
  private indexSys: KeyedDictColumn | null = null;
  private indexEv: KeyedDictColumn | null = null;
  /** Table ordinal -> system / event name (the index's dictionaries). */
  private readonly sysNames: string[] = [];
  private readonly evNames: string[] = [];
  /** Rows per record batch (a table is flushed when it reaches this many). */
  readonly batchRows: number;
  private readonly maxTables: number;
  private readonly file: string;

  /**
   * Makes an empty set of tables (with the `main.events` index unless `opts.eventsIndex` is false).
   *
   * @param sink receives IPC streams
   * @param opts batch size, index
   */
  constructor(readonly sink: IpcSink, opts: RawTablesOptions = {}) {
    this.batchRows = opts.batchRows ?? 65536;
    this.maxTables = opts.maxTables ?? MAX_EVENT_TABLES;
    this.file = opts.file ?? "<trace>";
    if (opts.eventsIndex ?? true) {
      const common = makeCommon();
      this.indexSys = new KeyedDictColumn("system", this.sysNames);
      this.indexEv = new KeyedDictColumn("event", this.evNames);
      const b = new TableBuilder(
        "main",
        "events",
        [common.cpu, common.pid, common.comm, this.indexSys, this.indexEv, common.buffer],
        [],
        [],
      );
      this.index = { builder: b, common, format: null, fieldNames: [], ordinal: -1 };
    } else this.index = null;
  }

  /** All tables created so far (not including the index). */
  get all(): readonly EventTable[] {
    return this.tables;
  }

  /** The events index table, if built. */
  get eventsIndex(): EventTable | null {
    return this.index;
  }

  /**
   * The table of an event type known by its format (binary sources).
   *
   * @param f the format
   * @param le byte order of the records
   * @returns the table
   */
  tableForFormat(f: EventFormat, le: boolean): EventTable {
    const key = `${f.system}\0${f.name}`;
    let t = this.byKey.get(key);
    if (t) return t;
    const taken = new Set(COMMON_COLUMNS);
    const own = f.ownFields.map((x: FieldFormat) => columnFor(ownColumnName(x.name, taken), x, le));
    const common = makeCommon();
    const b = new TableBuilder(
      f.system,
      f.name,
      commonList(common),
      own,
      f.ownFields.map((x) => x.name),
    );
    t = {
      builder: b,
      common,
      format: f,
      fieldNames: f.ownFields.map((x) => x.name),
      ordinal: this.tables.length,
      plan: recordPlan(own),
      flagsAt: f.fields.find((x) => x.name === "common_flags")?.offset ?? 2,
      preemptAt: f.fields.find((x) => x.name === "common_preempt_count")?.offset ?? 3,
    };
    this.register(t);
    return t;
  }

  /** Adds a new table; throws `limit_exceeded` past the table limit. */
  private register(t: EventTable): void {
    if (this.tables.length >= this.maxTables) {
      throw new TraceError(
        "limit_exceeded",
        `more than ${this.maxTables} event types (tables); the next is ${t.builder.schema}:${t.builder.name}`,
        { file: this.file, section: "events", offset: 0 },
      );
    }
    this.byKey.set(`${t.builder.schema}\0${t.builder.name}`, t);
    this.tables.push(t);
    this.sysNames.push(t.builder.schema);
    this.evNames.push(t.builder.name);
  }

  /**
   * The table of an event type without a format (text sources): columns typed from sample values.
   *
   * @param system trace system
   * @param event event name
   * @param fields field names with a sample value each (number -> int64, bigint -> uint64/int64,
   *   array -> list<int64>, anything else -> string)
   * @returns the table (created on first use; later calls return it unchanged)
   */
  tableForFields(
    system: string,
    event: string,
    fields: { name: string; value: FieldValue }[],
  ): EventTable {
    const key = `${system}\0${event}`;
    let t = this.byKey.get(key);
    if (t) return t;
    const taken = new Set(COMMON_COLUMNS);
    const own: ColumnBuilder[] = fields.map(({ name, value }) => {
      const col = ownColumnName(name, taken);
      if (typeof value === "number") return new IntColumn(col, 8, true);
      if (typeof value === "bigint") return new IntColumn(col, 8, value >= 0n ? false : true);
      if (typeof value === "boolean") return new IntColumn(col, 1, false);
      if (Array.isArray(value)) {
        const big = value.some((v) => typeof v === "bigint");
        return new ListColumn(col, {
          name,
          type: "",
          elemType: big ? "u64" : "s64",
          offset: 0,
          size: 0,
          signed: !big,
          kind: "flex",
          elemSize: 8,
          count: 0,
          isString: false,
          common: false,
        });
      }
      return new StringColumn(col);
    });
    const common = makeCommon();
    const b = new TableBuilder(system, event, commonList(common), own, fields.map((f) => f.name));
    t = {
      builder: b,
      common,
      format: null,
      fieldNames: fields.map((f) => f.name),
      ordinal: this.tables.length,
    };
    this.register(t);
    return t;
  }

  /** Appends the common columns of a row to `main.events` (no-op without the index). */
  private indexRow(t: EventTable, cpu: number, pid: number, comm: string, buffer: string): void {
    const ix = this.index;
    if (!ix) return;
    ix.common.cpu.push(cpu);
    ix.common.pid.push(pid);
    ix.common.comm.push(comm);
    this.indexSys!.push(t.ordinal);
    this.indexEv!.push(t.ordinal);
    ix.common.buffer.push(buffer);
  }

  /**
   * Appends one row from a binary record. The caller has already pushed `ts` (see `tsPushSplit`).
   *
   * @param t the event's table
   * @param cpu CPU
   * @param pid common_pid
   * @param comm gives the comm of a pid (called once per pid and batch)
   * @param flags common_flags
   * @param preempt common_preempt_count
   * @param bufferKey small integer identifying the buffer (its index)
   * @param buffer buffer name
   * @param v record view
   * @param bytes record bytes
   * @param start record start
   * @param len record length
   * @param commKey key of `comm`'s per-batch cache (default `pid`); a reader whose comm of a pid
   *   changes over time (perf: COMM records at exec) passes a key that changes with it
   */
  addRecord(
    t: EventTable,
    cpu: number,
    pid: number,
    comm: (pid: number) => string,
    flags: number,
    preempt: number,
    bufferKey: number,
    buffer: string,
    v: DataView,
    bytes: Uint8Array,
    start: number,
    len: number,
    commKey: number = pid,
  ): void {
    const c = t.common;
    put32(c.cpu, cpu);
    put32(c.pid, pid);
    c.comm.pushKeyed(commKey, comm);
    put8(c.flags, flags);
    put8(c.preempt, preempt);
    c.buffer.pushKeyedString(bufferKey, buffer);
    const p = t.plan;
    if (p && len >= p.minLen) {
      // Every planned field lies inside the record: no nulls, plain copies.
      const c8 = p.c8, o8 = p.o8;
      for (let i = 0; i < c8.length; i++) {
        const c = c8[i]!;
        const n = c.n;
        if (n >= c.cap) c.grow();
        const at = start + o8[i]!;
        const w = c.i32;
        w[2 * n] = v.getInt32(at, true);
        w[2 * n + 1] = v.getInt32(at + 4, true);
        c.n = n + 1;
      }
      const c4 = p.c4, o4 = p.o4;
      for (let i = 0; i < c4.length; i++) {
        const c = c4[i]!;
        const n = c.n;
        if (n >= c.cap) c.grow();
        c.i32[n] = v.getInt32(start + o4[i]!, true);
        c.n = n + 1;
      }
      const c2 = p.c2, o2 = p.o2;
      for (let i = 0; i < c2.length; i++) {
        const c = c2[i]!;
        const n = c.n;
        if (n >= c.cap) c.grow();
        const at = start + o2[i]!;
        c.buf[2 * n] = bytes[at]!;
        c.buf[2 * n + 1] = bytes[at + 1]!;
        c.n = n + 1;
      }
      const c1 = p.c1, o1 = p.o1;
      for (let i = 0; i < c1.length; i++) {
        const c = c1[i]!;
        const n = c.n;
        if (n >= c.cap) c.grow();
        c.buf[n] = bytes[start + o1[i]!]!;
        c.n = n + 1;
      }
      const rest = p.rest;
      for (let i = 0; i < rest.length; i++) rest[i]!.appendRecord(v, bytes, start, len);
    } else {
      const own = t.builder.own;
      for (let i = 0; i < own.length; i++) own[i]!.appendRecord(v, bytes, start, len);
    }
    const ix = this.index;
    if (ix !== null) {
      const ic = ix.common;
      put32(ic.cpu, cpu);
      put32(ic.pid, pid);
      ic.comm.pushKeyed(commKey, comm);
      this.indexSys!.push(t.ordinal);
      this.indexEv!.push(t.ordinal);
      ic.buffer.pushKeyedString(bufferKey, buffer);
      t.builder.rows++;
      if (t.builder.ts.length >= this.batchRows) this.flushTable(t);
      if (ix.builder.ts.length >= this.batchRows) this.flushTable(ix);
    } else this.rowDone(t);
  }

  /**
   * Appends a block of rows from binary records, then empties it: for each row the same as
   * `tsPushSplit(t, tsHi, tsLo, 0)` then `addRecord` of its table with the flags and preempt
   * count of its record, buffer `""` (key 0), but filled column by column. Make the tables before
   * gathering the rows that use them and add gathered rows before making another table: a batch
   * of the events index names the tables that exist when it is flushed, as row by row.
   *
   * @param r the rows (tables by ordinal, made by {@linkcode tableForFormat})
   */
  addRecordRows(r: RecordRows): void {
    const m = r.length;
    if (m === 0) return;
    const nt = this.tables.length;
    // Rows grouped by table, in order within each group (a counting sort).
    if (this.groupStart.length < nt + 1) this.groupStart = new Int32Array(nt + 1);
    if (this.grouped.length < m) {
      this.grouped = new Int32Array(r.capacity);
      this.identity = Int32Array.from({ length: r.capacity }, (_, i) => i);
    }
    const gs = this.groupStart;
    gs.fill(0, 0, nt + 1);
    const tab = r.table;
    for (let i = 0; i < m; i++) gs[tab[i]! + 1]!++;
    for (let t = 0; t < nt; t++) gs[t + 1]! += gs[t]!;
    const g = this.grouped;
    for (let i = 0; i < m; i++) g[gs[tab[i]!]!++] = i;
    // gs[t] is now the end of table t's group (and the start of t + 1's).
    let a = 0;
    for (let t = 0; t < nt; t++) {
      const e = gs[t]!;
      if (e > a) this.tableRows(this.tables[t]!, r, g, a, e);
      a = e;
    }
    const ix = this.index;
    if (ix !== null) {
      const id = this.identity;
      let j = 0;
      while (j < m) {
        const b = Math.min(m, j + this.batchRows - ix.builder.ts.length);
        ix.builder.ts.pushWordsRows(r.tsLo, r.tsHi, id, j, b);
        const c = ix.common;
        c.cpu.push32Rows(r.cpu, id, j, b);
        c.pid.push32Rows(r.pid, id, j, b);
        c.comm.pushKeyedRows(r.commKey, r.comm, id, j, b);
        this.indexSys!.pushRows(tab, id, j, b);
        this.indexEv!.pushRows(tab, id, j, b);
        c.buffer.pushKeyedStringN(0, "", b - j);
        if (ix.builder.ts.length >= this.batchRows) this.flushTable(ix);
        j = b;
      }
    }
    r.clear();
  }

  private groupStart = new Int32Array(0);
  private grouped = new Int32Array(0);
  private identity = new Int32Array(0);

  /** Appends rows `g[a..b)` of `r` to table `t`, batch by batch. */
  private tableRows(t: EventTable, r: RecordRows, g: Int32Array, a: number, b: number): void {
    while (a < b) {
      const e = Math.min(b, a + this.batchRows - t.builder.ts.length);
      this.tableSegment(t, r, g, a, e);
      t.builder.rows += e - a;
      if (t.builder.ts.length >= this.batchRows) this.flushTable(t);
      a = e;
    }
  }

  /**
   * Appends rows `g[a..b)` of `r` to table `t` (room in the batch for all). One small function per
   * kind of column: each stays monomorphic, and a function V8 must optimize again (a new table
   * shape, a branch seen late) is small.
   */
  private tableSegment(t: EventTable, r: RecordRows, g: Int32Array, a: number, b: number): void {
    const c = t.common;
    t.builder.ts.pushWordsRows(r.tsLo, r.tsHi, g, a, b);
    c.cpu.push32Rows(r.cpu, g, a, b);
    c.pid.push32Rows(r.pid, g, a, b);
    c.comm.pushKeyedRows(r.commKey, r.comm, g, a, b);
    c.buffer.pushKeyedStringN(0, "", b - a);
    // flags and preempt_count from the record (0 when it is too short).
    rowBytes(c.flags, t.flagsAt ?? 2, r, g, a, b);
    rowBytes(c.preempt, t.preemptAt ?? 3, r, g, a, b);
    const p = t.plan;
    if (p) {
      const min = p.minLen;
      for (let k = 0; k < p.c8.length; k++) rows8(p.c8[k]!, p.o8[k]!, min, r, g, a, b);
      for (let k = 0; k < p.c4.length; k++) rows4(p.c4[k]!, p.o4[k]!, min, r, g, a, b);
      for (let k = 0; k < p.c2.length; k++) rows2(p.c2[k]!, p.o2[k]!, min, r, g, a, b);
      for (let k = 0; k < p.c1.length; k++) rows1(p.c1[k]!, p.o1[k]!, min, r, g, a, b);
    }
    const own = p ? p.rest : t.builder.own;
    for (let k = 0; k < own.length; k++) rowsAppend(own[k]!, r, g, a, b);
  }

  /**
   * Appends one row from decoded values (text and perf sources).
   *
   * @param t the event's table
   * @param ts timestamp
   * @param cpu CPU
   * @param pid pid
   * @param comm comm
   * @param flags flags (null if unknown)
   * @param preempt preempt count (null if unknown)
   * @param buffer buffer name
   * @param values own field values in `t.fieldNames` order
   */
  addValues(
    t: EventTable,
    ts: bigint,
    cpu: number,
    pid: number,
    comm: string,
    flags: number | null,
    preempt: number | null,
    buffer: string,
    values: readonly (FieldValue | undefined)[],
  ): void {
    t.builder.ts.push(ts);
    if (this.index) this.index.builder.ts.push(ts);
    const c = t.common;
    c.cpu.push(cpu);
    c.pid.push(pid);
    c.comm.push(comm);
    c.flags.appendValue(flags);
    c.preempt.appendValue(preempt);
    c.buffer.push(buffer);
    const own = t.builder.own;
    for (let i = 0; i < own.length; i++) own[i]!.appendValue(values[i]);
    this.indexRow(t, cpu, pid, comm, buffer);
    this.rowDone(t);
  }

  /** Pushes the timestamp of the next row of `t` as `add + rel` (see {@linkcode TsColumn}). */
  tsPushSplit(t: EventTable, addHi: number, addLo: number, rel: number): void {
    const relHi = Math.floor(rel / 4294967296);
    let lo = addLo + (rel - relHi * 4294967296);
    let hi = addHi + relHi;
    if (lo >= 4294967296) {
      lo -= 4294967296;
      hi += 1;
    }
    t.builder.ts.pushWords(lo | 0, hi | 0);
    if (this.index !== null) this.index.builder.ts.pushWords(lo | 0, hi | 0);
  }

  /** Pushes the timestamp of the next row of `t`. */
  tsPush(t: EventTable, ts: bigint): void {
    t.builder.ts.push(ts);
    if (this.index) this.index.builder.ts.push(ts);
  }

  /** Counts a finished row and flushes full batches. */
  private rowDone(t: EventTable): void {
    t.builder.rows++;
    if (t.builder.ts.length >= this.batchRows) this.flushTable(t);
    if (this.index && this.index.builder.ts.length >= this.batchRows) this.flushTable(this.index);
  }

  /** Sends the table's pending rows to the sink (as parts when it takes them). */
  private flushTable(t: EventTable): void {
    const b = t.builder;
    if (this.sink.writeParts) {
      const parts = b.flushParts();
      if (parts) this.sink.writeParts(b.schema, b.name, parts);
      return;
    }
    const ipc = b.flush();
    if (ipc) this.sink.write(b.schema, b.name, ipc);
  }

  /**
   * A promise to await when the sink has too much in flight (see {@linkcode IpcSink.backpressure}),
   * else null. Readers check it now and then (e.g. every few thousand events).
   */
  backpressure(): Promise<void> | null {
    return this.sink.backpressure ? this.sink.backpressure() : null;
  }

  /** Flushes every table's last batch. Tables that got no rows write nothing. */
  finish(): void {
    for (const t of this.tables) this.flushTable(t);
    if (this.index) this.flushTable(this.index);
  }
}
