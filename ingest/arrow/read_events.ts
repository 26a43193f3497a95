/**
 * Reads raw event tables back as {@linkcode TraceEvent}s, in the trace's order, for the IOMMU
 * normalizer: whatever the input format was (trace.dat, text, perf), replay reads the same Arrow
 * tables ingest wrote. Only the wanted event types are decoded; `main.events` gives the global order.
 *
 * Decoding is column-wise: when a record batch is bound, each column becomes a typed array (or
 * dictionary indices plus the dictionary's strings, decoded once per batch), and a row is read by
 * indexing those arrays, never through `Vector.get`. The index walk maps each row's (system, event)
 * dictionary indices to a table through a per-batch lookup table. Each index batch is read only
 * after the rows it needs from every event table are loaded, so the per-row loop is synchronous.
 *
 * Memory: one index batch, plus per wanted table the batches that index batch reaches into.
 *
 * Two ways to consume:
 * - {@linkcode forEachEvent}: a callback per event, asynchronous only between index batches. The
 *   event object (and its `fields`) is reused per table: it is valid during the callback only.
 * - {@linkcode readEventsInOrder}: an async generator of fresh event objects (convenient, slower).
 *
 * @module
 */
import { type Data, type RecordBatch, RecordBatchReader, Type, type Vector } from "apache-arrow";
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import type { ColumnInfo } from "./raw_tables.ts";

/** Where a table's IPC streams come from: a file path or in-memory streams. */
export type TableSource = string | readonly Uint8Array[];

/** A table to read. */
export interface ReadableTable {
  /** Trace system (`syscalls`). */
  schema: string;
  /** Event name (`sys_enter_munmap`). */
  name: string;
  /** Its IPC streams. */
  source: TableSource;
  /** Column -> format field (from the manifest); null entries are common columns. */
  columns?: readonly ColumnInfo[];
}

/**
 * The end of the IPC stream starting at `at` in `buf` (one past its end-of-stream marker), or -1
 * when `buf` does not hold all of it yet. Messages are framed as `0xFFFFFFFF, i32 metadata length,
 * metadata (a flatbuffer Message whose field 3 is the body length), body`; a zero length ends the
 * stream. (Pre-1.0 framing without the 0xFFFFFFFF marker is accepted too.)
 */
function streamEnd(buf: Uint8Array, at: number, len: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, len);
  let p = at;
  for (;;) {
    if (p + 4 > len) return -1;
    let meta = dv.getInt32(p, true);
    let head = 4;
    if (meta === -1) {
      if (p + 8 > len) return -1;
      meta = dv.getInt32(p + 4, true);
      head = 8;
    }
    if (meta === 0) return p + head;
    if (meta < 0) throw new Error("bad IPC message length");
    const m = p + head;
    if (m + meta > len) return -1;
    // flatbuffer: root table offset, then the vtable the table points back to
    const table = m + dv.getUint32(m, true);
    const vtable = table - dv.getInt32(table, true);
    const vtLen = dv.getUint16(vtable, true);
    const fieldOff = 4 + 2 * 3 < vtLen ? dv.getUint16(vtable + 4 + 2 * 3, true) : 0;
    const body = fieldOff === 0 ? 0 : Number(dv.getBigInt64(table + fieldOff, true));
    p = m + meta + body;
  }
}

/**
 * The complete IPC streams of a file of concatenated streams (a table's `.arrows` file), read
 * synchronously in large blocks: the web-stream path of `RecordBatchReader` costs more than
 * decoding the batches. Each yielded stream is its own copy.
 *
 * @param path the file
 * @param blockBytes initial read buffer size (it grows to hold the largest stream)
 * @returns the streams' bytes, in file order
 * @throws {Error} when the file ends inside a stream or a message is malformed
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tableFromArrays, tableToIPC } from "apache-arrow";
 * import { ipcStreamsOfFile } from "./read_events.ts";
 * const one = tableToIPC(tableFromArrays({ x: Int32Array.from([1, 2]) }), "stream");
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([...one, ...one]));
 * assert.deepEqual([...ipcStreamsOfFile(path, 16)].map((s) => s.length), [one.length, one.length]);
 * await Deno.remove(path);
 * ```
 */
export function* ipcStreamsOfFile(path: string, blockBytes = 8 << 20): Generator<Uint8Array> {
  const f = Deno.openSync(path, { read: true });
  try {
    let buf = new Uint8Array(Math.max(16, blockBytes));
    let start = 0, len = 0, eof = false;
    for (;;) {
      const end = start < len ? streamEnd(buf, start, len) : -1;
      if (end >= 0) {
        // a copy: batches keep views into these bytes while the buffer is refilled
        yield buf.slice(start, end);
        start = end;
        continue;
      }
      if (eof) {
        if (start < len) throw new Error(`${path}: ends inside an Arrow IPC stream`);
        return;
      }
      // keep the unread part at the front, grow when one stream is larger than the buffer
      if (start > 0) {
        const rest = buf.subarray(start, len);
        const next = rest.length * 2 > buf.length ? new Uint8Array(buf.length * 2) : buf;
        next.set(rest, 0); // same buffer: set copies as if through a temporary
        buf = next;
        len = rest.length;
        start = 0;
      } else if (len === buf.length) {
        const next = new Uint8Array(buf.length * 2);
        next.set(buf.subarray(0, len));
        buf = next;
      }
      const n = f.readSync(buf.subarray(len));
      if (n === null || n === 0) eof = true;
      else len += n;
    }
  } finally {
    f.close();
  }
}

async function* batchesOf(src: TableSource): AsyncGenerator<RecordBatch> {
  const streams = typeof src === "string" ? ipcStreamsOfFile(src) : src;
  for (const bytes of streams) {
    for (const reader of RecordBatchReader.readAll(bytes)) {
      for (const b of reader) yield b as RecordBatch;
    }
  }
}

const COMMON = new Set(["ts", "cpu", "pid", "comm", "flags", "preempt_count", "buffer"]);

/** How a column's values are read. */
const enum Kind {
  /** Int8..Uint32, Float: a number from a typed array. */
  Num,
  /** Int64/Uint64: a bigint from a BigInt64Array/BigUint64Array. */
  Big,
  /** Dictionary<Utf8>: the dictionary's string at the row's index. */
  Dict,
  /** Anything else (lists, plain Utf8, bool): `Vector.get` and conversion. */
  Other,
}

type NumArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** One column of the bound batch, ready for indexed reads. */
interface Col {
  kind: Kind;
  /** Number of rows to skip in the arrays (the Data's offset). */
  off: number;
  /** Validity bitmap (null when the column has no null). */
  valid: Uint8Array | null;
  num: NumArray | null;
  big: BigInt64Array | BigUint64Array | null;
  idx: Int32Array | null;
  dict: string[] | null;
  vec: Vector | null;
}

const dictCache = new WeakMap<object, string[]>();

function dictStrings(d: Vector): string[] {
  let s = dictCache.get(d);
  if (!s) {
    s = new Array<string>(d.length);
    for (let i = 0; i < d.length; i++) s[i] = String(d.get(i) ?? "");
    dictCache.set(d, s);
  }
  return s;
}

function bindColumn(vec: Vector): Col {
  const c: Col = {
    kind: Kind.Other,
    off: 0,
    valid: null,
    num: null,
    big: null,
    idx: null,
    dict: null,
    vec,
  };
  if (vec.data.length !== 1) return c;
  const d = vec.data[0] as Data;
  const values = d.values as unknown;
  c.off = d.offset;
  c.valid = d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : null;
  const tid = d.type.typeId;
  if (tid === Type.Dictionary && values instanceof Int32Array && d.dictionary) {
    if (d.dictionary.type.typeId !== Type.Utf8) return c;
    c.kind = Kind.Dict;
    c.idx = values;
    c.dict = dictStrings(d.dictionary);
  } else if (tid === Type.Int) {
    if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
      c.kind = Kind.Big;
      c.big = values;
    } else {
      c.kind = Kind.Num;
      c.num = values as NumArray;
    }
  } else if (
    tid === Type.Float && (values instanceof Float32Array || values instanceof Float64Array)
  ) {
    c.kind = Kind.Num;
    c.num = values;
  }
  return c;
}

function convert(v: unknown): FieldValue {
  if (v === null || v === undefined) return null;
  if (
    typeof v === "number" || typeof v === "bigint" || typeof v === "string" ||
    typeof v === "boolean"
  ) {
    return v;
  }
  if (ArrayBuffer.isView(v)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>) as number[];
  }
  const vec = v as { toArray?: () => ArrayLike<number | bigint> };
  if (typeof vec.toArray === "function") return Array.from(vec.toArray()) as number[];
  return String(v);
}

function isNull(c: Col, i: number): boolean {
  if (c.valid === null) return false;
  const j = c.off + i;
  return (c.valid[j >> 3]! & (1 << (j & 7))) === 0;
}

function valueAt(c: Col, i: number): FieldValue {
  if (c.valid !== null && isNull(c, i)) return null;
  switch (c.kind) {
    case Kind.Num:
      return c.num![c.off + i]!;
    case Kind.Big:
      return c.big![c.off + i]!;
    case Kind.Dict:
      return c.dict![c.idx![c.off + i]!]!;
    default:
      return convert(c.vec!.get(i));
  }
}

/** A common column read as a number (null -> `dflt`). */
function numAt(c: Col | null, i: number, dflt: number): number {
  if (c === null || (c.valid !== null && isNull(c, i))) return dflt;
  if (c.kind === Kind.Num) return c.num![c.off + i]!;
  return Number(valueAt(c, i) ?? dflt);
}

/** A common column read as a string (null -> `dflt`). */
function strAt(c: Col | null, i: number, dflt: string): string {
  if (c === null || (c.valid !== null && isNull(c, i))) return dflt;
  if (c.kind === Kind.Dict) return c.dict![c.idx![c.off + i]!]!;
  return String(valueAt(c, i) ?? dflt);
}

/** A batch with its columns bound. */
interface Bound {
  rows: number;
  ts: Col;
  cpu: Col | null;
  pid: Col | null;
  comm: Col | null;
  flags: Col | null;
  preempt: Col | null;
  buffer: Col | null;
  /** Own columns, in `fieldNames` order. */
  own: Col[];
}

/** Row-by-row reader of one table; batches are loaded ahead with {@linkcode ensure}. */
class TableCursor {
  readonly #it: AsyncGenerator<RecordBatch>;
  readonly #queue: Bound[] = [];
  /** Rows loaded but not yet read. */
  #available = 0;
  #row = 0;
  #done = false;
  #fieldNames: string[] | null = null;
  readonly #reuse: boolean;
  readonly #event: TraceEvent & { fields: Record<string, FieldValue> };

  constructor(readonly t: ReadableTable, reuse: boolean) {
    this.#it = batchesOf(t.source);
    this.#reuse = reuse;
    this.#event = {
      ts: 0n,
      cpu: 0,
      pid: 0,
      comm: "",
      system: t.schema,
      event: t.name,
      buffer: "",
      flags: 0,
      preempt_count: 0,
      fields: {},
    };
  }

  #bind(b: RecordBatch): Bound {
    const byName = new Map((this.t.columns ?? []).map((c) => [c.name, c.field]));
    const own: Col[] = [];
    const names: string[] = [];
    for (const f of b.schema.fields) {
      if (COMMON.has(f.name)) continue;
      own.push(bindColumn(b.getChild(f.name)!));
      names.push(byName.get(f.name) ?? f.name);
    }
    if (this.#fieldNames === null) {
      this.#fieldNames = names;
      for (const n of names) this.#event.fields[n] = null;
    } else if (names.join("\u0000") !== this.#fieldNames.join("\u0000")) {
      throw new Error(`${this.t.schema}.${this.t.name}: batches with different columns`);
    }
    const col = (n: string) => {
      const v = b.getChild(n);
      return v ? bindColumn(v) : null;
    };
    const ts = col("ts");
    if (!ts) throw new Error(`${this.t.schema}.${this.t.name}: no ts column`);
    return {
      rows: b.numRows,
      ts,
      cpu: col("cpu"),
      pid: col("pid"),
      comm: col("comm"),
      flags: col("flags"),
      preempt: col("preempt_count"),
      buffer: col("buffer"),
      own,
    };
  }

  /**
   * Loads batches until `n` unread rows are available (or the table ends).
   *
   * @param n rows wanted
   */
  async ensure(n: number): Promise<void> {
    while (this.#available < n && !this.#done) {
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        break;
      }
      const bound = this.#bind(r.value);
      if (bound.rows === 0) continue;
      this.#queue.push(bound);
      this.#available += bound.rows;
    }
  }

  /** The next row as an event (reused or fresh), or null past the end of the loaded rows. */
  next(): TraceEvent | null {
    let b = this.#queue[0];
    while (b !== undefined && this.#row >= b.rows) {
      this.#queue.shift();
      this.#row = 0;
      b = this.#queue[0];
    }
    if (b === undefined) return null;
    const i = this.#row++;
    this.#available--;
    const e = this.#reuse ? this.#event : {
      ...this.#event,
      fields: {} as Record<string, FieldValue>,
    };
    const tsc = b.ts;
    e.ts = tsc.kind === Kind.Big && tsc.valid === null
      ? tsc.big![tsc.off + i]!
      : BigInt(valueAt(tsc, i) as bigint | number);
    e.cpu = numAt(b.cpu, i, 0);
    e.pid = numAt(b.pid, i, 0);
    e.comm = strAt(b.comm, i, "<...>");
    e.buffer = strAt(b.buffer, i, "");
    e.flags = numAt(b.flags, i, 0);
    e.preempt_count = numAt(b.preempt, i, 0);
    const names = this.#fieldNames!;
    const own = b.own;
    const fields = e.fields as Record<string, FieldValue>;
    for (let k = 0; k < own.length; k++) fields[names[k]!] = valueAt(own[k]!, i);
    return e;
  }
}

/** The index's (system, event) columns of one batch. */
interface IndexBatch {
  rows: number;
  sys: Col;
  ev: Col;
}

function bindIndex(b: RecordBatch): IndexBatch {
  const s = b.getChild("system"), e = b.getChild("event");
  if (!s || !e) throw new Error("main.events: no system/event columns");
  return { rows: b.numRows, sys: bindColumn(s), ev: bindColumn(e) };
}

/** Resolves rows of an index batch to cursor slots (-1 when not wanted). */
function slotsOf(ib: IndexBatch, slotOf: (key: string) => number): Int32Array {
  const out = new Int32Array(ib.rows);
  const { sys, ev } = ib;
  if (sys.kind === Kind.Dict && ev.kind === Kind.Dict && sys.valid === null && ev.valid === null) {
    const sd = sys.dict!, ed = ev.dict!;
    const w = ed.length;
    if (sd.length * w <= 1 << 20) {
      // -2: not looked up yet
      const lut = new Int32Array(sd.length * w).fill(-2);
      const si = sys.idx!, ei = ev.idx!, so = sys.off, eo = ev.off;
      for (let i = 0; i < ib.rows; i++) {
        const s = si[so + i]!, e = ei[eo + i]!;
        const k = s * w + e;
        let slot = lut[k]!;
        if (slot === -2) lut[k] = slot = slotOf(`${sd[s]}:${ed[e]}`);
        out[i] = slot;
      }
      return out;
    }
  }
  const memo = new Map<string, number>();
  for (let i = 0; i < ib.rows; i++) {
    const k = `${strAt(sys, i, "")}:${strAt(ev, i, "")}`;
    let slot = memo.get(k);
    if (slot === undefined) memo.set(k, slot = slotOf(k));
    out[i] = slot;
  }
  return out;
}

/** The wanted tables' cursors, by slot. */
function openCursors(
  tables: readonly ReadableTable[],
  want: (key: string) => boolean,
  reuse: boolean,
): { cursors: TableCursor[]; slotOf: (key: string) => number } {
  const cursors: TableCursor[] = [];
  const byKey = new Map<string, number>();
  for (const t of tables) {
    if (t.schema === "main") continue;
    const key = `${t.schema}:${t.name}`;
    if (byKey.has(key) || !want(key)) continue;
    byKey.set(key, cursors.length);
    cursors.push(new TableCursor(t, reuse));
  }
  return { cursors, slotOf: (key: string) => byKey.get(key) ?? -1 };
}

/**
 * Walks the index batch by batch: yields each batch's row -> cursor slot array once every cursor
 * has the rows that batch needs loaded.
 */
async function* indexBatches(
  index: TableSource,
  cursors: readonly TableCursor[],
  slotOf: (key: string) => number,
): AsyncGenerator<Int32Array> {
  const need = new Int32Array(cursors.length);
  for await (const b of batchesOf(index)) {
    const slots = slotsOf(bindIndex(b), slotOf);
    need.fill(0);
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (s >= 0) need[s]!++;
    }
    for (let s = 0; s < cursors.length; s++) if (need[s]! > 0) await cursors[s]!.ensure(need[s]!);
    yield slots;
  }
}

/** Options of {@linkcode forEachEvent}. */
export interface ForEachEventOptions {
  /**
   * Reuse one event object per table (default true): the event passed to the callback is valid
   * only until the callback returns. False gives every event its own object.
   */
  reuse?: boolean;
}

/**
 * Calls `onEvent` for every wanted event in the trace's global order (as listed by `main.events`).
 * The callback runs synchronously within an index batch; reading is asynchronous between them.
 *
 * @param index the `main.events` table
 * @param tables the event tables
 * @param want which `system:event` keys to decode (others are skipped cheaply)
 * @param onEvent receives each event (a reused object unless `reuse: false`)
 * @param opts options
 * @returns the number of events delivered
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forEachEvent } from "./read_events.ts";
 * import { RawTables } from "./raw_tables.ts";
 * const streams = new Map<string, Uint8Array[]>();
 * const rt = new RawTables({
 *   write: (s, t, b) => void streams.set(`${s}.${t}`, [...(streams.get(`${s}.${t}`) ?? []), b]),
 * });
 * const a = rt.tableForFields("sys", "a", [{ name: "x", value: 1 }]);
 * const b = rt.tableForFields("sys", "b", [{ name: "y", value: "s" }]);
 * rt.addValues(a, 1n, 0, 10, "p", 0, 0, "", [7]);
 * rt.addValues(b, 2n, 1, 11, "q", 0, 0, "", ["hi"]);
 * rt.addValues(a, 3n, 0, 10, "p", 0, 0, "", [8]);
 * rt.finish();
 * const seen: string[] = [];
 * const n = await forEachEvent(streams.get("main.events")!, [
 *   { schema: "sys", name: "a", source: streams.get("sys.a")! },
 *   { schema: "sys", name: "b", source: streams.get("sys.b")! },
 * ], () => true, (e) => void seen.push(`${e.ts}:${e.event}:${Object.values(e.fields)[0]}`));
 * assert.equal(n, 3);
 * assert.deepEqual(seen, ["1:a:7", "2:b:hi", "3:a:8"]);
 * ```
 */
export async function forEachEvent(
  index: TableSource,
  tables: readonly ReadableTable[],
  want: (key: string) => boolean,
  onEvent: (e: TraceEvent) => void,
  opts: ForEachEventOptions = {},
): Promise<number> {
  const { cursors, slotOf } = openCursors(tables, want, opts.reuse ?? true);
  if (cursors.length === 0) return 0;
  let delivered = 0;
  for await (const slots of indexBatches(index, cursors, slotOf)) {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (s < 0) continue;
      const e = cursors[s]!.next();
      if (e === null) continue;
      delivered++;
      onEvent(e);
    }
  }
  return delivered;
}

/**
 * Reads the wanted event tables in the trace's global order (as listed by `main.events`). Every
 * event is a fresh object. For large traces {@linkcode forEachEvent} is faster.
 *
 * @param index the `main.events` table
 * @param tables the event tables
 * @param want which `system:event` keys to decode (others are skipped cheaply)
 * @returns the events
 */
export async function* readEventsInOrder(
  index: TableSource,
  tables: readonly ReadableTable[],
  want: (key: string) => boolean,
): AsyncGenerator<TraceEvent> {
  const { cursors, slotOf } = openCursors(tables, want, false);
  if (cursors.length === 0) return;
  for await (const slots of indexBatches(index, cursors, slotOf)) {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      if (s < 0) continue;
      const e = cursors[s]!.next();
      if (e !== null) yield e;
    }
  }
}
