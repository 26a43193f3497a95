/**
 * The standard report of a loaded directory: which saved queries, tables and charts
 * `deno task report` shows, chosen by the tables the engine holds.
 *
 * With replay results (`main.policy_summary`, `main.request_costs`, `main.replayed_commands`,
 * `main.requests`, `main.anomalies`): the five charts and the comparison tables. Always, when
 * present: the trace facts (`main.trace_info`) and event counts (`main.events`). Each section
 * is shown only if every table it reads exists; the notes say what was left out and why.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { Engine, QueryResult } from "./engine.ts";
import { quoteLiteral } from "./engine.ts";
import { savedQuery, savedQuerySQL } from "./queries.ts";
import type { ReportChart, ReportInput, ReportTable } from "./report.ts";
import { cumulativeTimeChart } from "./charts/cumulative_time.ts";
import { iommuDeviceHeatmap } from "./charts/iommu_device_heatmap.ts";
import { latencyDistributionChart } from "./charts/latency_distribution.ts";
import { overInvalidationHistogram } from "./charts/over_invalidation_histogram.ts";
import { policyComparisonChart } from "./charts/policy_comparison.ts";

/** Options of {@linkcode standardReport}. */
export interface StandardReportOptions {
  /** Page title (default: "iommu-replay report"). */
  title?: string;
  /** Extra paragraphs shown first. */
  notes?: readonly string[];
}

/** Charts of the standard report: saved query -> spec builder. */
export const STANDARD_CHARTS: readonly {
  query: string;
  title: string;
  build: (r: QueryResult) => TopLevelSpec;
}[] = [
  { query: "policy_comparison", title: "Policies compared", build: policyComparisonChart },
  {
    query: "invalidations_over_time",
    title: "Cumulative modeled time",
    build: cumulativeTimeChart,
  },
  {
    query: "request_latency_histogram",
    title: "Modeled time per request",
    build: latencyDistributionChart,
  },
  { query: "per_iommu_device", title: "Per IOMMU and device", build: iommuDeviceHeatmap },
  {
    query: "over_invalidation_histogram",
    title: "Over-invalidation",
    build: overInvalidationHistogram,
  },
];

/** Tables of the standard report (saved queries), after the charts. */
export const STANDARD_TABLES: readonly { query: string; title: string }[] = [
  { query: "policy_comparison", title: "Policy comparison" },
  { query: "request_latency_quantiles", title: "Modeled time per request" },
  { query: "per_iommu", title: "Per IOMMU" },
  { query: "anomaly_counts", title: "Anomalies" },
];

async function existingTables(engine: Engine): Promise<Set<string>> {
  const r = await engine.query(
    "SELECT table_schema || '.' || table_name FROM information_schema.tables",
  );
  return new Set(r.rows.map((x) => x[0] as string));
}

/**
 * Runs the standard report's queries and builds its input for `buildReport`.
 *
 * @param engine an engine holding a loaded directory
 * @param options title and notes
 * @returns report input (charts, tables, notes)
 * @example
 * ```ts ignore
 * const e = await openDuckDBWasm();
 * await loadDataset(e, "out/run1");
 * await Deno.writeTextFile("report.html", buildReport(await standardReport(e, { title: "run1" })));
 * ```
 */
export async function standardReport(
  engine: Engine,
  options: StandardReportOptions = {},
): Promise<ReportInput> {
  const have = await existingTables(engine);
  const notes = [...(options.notes ?? [])];
  const missing = new Set<string>();
  const ready = (query: string) => {
    const lacks = savedQuery(query).reads.filter((t) => !have.has(t));
    for (const t of lacks) missing.add(t);
    return lacks.length === 0;
  };
  const charts: ReportChart[] = [];
  for (const c of STANDARD_CHARTS) {
    if (!ready(c.query)) continue;
    const r = await engine.query(savedQuerySQL(c.query));
    if (r.rows.length === 0) continue;
    charts.push({ title: c.title, doc: savedQuery(c.query).doc, spec: c.build(r) });
  }
  const tables: ReportTable[] = [];
  for (const t of STANDARD_TABLES) {
    if (!ready(t.query)) continue;
    const r = await engine.query(savedQuerySQL(t.query));
    tables.push({ title: t.title, doc: savedQuery(t.query).doc, ...r });
  }
  if (have.has("main.trace_info")) {
    const r = await engine.query("SELECT * FROM main.trace_info");
    // One row per trace: shown transposed (field, value) when there is a single trace.
    tables.push(
      r.rows.length === 1
        ? {
          title: "Trace",
          doc: "main.trace_info: file facts, clock and what was lost or skipped.",
          columns: ["field", "value"],
          rows: r.columns.map((c, i) => [c, r.rows[0]![i]]),
        }
        : { title: "Traces", doc: "main.trace_info", ...r },
    );
  }
  if (have.has("main.events")) {
    const r = await engine.query(
      "SELECT system, event, count(*) AS events, min(ts) AS first_ts, max(ts) AS last_ts " +
        "FROM main.events GROUP BY ALL ORDER BY events DESC, system, event",
    );
    tables.push({ title: "Events by type", doc: "main.events, counted per event type.", ...r });
  }
  if (missing.size) {
    notes.push(
      `Not shown: sections that read ${
        [...missing].sort().join(", ")
      } (not in this directory; \`deno task replay <trace> --out DIR\` writes them).`,
    );
  }
  const fleet = await engine.query(
    `SELECT count(*) FROM information_schema.columns WHERE table_schema = 'main' AND table_name = ${
      quoteLiteral("policy_summary")
    } AND column_name = 'dataset'`,
  );
  if (fleet.rows[0]![0] !== 0n) {
    notes.push("Several datasets are loaded: the charts add their rows together per policy.");
  }
  return {
    title: options.title ?? "iommu-replay report",
    summaryTables: tables,
    charts,
    notes,
  };
}
