/**
 * The replay pipeline behind `deno task replay`: sniff and ingest the trace into Arrow tables, read
 * the IOMMU-relevant events back from them, normalize into canonical tables, replay every policy,
 * and (with an output directory) write canonical and result tables beside the raw ones.
 *
 * Each stage consumes only the one before it; the trace file is parsed once, by ingest.
 *
 * @module
 */
import { rowsToIPC, SpecBatchWriter } from "../core/arrow.ts";
import { CANONICAL_TABLES } from "../core/canonical.ts";
import type { TraceWarning } from "../core/errors.ts";
import type { TableSpec } from "../core/schema.ts";
import { type CanonicalTables, Normalizer, wantedEventKeys } from "../core/normalize/normalize.ts";
import {
  policyDescriptorRows,
  policySummaryRows,
  replay,
  REPLAY_TABLES,
} from "../core/replay/mod.ts";
import type { ReplayResult } from "../core/replay/mod.ts";
import { loadTopology, type Topology } from "../core/topology.ts";
import { type ReadableTable, readEventsInOrder } from "../ingest/arrow/read_events.ts";
import { ingestToDir, type Manifest } from "../ingest/ingest.ts";

/** Options of {@linkcode replayTrace}. */
export interface ReplayTraceOptions {
  /** Topology file or object (what-if bindings, device facts). */
  topology?: string | Topology;
  /** Policies to replay (default: all built-ins). */
  policies?: readonly string[];
  /** Cost model name or JSON file (default `bare-metal-vtd`). */
  costModel?: string;
  /** Baseline policy for ratios (default: the first). */
  baseline?: string;
  /**
   * What-if mode (syscall ranges and TLB flushes become requests). `auto` (default) turns it on when a
   * topology is given and the trace holds no IOMMU invalidation requests.
   */
  whatIf?: boolean | "auto";
  /** Keep all tables here (raw, canonical, results). Default: a temporary directory, removed after. */
  outDir?: string;
  /** The traced kernel's version, when the trace does not say (`uname -r`). */
  kernel?: string;
  /** Progress callback (stage name and a count). */
  onProgress?: (stage: string, n: number) => void;
}

/** What a replay produced. */
export interface ReplayTraceResult {
  result: ReplayResult;
  canonical: CanonicalTables;
  /** Ingest manifest (raw tables) and its trace_info. */
  manifest: Manifest;
  /** Whether the requests came from an mm trace (what-if). */
  whatIf: boolean;
  /** Kernel version used for the fidelity policy, when known. */
  kernel: string | null;
  warnings: TraceWarning[];
  /** The output directory, when kept. */
  outDir: string | null;
}

/**
 * The kernel release in a `uname` string (`Linux vm 6.18.44-fc x86_64` -> `6.18.44-fc`).
 *
 * @param uname uname text
 * @returns release or null
 */
export function kernelFromUname(uname: string | null | undefined): string | null {
  if (!uname) return null;
  const m = /\b(\d+\.\d+(?:\.\d+)?[^\s]*)/.exec(uname);
  return m ? m[1]! : null;
}

function tablesOf(dir: string, m: Manifest): { index: string | null; tables: ReadableTable[] } {
  const tables: ReadableTable[] = [];
  let index: string | null = null;
  for (const t of m.tables) {
    if (!t.file) continue;
    if (t.schema === "main" && t.name === "events") index = `${dir}/${t.file}`;
    else {
      tables.push({
        schema: t.schema,
        name: t.name,
        source: `${dir}/${t.file}`,
        ...(t.columns ? { columns: t.columns } : {}),
      });
    }
  }
  return { index, tables };
}

async function normalizeFrom(
  dir: string,
  m: Manifest,
  opts: { whatIf: boolean; topology: Topology | undefined; file: string },
  onProgress?: (stage: string, n: number) => void,
): Promise<CanonicalTables> {
  const want = new Set(wantedEventKeys());
  const n = new Normalizer({
    file: opts.file,
    whatIf: opts.whatIf,
    onMalformed: "skip",
    ...(opts.topology ? { topology: opts.topology } : {}),
  });
  const { index, tables } = tablesOf(dir, m);
  if (index) {
    let count = 0;
    for await (const e of readEventsInOrder(index, tables, (k) => want.has(k))) {
      n.push(e);
      if (onProgress && (++count & 0x3fff) === 0) onProgress("normalize", count);
    }
  }
  return n.finish();
}

/** Writes a declared table's rows into `<dir>/main/<name>.arrows` and lists it in the manifest. */
async function writeTable(dir: string, m: Manifest, spec: TableSpec, rows: readonly object[]) {
  await Deno.mkdir(`${dir}/main`, { recursive: true });
  const file = `main/${spec.name}.arrows`;
  await Deno.writeFile(`${dir}/${file}`, rowsToIPC(spec, rows));
  m.tables = m.tables.filter((t) => !(t.schema === "main" && t.name === spec.name));
  m.tables.push({ schema: "main", name: spec.name, file, rows: rows.length });
}

/** A streaming writer of a declared table into `<dir>/main/<name>.arrows`. */
function streamTable(dir: string, spec: TableSpec) {
  Deno.mkdirSync(`${dir}/main`, { recursive: true });
  const file = `main/${spec.name}.arrows`;
  const f = Deno.openSync(`${dir}/${file}`, { write: true, create: true, truncate: true });
  const w = new SpecBatchWriter(spec, (b) => {
    let off = 0;
    while (off < b.length) off += f.writeSync(b.subarray(off));
  });
  return {
    append: (row: object) => void w.append(row),
    async close(m: Manifest) {
      await w.close();
      f.close();
      m.tables = m.tables.filter((t) => !(t.schema === "main" && t.name === spec.name));
      if (w.rowsWritten > 0) {
        m.tables.push({ schema: "main", name: spec.name, file, rows: w.rowsWritten });
      }
    },
  };
}

function specOf(name: string): TableSpec {
  const s = [...CANONICAL_TABLES, ...REPLAY_TABLES].find((t) => t.name === name);
  if (!s) throw new Error(`no table declaration '${name}'`);
  return s;
}

/**
 * Replays a trace: ingest, normalize, replay every policy.
 *
 * @param path the trace (any supported format)
 * @param opts topology, policies, cost model, output directory
 * @returns the replay result and the canonical tables
 * @throws {import("../core/errors.ts").TraceError} on an unreadable trace
 * @throws {import("../core/errors.ts").UsageError} on bad options (policy, cost model, topology)
 */
export async function replayTrace(
  path: string,
  opts: ReplayTraceOptions = {},
): Promise<ReplayTraceResult> {
  const keep = opts.outDir !== undefined;
  const dir = opts.outDir ?? await Deno.makeTempDir({ prefix: "iommu-replay-" });
  try {
    const topology = typeof opts.topology === "string"
      ? await loadTopology(opts.topology)
      : opts.topology;
    const m = await ingestToDir(path, dir, {
      ...(opts.onProgress ? { onProgress: (n: number) => opts.onProgress!("ingest", n) } : {}),
    });
    const kernel = opts.kernel ?? kernelFromUname(m.info.kernel as string | null);
    let whatIf = opts.whatIf === true;
    let canonical = await normalizeFrom(dir, m, { whatIf, topology, file: path }, opts.onProgress);
    if ((opts.whatIf ?? "auto") === "auto" && topology && canonical.requests.length === 0) {
      whatIf = true;
      canonical = await normalizeFrom(dir, m, { whatIf, topology, file: path }, opts.onProgress);
    }
    const commands = keep ? streamTable(dir, specOf("replayed_commands")) : null;
    const costs = keep ? streamTable(dir, specOf("request_costs")) : null;
    const result = replay(
      {
        iommus: canonical.iommus,
        devices: canonical.devices,
        bindings: canonical.bindings,
        requests: canonical.requests,
        // Fidelity only when the trace holds commands the kernel issued.
        ...(canonical.observed_commands.length > 0
          ? { observed_commands: canonical.observed_commands }
          : {}),
        process_events: canonical.process_events,
        kernel,
      },
      {
        ...(opts.policies ? { policies: opts.policies } : {}),
        ...(opts.costModel ? { costModel: opts.costModel } : {}),
        ...(opts.baseline ? { baseline: opts.baseline } : {}),
        ...(commands ? { onCommand: commands.append } : {}),
        ...(costs ? { onRequestCost: costs.append } : {}),
      },
    );
    if (keep) {
      await commands!.close(m);
      await costs!.close(m);
      for (
        const t of [
          "iommus",
          "devices",
          "bindings",
          "requests",
          "observed_commands",
          "faults",
        ] as const
      ) {
        await writeTable(dir, m, specOf(t), canonical[t]);
      }
      await writeTable(dir, m, specOf("anomalies"), result.anomalies);
      await writeTable(dir, m, specOf("policy_summary"), policySummaryRows(result));
      await writeTable(dir, m, specOf("policy_descriptors"), policyDescriptorRows(result));
      (m as unknown as Record<string, unknown>).replay = {
        what_if: whatIf,
        kernel,
        statements: canonical.statements,
        fidelity: result.fidelity,
        anomaly_counts: result.anomaly_counts,
      };
      await Deno.writeTextFile(
        `${dir}/manifest.json`,
        JSON.stringify(m, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n",
      );
    }
    return {
      result,
      canonical,
      manifest: m,
      whatIf,
      kernel,
      warnings: m.warnings,
      outDir: keep ? dir : null,
    };
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
