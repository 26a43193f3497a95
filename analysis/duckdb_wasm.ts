/**
 * {@linkcode Engine} on embedded DuckDB (duckdb-wasm, blocking node bundle).
 *
 * The wasm files are read from the `@duckdb/duckdb-wasm` npm package in Deno's cache; nothing is
 * fetched at run time. Extension auto-install and auto-load are switched off, so a query that
 * would need a network extension fails at once instead of hanging. Results come back as Arrow IPC
 * bytes and are decoded with this project's `apache-arrow`, never as the bundle's own objects.
 *
 * Offline limits of the wasm build (v1.4.3): the `json` and `parquet` extensions are not built
 * in. CSV comes from DuckDB's writer; JSON is rendered here from the exact values (DuckDB's
 * writer is used when the `json` extension is loaded); Parquet is written by `parquet.ts`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import * as duckdb from "@duckdb/duckdb-wasm/blocking";
import {
  type DataType,
  makeVector,
  RecordBatchReader,
  tableFromIPC,
  tableToIPC,
  Type,
  type Vector,
} from "apache-arrow";
import { UsageError } from "../core/errors.ts";
import {
  type Engine,
  type ExportFormat,
  type IPCSource,
  isTableName,
  type QueryResult,
  quoteIdent,
  quoteLiteral,
  stripTerminator,
} from "./engine.ts";
import { ipcStreamStats } from "./ipc_streams.ts";
import { ipcToParquet } from "./parquet.ts";

/** Options of {@linkcode openDuckDBWasm}. */
export interface DuckDBWasmOptions {
  /** Log DuckDB's messages to the console. Default false. */
  log?: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkIdent(kind: string, name: string): void {
  if (!IDENT.test(name)) {
    throw new UsageError(`bad ${kind} name ${JSON.stringify(name)} (letters, digits, _ only)`);
  }
}

/** A UsageError keeping the engine's full message as its cause. */
function usage(message: string, cause: unknown): UsageError {
  const u = new UsageError(message);
  u.cause = cause;
  return u;
}

/** First line of a DuckDB error, as a one-line reason. */
function reason(e: unknown): string {
  let m = e instanceof Error ? e.message : String(e);
  if (m.startsWith("{")) {
    // Some bindings report errors as JSON: {"exception_type": ..., "exception_message": ...}.
    try {
      const j = JSON.parse(m) as { exception_type?: string; exception_message?: string };
      if (j.exception_message) m = `${j.exception_type ?? "Error"} Error: ${j.exception_message}`;
    } catch { /* keep the raw text */ }
  }
  return m.split("\n")[0]!.trim();
}

/** DuckDB type of an Arrow type (for tables created from a schema-only stream). */
function duckType(t: DataType): string {
  switch (t.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = t as unknown as { bitWidth: number; isSigned: boolean };
      const base = ({ 8: "TINYINT", 16: "SMALLINT", 32: "INTEGER", 64: "BIGINT" } as const)[
        bitWidth as 8 | 16 | 32 | 64
      ];
      return isSigned ? base : `U${base}`;
    }
    case Type.Float:
      return (t as unknown as { precision: number }).precision === 2 ? "DOUBLE" : "FLOAT";
    case Type.Bool:
      return "BOOLEAN";
    case Type.Utf8:
    case Type.LargeUtf8:
      return "VARCHAR";
    case Type.Binary:
    case Type.LargeBinary:
      return "BLOB";
    case Type.Dictionary:
      return duckType((t as unknown as { dictionary: DataType }).dictionary);
    case Type.List:
    case Type.LargeList:
      return `${duckType(t.children[0]!.type)}[]`;
    case Type.Struct:
      return `STRUCT(${
        t.children.map((f) => `${quoteIdent(f.name)} ${duckType(f.type)}`).join(", ")
      })`;
    default:
      throw new UsageError(`no DuckDB type for Arrow ${String(t)}`);
  }
}

function bundles(): duckdb.DuckDBBundles {
  const entry = import.meta.resolve("@duckdb/duckdb-wasm/blocking");
  if (!entry.startsWith("file:")) {
    throw new Error(`duckdb-wasm must come from a local npm cache, got ${entry}`);
  }
  const dist = new URL("./", entry);
  const p = (f: string) => fileURLToPath(new URL(f, dist));
  return {
    mvp: { mainModule: p("duckdb-mvp.wasm"), mainWorker: p("duckdb-node-mvp.worker.cjs") },
    eh: { mainModule: p("duckdb-eh.wasm"), mainWorker: p("duckdb-node-eh.worker.cjs") },
  };
}

let fileCounter = 0;

/** A fresh in-memory file name for DuckDB's writers. */
function scratchName(ext: string): string {
  fileCounter++;
  return `__iommu_replay_${Date.now().toString(36)}_${fileCounter}.${ext}`;
}

// ---------------------------------------------------------------------------------------------
// Arrow values -> JS values

function decimalToJs(words: Uint32Array, scale: number): bigint | number {
  let v = 0n;
  for (let w = words.length - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[w]!);
  v = BigInt.asIntN(words.length * 32, v);
  return scale === 0 ? v : Number(v) / 10 ** scale;
}

function valueToJs(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case Type.Decimal:
      return decimalToJs(v as Uint32Array, (type as unknown as { scale: number }).scale);
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
      return vectorToJs(v as Vector);
    case Type.Struct: {
      const o: Record<string, unknown> = {};
      const row = v as Record<string, unknown>;
      for (const f of type.children) o[f.name] = valueToJs(row[f.name], f.type);
      return o;
    }
    case Type.Map: {
      const o: Record<string, unknown> = {};
      const m = v as { toJSON(): Record<string, unknown> };
      for (const [k, x] of Object.entries(m.toJSON())) o[k] = x;
      return o;
    }
    case Type.Date:
    case Type.Timestamp:
      return typeof v === "number" ? new Date(v) : v;
    default:
      return v;
  }
}

/** Whether {@linkcode valueToJs} returns a type's Arrow values unchanged. */
function passThrough(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Decimal:
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList:
    case Type.Struct:
    case Type.Map:
    case Type.Date:
    case Type.Timestamp:
      return false;
    default:
      return true;
  }
}

/** Whether a chunk's `values` typed array holds its values one per row (ints, floats). */
function flatNumbers(type: DataType): boolean {
  if (type.typeId === Type.Int) return true;
  return type.typeId === Type.Float && (type as unknown as { precision: number }).precision !== 0;
}

/**
 * Converts a column to JS values. Walks chunk by chunk (`Vector.get` on a many-chunk vector
 * searches the chunks on every call); numbers without nulls are copied from the typed array.
 */
function vectorToJs(vec: Vector): unknown[] {
  const out = new Array<unknown>(vec.length);
  const type = vec.type;
  const pass = passThrough(type);
  const flat = pass && flatNumbers(type);
  let i = 0;
  for (const chunk of vec.data) {
    const values = chunk.values as unknown as ArrayLike<unknown> | undefined;
    if (flat && chunk.nullCount === 0 && values && values.length >= chunk.length) {
      for (let j = 0; j < chunk.length; j++) out[i++] = values[j];
      continue;
    }
    const one = makeVector(chunk);
    if (pass) { for (let j = 0; j < chunk.length; j++) out[i++] = one.get(j) ?? null; }
    else for (let j = 0; j < chunk.length; j++) out[i++] = valueToJs(one.get(j), type);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON rendering (DuckDB's `FORMAT json, ARRAY true` layout)

function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  switch (typeof v) {
    case "bigint":
      return v.toString();
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : "null";
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
  }
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(jsonValue).join(",")}]`;
  if (ArrayBuffer.isView(v)) {
    return `[${Array.from(v as unknown as ArrayLike<unknown>, jsonValue).join(",")}]`;
  }
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).map((k) => `${JSON.stringify(k)}:${jsonValue(o[k])}`).join(",")}}`;
}

/**
 * Renders a result as a JSON array of row objects, one row per line.
 *
 * @param r query result
 * @returns JSON text ending with a newline
 */
export function resultToJSON(r: QueryResult): string {
  if (r.rows.length === 0) return "[\n]\n";
  const keys = r.columns.map((c) => JSON.stringify(c));
  const lines = r.rows.map((row) =>
    `\t{${keys.map((k, i) => `${k}:${jsonValue(row[i])}`).join(",")}}`
  );
  return `[\n${lines.join(",\n")}\n]\n`;
}

// ---------------------------------------------------------------------------------------------

async function* streamsOf(data: IPCSource): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data;
    return;
  }
  if (Symbol.asyncIterator in data) {
    for await (const b of data as AsyncIterable<Uint8Array>) yield b;
    return;
  }
  for (const b of data as Iterable<Uint8Array>) yield b;
}

type Bindings = Awaited<ReturnType<typeof duckdb.createDuckDB>>;
type Connection = ReturnType<Bindings["connect"]>;

class DuckDBWasmEngine implements Engine {
  readonly name: string;
  #db: Bindings | null;
  #conn: Connection | null;

  constructor(db: Bindings, conn: Connection) {
    this.#db = db;
    this.#conn = conn;
    this.name = `duckdb-wasm ${db.getVersion()}`;
  }

  get #c(): Connection {
    if (this.#conn === null) throw new UsageError("engine is closed");
    return this.#conn;
  }

  get #d(): Bindings {
    if (this.#db === null) throw new UsageError("engine is closed");
    return this.#db;
  }

  /**
   * Runs SQL, returning the last result as Arrow IPC *file* bytes (what the bindings produce);
   * SQL errors become UsageErrors.
   */
  #run(sql: string): Uint8Array {
    const c = this.#c;
    try {
      return c.useUnsafe((b, id) => b.runQuery(id, sql));
    } catch (e) {
      throw usage(`SQL error: ${reason(e)}`, e);
    }
  }

  #hasExtension(name: string): boolean {
    const t = tableFromIPC(
      this.#run(
        `SELECT count(*)::INTEGER AS n FROM duckdb_extensions() WHERE loaded AND extension_name = ${
          quoteLiteral(name)
        }`,
      ),
    );
    return t.getChild("n")!.get(0) === 1;
  }

  /** Runs `COPY (<sql>) TO <memory file> (<options>)` and returns the file's bytes. */
  #copyToMemory(sql: string, ext: string, options: string): Uint8Array {
    const db = this.#d;
    const name = scratchName(ext);
    db.registerFileBuffer(name, new Uint8Array(0));
    try {
      this.#run(
        `COPY (${selectOf(sql)}) TO ${quoteLiteral(name)} (${options}, USE_TMP_FILE false)`,
      );
      return db.copyFileToBuffer(name);
    } finally {
      db.dropFile(name);
    }
  }

  async registerIPC(schema: string, table: string, data: IPCSource): Promise<void> {
    checkIdent("schema", schema);
    checkIdent("table", table);
    this.#run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    const exists = tableFromIPC(this.#run(
      `SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_schema = ${
        quoteLiteral(schema)
      } AND table_name = ${quoteLiteral(table)}`,
    ));
    let create = exists.getChild("n")!.get(0) === 0;
    for await (const bytes of streamsOf(data)) {
      if (ipcStreamStats(bytes).batches === 0) {
        // DuckDB rejects a stream without batches; create the empty table from the schema.
        if (create) {
          const schemaOf = RecordBatchReader.from(bytes).open().schema;
          const cols = schemaOf.fields.map((f) => `${quoteIdent(f.name)} ${duckType(f.type)}`);
          this.#run(
            `CREATE TABLE ${quoteIdent(schema)}.${quoteIdent(table)} (${cols.join(", ")})`,
          );
          create = false;
        }
        continue;
      }
      try {
        this.#c.insertArrowFromIPCStream(bytes, { schema, name: table, create });
      } catch (e) {
        throw usage(`cannot load ${schema}.${table}: ${reason(e)}`, e);
      }
      create = false;
    }
  }

  // deno-lint-ignore require-await
  async query(sql: string): Promise<QueryResult> {
    const t = tableFromIPC(this.#run(sql));
    const fields = t.schema.fields;
    const cols = fields.map((_, i) => vectorToJs(t.getChildAt(i)!));
    // Table.numRows sums the batches on every read: read it once.
    const n = t.numRows;
    const rows: unknown[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      const row = new Array<unknown>(cols.length);
      for (let c = 0; c < cols.length; c++) row[c] = cols[c]![r];
      rows[r] = row;
    }
    return { columns: fields.map((f) => f.name), rows };
  }

  // deno-lint-ignore require-await
  async queryCSV(sql: string): Promise<string> {
    return new TextDecoder().decode(this.#copyToMemory(sql, "csv", "HEADER"));
  }

  async queryJSON(sql: string): Promise<string> {
    if (this.#hasExtension("json")) {
      return new TextDecoder().decode(this.#copyToMemory(sql, "json", "FORMAT json, ARRAY true"));
    }
    return resultToJSON(await this.query(selectOf(sql)));
  }

  // deno-lint-ignore require-await
  async exec(sql: string): Promise<void> {
    this.#run(sql);
  }

  async exportTable(sql: string, path: string, format: ExportFormat): Promise<void> {
    let bytes: Uint8Array;
    switch (format) {
      case "csv":
        bytes = this.#copyToMemory(sql, "csv", "HEADER");
        break;
      case "json":
        bytes = new TextEncoder().encode(await this.queryJSON(sql));
        break;
      case "parquet":
        bytes = this.#hasExtension("parquet")
          ? this.#copyToMemory(sql, "parquet", "FORMAT parquet")
          : await ipcToParquet(tableToIPC(tableFromIPC(this.#run(selectOf(sql))), "stream"));
        break;
      default:
        throw new UsageError(`unknown export format ${JSON.stringify(format)}`);
    }
    await Deno.writeFile(path, bytes);
  }

  // deno-lint-ignore require-await
  async close(): Promise<void> {
    if (this.#conn !== null) {
      this.#conn.close();
      this.#conn = null;
    }
    if (this.#db !== null) {
      this.#db.reset();
      this.#db = null;
    }
  }
}

function selectOf(sql: string): string {
  const s = stripTerminator(sql);
  return isTableName(s) ? `SELECT * FROM ${s.trim()}` : s;
}

/**
 * Opens an in-memory embedded DuckDB (about a second: the wasm module is compiled).
 *
 * @param options logging
 * @returns the engine
 * @example
 * ```ts
 * import { openDuckDBWasm } from "./duckdb_wasm.ts";
 * const e = await openDuckDBWasm();
 * const r = await e.query("SELECT 42::UBIGINT AS x");
 * console.assert(r.rows[0]![0] === 42n);
 * await e.close();
 * ```
 */
export async function openDuckDBWasm(options: DuckDBWasmOptions = {}): Promise<Engine> {
  const logger = options.log ? new duckdb.ConsoleLogger() : new duckdb.VoidLogger();
  const db = await duckdb.createDuckDB(bundles(), logger, duckdb.NODE_RUNTIME);
  await db.instantiate(() => {});
  db.open({ path: ":memory:" });
  const conn = db.connect();
  conn.query("SET autoinstall_known_extensions = false");
  conn.query("SET autoload_known_extensions = false");
  return new DuckDBWasmEngine(db, conn);
}
