/**
 * The replay result, and its JSON form.
 *
 * @module
 */
import type { AnomalyRow } from "../canonical.ts";
import type { DistributionSummary } from "./distribution.ts";
import type { FidelityReport } from "./fidelity.ts";

/** What one policy would have done on the trace. */
export interface PolicySummary {
  /** Label (the spec: `intel-cache-tag`, `intel-per-device@5.10`). */
  name: string;
  /** The policy's one-line description. */
  description: string;
  /** Cost model used. */
  cost_model: string;
  /** Requests evaluated (something bound, non-empty range). */
  requests: number;
  /** Requests with nothing bound or an empty range. */
  requests_skipped: number;
  /** Requests outside the policy's scope (SVA vs DMA-API), not replayed by it. */
  requests_out_of_scope: number;
  /** Submissions (one wait each). */
  submissions: number;
  /** VM exits: submissions under a trapping cost model, else 0. */
  traps: number;
  /** Descriptors by kind, waits included (every kind the policy can emit, zeros too). */
  descriptors: Record<string, number>;
  /** Requested pages, per reached cache not flushed whole. */
  pages_requested: bigint;
  /** Pages the commands invalidated in those caches (union per cache). */
  pages_invalidated: bigint;
  /** `pages_invalidated / pages_requested`, null when nothing was requested. */
  over_invalidation: number | null;
  /** Full-scope commands (PASID-, ASID- or domain-selective, whole ATC). */
  full_flushes: number;
  /** Modeled time in total (ns) = on requests' paths + deferred flushes. */
  modeled_ns: number;
  /** Modeled time on requests' paths (ns). */
  modeled_ns_requests: number;
  /** Modeled time of deferred (timer) flushes (ns). */
  modeled_ns_deferred: number;
  /** Distribution of per-request modeled time (ns), and whether quantiles are approximate. */
  modeled_ns_per_request: DistributionSummary & { approximate: boolean };
  /** Caches left with requested pages not invalidated (see `uncovered_range` anomalies). */
  uncovered: number;
  /** This policy relative to the baseline policy (null ratios when the baseline's value is 0). */
  ratio_to_baseline: { baseline: string; modeled_ns: number | null; submissions: number | null };
}

/** A policy that had no request in its scope (`ReplayPolicy.scope`) in this trace. */
export interface NotApplicablePolicy {
  /** Label. */
  name: string;
  /** What it models: `sva` or `dma`. */
  scope: string;
  /** Requests it did not replay. */
  requests_out_of_scope: number;
  /** Why, in a phrase. */
  reason: string;
}

/** Everything a replay produced (besides the rows streamed to callbacks). */
export interface ReplayResult {
  /** One summary per applicable policy, in the order asked. */
  policies: PolicySummary[];
  /** Policies asked for that model none of the trace's requests (omitted from `policies`). */
  not_applicable: NotApplicablePolicy[];
  /** Fidelity against the observed commands, null when none were given. */
  fidelity: FidelityReport | null;
  /** Anomalies kept (at most `maxAnomaliesPerKind` per kind). */
  anomalies: AnomalyRow[];
  /** Anomalies found, by kind (including those not kept). */
  anomaly_counts: Record<string, number>;
  /** Requests read. */
  requests: number;
}

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * A count as JSON: a number when it is a safe integer, else its decimal string.
 *
 * @param v the count
 * @returns number or string
 */
export function countToJson(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/**
 * The JSON form of a replay result: `{"policies": [...], "fidelity": {...} | null,
 * "anomalies": [...], "anomaly_counts": {...}, "not_applicable": [...]}`. `anomalies` keeps at most
 * a bounded number of rows per kind; `anomaly_counts` has the true totals.
 *
 * bigint fields are converted deliberately:
 * - counts (`pages_requested`, `pages_invalidated`) become numbers when at most 2^53 - 1, else
 *   decimal strings;
 * - timestamps (`anomalies[].ts`, `fidelity.first_differences[].ts`) are always decimal strings
 *   (int64 ns, or raw clock counts, may exceed 2^53);
 * - modeled times are already numbers (float64 ns, model outputs).
 *
 * @param r the result
 * @returns a JSON-ready object
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultToJSON } from "./result.ts";
 * const j = resultToJSON({
 *   policies: [], not_applicable: [], fidelity: null, anomalies: [], anomaly_counts: {}, requests: 0,
 * });
 * assert.equal(
 *   JSON.stringify(j),
 *   '{"policies":[],"fidelity":null,"anomalies":[],"anomaly_counts":{},"not_applicable":[]}',
 * );
 * ```
 */
export function resultToJSON(
  r: ReplayResult,
): {
  policies: Json[];
  fidelity: Json;
  anomalies: Json[];
  anomaly_counts: Record<string, number>;
  not_applicable: Json[];
} {
  return {
    policies: r.policies.map((p) => ({
      name: p.name,
      description: p.description,
      cost_model: p.cost_model,
      requests: p.requests,
      requests_skipped: p.requests_skipped,
      requests_out_of_scope: p.requests_out_of_scope,
      submissions: p.submissions,
      traps: p.traps,
      descriptors: { ...p.descriptors },
      pages_requested: countToJson(p.pages_requested),
      pages_invalidated: countToJson(p.pages_invalidated),
      over_invalidation: p.over_invalidation,
      full_flushes: p.full_flushes,
      modeled_ns: p.modeled_ns,
      modeled_ns_requests: p.modeled_ns_requests,
      modeled_ns_deferred: p.modeled_ns_deferred,
      modeled_ns_per_request: { ...p.modeled_ns_per_request },
      uncovered: p.uncovered,
      ratio_to_baseline: { ...p.ratio_to_baseline },
    })),
    fidelity: r.fidelity === null ? null : {
      policy: r.fidelity.policy,
      matched: r.fidelity.matched,
      missing: r.fidelity.missing,
      extra: r.fidelity.extra,
      ignored: r.fidelity.ignored,
      ignored_by_reason: { ...r.fidelity.ignored_by_reason },
      requests: r.fidelity.requests,
      requests_matched: r.fidelity.requests_matched,
      submissions_replayed: r.fidelity.submissions_replayed,
      submissions_observed: r.fidelity.submissions_observed,
      key: r.fidelity.key,
      first_differences: r.fidelity.first_differences.map((d) => ({
        request_id: d.request_id,
        ts: d.ts.toString(),
        side: d.side,
        key: d.key,
        count: d.count,
      })),
    },
    anomalies: r.anomalies.map((a) => ({
      kind: a.kind,
      ts: a.ts.toString(),
      policy: a.policy,
      request_id: a.request_id,
      device: a.device,
      pasid: a.pasid,
      mm: a.mm,
      detail: a.detail,
    })),
    anomaly_counts: { ...r.anomaly_counts },
    not_applicable: r.not_applicable.map((n) => ({ ...n })),
  };
}
