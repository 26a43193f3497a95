/**
 * The replay pipeline behind `deno task replay`: sniff and ingest the trace into Arrow tables, read
 * the IOMMU-relevant events back from them, normalize into canonical tables, replay every policy,
 * and (with an output directory) write canonical and result tables beside the raw ones.
 *
 * Each stage consumes only the one before it; the trace file is parsed once, by ingest.
 *
 * It streams: the normalizer hands requests and observed commands over in their final order as
 * it goes, and they are spilled to disk in compact chunks (`cli/spill.ts`), because the replay needs
 * the final bindings (known at the end of the trace) before its first request. The replay then reads
 * the spill back chunk by chunk. Memory is bounded by the live state (bindings, processes, open
 * decoder groups) and the batch sizes, not by the number of requests. What-if mode is decided from
 * the ingest manifest before normalizing when the trace has no table that can hold IOMMU requests.
 *
 * @module
 */
import { rowsToIPC, SpecBatchWriter } from "../core/arrow.ts";
import {
  CANONICAL_TABLES,
  type FaultRow,
  type ObservedCommandRow,
  type RequestRow,
} from "../core/canonical.ts";
import type { TraceWarning } from "../core/errors.ts";
import type { TableSpec } from "../core/schema.ts";
import { observedRow, requestRow } from "../core/normalize/builder.ts";
import {
  type CanonicalTables,
  Normalizer,
  requestEventKeys,
  type StreamedCanonical,
  wantedEventKeys,
} from "../core/normalize/normalize.ts";
import {
  policyDescriptorRows,
  policySummaryRows,
  REPLAY_TABLES,
  ReplayEngine,
} from "../core/replay/mod.ts";
import type { ReplayOptions, ReplayResult } from "../core/replay/mod.ts";
import { type CostModel, loadCostModel } from "../core/replay/mod.ts";
import { loadTopology, type Topology } from "../core/topology.ts";
import { forEachEvent } from "../ingest/arrow/read_events.ts";
import { eventTablesOfDir, ingestToDir, type Manifest } from "../ingest/ingest.ts";
import { checkOutDir, checkTraceFile } from "./common.ts";
import {
  ObservedSpillWriter,
  readObservedSpill,
  readRequestSpill,
  RequestSpillWriter,
  type SpilledObserved,
  type SpilledRequest,
} from "./spill.ts";

/** Options of {@linkcode replayTrace}. */
export interface ReplayTraceOptions {
  /** Topology file or object (what-if bindings, device facts). */
  topology?: string | Topology;
  /** Policies to replay (default: all built-ins). */
  policies?: readonly string[];
  /** Cost model: a built-in name, a JSON file (see `loadCostModel`), or a model (default `bare-metal-vtd`). */
  costModel?: string | CostModel;
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
  /**
   * Return every canonical row in {@linkcode ReplayTraceResult.canonical} (default true). False
   * streams requests, observed commands and faults (to `outDir` when given) without keeping them:
   * memory then stays bounded however large the trace ({@linkcode ReplayTraceResult.counts} still
   * counts them). The command line passes false.
   */
  keepRows?: boolean;
  /**
   * Progress callback: the stage (`ingest`, `normalize`, `replay`), a count (events; requests in
   * `replay`) and, when known, the stage's total.
   */
  onProgress?: (stage: string, n: number, total?: number) => void;
}

/** Row counts of the canonical tables a replay streams rather than keeps. */
export interface CanonicalCounts {
  /** Requests replayed. */
  requests: number;
  /** Commands the traced kernel issued. */
  observed_commands: number;
  /** Faults and page requests. */
  faults: number;
}

/** What a replay produced. */
export interface ReplayTraceResult {
  /** Per-policy summaries, fidelity and anomalies. */
  result: ReplayResult;
  /**
   * The canonical tables. With `keepRows: false`, `requests`, `observed_commands` and `faults` are
   * empty (they were streamed): use {@linkcode ReplayTraceResult.counts}.
   */
  canonical: CanonicalTables;
  /** Row counts of `requests`, `observed_commands` and `faults` (with or without `keepRows`). */
  counts: CanonicalCounts;
  /** Ingest manifest (raw tables) and its trace_info. */
  manifest: Manifest;
  /** Whether the requests came from an mm trace (what-if). */
  whatIf: boolean;
  /** Kernel version used for the fidelity policy, when known. */
  kernel: string | null;
  /** Warnings of the ingest (damaged or lost data). */
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

/** True when the trace has rows of an event that can yield IOMMU (non-what-if) requests. */
function mayHoldRequests(m: Manifest): boolean {
  const keys = new Set(requestEventKeys());
  return m.tables.some((t) => t.rows > 0 && keys.has(`${t.schema}:${t.name}`));
}

/**
 * A streaming writer of a declared table into `<dir>/main/<name>.arrows`. With `listEmpty` a table
 * without rows is still written (schema only) and listed, so queries of it find it.
 */
function streamTable(dir: string, spec: TableSpec, listEmpty = true) {
  Deno.mkdirSync(`${dir}/main`, { recursive: true });
  const file = `main/${spec.name}.arrows`;
  const f = Deno.openSync(`${dir}/${file}`, { write: true, create: true, truncate: true });
  const write = (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) off += f.writeSync(b.subarray(off));
  };
  const w = new SpecBatchWriter(spec, write);
  return {
    append: (row: object) => void w.append(row),
    async close(m: Manifest) {
      await w.close();
      if (w.rowsWritten === 0 && listEmpty) write(rowsToIPC(spec, []));
      f.close();
      m.tables = m.tables.filter((t) => !(t.schema === "main" && t.name === spec.name));
      if (w.rowsWritten > 0 || listEmpty) {
        m.tables.push({ schema: "main", name: spec.name, file, rows: w.rowsWritten });
      }
    },
    /** Closes the file without listing it (its rows are superseded). */
    abort() {
      f.close();
    },
  };
}

type TableStream = ReturnType<typeof streamTable>;

/** Writes a declared table's rows into `<dir>/main/<name>.arrows` and lists it in the manifest. */
async function writeTable(dir: string, m: Manifest, spec: TableSpec, rows: readonly object[]) {
  const t = streamTable(dir, spec);
  for (const r of rows) t.append(r);
  await t.close(m);
}

/** JSON replacer: bigints as numbers when exact, else as decimal text. */
function bigintSafe(_key: string, v: unknown): unknown {
  if (typeof v !== "bigint") return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

function specOf(name: string): TableSpec {
  const s = [...CANONICAL_TABLES, ...REPLAY_TABLES].find((t) => t.name === name);
  if (!s) throw new Error(`no table declaration '${name}'`);
  return s;
}

/** Where a streamed normalization put its rows. */
interface Normalized {
  streamed: StreamedCanonical;
  requests: string;
  observed: string;
  faults: FaultRow[] | null;
}

/** Normalizes the ingested tables, spilling requests and observed commands under `spill`. */
async function normalizeToSpill(
  dir: string,
  m: Manifest,
  spill: string,
  opts: { whatIf: boolean; topology: Topology | undefined; file: string; keepRows: boolean },
  faultsOut: TableStream | null,
  onProgress?: (stage: string, n: number, total?: number) => void,
): Promise<Normalized> {
  const want = new Set(wantedEventKeys());
  const requests = `${spill}/requests.spill`, observed = `${spill}/observed.spill`;
  const rw = new RequestSpillWriter(requests);
  const ow = new ObservedSpillWriter(observed);
  const faults: FaultRow[] | null = opts.keepRows ? [] : null;
  try {
    const n = new Normalizer({
      file: opts.file,
      whatIf: opts.whatIf,
      onMalformed: "skip",
      ...(opts.topology ? { topology: opts.topology } : {}),
      sink: {
        request: (r, mm) => rw.add(r, mm),
        observed: (c, device) => ow.add(c, device),
        fault: (f) => {
          faults?.push(f);
          faultsOut?.append(f);
        },
      },
    });
    const { index, tables } = eventTablesOfDir(dir, m);
    if (index) {
      let count = 0;
      let total = 0;
      for (const t of m.tables) if (want.has(`${t.schema}:${t.name}`)) total += t.rows;
      await forEachEvent(index, tables, (k) => want.has(k), (e) => {
        n.push(e);
        if (onProgress && (++count & 0xffff) === 0) onProgress("normalize", count, total);
      });
    }
    return { streamed: n.finishStream(), requests, observed, faults };
  } finally {
    rw.close();
    ow.close();
  }
}

/** Spilled rows in final order: streamed as they are, or (a trace out of time order) sorted. */
function* inOrder<T extends { ts: bigint; seq: number }>(
  chunks: Generator<T[]>,
  sorted: boolean,
): Generator<T[]> {
  if (sorted) {
    yield* chunks;
    return;
  }
  const all: T[] = [];
  for (const c of chunks) for (const r of c) all.push(r);
  all.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq));
  yield all;
}

/** Submission keys renumbered in order of first appearance (old keys forgotten after a while). */
class SubmissionIds {
  #ids = new Map<number, number>();
  #next = 0;
  #maxKey = 0;

  id(key: number): number {
    let s = this.#ids.get(key);
    if (s === undefined) {
      s = this.#next++;
      this.#ids.set(key, s);
      if (key > this.#maxKey) this.#maxKey = key;
      // a submission's commands are handed over together: keys far behind the newest are done
      if (this.#ids.size > 1 << 20) {
        for (const k of this.#ids.keys()) if (k < this.#maxKey - (1 << 19)) this.#ids.delete(k);
      }
    }
    return s;
  }
}

/** Sinks of the final rows while the spill is replayed. */
interface RowSinks {
  requests: TableStream | null;
  observed: TableStream | null;
  keep: { requests: RequestRow[]; observed: ObservedCommandRow[] } | null;
}

/**
 * Replays the spilled rows: requests and observed commands merged by time (a request first at equal
 * times), ids assigned in that order, names resolved.
 */
function replaySpill(
  n: Normalized,
  engine: ReplayEngine,
  out: RowSinks,
  onProgress?: (stage: string, n: number, total?: number) => void,
): ReplayResult {
  const res = n.streamed.resolver;
  const sorted = res.late === 0;
  const reqs = inOrder(readRequestSpill(n.requests), sorted);
  const obs = inOrder(readObservedSpill(n.observed), sorted);
  let rc: SpilledRequest[] = [], ri = 0;
  let oc: SpilledObserved[] = [], oi = 0;
  let reqDone = false, obsDone = false;
  const subs = new SubmissionIds();
  let requestId = 0, commandId = 0;
  for (;;) {
    if (ri >= rc.length && !reqDone) {
      const x = reqs.next();
      if (x.done) reqDone = true;
      else {
        rc = x.value;
        ri = 0;
        continue;
      }
    }
    if (oi >= oc.length && !obsDone) {
      const x = obs.next();
      if (x.done) obsDone = true;
      else {
        oc = x.value;
        oi = 0;
        continue;
      }
    }
    const r = ri < rc.length ? rc[ri]! : null;
    const o = oi < oc.length ? oc[oi]! : null;
    if (r === null && o === null) break;
    if (r !== null && (o === null || r.ts <= o.ts)) {
      ri++;
      if (!res.keepSource(r.source)) continue;
      const row = requestRow(r, requestId++, res.mmId(r.mm));
      engine.pushRequest(row);
      out.requests?.append(row);
      out.keep?.requests.push(row);
      if (onProgress && (requestId & 0xffff) === 0) {
        onProgress("replay", requestId, res.requests);
      }
    } else {
      oi++;
      const row = observedRow(o!, commandId++, subs.id(o!.submission), res.deviceName(o!.device));
      engine.pushObserved(row);
      out.observed?.append(row);
      out.keep?.observed.push(row);
    }
  }
  return engine.finish();
}

/**
 * Replays a trace: ingest, normalize, replay every policy.
 *
 * @param path the trace (any supported format)
 * @param opts topology, policies, cost model, output directory
 * @returns the replay result and the canonical tables
 * @throws {import("../core/errors.ts").TraceError} on an unreadable trace (or a directory)
 * @throws {import("../core/errors.ts").UsageError} on bad options (policy, cost model, topology,
 * an `outDir` that is a file)
 */
export async function replayTrace(
  path: string,
  opts: ReplayTraceOptions = {},
): Promise<ReplayTraceResult> {
  // before anything is created: a directory or missing trace, an output path that is a file
  checkTraceFile(path);
  if (opts.outDir !== undefined) checkOutDir(opts.outDir);
  const keep = opts.outDir !== undefined;
  const dir = opts.outDir ?? await Deno.makeTempDir({ prefix: "iommu-replay-" });
  try {
    // a bad topology fails before the ingest
    const topology = typeof opts.topology === "string"
      ? await loadTopology(opts.topology)
      : opts.topology;
    // so does a bad cost model file
    const costModel = typeof opts.costModel === "string"
      ? await loadCostModel(opts.costModel)
      : opts.costModel;
    const m = await ingestToDir(path, dir, {
      ...(opts.onProgress ? { onProgress: (n: number) => opts.onProgress!("ingest", n) } : {}),
    });
    const { outDir: _, ...rest } = opts;
    return await replayIngested(dir, m, {
      ...rest,
      ...(topology ? { topology } : {}),
      ...(costModel ? { costModel } : {}),
      writeTables: keep,
    });
  } finally {
    if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Options of {@linkcode replayIngested}. */
export interface ReplayIngestedOptions extends Omit<ReplayTraceOptions, "outDir"> {
  /** Write the canonical and result tables into the directory and update its manifest. */
  writeTables?: boolean;
}

/**
 * Replays an ingested trace (a directory written by `ingestToDir`, with its manifest): normalize
 * and replay every policy, as {@linkcode replayTrace} does after ingesting.
 *
 * @param dir the ingest directory
 * @param m its manifest
 * @param opts topology, policies, cost model, whether to write the tables into `dir`
 * @returns the replay result and the canonical tables (`outDir` is `dir` when tables were written)
 * @throws {import("../core/errors.ts").UsageError} on bad options (policy, cost model, topology)
 */
export async function replayIngested(
  dir: string,
  m: Manifest,
  opts: ReplayIngestedOptions = {},
): Promise<ReplayTraceResult> {
  const keep = opts.writeTables === true;
  const keepRows = opts.keepRows ?? true;
  const path = m.source;
  let spill: string | null = null;
  try {
    const topology = typeof opts.topology === "string"
      ? await loadTopology(opts.topology)
      : opts.topology;
    const kernel = opts.kernel ?? kernelFromUname(m.info.kernel as string | null);
    spill = await Deno.makeTempDir({ dir, prefix: ".spill-" });
    const auto = (opts.whatIf ?? "auto") === "auto";
    // auto: an mm-only trace (no table that can hold IOMMU requests) is a what-if trace
    let whatIf = opts.whatIf === true || (auto && topology !== undefined && !mayHoldRequests(m));
    const normalize = async () => {
      const faults = keep ? streamTable(dir, specOf("faults")) : null;
      const n = await normalizeToSpill(
        dir,
        m,
        spill!,
        { whatIf, topology, file: path, keepRows },
        faults,
        opts.onProgress,
      );
      return { n, faults };
    };
    let { n, faults } = await normalize();
    if (auto && !whatIf && topology && n.streamed.resolver.requests === 0) {
      // tables that could hold requests held none: replay the mm events instead
      whatIf = true;
      faults?.abort();
      ({ n, faults } = await normalize());
    }
    const { tables: canon, resolver } = n.streamed;
    const options: ReplayOptions = {
      ...(opts.policies ? { policies: opts.policies } : {}),
      ...(opts.costModel
        ? {
          costModel: typeof opts.costModel === "string"
            ? await loadCostModel(opts.costModel)
            : opts.costModel,
        }
        : {}),
      ...(opts.baseline ? { baseline: opts.baseline } : {}),
      // Fidelity only when the trace holds commands the kernel issued.
      ...(resolver.observedCommands > 0 ? { fidelity: true } : {}),
    };
    const commands = keep ? streamTable(dir, specOf("replayed_commands"), false) : null;
    const costs = keep ? streamTable(dir, specOf("request_costs"), false) : null;
    const engine = new ReplayEngine({
      iommus: canon.iommus,
      devices: canon.devices,
      bindings: canon.bindings,
      process_events: canon.process_events,
      kernel,
    }, {
      ...options,
      ...(commands ? { onCommand: commands.append } : {}),
      ...(costs ? { onRequestCost: costs.append } : {}),
    });
    const sinks: RowSinks = {
      requests: keep ? streamTable(dir, specOf("requests")) : null,
      observed: keep ? streamTable(dir, specOf("observed_commands")) : null,
      keep: keepRows ? { requests: [], observed: [] } : null,
    };
    const result = replaySpill(n, engine, sinks, opts.onProgress);
    await Deno.remove(spill, { recursive: true });
    spill = null;
    if (keep) {
      await commands!.close(m);
      await costs!.close(m);
      await sinks.requests!.close(m);
      await sinks.observed!.close(m);
      await faults!.close(m);
      for (const t of ["iommus", "devices", "bindings"] as const) {
        await writeTable(dir, m, specOf(t), canon[t]);
      }
      await writeTable(dir, m, specOf("anomalies"), result.anomalies);
      await writeTable(dir, m, specOf("policy_summary"), policySummaryRows(result));
      await writeTable(dir, m, specOf("policy_descriptors"), policyDescriptorRows(result));
      (m as unknown as Record<string, unknown>).replay = {
        what_if: whatIf,
        kernel,
        statements: canon.statements,
        fidelity: result.fidelity,
        anomaly_counts: result.anomaly_counts,
      };
      await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m, bigintSafe, 2) + "\n");
    }
    return {
      result,
      canonical: {
        ...canon,
        requests: sinks.keep?.requests ?? [],
        observed_commands: sinks.keep?.observed ?? [],
        faults: n.faults ?? [],
      },
      counts: {
        requests: resolver.requests,
        observed_commands: resolver.observedCommands,
        faults: resolver.faults,
      },
      manifest: m,
      whatIf,
      kernel,
      warnings: m.warnings,
      outDir: keep ? dir : null,
    };
  } finally {
    if (spill !== null) await Deno.remove(spill, { recursive: true }).catch(() => {});
  }
}
