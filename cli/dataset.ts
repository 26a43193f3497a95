/**
 * Opens what `query` and `report` read: one ingest/replay output directory, several (a fleet, given
 * as a comma list or a glob), or a trace file, ingested into memory first.
 *
 * With `sql`, only the tables that SQL can read are loaded (see `analysis/sql_tables.ts`), so a
 * small query on a big directory reads a few small files instead of every table.
 *
 * @module
 */
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import {
  expandDatasetPaths,
  loadDataset,
  loadFleet,
  loadStreams,
  type TableFilter,
} from "../analysis/dataset.ts";
import type { Engine } from "../analysis/engine.ts";
import { tableFilterForSQL } from "../analysis/sql_tables.ts";
import { UsageError } from "../core/errors.ts";
import { ingestToMemory } from "../ingest/ingest.ts";

/** An engine with data loaded. */
export interface OpenDataset {
  /** The embedded DuckDB holding the tables. */
  engine: Engine;
  /** What was loaded: directories, or the trace file. */
  sources: string[];
  /** Tables loaded so far, as `schema.name`. */
  loaded: ReadonlySet<string>;
  /** Tables not loaded (yet), as `schema.name`. */
  skipped: ReadonlySet<string>;
  /**
   * Loads the tables left out so far.
   *
   * @returns false when there were none
   */
  loadRest(): Promise<boolean>;
  /** Closes the engine and frees what it holds. */
  close(): Promise<void>;
}

/** Options of {@linkcode openDataset}. */
export interface OpenDatasetOptions {
  /** Load only the tables this SQL can read (catalog queries still load everything). */
  sql?: string;
}

function isDir(p: string): boolean {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Loads a target into a fresh embedded DuckDB.
 *
 * @param target an output directory, a comma list or glob of them, or a trace file
 * @param options `sql`: load only what it reads (default: every table)
 * @returns the engine and what it holds
 * @throws {UsageError} when nothing matches
 */
export async function openDataset(
  target: string,
  options: OpenDatasetOptions = {},
): Promise<OpenDataset> {
  const paths = await expandDatasetPaths([target]);
  if (paths.length === 0) throw new UsageError(`nothing matches ${target}`);
  const loaded = new Set<string>();
  const skipped = new Set<string>();
  let load: (filter: TableFilter) => Promise<void>;
  if (paths.length === 1 && !isDir(paths[0]!)) {
    const m = await ingestToMemory(paths[0]!);
    load = async (filter) => {
      for (const k of m.streams.keys()) skipped.add(k);
      for (const k of await loadStreams(engine, m.streams, { tables: filter })) {
        loaded.add(k);
        skipped.delete(k);
      }
    };
  } else {
    if (paths.length > 1) {
      for (const p of paths) if (!isDir(p)) throw new UsageError(`${p} is not an ingest directory`);
    }
    load = async (filter) => {
      const sets = paths.length === 1
        ? [await loadDataset(engine, paths[0]!, { tables: filter })]
        : await loadFleet(engine, paths, { tables: filter });
      for (const d of sets) {
        for (const k of d.skipped) skipped.add(k);
        for (const t of d.tables) loaded.add(`${t.schema}.${t.name}`);
      }
      for (const k of loaded) skipped.delete(k);
    };
  }
  const engine = await openDuckDBWasm();
  const want = options.sql === undefined ? () => true : tableFilterForSQL(options.sql);
  try {
    await load((s, n) => !loaded.has(`${s}.${n}`) && want(s, n));
  } catch (e) {
    await engine.close();
    throw e;
  }
  return {
    engine,
    sources: paths,
    loaded,
    skipped,
    async loadRest() {
      if (skipped.size === 0) return false;
      await load((s, n) => !loaded.has(`${s}.${n}`));
      return true;
    },
    close: () => engine.close(),
  };
}
