/**
 * The SQL engine interface the analysis layer talks to.
 *
 * Callers (saved queries, the report, the CLI's `query`, notebooks) see only this interface, so
 * a native DuckDB can replace the embedded duckdb-wasm one without touching them. Data goes in
 * as Arrow IPC stream bytes only, never as Arrow `Table` objects of some library copy.
 *
 * @module
 */

/** Arrow IPC input: one stream, or several streams appended in order. */
export type IPCSource =
  | Uint8Array
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>;

/** A query result with JS values. */
export interface QueryResult {
  /** Column names, in order. */
  columns: string[];
  /**
   * Rows, each with one value per column. BIGINT/UBIGINT/HUGEINT (and DECIMAL with scale 0) are
   * `bigint`, other numbers `number`, VARCHAR `string`, BOOLEAN `boolean`, lists arrays, structs
   * objects, NULL `null`.
   */
  rows: unknown[][];
}

/** File formats of {@linkcode Engine.exportTable}. */
export type ExportFormat = "csv" | "json" | "parquet";

/** A SQL engine holding the toolkit's tables. */
export interface Engine {
  /** Short name of the implementation, e.g. `duckdb-wasm v1.4.3`. */
  readonly name: string;

  /**
   * Loads Arrow IPC streams into `<schema>.<table>`: creates the schema if needed, creates the
   * table from the first stream if it does not exist, appends every later stream.
   *
   * @param schema DuckDB schema (`main`, or the trace system such as `tlb`)
   * @param table table name
   * @param data one stream or a sequence of streams (each complete: schema ... end marker)
   * @returns when every stream is inserted
   */
  registerIPC(schema: string, table: string, data: IPCSource): Promise<void>;

  /**
   * Runs SQL and returns the last statement's result.
   *
   * @param sql one or more statements
   * @returns column names and rows (bigints preserved)
   */
  query(sql: string): Promise<QueryResult>;

  /**
   * Runs one query and renders it as CSV with a header line (DuckDB's CSV writer).
   *
   * @param sql a single query
   * @returns CSV text ending with a newline
   */
  queryCSV(sql: string): Promise<string>;

  /**
   * Runs one query and renders it as a JSON array of row objects.
   *
   * @param sql a single query
   * @returns JSON text (integers exact, never rounded through doubles)
   */
  queryJSON(sql: string): Promise<string>;

  /**
   * Runs statements for their effect.
   *
   * @param sql one or more statements
   */
  exec(sql: string): Promise<void>;

  /**
   * Writes a query's result to a file.
   *
   * @param sql a single query (or a table name, e.g. `main.requests`)
   * @param path output file
   * @param format `csv` (with header), `json` (array of objects) or `parquet`
   */
  exportTable(sql: string, path: string, format: ExportFormat): Promise<void>;

  /** Releases the engine; later calls fail. */
  close(): Promise<void>;
}

/**
 * Quotes a SQL identifier (`"` doubled inside).
 *
 * @param name identifier
 * @returns the quoted identifier
 * @example
 * ```ts
 * import { quoteIdent } from "./engine.ts";
 * console.assert(quoteIdent('a"b') === '"a""b"');
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quotes a SQL string literal (`'` doubled inside).
 *
 * @param s text
 * @returns the literal
 * @example
 * ```ts
 * import { quoteLiteral } from "./engine.ts";
 * console.assert(quoteLiteral("it's") === "'it''s'");
 * ```
 */
export function quoteLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * Whether a query text is a bare (optionally schema-qualified) table name, which
 * {@linkcode Engine.exportTable} accepts in place of a query.
 *
 * @param sql text
 * @returns true for `name` or `schema.name`
 * @example
 * ```ts
 * import { isTableName } from "./engine.ts";
 * console.assert(isTableName("main.requests") && !isTableName("SELECT 1"));
 * ```
 */
export function isTableName(sql: string): boolean {
  return /^\s*[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\s*$/.test(sql);
}

/**
 * Strips trailing semicolons and whitespace so a query can be nested in `COPY (...)`.
 *
 * @param sql query text
 * @returns the query without its terminator
 * @example
 * ```ts
 * import { stripTerminator } from "./engine.ts";
 * console.assert(stripTerminator("SELECT 1 ;\n") === "SELECT 1");
 * ```
 */
export function stripTerminator(sql: string): string {
  return sql.replace(/[\s;]+$/, "");
}
