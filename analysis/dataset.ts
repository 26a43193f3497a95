/**
 * Loading ingest output directories into an {@linkcode Engine}.
 *
 * Directory contract (written by `deno task ingest --out DIR` and `deno task replay --out DIR`):
 *
 * ```text
 * DIR/manifest.json      {"format": "iommu-replay-ingest", "version": 1, "source": "...",
 *                          "tables": [{"schema": "tlb", "name": "tlb_flush",
 *                                      "file": "tlb/tlb_flush.arrows", "rows": 123}, ...], ...}
 * DIR/<schema>/<t>.arrows one or more complete Arrow IPC streams, back to back
 * ```
 *
 * The other keys the toolkit writes (`info`, `warnings`, `replay`; per table `columns`, and the
 * `parquet` / `csv` copies of `--format`) are accepted; any other key is an error naming the
 * manifest and the key's path (`$.tables[2].colums`), so a typo or a foreign file is not
 * silently half-read. Each table lands as `<schema>.<name>`.
 *
 * **Fleet mode** ({@linkcode loadFleet}) loads several directories into the *same* tables with a
 * leading `dataset` column (VARCHAR, the directory's base name unless named explicitly), so SQL
 * compares traces with a plain `GROUP BY dataset`. When the datasets' tables differ in columns
 * (another kernel's format file), the union of columns is kept and missing values are NULL.
 * `main.datasets` lists the loaded datasets (`dataset`, `dir`, `source`).
 *
 * @module
 */
import { TraceError, UsageError } from "../core/errors.ts";
import type { Engine } from "./engine.ts";
import { quoteIdent, quoteLiteral } from "./engine.ts";
import { readIPCStreams } from "./ipc_streams.ts";

/** Value of the manifest's `format` key. */
export const MANIFEST_FORMAT = "iommu-replay-ingest";
/** Manifest version this loader reads. */
export const MANIFEST_VERSION = 1;

/** Top-level keys of a manifest: the contract's, then those ingest and replay add. */
export const MANIFEST_KEYS: readonly string[] = [
  "format",
  "version",
  "source",
  "tables",
  "info",
  "warnings",
  "replay",
];

/** Keys of a manifest's table entry: the contract's, the column list, the `--format` copies. */
export const MANIFEST_TABLE_KEYS: readonly string[] = [
  "schema",
  "name",
  "file",
  "rows",
  "columns",
  "parquet",
  "csv",
];

/** One table entry of a manifest. */
export interface ManifestTableEntry {
  /** DuckDB schema. */
  schema: string;
  /** Table name. */
  name: string;
  /** File relative to the directory (`<schema>/<name>.arrows`). */
  file: string;
  /** Rows over all streams of the file. */
  rows: number;
  /** Parquet copy relative to the directory (`--format parquet`), when written. */
  parquet?: string;
  /** CSV copy relative to the directory (`--format csv`), when written. */
  csv?: string;
}

/** A parsed `manifest.json` (the keys beyond the contract's are kept in `extra`). */
export interface DatasetManifest {
  /** Always {@linkcode MANIFEST_FORMAT}. */
  format: typeof MANIFEST_FORMAT;
  /** Always {@linkcode MANIFEST_VERSION}. */
  version: typeof MANIFEST_VERSION;
  /** The trace the directory was made from. */
  source: string;
  /** The tables, in manifest order. */
  tables: ManifestTableEntry[];
  /** The manifest's other keys (`info`, `warnings`, `replay`), untouched. */
  extra: Record<string, unknown>;
}

/** A table as loaded. */
export interface LoadedTable {
  /** DuckDB schema. */
  schema: string;
  /** Table name. */
  name: string;
  /** Rows read from the file. */
  rows: number;
  /** IPC streams read from the file. */
  streams: number;
}

/** Which tables to load: `(schema, name) => wanted` (default: all). */
export type TableFilter = (schema: string, name: string) => boolean;

/** Options of {@linkcode loadDataset}, {@linkcode loadFleet} and {@linkcode loadStreams}. */
export interface LoadOptions {
  /**
   * Load only the tables this accepts (e.g. `tableFilterForSQL(sql)` from `sql_tables.ts`:
   * the tables a query can read). The others are neither read nor checked.
   */
  tables?: TableFilter;
}

/** A loaded directory. */
export interface LoadedDataset {
  /** Dataset name (fleet mode: the value of the `dataset` column). */
  name: string;
  /** The directory as given. */
  dir: string;
  /** Its manifest. */
  manifest: DatasetManifest;
  /** The tables loaded, in manifest order. */
  tables: LoadedTable[];
  /** Manifest tables left out by {@linkcode LoadOptions.tables}, as `schema.name`. */
  skipped: string[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function manifestError(path: string, why: string): TraceError {
  return new TraceError("bad_value", why, { file: path, section: "manifest", offset: 0 });
}

function checkKeys(path: string, at: string, o: object, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw manifestError(path, `${at}.${k}: unknown key (allowed: ${allowed.join(", ")})`);
    }
  }
}

function isPlainRelative(file: unknown): file is string {
  return typeof file === "string" && file !== "" && !file.startsWith("/") &&
    !file.includes("\\") && !file.split("/").some((s) => s === ".." || s === "." || s === "");
}

function baseName(dir: string): string {
  const parts = dir.replace(/\/+$/, "").split("/");
  return parts[parts.length - 1] || dir;
}

/**
 * Reads and checks `DIR/manifest.json`.
 *
 * @param dir the directory
 * @returns the manifest
 * @throws {UsageError} when the directory has no manifest
 * @throws {TraceError} when the manifest is not valid JSON or breaks the contract
 */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const path = `${dir.replace(/\/+$/, "")}/manifest.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`${dir}: not an ingest directory (no manifest.json)`);
    }
    throw e;
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new TraceError("parse_error", `not JSON: ${(e as Error).message}`, {
      file: path,
      section: "manifest",
      offset: 0,
    });
  }
  if (typeof j !== "object" || j === null || Array.isArray(j)) {
    throw manifestError(path, "not a JSON object");
  }
  checkKeys(path, "$", j, MANIFEST_KEYS);
  const { format, version, source, tables, ...extra } = j as Record<string, unknown>;
  if (format !== MANIFEST_FORMAT) {
    throw manifestError(path, `format is ${JSON.stringify(format)}, expected "${MANIFEST_FORMAT}"`);
  }
  if (version !== MANIFEST_VERSION) {
    throw new TraceError(
      "unsupported_version",
      `manifest version ${JSON.stringify(version)}, this reader knows ${MANIFEST_VERSION}`,
      { file: path, section: "manifest", offset: 0 },
    );
  }
  if (typeof source !== "string") throw manifestError(path, "source is not a string");
  if (!Array.isArray(tables)) throw manifestError(path, "tables is not a list");
  const out: ManifestTableEntry[] = [];
  const seen = new Set<string>();
  tables.forEach((t: unknown, i) => {
    const at = `tables[${i}]`;
    if (typeof t !== "object" || t === null || Array.isArray(t)) {
      throw manifestError(path, `${at} is not an object`);
    }
    checkKeys(path, `$.${at}`, t, MANIFEST_TABLE_KEYS);
    const { schema, name, file, rows, columns, parquet, csv } = t as Record<string, unknown>;
    if (typeof schema !== "string" || !IDENT.test(schema)) {
      throw manifestError(path, `${at}.schema ${JSON.stringify(schema)} is not an identifier`);
    }
    if (typeof name !== "string" || !IDENT.test(name)) {
      throw manifestError(path, `${at}.name ${JSON.stringify(name)} is not an identifier`);
    }
    if (!isPlainRelative(file)) {
      throw manifestError(path, `${at}.file ${JSON.stringify(file)} is not a plain relative path`);
    }
    for (const [k, v] of [["parquet", parquet], ["csv", csv]] as const) {
      if (v !== undefined && !isPlainRelative(v)) {
        throw manifestError(path, `${at}.${k} ${JSON.stringify(v)} is not a plain relative path`);
      }
    }
    if (columns !== undefined && !Array.isArray(columns)) {
      throw manifestError(path, `${at}.columns is not a list`);
    }
    if (typeof rows !== "number" || !Number.isSafeInteger(rows) || rows < 0) {
      throw manifestError(path, `${at}.rows ${JSON.stringify(rows)} is not a row count`);
    }
    const key = `${schema}.${name}`;
    if (seen.has(key)) throw manifestError(path, `${at}: table ${key} listed twice`);
    seen.add(key);
    out.push({
      schema,
      name,
      file,
      rows,
      ...(typeof parquet === "string" ? { parquet } : {}),
      ...(typeof csv === "string" ? { csv } : {}),
    });
  });
  return { format: MANIFEST_FORMAT, version: MANIFEST_VERSION, source, tables: out, extra };
}

/** Streams a table's file into `<schema>.<name>`, checking its row count. */
async function loadTableFile(
  engine: Engine,
  dir: string,
  t: ManifestTableEntry,
  schema: string,
  name: string,
): Promise<LoadedTable> {
  const path = `${dir.replace(/\/+$/, "")}/${t.file}`;
  let rows = 0;
  let streams = 0;
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for await (const p of readIPCStreams(path)) {
      rows += p.rows;
      streams++;
      yield p.bytes;
    }
  }
  try {
    await engine.registerIPC(schema, name, pieces());
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new TraceError("bad_value", `missing table file ${t.file}`, {
        file: `${dir.replace(/\/+$/, "")}/manifest.json`,
        section: "manifest",
        offset: 0,
      });
    }
    if (e instanceof UsageError) {
      throw new TraceError("bad_value", e.message, {
        file: path,
        section: "arrow ipc stream",
        offset: 0,
      });
    }
    throw e;
  }
  if (streams === 0) {
    throw new TraceError("truncated", "file holds no Arrow IPC stream", {
      file: path,
      section: "arrow ipc stream",
      offset: 0,
    });
  }
  if (rows !== t.rows) {
    throw new TraceError(
      "bad_value",
      `manifest says ${t.rows} rows for ${t.schema}.${t.name}, the file holds ${rows}`,
      { file: path, section: "arrow ipc stream", offset: 0 },
    );
  }
  return { schema: t.schema, name: t.name, rows, streams };
}

/**
 * Loads one ingest directory: every manifest table (or each one `options.tables` accepts)
 * becomes `<schema>.<name>`.
 *
 * @param engine target engine
 * @param dir the directory
 * @param options which tables
 * @returns what was loaded
 * @throws {UsageError} when `dir` is not an ingest directory
 * @throws {TraceError} on a bad manifest, a missing/damaged file or a row count mismatch
 * @example
 * ```ts ignore
 * const e = await openDuckDBWasm();
 * await loadDataset(e, "out/trace1");
 * console.log(await e.queryCSV("SELECT count(*) FROM tlb.tlb_flush"));
 * ```
 */
export async function loadDataset(
  engine: Engine,
  dir: string,
  options: LoadOptions = {},
): Promise<LoadedDataset> {
  const manifest = await readManifest(dir);
  const tables: LoadedTable[] = [];
  const skipped: string[] = [];
  for (const t of manifest.tables) {
    if (options.tables && !options.tables(t.schema, t.name)) {
      skipped.push(`${t.schema}.${t.name}`);
      continue;
    }
    tables.push(await loadTableFile(engine, dir, t, t.schema, t.name));
  }
  return { name: baseName(dir), dir, manifest, tables, skipped };
}

/**
 * Loads in-memory IPC streams (e.g. an in-memory ingest: `schema.table` -> streams).
 *
 * @param engine target engine
 * @param streams map from `<schema>.<table>` to its IPC streams
 * @param options which tables
 * @returns the keys loaded, in map order
 * @throws {UsageError} on a key that is not `<schema>.<table>`
 */
export async function loadStreams(
  engine: Engine,
  streams: ReadonlyMap<string, readonly Uint8Array[]>,
  options: LoadOptions = {},
): Promise<string[]> {
  const loaded: string[] = [];
  for (const [key, list] of streams) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(key);
    if (!m) throw new UsageError(`bad table key ${JSON.stringify(key)} (want schema.table)`);
    if (options.tables && !options.tables(m[1]!, m[2]!)) continue;
    await engine.registerIPC(m[1]!, m[2]!, list);
    loaded.push(key);
  }
  return loaded;
}

/** A dataset of a fleet: a directory, optionally with an explicit name. */
export type FleetEntry = string | { name: string; dir: string };

const STAGE_SCHEMA = "__fleet_stage";

async function columnsOf(
  engine: Engine,
  schema: string,
  table: string,
): Promise<Map<string, string>> {
  const r = await engine.query(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${
      quoteLiteral(schema)
    } AND table_name = ${quoteLiteral(table)} ORDER BY ordinal_position`,
  );
  return new Map(r.rows.map((x) => [x[0] as string, x[1] as string]));
}

/**
 * Loads several ingest directories into the same tables, each row tagged with a leading
 * `dataset` column, and records them in `main.datasets`.
 *
 * Called again on the same engine with other tables (e.g. the ones a first call's filter left
 * out), it adds them; a dataset already listed in `main.datasets` is not listed twice.
 *
 * @param engine target engine
 * @param entries directories (named after their base name) or `{name, dir}` pairs
 * @param options which tables
 * @returns the loaded datasets, in order
 * @throws {UsageError} on duplicate dataset names or an empty list
 * @throws {TraceError} as {@linkcode loadDataset}
 */
export async function loadFleet(
  engine: Engine,
  entries: readonly FleetEntry[],
  options: LoadOptions = {},
): Promise<LoadedDataset[]> {
  if (entries.length === 0) throw new UsageError("no dataset to load");
  const named = entries.map((e) => typeof e === "string" ? { name: baseName(e), dir: e } : e);
  const names = new Set<string>();
  for (const { name } of named) {
    if (names.has(name)) {
      throw new UsageError(`two datasets are named ${JSON.stringify(name)}; name them explicitly`);
    }
    names.add(name);
  }
  await engine.exec(
    "CREATE TABLE IF NOT EXISTS main.datasets (dataset VARCHAR, dir VARCHAR, source VARCHAR)",
  );
  const out: LoadedDataset[] = [];
  for (const { name, dir } of named) {
    const manifest = await readManifest(dir);
    const tables: LoadedTable[] = [];
    const skipped: string[] = [];
    for (const t of manifest.tables) {
      if (options.tables && !options.tables(t.schema, t.name)) {
        skipped.push(`${t.schema}.${t.name}`);
        continue;
      }
      const stage = `${t.schema}__${t.name}`;
      await engine.exec(`DROP TABLE IF EXISTS ${STAGE_SCHEMA}.${quoteIdent(stage)}`);
      tables.push(await loadTableFile(engine, dir, t, STAGE_SCHEMA, stage));
      const target = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
      const src = `${STAGE_SCHEMA}.${quoteIdent(stage)}`;
      const have = await columnsOf(engine, t.schema, t.name);
      const tag = `${quoteLiteral(name)}::VARCHAR AS dataset`;
      if (have.size === 0) {
        await engine.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(t.schema)}`);
        await engine.exec(`CREATE TABLE ${target} AS SELECT ${tag}, * FROM ${src}`);
      } else {
        const add = [...(await columnsOf(engine, STAGE_SCHEMA, stage))]
          .filter(([c]) => !have.has(c))
          .map(([c, type]) => `ALTER TABLE ${target} ADD COLUMN ${quoteIdent(c)} ${type};`);
        if (add.length) await engine.exec(add.join("\n"));
        await engine.exec(`INSERT INTO ${target} BY NAME SELECT ${tag}, * FROM ${src}`);
      }
      await engine.exec(`DROP TABLE ${src}`);
    }
    await engine.exec(
      `INSERT INTO main.datasets SELECT ${quoteLiteral(name)}, ${quoteLiteral(dir)}, ${
        quoteLiteral(manifest.source)
      } WHERE NOT EXISTS (SELECT 1 FROM main.datasets WHERE dataset = ${quoteLiteral(name)})`,
    );
    out.push({ name, dir, manifest, tables, skipped });
  }
  await engine.exec(`DROP SCHEMA IF EXISTS ${STAGE_SCHEMA}`);
  return out;
}

function globRegExp(segment: string): RegExp {
  let re = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let cls = segment.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (cls.startsWith("!")) cls = "^" + cls.slice(1);
        re += `[${cls}]`;
        i = end;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

const GLOB = /[*?[]/;

/**
 * Expands dataset arguments: plain paths are kept as given, glob patterns (`*`, `?`, `[...]`
 * in any path segment) become the sorted ingest directories (holding a `manifest.json`) they
 * match. Commas separate several entries in one argument.
 *
 * @param args paths, patterns or comma-separated lists of them
 * @returns directories, in argument order (each pattern's matches sorted)
 * @throws {UsageError} when a pattern matches no ingest directory
 * @example
 * ```ts ignore
 * const dirs = await expandDatasetPaths(["out/run-*", "other/dir"]);
 * ```
 */
export async function expandDatasetPaths(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args.flatMap((a) => a.split(",")).map((a) => a.trim()).filter((a) => a)) {
    if (!GLOB.test(arg)) {
      out.push(arg);
      continue;
    }
    const abs = arg.startsWith("/");
    const segs = arg.split("/").filter((s) => s !== "");
    let paths = [abs ? "" : "."];
    for (const seg of segs) {
      const next: string[] = [];
      for (const p of paths) {
        const join = (n: string) => (p === "" ? `/${n}` : p === "." && !abs ? n : `${p}/${n}`);
        if (!GLOB.test(seg)) {
          next.push(join(seg));
          continue;
        }
        const re = globRegExp(seg);
        try {
          for await (const d of Deno.readDir(p === "" ? "/" : p)) {
            if (re.test(d.name) && (seg.startsWith(".") || !d.name.startsWith("."))) {
              next.push(join(d.name));
            }
          }
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory)) {
            throw e;
          }
        }
      }
      paths = next;
    }
    const found: string[] = [];
    for (const p of paths.sort()) {
      try {
        if ((await Deno.stat(`${p}/manifest.json`)).isFile) found.push(p);
      } catch { /* not an ingest directory */ }
    }
    if (found.length === 0) throw new UsageError(`no ingest directory matches ${arg}`);
    out.push(...found);
  }
  return out;
}
