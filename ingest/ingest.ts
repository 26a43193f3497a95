/**
 * Ingest: any supported trace -> raw Arrow tables (`<system>.<event>`, `main.events`,
 * `main.trace_info`), into a directory (with a manifest) or into memory.
 *
 * The format is sniffed from the content. Readers register themselves per format, so text and
 * perf readers land in the same tables through the same entry point.
 *
 * @module
 */
import { rowsToIPC } from "../core/arrow.ts";
import { TraceError, type TraceWarning } from "../core/errors.ts";
import { TRACE_INFO_TABLE, type TraceInfoRow } from "../core/trace_info.ts";
import { type ColumnInfo, type IpcSink, RawTables } from "./arrow/raw_tables.ts";
import type { ReadableTable, TableSource } from "./arrow/read_events.ts";
import { WorkerIpcSink, type WorkerSinkOptions } from "./arrow/worker_sink.ts";
import { type FileSource, openFileSource } from "./file_source.ts";
import { sniffFormat, type TraceFormat } from "./sniff.ts";
import { ingestTraceDat } from "./tracedat/tracedat_ingest.ts";
import { PERF_INGESTERS } from "./perf/register.ts";
import { TEXT_INGESTERS } from "./ftrace_text/register.ts";

/** A reader of one input format into raw tables. */
export type SourceIngester = (
  src: FileSource,
  rt: RawTables,
  onProgress?: (events: number) => void,
) =>
  | { info: TraceInfoRow; warnings: TraceWarning[] }
  | Promise<{ info: TraceInfoRow; warnings: TraceWarning[] }>;

const INGESTERS = new Map<TraceFormat, SourceIngester>([
  ["tracedat", ingestTraceDat],
  ...PERF_INGESTERS,
  ...TEXT_INGESTERS,
]);

/**
 * Registers the reader of a format (used by the text and perf readers).
 *
 * @param format the sniffed format
 * @param fn the reader
 */
export function registerIngester(format: TraceFormat, fn: SourceIngester): void {
  INGESTERS.set(format, fn);
}

/** One table in a manifest. */
export interface ManifestTable {
  /** DuckDB schema: the trace system (`tlb`, `intel_iommu`, ...) or `main`. */
  schema: string;
  /** Table name: the event name, or `events` / `trace_info`. */
  name: string;
  /** File relative to the output directory (absent for in-memory results). */
  file?: string;
  /** Rows written. */
  rows: number;
  /** How each column was made (absent for `main.trace_info`). */
  columns?: ColumnInfo[];
}

/** The ingest output's manifest (`manifest.json`). */
export interface Manifest {
  /** Always `iommu-replay-ingest`. */
  format: "iommu-replay-ingest";
  /** Manifest format version (1). */
  version: 1;
  /** Path of the input trace. */
  source: string;
  /** Every table written (tables of event types with no events are left out). */
  tables: ManifestTable[];
  /** The `main.trace_info` row as JSON (bigint counts as numbers). */
  info: Record<string, unknown>;
  /** Warnings raised while reading. */
  warnings: TraceWarning[];
}

/** Ingest result kept in memory: IPC streams per table. */
export interface MemoryIngest {
  /** The manifest, as {@linkcode ingestToDir} would write it (no `file` entries). */
  manifest: Manifest;
  /** `schema.table` -> IPC streams (one per batch). */
  streams: Map<string, Uint8Array[]>;
}

/** Options of the ingest functions. */
export interface IngestOptions {
  /** Rows per Arrow batch (default 65536). */
  batchRows?: number;
  /** Called with the number of events read so far, from time to time while reading. */
  onProgress?: (events: number) => void;
  /**
   * {@linkcode ingestToDir}'s Arrow writer: `worker` true/false forces encoding and writing in a
   * worker or on the reading thread (default: a worker for inputs of at least
   * {@linkcode WORKER_MIN_INPUT_BYTES}), and how far the worker may fall behind.
   */
  writer?: WorkerSinkOptions & { worker?: boolean };
}

function jsonSafe(info: TraceInfoRow): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) o[k] = typeof v === "bigint" ? Number(v) : v;
  return o;
}

async function run(
  path: string,
  sink: IpcSink,
  opts: IngestOptions,
): Promise<{ rt: RawTables; info: TraceInfoRow; warnings: TraceWarning[] }> {
  const src: FileSource = openFileSource(path);
  try {
    const head = src.readAt(0, Math.min(src.size, 8192), "sniff");
    const fmt = sniffFormat(head);
    const ing = INGESTERS.get(fmt);
    if (!ing) {
      throw new TraceError(
        "bad_magic",
        fmt === "unknown"
          ? "not a recognised trace (trace.dat, perf.data, ftrace/trace-cmd/perf script text)"
          : `no reader for ${fmt} yet`,
        { file: path, section: "file header", offset: 0 },
      );
    }
    const rt = new RawTables(sink, {
      file: path,
      ...(opts.batchRows !== undefined ? { batchRows: opts.batchRows } : {}),
    });
    const { info, warnings } = await ing(src, rt, opts.onProgress);
    rt.finish();
    sink.write("main", "trace_info", rowsToIPC(TRACE_INFO_TABLE, [info]));
    return { rt, info, warnings };
  } finally {
    src.close();
  }
}

function manifestOf(
  path: string,
  rt: RawTables,
  info: TraceInfoRow,
  warnings: TraceWarning[],
  file: (schema: string, name: string) => string | undefined,
): Manifest {
  const tables: ManifestTable[] = [];
  const add = (schema: string, name: string, rows: number, columns?: ColumnInfo[]) => {
    const f = file(schema, name);
    tables.push({ schema, name, ...(f ? { file: f } : {}), rows, ...(columns ? { columns } : {}) });
  };
  for (const t of rt.all) {
    if (t.builder.written > 0) {
      add(t.builder.schema, t.builder.name, t.builder.written, t.builder.info);
    }
  }
  const ix = rt.eventsIndex;
  if (ix) add("main", "events", ix.builder.written, ix.builder.info);
  add("main", "trace_info", 1);
  return {
    format: "iommu-replay-ingest",
    version: 1,
    source: path,
    tables,
    info: jsonSafe(info),
    warnings,
  };
}

/** A safe file name for a schema or table name from a trace. */
function safeName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_.-]/g, "_");
  return t === "" || t.startsWith(".") ? `_${t}` : t;
}

/** Writes a trace's tables into a directory (see {@linkcode ingestToDir}). */
interface DirSink extends IpcSink {
  /** The file of a table written so far, relative to the directory. */
  fileOf(schema: string, table: string): string | undefined;
  /** Waits for every write; throws the first write error. */
  close(): Promise<void>;
  /** Gives up (after an error): lets pending writes end, closes files, stops threads. */
  dispose(): Promise<void>;
}

const tableFile = (schema: string, table: string) =>
  `${safeName(schema)}/${safeName(table)}.arrows`;

/** Encodes on this thread; files are written asynchronously (Deno's I/O threads). */
function threadDirSink(outDir: string): DirSink {
  // At most MAX_IN_FLIGHT bytes wait to be written. Each file's writes stay in order.
  const MAX_IN_FLIGHT = 64 << 20;
  const files = new Map<string, { f: Deno.FsFile; rel: string; chain: Promise<void> }>();
  let inFlight = 0;
  let failure: unknown = null;
  const writeAll = async (f: Deno.FsFile, b: Uint8Array) => {
    let off = 0;
    while (off < b.length) off += await f.write(b.subarray(off));
  };
  return {
    write(schema, table, ipc) {
      const key = `${schema}.${table}`;
      let e = files.get(key);
      if (!e) {
        const dir = `${outDir}/${safeName(schema)}`;
        Deno.mkdirSync(dir, { recursive: true });
        const rel = tableFile(schema, table);
        const f = Deno.openSync(`${outDir}/${rel}`, { write: true, create: true, truncate: true });
        e = { f, rel, chain: Promise.resolve() };
        files.set(key, e);
      }
      const f = e.f;
      inFlight += ipc.length;
      e.chain = e.chain.then(() => writeAll(f, ipc)).catch((err) => {
        failure ??= err;
      }).finally(() => {
        inFlight -= ipc.length;
      });
    },
    backpressure() {
      if (inFlight <= MAX_IN_FLIGHT) return null;
      return Promise.all([...files.values()].map((e) => e.chain)).then(() => {});
    },
    fileOf: (schema, table) => files.get(`${schema}.${table}`)?.rel,
    async close() {
      await Promise.all([...files.values()].map((e) => e.chain));
      if (failure) throw failure;
    },
    async dispose() {
      await Promise.allSettled([...files.values()].map((e) => e.chain));
      for (const e of files.values()) e.f.close();
      files.clear();
    },
  };
}

/**
 * Inputs from this size on are written through a worker (see {@linkcode WorkerIpcSink}); below
 * it, starting the worker (~0.2 s) costs more than the encoding it takes over.
 */
export const WORKER_MIN_INPUT_BYTES = 4 << 20;

function dirSink(path: string, outDir: string, opts: IngestOptions): DirSink {
  const w = opts.writer ?? {};
  let worker = w.worker;
  if (worker === undefined) {
    try {
      worker = Deno.statSync(path).size >= WORKER_MIN_INPUT_BYTES;
    } catch {
      worker = false; // the reader reports the problem
    }
  }
  if (!worker) return threadDirSink(outDir);
  const s = new WorkerIpcSink(outDir, tableFile, w);
  return {
    write: (schema, table, ipc) => s.write(schema, table, ipc),
    writeParts: (schema, table, b) => s.writeParts(schema, table, b),
    backpressure: () => s.backpressure(),
    fileOf: (schema, table) => s.fileOf(schema, table),
    close: () => s.close(),
    dispose: () => Promise.resolve(s.dispose()),
  };
}

/**
 * Ingests a trace into a directory: `<schema>/<table>.arrows` files (each a sequence of Arrow IPC
 * streams) and `manifest.json`.
 *
 * @param path input trace
 * @param outDir output directory (created)
 * @param opts batch size, progress
 * @returns the manifest
 * @throws {TraceError} when the input cannot be read
 */
export async function ingestToDir(
  path: string,
  outDir: string,
  opts: IngestOptions = {},
): Promise<Manifest> {
  Deno.mkdirSync(outDir, { recursive: true });
  // Large inputs: a worker encodes the finished batches and writes the files while this thread
  // decodes the next ones; the reader waits when the worker is a few batches behind.
  const sink = dirSink(path, outDir, opts);
  try {
    const { rt, info, warnings } = await run(path, sink, opts);
    await sink.close();
    const m = manifestOf(path, rt, info, warnings, (s, t) => sink.fileOf(s, t));
    Deno.writeTextFileSync(`${outDir}/manifest.json`, JSON.stringify(m, null, 2) + "\n");
    return m;
  } finally {
    await sink.dispose();
  }
}

/**
 * Ingests a trace into memory (for `query` on a trace file and for notebooks).
 *
 * @param path input trace
 * @param opts batch size, progress
 * @returns manifest and IPC streams per table
 * @throws {TraceError} when the input cannot be read
 */
export async function ingestToMemory(
  path: string,
  opts: IngestOptions = {},
): Promise<MemoryIngest> {
  const streams = new Map<string, Uint8Array[]>();
  const sink: IpcSink = {
    write(schema, table, ipc) {
      const key = `${schema}.${table}`;
      const l = streams.get(key);
      if (l) l.push(ipc);
      else streams.set(key, [ipc]);
    },
  };
  const { rt, info, warnings } = await run(path, sink, opts);
  return { manifest: manifestOf(path, rt, info, warnings, () => undefined), streams };
}

/** An ingest's event tables as `forEachEvent` and `readEventsInOrder` read them. */
export interface EventTables<S extends TableSource> {
  /** The `main.events` index, null when the ingest has none. */
  index: S | null;
  /** Every event table (the `main` tables left out). */
  tables: ReadableTable[];
}

function eventTables<S extends TableSource>(
  m: Manifest,
  sourceOf: (t: ManifestTable) => S | undefined,
): EventTables<S> {
  let index: S | null = null;
  const tables: ReadableTable[] = [];
  for (const t of m.tables) {
    const source = sourceOf(t);
    if (source === undefined) continue;
    if (t.schema !== "main") {
      tables.push({
        schema: t.schema,
        name: t.name,
        source,
        ...(t.columns ? { columns: t.columns } : {}),
      });
    } else if (t.name === "events") index = source;
  }
  return { index, tables };
}

/**
 * The event tables of an ingest directory (written by {@linkcode ingestToDir}).
 *
 * @param dir the directory
 * @param m its manifest
 * @returns the index file and the tables' files
 */
export function eventTablesOfDir(dir: string, m: Manifest): EventTables<string> {
  return eventTables(m, (t) => (t.file ? `${dir}/${t.file}` : undefined));
}

/**
 * The event tables of an in-memory ingest (from {@linkcode ingestToMemory}).
 *
 * @param mem the ingest
 * @returns the index streams and the tables' streams
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { forEachEvent } from "./arrow/read_events.ts";
 * import { eventTablesOfMemory, ingestToMemory } from "./ingest.ts";
 * const mem = await ingestToMemory("examples/sva_two_iommus.dat");
 * const { index, tables } = eventTablesOfMemory(mem);
 * const n = await forEachEvent(index!, tables, () => true, () => {});
 * assert.equal(n, mem.manifest.info.events);
 * ```
 */
export function eventTablesOfMemory(mem: MemoryIngest): EventTables<Uint8Array[]> {
  return eventTables(mem.manifest, (t) => mem.streams.get(`${t.schema}.${t.name}`) ?? []);
}
