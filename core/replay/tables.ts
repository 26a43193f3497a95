/**
 * The replay's own result tables (beside `replayed_commands` and `anomalies` in
 * `core/canonical.ts`), declared once, and the rows of a result.
 *
 * @module
 */
import { defineTable, type TableSpec } from "../schema.ts";
import type { PolicySummary, ReplayResult } from "./result.ts";

/** Declarations: `policy_summary`, `policy_descriptors`, `request_costs`. */
export const REPLAY_TABLES: readonly TableSpec[] = [
  defineTable({
    schema: "main",
    name: "policy_summary",
    doc: "One row per replayed policy: counts, pages, modeled time and ratios to the baseline.",
    columns: [
      { name: "policy", type: "utf8", doc: "policy label (name or name@kernel)" },
      { name: "cost_model", type: "utf8", doc: "cost model" },
      { name: "requests", type: "u64", doc: "requests evaluated" },
      {
        name: "requests_skipped",
        type: "u64",
        doc: "requests with nothing bound or an empty range",
      },
      { name: "submissions", type: "u64", doc: "submissions (one wait each)" },
      { name: "traps", type: "u64", doc: "VM exits under a trapping cost model" },
      { name: "descriptors", type: "u64", doc: "descriptors issued, waits excluded" },
      { name: "pages_requested", type: "u64", doc: "requested pages per reached cache" },
      { name: "pages_invalidated", type: "u64", doc: "invalidated pages per reached cache" },
      {
        name: "over_invalidation",
        type: "f64",
        doc: "pages_invalidated / pages_requested",
        nullable: true,
      },
      { name: "full_flushes", type: "u64", doc: "full-scope commands" },
      { name: "modeled_ns", type: "f64", doc: "modeled time in total (ns)" },
      { name: "modeled_ns_deferred", type: "f64", doc: "modeled time of deferred flushes (ns)" },
      { name: "p50_ns", type: "f64", doc: "median per-request modeled time (ns)" },
      { name: "p90_ns", type: "f64", doc: "90th percentile per-request modeled time (ns)" },
      { name: "p99_ns", type: "f64", doc: "99th percentile per-request modeled time (ns)" },
      { name: "max_ns", type: "f64", doc: "largest per-request modeled time (ns)" },
      { name: "uncovered", type: "u64", doc: "caches left with requested pages not invalidated" },
      { name: "baseline", type: "utf8", doc: "baseline policy of the ratios" },
      { name: "ratio_modeled_ns", type: "f64", doc: "modeled_ns / baseline's", nullable: true },
      { name: "ratio_submissions", type: "f64", doc: "submissions / baseline's", nullable: true },
    ],
  }),
  defineTable({
    schema: "main",
    name: "policy_descriptors",
    doc: "One row per (policy, descriptor kind): how many the policy issued (waits included).",
    columns: [
      { name: "policy", type: "utf8", doc: "policy label" },
      { name: "kind", type: "utf8", doc: "descriptor kind as the kernel names it" },
      { name: "count", type: "u64", doc: "descriptors issued" },
    ],
  }),
  defineTable({
    schema: "main",
    name: "request_costs",
    doc: "One row per (policy, request): what the policy issued for it and its modeled time.",
    columns: [
      { name: "policy", type: "utf8", doc: "policy label" },
      { name: "request_id", type: "u32", doc: "request" },
      { name: "ts", type: "i64", doc: "request time (ns)" },
      { name: "submissions", type: "u32", doc: "submissions for this request" },
      { name: "descriptors", type: "u32", doc: "descriptors for this request, waits excluded" },
      { name: "modeled_ns", type: "f64", doc: "modeled time on the request's path (ns)" },
    ],
  }),
];

/** A `policy_summary` row. */
export interface PolicySummaryRow {
  /** Policy label. */
  policy: string;
  /** Cost model. */
  cost_model: string;
  /** Requests evaluated. */
  requests: number;
  /** Requests with nothing bound or an empty range. */
  requests_skipped: number;
  /** Submissions (one wait each). */
  submissions: number;
  /** VM exits under a trapping cost model. */
  traps: number;
  /** Descriptors issued, waits excluded. */
  descriptors: number;
  /** Requested pages per reached cache. */
  pages_requested: bigint;
  /** Invalidated pages per reached cache. */
  pages_invalidated: bigint;
  /** Pages_invalidated / pages_requested. */
  over_invalidation: number | null;
  /** Full-scope commands. */
  full_flushes: number;
  /** Modeled time in total (ns). */
  modeled_ns: number;
  /** Modeled time of deferred flushes (ns). */
  modeled_ns_deferred: number;
  /** Median per-request modeled time (ns). */
  p50_ns: number;
  /** 90th percentile per-request modeled time (ns). */
  p90_ns: number;
  /** 99th percentile per-request modeled time (ns). */
  p99_ns: number;
  /** Largest per-request modeled time (ns). */
  max_ns: number;
  /** Caches left with requested pages not invalidated. */
  uncovered: number;
  /** Baseline policy. */
  baseline: string;
  /** Modeled_ns / baseline's. */
  ratio_modeled_ns: number | null;
  /** Submissions / baseline's. */
  ratio_submissions: number | null;
}

/** A `policy_descriptors` row. */
export interface PolicyDescriptorRow {
  /** Policy label. */
  policy: string;
  /** Descriptor kind. */
  kind: string;
  /** Descriptors issued. */
  count: number;
}

function waits(p: PolicySummary): number {
  let n = 0;
  for (const k of ["inv_wait", "cmd_sync", "completion_wait"]) n += p.descriptors[k] ?? 0;
  return n;
}

/**
 * The `policy_summary` rows of a result.
 *
 * @param r the result
 * @returns one row per policy
 */
export function policySummaryRows(r: ReplayResult): PolicySummaryRow[] {
  return r.policies.map((p) => {
    let d = 0;
    for (const v of Object.values(p.descriptors)) d += v;
    return {
      policy: p.name,
      cost_model: p.cost_model,
      requests: p.requests,
      requests_skipped: p.requests_skipped,
      submissions: p.submissions,
      traps: p.traps,
      descriptors: d - waits(p),
      pages_requested: p.pages_requested,
      pages_invalidated: p.pages_invalidated,
      over_invalidation: p.over_invalidation,
      full_flushes: p.full_flushes,
      modeled_ns: p.modeled_ns,
      modeled_ns_deferred: p.modeled_ns_deferred,
      p50_ns: p.modeled_ns_per_request.p50,
      p90_ns: p.modeled_ns_per_request.p90,
      p99_ns: p.modeled_ns_per_request.p99,
      max_ns: p.modeled_ns_per_request.max,
      uncovered: p.uncovered,
      baseline: p.ratio_to_baseline.baseline,
      ratio_modeled_ns: p.ratio_to_baseline.modeled_ns,
      ratio_submissions: p.ratio_to_baseline.submissions,
    };
  });
}

/**
 * The `policy_descriptors` rows of a result.
 *
 * @param r the result
 * @returns one row per (policy, kind)
 */
export function policyDescriptorRows(r: ReplayResult): PolicyDescriptorRow[] {
  return r.policies.flatMap((p) =>
    Object.entries(p.descriptors).map(([kind, count]) => ({ policy: p.name, kind, count }))
  );
}
