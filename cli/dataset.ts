/**
 * Opens what `query` and `report` read: one ingest/replay output directory, several (a fleet, given
 * as a comma list or a glob), or a trace file, ingested into memory first.
 *
 * @module
 */
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { expandDatasetPaths, loadDataset, loadFleet, loadStreams } from "../analysis/dataset.ts";
import type { Engine } from "../analysis/engine.ts";
import { UsageError } from "../core/errors.ts";
import { ingestToMemory } from "../ingest/ingest.ts";

/** An engine with data loaded. */
export interface OpenDataset {
  engine: Engine;
  /** What was loaded: directories, or the trace file. */
  sources: string[];
  close(): Promise<void>;
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
 * @returns the engine and what it holds
 * @throws {UsageError} when nothing matches
 */
export async function openDataset(target: string): Promise<OpenDataset> {
  const paths = await expandDatasetPaths([target]);
  if (paths.length === 0) throw new UsageError(`nothing matches ${target}`);
  const engine = await openDuckDBWasm();
  try {
    if (paths.length === 1 && !isDir(paths[0]!)) {
      const m = await ingestToMemory(paths[0]!);
      await loadStreams(engine, m.streams);
    } else if (paths.length === 1) {
      await loadDataset(engine, paths[0]!);
    } else {
      for (const p of paths) if (!isDir(p)) throw new UsageError(`${p} is not an ingest directory`);
      await loadFleet(engine, paths);
    }
  } catch (e) {
    await engine.close();
    throw e;
  }
  return { engine, sources: paths, close: () => engine.close() };
}
