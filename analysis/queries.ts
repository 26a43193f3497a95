/**
 * Saved queries: the analyses the report, the CLI and notebooks share, as SQL held in data.
 *
 * Each query names the tables it reads (declared in `core/canonical.ts` and
 * `core/replay/tables.ts`) and may take numeric parameters, written `{{name}}` in the SQL and
 * substituted by {@linkcode savedQuerySQL} (numbers only, so no text ever reaches the SQL).
 *
 * Command kinds are classed from `core/replay/kinds.ts`: `wait` commands (`inv_wait`,
 * `cmd_sync`, `completion_wait`) end a submission and are left out of invalidation counts;
 * a command's *target cache* is the IOMMU's IOTLB for `iotlb`/`other` kinds and the device's
 * ATC for `devtlb` kinds.
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { KNOWN_KINDS } from "../core/replay/kinds.ts";

/** A numeric parameter of a saved query. */
export interface QueryParam {
  /** What it does. */
  readonly doc: string;
  /** Value used when none is given. */
  readonly default: number;
  /** Only integers are accepted. */
  readonly integer?: boolean;
  /** Smallest accepted value. */
  readonly min?: number;
}

/** One saved query. */
export interface SavedQuery {
  /** Stable name (snake_case). */
  readonly name: string;
  /** What one result row is and how to read it. */
  readonly doc: string;
  /** Tables read, as `schema.table`. */
  readonly reads: readonly string[];
  /** Parameters, by name. */
  readonly params: Readonly<Record<string, QueryParam>>;
  /** SQL text with `{{param}}` placeholders. */
  readonly sql: string;
}

/** `(kind, class)` rows of every known command kind, as a SQL VALUES list. */
const KIND_CLASSES = `(VALUES ${
  Object.values(KNOWN_KINDS).map((k) => `('${k.name}', '${k.class}')`).join(", ")
}) AS kc(kind, class)`;

/** Replayed invalidation commands (waits excluded) with their class and target cache. */
const COMMANDS = `
  SELECT c.*, coalesce(kc.class, 'other') AS class,
         CASE WHEN kc.class = 'devtlb' THEN 'atc ' || coalesce(c.device, '?')
              ELSE 'iotlb ' || c.iommu END AS target
  FROM main.replayed_commands c LEFT JOIN ${KIND_CLASSES} USING (kind)
  WHERE coalesce(kc.class, 'other') <> 'wait'`;

/** Every saved query, in the order the report shows them. */
export const SAVED_QUERIES: readonly SavedQuery[] = Object.freeze([
  {
    name: "policy_comparison",
    doc: "One row per replayed policy: submissions, descriptors, pages, over-invalidation, " +
      "modeled time, its ratio to the baseline policy and the policy's anomalies. " +
      "Cheapest modeled time first.",
    reads: ["main.policy_summary", "main.anomalies"],
    params: {},
    sql: `
SELECT s.policy, s.submissions, s.descriptors, s.pages_requested, s.pages_invalidated,
       s.over_invalidation, s.modeled_ns, s.ratio_modeled_ns AS ratio_to_baseline,
       coalesce(a.n, 0) AS anomalies
FROM main.policy_summary s
LEFT JOIN (SELECT policy, count(*) AS n FROM main.anomalies
           WHERE policy IS NOT NULL GROUP BY policy) a USING (policy)
ORDER BY s.modeled_ns, s.policy`,
  },
  {
    name: "invalidations_over_time",
    doc: "One row per (policy, time bucket): requests, submissions, descriptors and modeled " +
      "time in the bucket, and the modeled time accumulated since the first request. `t_ns` " +
      "is the bucket start relative to the first request.",
    reads: ["main.request_costs"],
    params: {
      bucket_ns: {
        doc: "bucket width in ns; 0 picks 1/100 of the trace span",
        default: 0,
        integer: true,
        min: 0,
      },
    },
    sql: `
WITH b AS (
  SELECT min(ts) AS t0,
         CASE WHEN {{bucket_ns}} > 0 THEN {{bucket_ns}}::BIGINT
              ELSE greatest(1, (max(ts) - min(ts)) // 100 + 1) END AS w
  FROM main.request_costs
), per AS (
  SELECT c.policy, ((c.ts - b.t0) // b.w) * b.w AS t_ns, count(*) AS requests,
         sum(c.submissions)::BIGINT AS submissions, sum(c.descriptors)::BIGINT AS descriptors,
         sum(c.modeled_ns) AS modeled_ns
  FROM main.request_costs c, b
  GROUP BY ALL
)
SELECT policy, t_ns, requests, submissions, descriptors, modeled_ns,
       sum(modeled_ns) OVER (PARTITION BY policy ORDER BY t_ns) AS cumulative_ns
FROM per
ORDER BY policy, t_ns`,
  },
  {
    name: "request_latency_quantiles",
    doc: "One row per policy: the distribution of modeled time per request (ns).",
    reads: ["main.request_costs"],
    params: {},
    sql: `
SELECT policy, count(*) AS requests, avg(modeled_ns) AS mean_ns,
       quantile_cont(modeled_ns, 0.5) AS p50_ns, quantile_cont(modeled_ns, 0.9) AS p90_ns,
       quantile_cont(modeled_ns, 0.99) AS p99_ns, max(modeled_ns) AS max_ns
FROM main.request_costs
GROUP BY policy
ORDER BY policy`,
  },
  {
    name: "request_latency_histogram",
    doc: "One row per (policy, power-of-two bin) of modeled time per request: requests whose " +
      "modeled time lies in [lo_ns, 2*lo_ns). Requests that cost 0 ns fall in lo_ns = 0.",
    reads: ["main.request_costs"],
    params: {},
    sql: `
SELECT policy,
       CASE WHEN modeled_ns < 1 THEN 0
            ELSE (2::DOUBLE ** floor(log2(modeled_ns)))::BIGINT END AS lo_ns,
       count(*) AS requests
FROM main.request_costs
GROUP BY ALL
ORDER BY policy, lo_ns`,
  },
  {
    name: "per_iommu_device",
    doc: "One row per (policy, IOMMU, device): invalidation commands (waits excluded), the " +
      "submissions and requests they belong to, and pages covered (4 KiB, ranged commands " +
      "only; `full_flushes` counts commands without a range). device '(none)' is IOMMU-wide.",
    reads: ["main.replayed_commands"],
    params: {},
    sql: `
SELECT policy, iommu, coalesce(device, '(none)') AS device, count(*) AS commands,
       count(DISTINCT submission) AS submissions, count(DISTINCT request_id) AS requests,
       coalesce(sum((size + 4095) // 4096), 0)::BIGINT AS pages,
       count(*) FILTER (WHERE size IS NULL) AS full_flushes
FROM (${COMMANDS}) c
GROUP BY ALL
ORDER BY policy, iommu, device`,
  },
  {
    name: "per_iommu",
    doc: "One row per (policy, IOMMU): invalidation commands, submissions, requests and " +
      "devices reached.",
    reads: ["main.replayed_commands"],
    params: {},
    sql: `
SELECT policy, iommu, count(*) AS commands, count(DISTINCT submission) AS submissions,
       count(DISTINCT request_id) AS requests, count(DISTINCT device) AS devices
FROM (${COMMANDS}) c
GROUP BY ALL
ORDER BY policy, iommu`,
  },
  {
    name: "over_invalidation_per_target",
    doc: "One row per (policy, request, target cache): pages requested, pages the policy " +
      "invalidated in that cache and their ratio (1 = exact; NULL with is_full = true when a " +
      "command had no range, i.e. flushed everything).",
    reads: ["main.replayed_commands", "main.requests"],
    params: {},
    sql: `
SELECT c.policy, c.request_id, c.target, r.pages AS pages_requested,
       sum((c.size + 4095) // 4096)::BIGINT AS pages_invalidated,
       bool_or(c.size IS NULL) AS is_full,
       CASE WHEN bool_or(c.size IS NULL) OR r.pages = 0 THEN NULL
            ELSE sum((c.size + 4095) // 4096)::DOUBLE / r.pages END AS ratio
FROM (${COMMANDS}) c JOIN main.requests r USING (request_id)
GROUP BY c.policy, c.request_id, c.target, r.pages
ORDER BY c.policy, c.request_id, c.target`,
  },
  {
    name: "over_invalidation_histogram",
    doc: "One row per (policy, bin) of the over-invalidation ratio per (request, target " +
      "cache): 'exact' (<= 1), '1-2x', '2-4x', '4-16x', '16-64x', '>64x', 'full' (flush " +
      "without a range). `bin_order` sorts the bins.",
    reads: ["main.replayed_commands", "main.requests"],
    params: {},
    sql: `
WITH t AS (
  SELECT c.policy, c.request_id, c.target, bool_or(c.size IS NULL) AS is_full,
         sum((c.size + 4095) // 4096)::DOUBLE / nullif(any_value(r.pages), 0) AS ratio
  FROM (${COMMANDS}) c JOIN main.requests r USING (request_id)
  GROUP BY c.policy, c.request_id, c.target
), binned AS (
  SELECT policy,
         CASE WHEN is_full OR ratio IS NULL THEN 6 WHEN ratio <= 1 THEN 0 WHEN ratio <= 2 THEN 1
              WHEN ratio <= 4 THEN 2 WHEN ratio <= 16 THEN 3 WHEN ratio <= 64 THEN 4
              ELSE 5 END AS bin_order
  FROM t
)
SELECT policy, bin_order,
       ['exact', '1-2x', '2-4x', '4-16x', '16-64x', '>64x', 'full'][bin_order + 1] AS bin,
       count(*) AS targets
FROM binned
GROUP BY ALL
ORDER BY policy, bin_order`,
  },
  {
    name: "anomaly_counts",
    doc: "One row per (anomaly kind, policy): how many, first and last time. policy NULL " +
      "means the problem does not depend on the policy (e.g. a PASID reused too early).",
    reads: ["main.anomalies"],
    params: {},
    sql: `
SELECT kind, policy, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
FROM main.anomalies
GROUP BY ALL
ORDER BY n DESC, kind, policy NULLS FIRST`,
  },
  {
    name: "anomalies",
    doc: "Every anomaly in time order, at most `limit` rows.",
    reads: ["main.anomalies"],
    params: { limit: { doc: "row limit", default: 1000, integer: true, min: 1 } },
    sql: `
SELECT kind, ts, policy, request_id, device, pasid, mm, detail
FROM main.anomalies
ORDER BY ts, kind, policy NULLS FIRST, request_id
LIMIT {{limit}}`,
  },
].map((q) => Object.freeze(q)));

/**
 * A saved query by name.
 *
 * @param name query name
 * @returns the query
 * @throws {UsageError} naming the known queries when `name` is unknown
 * @example
 * ```ts
 * import { savedQuery } from "./queries.ts";
 * console.assert(savedQuery("policy_comparison").reads.includes("main.policy_summary"));
 * ```
 */
export function savedQuery(name: string): SavedQuery {
  const q = SAVED_QUERIES.find((x) => x.name === name);
  if (!q) {
    throw new UsageError(
      `unknown saved query ${JSON.stringify(name)}; known: ${
        SAVED_QUERIES.map((x) => x.name).join(", ")
      }`,
    );
  }
  return q;
}

/**
 * The SQL of a saved query with its parameters filled in.
 *
 * @param name query name
 * @param params parameter values (defaults for the rest)
 * @returns SQL text
 * @throws {UsageError} on an unknown query, an unknown parameter or a bad value
 * @example
 * ```ts
 * import { savedQuerySQL } from "./queries.ts";
 * console.assert(savedQuerySQL("anomalies", { limit: 5 }).includes("LIMIT 5"));
 * ```
 */
export function savedQuerySQL(
  name: string,
  params: Readonly<Record<string, number>> = {},
): string {
  const q = savedQuery(name);
  for (const k of Object.keys(params)) {
    if (!(k in q.params)) throw new UsageError(`query ${name} has no parameter ${k}`);
  }
  const value = (k: string): string => {
    const p = q.params[k];
    if (!p) throw new Error(`query ${name} uses undeclared parameter ${k}`);
    const v = params[k] ?? p.default;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new UsageError(`parameter ${k} of ${name} must be a finite number`);
    }
    if (p.integer && !Number.isSafeInteger(v)) {
      throw new UsageError(`parameter ${k} of ${name} must be an integer, got ${v}`);
    }
    if (p.min !== undefined && v < p.min) {
      throw new UsageError(`parameter ${k} of ${name} must be >= ${p.min}, got ${v}`);
    }
    return String(v);
  };
  return q.sql.replace(/\{\{([a-z_]+)\}\}/g, (_, k: string) => value(k)).trim();
}
