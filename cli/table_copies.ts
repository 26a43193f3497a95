/**
 * Parquet and CSV copies of an output directory's tables (`--format` of `ingest` and `replay`).
 *
 * The Arrow IPC files stay the directory's primary form (what `query` and `report` load); each
 * copy is written beside its `.arrows` file (`tlb/tlb_flush.parquet`, `tlb/tlb_flush.csv`) by the
 * same writers `query --out` uses: parquet-wasm for Parquet, DuckDB's own writer for CSV. The
 * manifest records each copy on its table entry (`"parquet": "tlb/tlb_flush.parquet"`,
 * `"csv": ...`).
 *
 * The `--format` option itself is parsed by `table_formats.ts`, which does not load DuckDB.
 *
 * @module
 */
import { readManifest } from "../analysis/dataset.ts";
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { quoteIdent } from "../analysis/engine.ts";
import { readIPCStreams } from "../analysis/ipc_streams.ts";
import { type CopyFormat, copyPath } from "./table_formats.ts";

/**
 * Writes a copy of every table of an output directory in each format and records the copies in
 * its manifest. Tables are loaded into an embedded DuckDB one at a time.
 *
 * @param dir an ingest or replay output directory (with its `manifest.json`)
 * @param formats the copies to make (nothing happens when empty)
 * @param onTable called before each table (`schema.name`, its index, the table count)
 * @returns the files written, relative to `dir`
 * @throws {import("../core/errors.ts").TraceError} on a bad manifest or a damaged table file
 */
export async function writeTableCopies(
  dir: string,
  formats: readonly CopyFormat[],
  onTable?: (table: string, index: number, count: number) => void,
): Promise<string[]> {
  if (formats.length === 0) return [];
  const base = dir.replace(/\/+$/, "");
  const manifest = await readManifest(base); // checks the contract (names, plain paths)
  const path = `${base}/manifest.json`;
  const raw = JSON.parse(await Deno.readTextFile(path)) as {
    tables: Record<string, unknown>[];
  };
  const written: string[] = [];
  const engine = await openDuckDBWasm();
  try {
    for (const [i, t] of manifest.tables.entries()) {
      onTable?.(`${t.schema}.${t.name}`, i, manifest.tables.length);
      await engine.registerIPC(
        t.schema,
        t.name,
        (async function* () {
          for await (const p of readIPCStreams(`${base}/${t.file}`)) yield p.bytes;
        })(),
      );
      const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
      const entry = raw.tables[i]!;
      for (const f of formats) {
        const rel = copyPath(t.file, f);
        await engine.exportTable(`SELECT * FROM ${table}`, `${base}/${rel}`, f);
        entry[f] = rel;
        written.push(rel);
      }
      await engine.exec(`DROP TABLE ${table}`);
    }
  } finally {
    await engine.close();
  }
  await Deno.writeTextFile(path, JSON.stringify(raw, null, 2) + "\n");
  return written;
}
