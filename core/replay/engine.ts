/**
 * The streaming replay engine: requests (and observed commands) in, summaries out.
 *
 * Memory is bounded by the topology, the bindings and the per-policy counters: requests are
 * evaluated as they arrive and forgotten; replayed commands and per-request costs are handed to
 * callbacks, not kept.
 *
 * @module
 */
import type {
  BindingRow,
  DeviceRow,
  IommuRow,
  IommuVendor,
  ObservedCommandRow,
  ReplayedCommandRow,
  RequestRow,
} from "../canonical.ts";
import { UsageError } from "../errors.ts";
import {
  AnomalyCollector,
  checkLifecycle,
  checkObservedPasid,
  type CheckOptions,
  ChildPasidChecker,
  DEFAULT_UNBIND_GRACE_NS,
} from "./checks.ts";
import type { CostModel } from "./cost/cost_model.ts";
import { costModel, DEFAULT_COST_MODEL } from "./cost/load_cost_model.ts";
import { FidelityTracker } from "./fidelity.ts";
import { bigintToNumber } from "./pfn_math.ts";
import type { PolicyFactory, PolicyOptions, ReplayPolicy, RequestInfo } from "./policy.ts";
import { PolicyRun, type RequestCostRow } from "./policy_run.ts";
import { BUILTIN_POLICY_NAMES, policyForKernel, resolvePolicy } from "./registry.ts";
import type { NotApplicablePolicy, PolicySummary, ReplayResult } from "./result.ts";
import type { ProcessEventRow } from "./process_event.ts";
import { BindingState } from "./state.ts";

/**
 * Sources whose requests are DMA-API (IOVA) ranges rather than mm ranges. A request is a DMA-API
 * request when it has no mm and either no PASID or one of these sources.
 */
export const DMA_SOURCES: ReadonlySet<string> = new Set(["iommu_unmap", "dma_unmap"]);

const U64_END = 1n << 64n;
const U64_MAX = U64_END - 1n;
const SAFE = 2 ** 53;

/** What the engine needs besides the request stream. */
export interface ReplaySetup {
  /** IOMMU units. */
  iommus: Iterable<IommuRow>;
  /** Devices. */
  devices: Iterable<DeviceRow>;
  /** Bindings (real, or hypothetical for a what-if). */
  bindings: Iterable<BindingRow>;
  /** Process lifecycle events for the checks (optional). */
  process_events?: Iterable<ProcessEventRow>;
  /** The traced kernel's version (`uname -r`), to pick the fidelity policy. */
  kernel?: string | null;
}

/** How to replay. */
export interface ReplayOptions {
  /** Policies: built-in names, `name@kernel`, or instances. Default: all built-ins. */
  policies?: readonly (string | ReplayPolicy)[];
  /** User policy factories, looked up by name like the built-ins. */
  extraPolicies?: readonly PolicyFactory[];
  /** Options for the built-in policies. */
  policyOptions?: PolicyOptions;
  /** Cost model name or object. Default `bare-metal-vtd`. */
  costModel?: string | CostModel;
  /** Label of the policy the ratios are relative to. Default: the first policy. */
  baseline?: string;
  /**
   * Compare a policy with the observed commands: `true` picks the policy modeling the traced kernel
   * (`kernel` + the IOMMUs' vendor, see `policyForKernel`; without a kernel, the first policy); a
   * spec or instance names it. Default false (`replay()` turns it on when observed commands are given).
   */
  fidelity?: boolean | string | ReplayPolicy;
  /** Receives every replayed command as a `replayed_commands` row. */
  onCommand?: (row: ReplayedCommandRow) => void;
  /** Receives every request's modeled cost, per policy. */
  onRequestCost?: (row: RequestCostRow) => void;
  /** Anomaly rows kept per kind (all are counted). Default 1000. */
  maxAnomaliesPerKind?: number;
  /** Tolerances of the checks. */
  checks?: CheckOptions;
}

/**
 * The engine's reused {@linkcode RequestInfo}. `tsNs` is computed on first read: converting a
 * bigint to a number costs about as much as evaluating a cheap policy, and only timer-driven
 * policies need it.
 */
class LiveRequest implements RequestInfo {
  id = 0;
  ts = 0n;
  #tsNs = 0;
  #tsValid = true;
  cpu = -1;
  startPfn = 0;
  endPfn = 0;
  pages = 0;
  full = false;
  dma = false;
  source = "";

  get tsNs(): number {
    if (!this.#tsValid) {
      this.#tsNs = bigintToNumber(this.ts);
      this.#tsValid = true;
    }
    return this.#tsNs;
  }

  setTs(ts: bigint): void {
    this.ts = ts;
    this.#tsValid = false;
  }
}

function majorityVendor(iommus: Iterable<IommuRow>): IommuVendor {
  const n = new Map<IommuVendor, number>();
  for (const r of iommus) if (r.vendor !== "unknown") n.set(r.vendor, (n.get(r.vendor) ?? 0) + 1);
  let best: IommuVendor = "unknown", c = 0;
  for (const [v, k] of n) {
    if (k > c) {
      best = v;
      c = k;
    }
  }
  return best;
}

/**
 * Replays requests under several policies at once, streaming.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplayEngine } from "./engine.ts";
 * const e = new ReplayEngine({
 *   iommus: [{ iommu: "dmar0", vendor: "intel", source: "t" }],
 *   devices: [{ device: "d0", sid: 1, iommu: "dmar0", ats: true, pasid: true, qdep: 0, source: "t" }],
 *   bindings: [{ binding_id: 0, mm: "m", pid: 1, comm: null, pasid: 3, device: "d0", iommu: "dmar0",
 *     domain_id: 1, from_ts: null, to_ts: null, source: "t" }],
 * }, { policies: ["intel-batched"] });
 * e.pushRequest({ request_id: 0, ts: 5n, cpu: 0, mm: "m", pid: 1, pasid: 3, start: 0n, end: 4096n,
 *   pages: 1n, source: "cache_tag_flush_range", full: false });
 * const r = e.finish();
 * assert(r.policies[0]!.submissions === 1);
 * ```
 */
export class ReplayEngine {
  /** The binding state the requests are replayed against. */
  readonly state: BindingState;
  readonly #runs: PolicyRun[];
  readonly #hidden: PolicyRun | null;
  readonly #baseline: string;
  readonly #anomalies: AnomalyCollector;
  readonly #fidelity: FidelityTracker | null;
  readonly #children: ChildPasidChecker;
  readonly #forks: boolean;
  readonly #events: ProcessEventRow[];
  readonly #checks: CheckOptions;
  readonly #req: LiveRequest = new LiveRequest();
  #lastTs: bigint | null = null;
  #requests = 0;
  #finished = false;

  /**
   * Builds the binding state, resolves the policies and the cost model.
   *
   * @param setup topology, bindings, process events, traced kernel
   * @param options policies, cost model, callbacks
   * @throws {UsageError} on an unknown policy, cost model or baseline, or bad bindings
   */
  constructor(setup: ReplaySetup, options: ReplayOptions = {}) {
    const iommus = [...setup.iommus];
    this.state = new BindingState({ iommus, devices: setup.devices, bindings: setup.bindings });
    this.#events = [...(setup.process_events ?? [])];
    this.#checks = options.checks ?? {};
    this.#anomalies = new AnomalyCollector(options.maxAnomaliesPerKind ?? 1000);
    this.#children = new ChildPasidChecker(this.state, this.#events);
    this.#forks = this.#events.some((e) => e.kind === "fork");
    const model = typeof options.costModel === "object"
      ? options.costModel
      : costModel(options.costModel ?? DEFAULT_COST_MODEL);
    const popts = options.policyOptions ?? {};
    const extra = options.extraPolicies ?? [];
    const specs = options.policies ?? BUILTIN_POLICY_NAMES;
    if (specs.length === 0) throw new UsageError("no policy to replay");
    const resolved = specs.map((s) => resolvePolicy(s, popts, extra));
    const labels = new Set<string>();
    for (const r of resolved) {
      if (labels.has(r.label)) throw new UsageError(`policy "${r.label}" given twice`);
      labels.add(r.label);
    }
    let fidLabel: string | null = null;
    let fidPolicy: ReplayPolicy | null = null;
    const f = options.fidelity ?? false;
    if (f !== false) {
      let spec: string | ReplayPolicy;
      if (f === true) {
        spec = setup.kernel
          ? policyForKernel(setup.kernel, majorityVendor(iommus))
          : resolved[0]!.label;
      } else spec = f;
      const r = typeof spec === "string"
        ? resolved.find((x) => x.label === spec)
        : resolved.find((x) => x.policy === spec);
      if (r) fidLabel = r.label;
      else {
        const h = resolvePolicy(spec, popts, extra);
        fidLabel = h.label;
        fidPolicy = h.policy;
      }
    }
    const fidRun = (label: string, policy: ReplayPolicy): FidelityTracker | undefined => {
      if (label !== fidLabel) return undefined;
      const kinds = new Set(policy.kinds.filter((k) => k.class !== "wait").map((k) => k.name));
      return new FidelityTracker(label, kinds, this.state.devices);
    };
    let tracker: FidelityTracker | null = null;
    this.#runs = resolved.map((r) => {
      const fid = fidPolicy === null ? fidRun(r.label, r.policy) : undefined;
      if (fid) tracker = fid;
      return new PolicyRun(r.label, r.policy, model, {
        onCommand: options.onCommand,
        onRequestCost: options.onRequestCost,
        anomalies: this.#anomalies,
        fidelity: fid,
      });
    });
    this.#hidden = null;
    if (fidPolicy !== null && fidLabel !== null) {
      tracker = fidRun(fidLabel, fidPolicy)!;
      // the compared policy runs for fidelity only: no callbacks, its anomalies discarded
      this.#hidden = new PolicyRun(fidLabel, fidPolicy, model, {
        anomalies: new AnomalyCollector(0),
        fidelity: tracker,
      });
    }
    this.#fidelity = tracker;
    this.#baseline = options.baseline ?? resolved[0]!.label;
    if (!labels.has(this.#baseline)) {
      throw new UsageError(
        `baseline "${this.#baseline}" is not among the policies (${[...labels].join(", ")})`,
      );
    }
  }

  /**
   * Replays one request (requests and observed commands must arrive in time order).
   *
   * @param r the request
   * @throws {UsageError} when out of time order or when the range is malformed
   */
  pushRequest(r: RequestRow): void {
    this.#order(r.ts, "request", r.request_id);
    // exact below 2^53 (bigintToNumber is Number() without its runtime call); bigints above that
    const s = bigintToNumber(r.start), e = bigintToNumber(r.end);
    if (s < 0 || e < s || (e >= SAFE && (r.end < r.start || r.end > U64_END))) {
      throw new UsageError(`request ${r.request_id}: bad range [${r.start}, ${r.end})`);
    }
    this.#requests++;
    const q = this.#req;
    q.id = r.request_id;
    q.setTs(r.ts);
    q.cpu = r.cpu ?? -1;
    q.startPfn = s < SAFE ? Math.floor(s / 4096) : Number(r.start >> 12n);
    q.endPfn = e < SAFE ? Math.ceil(e / 4096) : Number((r.end + 4095n) >> 12n);
    q.pages = q.endPfn - q.startPfn;
    q.full = r.full || (s === 0 && r.end >= U64_MAX);
    q.source = r.source;
    q.dma = r.mm === null && (r.pasid === null || DMA_SOURCES.has(r.source));
    if (this.#forks) this.#children.checkRequest(r, this.#anomalies);
    this.#fidelity?.openRequest(q.cpu, q.id, q.ts, r.pasid);
    const view = this.state.viewFor(r, r.ts);
    const skip = view.deviceCount === 0 || (!q.full && q.pages <= 0);
    const runs = this.#runs;
    for (let k = 0; k < runs.length; k++) this.#one(runs[k]!, view, skip);
    if (this.#hidden !== null) this.#one(this.#hidden, view, skip);
  }

  /** Replays the current request under one policy (or counts it skipped or out of its scope). */
  #one(run: PolicyRun, view: ReturnType<BindingState["viewFor"]>, skip: boolean): void {
    const p = run.policy, q = this.#req;
    if (p.advance !== undefined) p.advance(q.tsNs, run);
    if (p.scope === (q.dma ? "sva" : "dma")) run.requestsOutOfScope++;
    else if (skip) run.skip();
    else {
      run.begin(q, view);
      p.evaluate(q, view, run);
      run.end();
    }
  }

  /**
   * Takes one command the traced kernel issued (for fidelity and the PASID check).
   *
   * @param c the observed command
   * @throws {UsageError} when out of time order
   */
  pushObserved(c: ObservedCommandRow): void {
    this.#order(c.ts, "observed command", c.command_id);
    checkObservedPasid(
      this.state,
      c,
      this.#anomalies,
      this.#checks.unbindGraceNs ?? DEFAULT_UNBIND_GRACE_NS,
    );
    this.#fidelity?.observed(c);
  }

  #order(ts: bigint, what: string, id: number): void {
    if (this.#finished) throw new UsageError("replay already finished");
    if (this.#lastTs !== null && ts < this.#lastTs) {
      // the message is built only on error: this runs once per request
      throw new UsageError(
        `input not in time order: ${what} ${id} at ${ts} comes after ${this.#lastTs}`,
      );
    }
    this.#lastTs = ts;
  }

  /**
   * Fires pending timers, runs the lifecycle checks, and summarizes.
   *
   * @returns the result
   */
  finish(): ReplayResult {
    if (this.#finished) throw new UsageError("replay already finished");
    this.#finished = true;
    for (const run of [...this.#runs, ...(this.#hidden ? [this.#hidden] : [])]) {
      run.policy.finish?.(run);
    }
    const fidelity = this.#fidelity?.finish() ?? null;
    checkLifecycle(this.state, this.#events, this.#anomalies, this.#checks, this.#children);
    // A policy none of whose requests was in its scope does not apply to this trace.
    const applies = (r: PolicyRun) =>
      r.requestsOutOfScope === 0 || r.requests + r.requestsSkipped > 0;
    const runs = this.#runs.filter(applies);
    const notApplicable: NotApplicablePolicy[] = this.#runs.filter((r) => !applies(r)).map((r) => ({
      name: r.label,
      scope: r.policy.scope ?? "any",
      requests_out_of_scope: r.requestsOutOfScope,
      reason: r.policy.scope === "dma"
        ? "no DMA-API unmap request in the trace (it models DMA domains, not SVA)"
        : "no SVA (mm) request in the trace (it models SVA, not DMA-API unmaps)",
    }));
    // Each policy is compared with the baseline when both model the same requests, else with the
    // first applicable policy that does (dma-strict vs dma-lazy on a mixed trace).
    const same = (a: PolicyRun, b: PolicyRun) => {
      const x = a.policy.scope ?? "any", y = b.policy.scope ?? "any";
      return x === "any" || y === "any" || x === y;
    };
    const preferred = runs.find((r) => r.label === this.#baseline) ?? runs[0];
    const baseOf = (run: PolicyRun): PolicyRun =>
      preferred !== undefined && same(run, preferred)
        ? preferred
        : runs.find((r) => same(run, r) && (r.policy.scope ?? "any") !== "any") ?? run;
    const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
    const policies: PolicySummary[] = runs.map((run) => {
      const base = baseOf(run);
      const descriptors: Record<string, number> = {};
      run.policy.kinds.forEach((k, i) => {
        descriptors[k.name] = (descriptors[k.name] ?? 0) + run.kindCount[i]!;
      });
      const req = run.pagesRequested.value(), inv = run.pagesInvalidated.value();
      return {
        name: run.label,
        description: run.policy.description,
        cost_model: run.model.name,
        requests: run.requests,
        requests_skipped: run.requestsSkipped,
        requests_out_of_scope: run.requestsOutOfScope,
        submissions: run.submissions,
        traps: run.traps,
        descriptors,
        pages_requested: req,
        pages_invalidated: inv,
        over_invalidation: req === 0n ? null : Number(inv) / Number(req),
        full_flushes: run.fullFlushes,
        modeled_ns: run.modeledNs,
        modeled_ns_requests: run.syncNs,
        modeled_ns_deferred: run.asyncNs,
        modeled_ns_per_request: {
          ...run.perRequest.summary(),
          approximate: run.perRequest.approximate,
        },
        uncovered: run.uncovered,
        ratio_to_baseline: {
          baseline: base.label,
          modeled_ns: ratio(run.modeledNs, base.modeledNs),
          submissions: ratio(run.submissions, base.submissions),
        },
      };
    });
    return {
      policies,
      not_applicable: notApplicable,
      fidelity,
      anomalies: this.#anomalies.rows,
      anomaly_counts: Object.fromEntries(this.#anomalies.counts),
      requests: this.#requests,
    };
  }
}
