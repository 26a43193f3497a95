/**
 * `deno task query <DIR|trace> "<SQL>" [--json]`
 *
 * @module
 */
import { statementCount } from "../analysis/sql_tables.ts";
import { UsageError } from "../core/errors.ts";
import { type OpenDataset, openDataset } from "./dataset.ts";
import { parse } from "./common.ts";

/** Help text. */
export const QUERY_HELP = `Usage: deno task query <DIR|trace> "<SQL>" [--json] [--out FILE]

Runs DuckDB SQL (duckdb-wasm, embedded) over an ingest directory (deno task ingest ... --out DIR)
or directly over a trace file (ingested in memory first). Several directories may be given,
separated by commas or as a glob, to query a fleet of traces at once.

Tables: <system>.<event> (e.g. tlb.tlb_flush, syscalls.sys_enter_munmap), main.events,
main.trace_info, and after a replay the canonical and result tables (main.requests,
main.policy_summary, ...). Only the tables the SQL names are loaded, so a small query on a big
directory is quick; a query of the catalog (information_schema, duckdb_tables(), SHOW TABLES,
DESCRIBE, PRAGMA, ...) loads them all.

Output: CSV with a header (DuckDB's own writer), or with --json a JSON array of row objects.

Options:
      --json       JSON array of row objects instead of CSV
      --out FILE   write the result to FILE (.csv, .json or .parquet) instead of stdout
  -h, --help       this help

Examples:
  deno task query trace.arrow "SELECT reason, count(*) n FROM tlb.tlb_flush GROUP BY 1 ORDER BY 2 DESC"
  deno task query examples/sva_two_iommus.dat "SELECT system, event, count(*) FROM main.events GROUP BY ALL" --json
`;

/**
 * Runs the query command.
 *
 * @param args arguments after `query`
 * @returns exit code
 */
export async function queryCommand(args: string[]): Promise<number> {
  const p = parse(args, { json: { type: "boolean" }, out: { type: "string" } });
  if (p.values.help) {
    console.log(QUERY_HELP);
    return 0;
  }
  if (p.positionals.length !== 2) throw new UsageError('expected <DIR|trace> and "<SQL>"');
  const [target, sql] = p.positionals as [string, string];
  const ds = await openDataset(target, { sql });
  try {
    const out = typeof p.values.out === "string" ? p.values.out : null;
    if (out) {
      const kind = out.endsWith(".parquet") ? "parquet" : out.endsWith(".json") ? "json" : "csv";
      await withAllOnCatalogError(ds, sql, () => ds.engine.exportTable(sql, out, kind));
      return 0;
    }
    const text = await withAllOnCatalogError(
      ds,
      sql,
      () => p.values.json ? ds.engine.queryJSON(sql) : ds.engine.queryCSV(sql),
    );
    await Deno.stdout.write(new TextEncoder().encode(text.endsWith("\n") ? text : text + "\n"));
    return 0;
  } finally {
    await ds.close();
  }
}

/**
 * Whether a catalog error can come from a table left out: it names a table or schema of one (a
 * table the SQL reaches without naming it), or no name at all. A misspelt name is not retried.
 */
function mayBeSkipped(ds: OpenDataset, message: string): boolean {
  const m = /with name "?([^\s"!]+)"? does not exist/.exec(message);
  if (!m) return true;
  const missing = m[1]!.toLowerCase();
  for (const key of ds.skipped) {
    const k = key.toLowerCase();
    const [schema, name] = k.split(".") as [string, string];
    if (missing === k || missing === name || missing === schema) return true;
  }
  return false;
}

/**
 * Runs `f`; when a single-statement query fails on a missing catalog entry that may be a table
 * not loaded, loads every table and runs it again.
 */
async function withAllOnCatalogError<T>(
  ds: OpenDataset,
  sql: string,
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (
      !(e instanceof UsageError) || !/Catalog Error/.test(e.message) ||
      statementCount(sql) !== 1 || !mayBeSkipped(ds, e.message) || !(await ds.loadRest())
    ) {
      throw e;
    }
    return await f();
  }
}
