/**
 * `replay(input, options)`: the replay core's entry point.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { replay, resultToJSON } from "./run.ts";
 * const r = replay({
 *   iommus: [{ iommu: "dmar0", vendor: "intel", source: "topology" }],
 *   devices: [{ device: "d0", sid: 8, iommu: "dmar0", ats: true, pasid: true, qdep: 0, source: "topology" }],
 *   bindings: [{ binding_id: 0, mm: "mm1", pid: 1, comm: null, pasid: 2, device: "d0", iommu: "dmar0",
 *     domain_id: 1, from_ts: null, to_ts: null, source: "topology" }],
 *   requests: [{ request_id: 0, ts: 10n, cpu: 0, mm: "mm1", pid: 1, pasid: 2, start: 0x1000n,
 *     end: 0x3000n, pages: 2n, source: "munmap", full: false }],
 * }, { policies: ["intel-per-device", "intel-batched"] });
 * assert(r.policies[0]!.submissions === 4 && r.policies[1]!.submissions === 1); // 2 aligned chunks x 2
 * assert(Object.keys(resultToJSON(r)).join() === "policies,fidelity,anomalies");
 * ```
 *
 * For streaming sources (Arrow batches, DuckDB results) use {@linkcode replayAsync}, or drive a
 * {@linkcode ReplayEngine} directly. Replayed commands and per-request modeled times are streamed to
 * `options.onCommand` / `options.onRequestCost`; the result holds only summaries and anomalies.
 *
 * @module
 */
import type { ObservedCommandRow, RequestRow } from "../canonical.ts";
import { ReplayEngine, type ReplayOptions, type ReplaySetup } from "./engine.ts";
import type { ReplayResult } from "./result.ts";

export { ReplayEngine } from "./engine.ts";
export type { ReplayOptions, ReplaySetup } from "./engine.ts";
export { resultToJSON } from "./result.ts";
export type { PolicySummary, ReplayResult } from "./result.ts";
export type { RequestCostRow } from "./policy_run.ts";

/** Everything a replay reads. Requests and observed commands must each be in time order. */
export interface ReplayInput extends ReplaySetup {
  /** The invalidation requests, in time order. */
  requests: Iterable<RequestRow>;
  /** What the traced kernel really issued, in time order (enables fidelity). */
  observed_commands?: Iterable<ObservedCommandRow>;
}

/** {@linkcode ReplayInput} with streams that may be asynchronous. */
export interface ReplayAsyncInput extends ReplaySetup {
  /** The invalidation requests, in time order. */
  requests: Iterable<RequestRow> | AsyncIterable<RequestRow>;
  /** What the traced kernel really issued, in time order. */
  observed_commands?: Iterable<ObservedCommandRow> | AsyncIterable<ObservedCommandRow>;
}

function withFidelity(
  input: { observed_commands?: unknown },
  options: ReplayOptions,
): ReplayOptions {
  return options.fidelity !== undefined || input.observed_commands === undefined
    ? options
    : { ...options, fidelity: true };
}

/**
 * Replays requests under each policy, with checks and (when observed commands are given) fidelity.
 * Requests and observed commands are merged by time; on equal times the request comes first.
 *
 * @param input topology, bindings, requests, optional observed commands and process events
 * @param options policies, cost model, baseline, callbacks
 * @returns summaries, fidelity and anomalies
 * @throws {UsageError} on bad options or out-of-order input
 */
export function replay(input: ReplayInput, options: ReplayOptions = {}): ReplayResult {
  const engine = new ReplayEngine(input, withFidelity(input, options));
  const reqs = input.requests[Symbol.iterator]();
  const obs = input.observed_commands?.[Symbol.iterator]();
  let r = reqs.next();
  let o = obs?.next();
  while (!r.done || (o !== undefined && !o.done)) {
    if (!r.done && (o === undefined || o.done || r.value.ts <= o.value.ts)) {
      engine.pushRequest(r.value);
      r = reqs.next();
    } else if (o !== undefined && !o.done) {
      engine.pushObserved(o.value);
      o = obs!.next();
    }
  }
  return engine.finish();
}

async function* asAsync<T>(it: Iterable<T> | AsyncIterable<T>): AsyncGenerator<T> {
  yield* it;
}

/**
 * {@linkcode replay} over asynchronous streams.
 *
 * @param input as for `replay`, with async iterables allowed
 * @param options as for `replay`
 * @returns summaries, fidelity and anomalies
 * @throws {UsageError} on bad options or out-of-order input
 */
export async function replayAsync(
  input: ReplayAsyncInput,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const engine = new ReplayEngine(input, withFidelity(input, options));
  const reqs = asAsync(input.requests);
  const obs = input.observed_commands === undefined ? undefined : asAsync(input.observed_commands);
  let r = await reqs.next();
  let o = obs ? await obs.next() : undefined;
  while (!r.done || (o !== undefined && !o.done)) {
    if (!r.done && (o === undefined || o.done || r.value.ts <= o.value.ts)) {
      engine.pushRequest(r.value);
      r = await reqs.next();
    } else if (o !== undefined && !o.done) {
      engine.pushObserved(o.value);
      o = await obs!.next();
    }
  }
  return engine.finish();
}
