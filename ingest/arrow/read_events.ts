/**
 * Reads raw event tables back as {@linkcode TraceEvent}s, in the trace's order, for the IOMMU
 * normalizer: whatever the input format was (trace.dat, text, perf), replay reads the same Arrow
 * tables ingest wrote. Only the wanted event types are decoded; `main.events` gives the global order.
 *
 * Tables are read one record batch at a time (bounded memory).
 *
 * @module
 */
import { type RecordBatch, RecordBatchReader, type Vector } from "apache-arrow";
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import type { ColumnInfo } from "./raw_tables.ts";

/** Where a table's IPC streams come from: a file path or in-memory streams. */
export type TableSource = string | readonly Uint8Array[];

/** A table to read. */
export interface ReadableTable {
  schema: string;
  name: string;
  source: TableSource;
  /** Column -> format field (from the manifest); null entries are common columns. */
  columns?: readonly ColumnInfo[];
}

async function* batchesOf(src: TableSource): AsyncGenerator<RecordBatch> {
  if (typeof src === "string") {
    const f = await Deno.open(src);
    try {
      for await (const reader of RecordBatchReader.readAll(f.readable)) {
        for await (const b of reader) yield b as RecordBatch;
      }
    } finally {
      try {
        f.close();
      } catch { /* closed by the stream */ }
    }
  } else {
    for (const bytes of src) {
      for (const reader of RecordBatchReader.readAll(bytes)) {
        for (const b of reader) yield b as RecordBatch;
      }
    }
  }
}

const COMMON = new Set(["ts", "cpu", "pid", "comm", "flags", "preempt_count", "buffer"]);

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

/** Row-by-row reader of one table. */
class TableCursor {
  private it: AsyncGenerator<RecordBatch>;
  private batch: RecordBatch | null = null;
  private row = 0;
  private cols: { field: string; vec: Vector }[] = [];
  private ts: Vector | null = null;
  private cpu: Vector | null = null;
  private pid: Vector | null = null;
  private comm: Vector | null = null;
  private flags: Vector | null = null;
  private preempt: Vector | null = null;
  private buffer: Vector | null = null;

  constructor(readonly t: ReadableTable) {
    this.it = batchesOf(t.source);
  }

  private bind(b: RecordBatch): void {
    this.batch = b;
    this.row = 0;
    const byName = new Map((this.t.columns ?? []).map((c) => [c.name, c.field]));
    this.cols = [];
    for (const f of b.schema.fields) {
      const vec = b.getChild(f.name)!;
      if (COMMON.has(f.name)) continue;
      this.cols.push({ field: byName.get(f.name) ?? f.name, vec });
    }
    this.ts = b.getChild("ts");
    this.cpu = b.getChild("cpu");
    this.pid = b.getChild("pid");
    this.comm = b.getChild("comm");
    this.flags = b.getChild("flags");
    this.preempt = b.getChild("preempt_count");
    this.buffer = b.getChild("buffer");
  }

  async next(): Promise<TraceEvent | null> {
    while (!this.batch || this.row >= this.batch.numRows) {
      const n = await this.it.next();
      if (n.done) return null;
      this.bind(n.value);
    }
    const i = this.row++;
    const fields: Record<string, FieldValue> = {};
    for (const c of this.cols) fields[c.field] = convert(c.vec.get(i));
    return {
      ts: this.ts!.get(i) as bigint,
      cpu: Number(this.cpu?.get(i) ?? 0),
      pid: Number(this.pid?.get(i) ?? 0),
      comm: String(this.comm?.get(i) ?? "<...>"),
      system: this.t.schema,
      event: this.t.name,
      buffer: String(this.buffer?.get(i) ?? ""),
      flags: Number(this.flags?.get(i) ?? 0),
      preempt_count: Number(this.preempt?.get(i) ?? 0),
      fields,
    };
  }
}

/**
 * Reads the wanted event tables in the trace's global order (as listed by `main.events`).
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
  const cursors = new Map<string, TableCursor>();
  for (const t of tables) {
    if (t.schema === "main") continue;
    const key = `${t.schema}:${t.name}`;
    if (want(key)) cursors.set(key, new TableCursor(t));
  }
  if (cursors.size === 0) return;
  for await (const b of batchesOf(index)) {
    const sys = b.getChild("system")!;
    const ev = b.getChild("event")!;
    const sd = sys.data[0]!;
    const ed = ev.data[0]!;
    const sIdx = sd.values as Int32Array;
    const eIdx = ed.values as Int32Array;
    const sDict = sd.dictionary!;
    const eDict = ed.dictionary!;
    // Per batch: (system index, event index) -> cursor or null.
    const memo = new Map<number, TableCursor | null>();
    for (let i = 0; i < b.numRows; i++) {
      const k = sIdx[i]! * 65536 + eIdx[i]!;
      let c = memo.get(k);
      if (c === undefined) {
        c = cursors.get(`${sDict.get(sIdx[i]!)}:${eDict.get(eIdx[i]!)}`) ?? null;
        memo.set(k, c);
      }
      if (!c) continue;
      const e = await c.next();
      if (e) yield e;
    }
  }
}
