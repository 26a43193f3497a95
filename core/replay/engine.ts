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
import type { PolicyFactory, PolicyOptions, ReplayPolicy } from "./policy.ts";
import { PolicyRun, type RequestCostRow, type RunTotals } from "./policy_run.ts";
import { BUILTIN_POLICY_NAMES, policyForKernel, resolvePolicy } from "./registry.ts";
import {
  BATCH_SIZE,
  type BatchRun,
  evaluateBatch,
  evaluateRequest,
  FLAG_DMA,
  FLAG_FULL,
  FLAG_SKIP,
  LiveRequest,
  RequestBatch,
} from "./request_batch.ts";
import { type RemoteRunSpec, ReplayWorkers, type ViewDef } from "./replay_workers.ts";
import type { NotApplicablePolicy, PolicySummary, ReplayResult } from "./result.ts";
import type { ProcessEventRow } from "./process_event.ts";
import { BindingState, type BindingView } from "./state.ts";

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
  /**
   * Worker threads for the built-in policies (each policy's run stays on one thread; results are
   * identical either way). Default: one per core, at most 2, used once a replay has more than
   * {@linkcode PARALLEL_MIN_REQUESTS} requests (the calling thread then prepares requests while
   * the workers replay them); 0 replays everything on the calling thread. Runs
   * with `onCommand` / `onRequestCost`, the fidelity run and user policies stay on the calling
   * thread.
   */
  workers?: number;
  /**
   * Count a request whose shape a policy has already replayed against the same bindings from the
   * remembered outcome (built-in policies declare shapes, `ReplayPolicy.shape`). Default true;
   * false evaluates every request (the results are the same; tests compare both).
   */
  memo?: boolean;
}

/** Requests a replay must reach before built-in policies move to worker threads. */
export const PARALLEL_MIN_REQUESTS: number = 4 * BATCH_SIZE;

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
  /** Every shown run, in result order (slot = index + 1). */
  readonly #runs: PolicyRun[];
  /** Runs replayed as each request arrives: callbacks or fidelity need them in step. */
  readonly #now: BatchRun[] = [];
  /** Runs replayed batch by batch on this thread. */
  readonly #local: BatchRun[] = [];
  /** Runs that may move to worker threads (built-ins named by string), with their specs. */
  readonly #movable: (BatchRun & { spec: string })[] = [];
  readonly #baseline: string;
  /** The engine's own checks' anomalies (each run has its own collector). */
  readonly #anomalies: AnomalyCollector;
  readonly #maxPerKind: number;
  readonly #fidelity: FidelityTracker | null;
  readonly #children: ChildPasidChecker;
  readonly #forks: boolean;
  readonly #events: ProcessEventRow[];
  readonly #checks: CheckOptions;
  readonly #model: CostModel;
  readonly #policyOptions: PolicyOptions;
  readonly #setup: { iommus: IommuRow[]; devices: DeviceRow[]; bindings: BindingRow[] };
  readonly #req: LiveRequest = new LiveRequest();
  /** Seq stride: anomalies of request k sort at k * stride + slot. */
  readonly #stride: number;
  #workerCount: number;
  readonly #memo: boolean;
  #workers: ReplayWorkers | null = null;
  #threads = 0;
  /** Batches not yet replayed by the batch-by-batch runs (before the switch to workers). */
  #pending: RequestBatch[] = [];
  #batch: RequestBatch;
  #spare: RequestBatch | null = null;
  readonly #views: BindingView[] = [];
  #viewIds = new Map<BindingView, number>();
  readonly #viewDefs: ViewDef[] = [];
  #viewsSent = 0;
  readonly #sources: string[] = [];
  #sourceIds = new Map<string, number>();
  #sourcesSent = 0;
  #lastView: BindingView | null = null;
  #lastViewId = -1;
  #lastSource = "";
  #lastSourceId = -1;
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
    const devices = [...setup.devices], bindings = [...setup.bindings];
    this.#setup = { iommus, devices, bindings };
    this.state = new BindingState({ iommus, devices, bindings });
    this.#events = [...(setup.process_events ?? [])];
    this.#checks = options.checks ?? {};
    this.#maxPerKind = options.maxAnomaliesPerKind ?? 1000;
    this.#anomalies = new AnomalyCollector(this.#maxPerKind);
    this.#children = new ChildPasidChecker(this.state, this.#events);
    this.#forks = this.#events.some((e) => e.kind === "fork");
    const model = typeof options.costModel === "object"
      ? options.costModel
      : costModel(options.costModel ?? DEFAULT_COST_MODEL);
    this.#model = model;
    this.#memo = options.memo ?? true;
    const popts = options.policyOptions ?? {};
    this.#policyOptions = popts;
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
    this.#stride = resolved.length + 2;
    const callbacks = options.onCommand !== undefined || options.onRequestCost !== undefined;
    const extraNames = new Set(extra.map((x) => x.name));
    let tracker: FidelityTracker | null = null;
    this.#runs = resolved.map((r, i) => {
      const fid = fidPolicy === null ? fidRun(r.label, r.policy) : undefined;
      if (fid) tracker = fid;
      const run = new PolicyRun(r.label, r.policy, model, {
        onCommand: options.onCommand,
        onRequestCost: options.onRequestCost,
        anomalies: new AnomalyCollector(this.#maxPerKind),
        fidelity: fid,
        memo: options.memo,
      });
      const slot = i + 1, spec = specs[i]!;
      const name = typeof spec === "string" ? spec.split("@")[0]! : "";
      if (callbacks || fid !== undefined) this.#now.push({ run, slot });
      else if (
        typeof spec === "string" && !extraNames.has(name) && BUILTIN_POLICY_NAMES.includes(name)
      ) this.#movable.push({ run, slot, spec });
      else this.#local.push({ run, slot });
      return run;
    });
    if (fidPolicy !== null && fidLabel !== null) {
      tracker = fidRun(fidLabel, fidPolicy)!;
      // the compared policy runs for fidelity only: no callbacks, its anomalies discarded
      const run = new PolicyRun(fidLabel, fidPolicy, model, {
        anomalies: new AnomalyCollector(0),
        fidelity: tracker,
      });
      this.#now.push({ run, slot: this.#stride - 1 });
    }
    this.#fidelity = tracker;
    this.#baseline = options.baseline ?? resolved[0]!.label;
    if (!labels.has(this.#baseline)) {
      throw new UsageError(
        `baseline "${this.#baseline}" is not among the policies (${[...labels].join(", ")})`,
      );
    }
    const w = options.workers ?? ReplayWorkers.defaultCount();
    if (!Number.isInteger(w) || w < 0) {
      throw new UsageError(`workers must be a whole number >= 0, not ${w}`);
    }
    // even one movable run gains: this thread prepares the next batch while a worker replays
    this.#workerCount = Math.min(w, this.#movable.length);
    this.#batch = new RequestBatch(BATCH_SIZE, 0);
  }

  /** Worker threads this replay moved policies to (0 until it has enough requests, or never). */
  get workerThreads(): number {
    return this.#threads;
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
    const ordinal = this.#requests++;
    const startPfn = s < SAFE ? Math.floor(s / 4096) : Number(r.start >> 12n);
    const endPfn = e < SAFE ? Math.ceil(e / 4096) : Number((r.end + 4095n) >> 12n);
    const full = r.full || (s === 0 && r.end >= U64_MAX);
    const dma = r.mm === null && (r.pasid === null || DMA_SOURCES.has(r.source));
    const cpu = r.cpu ?? -1;
    if (this.#forks) {
      this.#anomalies.seq = ordinal * this.#stride;
      this.#children.checkRequest(r, this.#anomalies);
    }
    this.#fidelity?.openRequest(cpu, r.request_id, r.ts, r.pasid);
    const view = this.state.viewFor(r, r.ts);
    const skip = view.deviceCount === 0 || (!full && endPfn - startPfn <= 0);
    let viewId = this.#lastViewId;
    if (view !== this.#lastView) {
      viewId = this.#viewIds.get(view) ?? -1;
      if (viewId < 0) {
        viewId = this.#views.length;
        this.#views.push(view);
        this.#viewIds.set(view, viewId);
        this.#viewDefs.push({ mm: r.mm, pasid: r.pasid, ts: r.ts });
      }
      this.#lastView = view;
      this.#lastViewId = viewId;
    }
    let sourceId = this.#lastSourceId;
    if (r.source !== this.#lastSource || sourceId < 0) {
      sourceId = this.#sourceIds.get(r.source) ?? -1;
      if (sourceId < 0) {
        sourceId = this.#sources.length;
        this.#sources.push(r.source);
        this.#sourceIds.set(r.source, sourceId);
      }
      this.#lastSource = r.source;
      this.#lastSourceId = sourceId;
    }
    const b = this.#batch;
    const flags = (full ? FLAG_FULL : 0) | (dma ? FLAG_DMA : 0) | (skip ? FLAG_SKIP : 0);
    b.push(r.request_id, r.ts, cpu, startPfn, endPfn, flags, sourceId, viewId);
    const now = this.#now;
    if (now.length > 0) {
      const q = this.#req;
      q.load(b, b.n - 1, this.#sources);
      for (let k = 0; k < now.length; k++) {
        const { run, slot } = now[k]!;
        run.anomalies.seq = ordinal * this.#stride + slot;
        evaluateRequest(run, q, view, skip);
      }
    }
    if (b.full) this.#flushBatch();
  }

  /** Hands the current batch to the batch-by-batch runs (here or on workers). */
  #flushBatch(): void {
    const b = this.#batch;
    if (b.n === 0) return;
    if (this.#local.length + this.#movable.length === 0) {
      b.n = 0; // only per-request runs: the batch is scratch space
      return;
    }
    const spare = this.#spare;
    this.#spare = null;
    this.#batch = spare?.reset(this.#requests) ?? new RequestBatch(BATCH_SIZE, this.#requests);
    if (this.#workers !== null) {
      this.#replayHere(b, false);
      this.#post(b);
      return;
    }
    if (this.#workerCount === 0) {
      // no workers will take the movable runs: replay them here now
      this.#replayHere(b, true);
      this.#spare = b; // replayed: its buffer serves the next batch
      return;
    }
    this.#pending.push(b);
    if (this.#requests >= PARALLEL_MIN_REQUESTS) this.#startWorkers();
  }

  /** Moves the movable runs to workers and hands them (and the local runs) the pending batches. */
  #startWorkers(): void {
    const n = this.#workerCount;
    const assignment: RemoteRunSpec[][] = Array.from({ length: n }, () => []);
    this.#movable.forEach(({ run, slot, spec }, i) => {
      assignment[i % n]!.push({ label: run.label, spec, slot });
    });
    try {
      this.#workers = new ReplayWorkers({
        setup: this.#setup,
        policyOptions: this.#policyOptions,
        model: this.#model,
        maxPerKind: this.#maxPerKind,
        stride: this.#stride,
        memo: this.#memo,
      }, assignment);
    } catch {
      // no threads here (a sandbox without workers): everything stays on this thread
      this.#workerCount = 0;
      for (const b of this.#pending.splice(0)) this.#replayHere(b, true);
      return;
    }
    this.#threads = n;
    for (const b of this.#pending.splice(0)) {
      this.#replayHere(b, false);
      this.#post(b);
    }
  }

  /** Replays a batch under the runs that stay on this thread (and the movable ones, if asked). */
  #replayHere(b: RequestBatch, movable: boolean): void {
    evaluateBatch(b, this.#local, this.#views, this.#sources, this.#stride, this.#req);
    if (movable) {
      evaluateBatch(b, this.#movable, this.#views, this.#sources, this.#stride, this.#req);
    }
  }

  #post(b: RequestBatch): void {
    const views = this.#viewDefs.slice(this.#viewsSent);
    const sources = this.#sources.slice(this.#sourcesSent);
    this.#viewsSent = this.#viewDefs.length;
    this.#sourcesSent = this.#sources.length;
    this.#workers!.post(b, views, sources);
  }

  /**
   * Takes one command the traced kernel issued (for fidelity and the PASID check).
   *
   * @param c the observed command
   * @throws {UsageError} when out of time order
   */
  pushObserved(c: ObservedCommandRow): void {
    this.#order(c.ts, "observed command", c.command_id);
    this.#anomalies.seq = this.#requests * this.#stride - 1;
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
    this.#flushBatch();
    const local = [...this.#local];
    if (this.#workers === null) {
      // never moved: the movable runs replay the pending batches here
      local.push(...this.#movable);
      for (const b of this.#pending.splice(0)) this.#replayHere(b, true);
    }
    const end = this.#requests * this.#stride;
    const totals = new Map<string, RunTotals>();
    const collectors: Pick<AnomalyCollector, "rows" | "seqs" | "counts">[] = [this.#anomalies];
    for (const { run, slot } of [...this.#now, ...local]) {
      run.anomalies.seq = end + slot;
      run.policy.finish?.(run);
      // the hidden fidelity run's anomalies are not the trace's (it is not a shown policy)
      if (this.#runs.includes(run)) collectors.push(run.anomalies);
      totals.set(run.label, run.totals());
    }
    if (this.#workers !== null) {
      for (const r of this.#workers.finish(this.#requests)) {
        totals.set(r.label, r.totals);
        collectors.push({ ...r.anomalies, counts: new Map(r.anomalies.counts) });
      }
      this.#workers = null;
    }
    const fidelity = this.#fidelity?.finish() ?? null;
    this.#anomalies.seq = end + this.#stride - 1;
    checkLifecycle(this.state, this.#events, this.#anomalies, this.#checks, this.#children);
    const anomalies = AnomalyCollector.merge(collectors, this.#maxPerKind);
    // only the shown runs (the hidden fidelity run shares its label with none of them)
    const done = this.#runs.map((run) => ({ run, t: totals.get(run.label)! }));
    // A policy none of whose requests was in its scope does not apply to this trace.
    type Done = (typeof done)[number];
    const applies = (d: Done) =>
      d.t.requestsOutOfScope === 0 || d.t.requests + d.t.requestsSkipped > 0;
    const runs = done.filter(applies);
    const notApplicable: NotApplicablePolicy[] = done.filter((d) => !applies(d)).map((d) => ({
      name: d.run.label,
      scope: d.run.policy.scope ?? "any",
      requests_out_of_scope: d.t.requestsOutOfScope,
      reason: d.run.policy.scope === "dma"
        ? "no DMA-API unmap request in the trace (it models DMA domains, not SVA)"
        : "no SVA (mm) request in the trace (it models SVA, not DMA-API unmaps)",
    }));
    // Each policy is compared with the baseline when both model the same requests, else with the
    // first applicable policy that does (dma-strict vs dma-lazy on a mixed trace).
    const same = (a: Done, b: Done) => {
      const x = a.run.policy.scope ?? "any", y = b.run.policy.scope ?? "any";
      return x === "any" || y === "any" || x === y;
    };
    const preferred = runs.find((d) => d.run.label === this.#baseline) ?? runs[0];
    const baseOf = (d: Done): Done =>
      preferred !== undefined && same(d, preferred)
        ? preferred
        : runs.find((r) => same(d, r) && (r.run.policy.scope ?? "any") !== "any") ?? d;
    const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
    const modeled = (t: RunTotals) => t.syncNs + t.asyncNs;
    const policies: PolicySummary[] = runs.map((d) => {
      const { run, t } = d;
      const base = baseOf(d);
      const descriptors: Record<string, number> = {};
      run.policy.kinds.forEach((k, i) => {
        descriptors[k.name] = (descriptors[k.name] ?? 0) + t.kindCount[i]!;
      });
      const req = t.pagesRequested, inv = t.pagesInvalidated;
      return {
        name: run.label,
        description: run.policy.description,
        cost_model: run.model.name,
        requests: t.requests,
        requests_skipped: t.requestsSkipped,
        requests_out_of_scope: t.requestsOutOfScope,
        submissions: t.submissions,
        traps: t.traps,
        descriptors,
        pages_requested: req,
        pages_invalidated: inv,
        over_invalidation: req === 0n ? null : Number(inv) / Number(req),
        full_flushes: t.fullFlushes,
        modeled_ns: modeled(t),
        modeled_ns_requests: t.syncNs,
        modeled_ns_deferred: t.asyncNs,
        modeled_ns_per_request: { ...t.perRequest, approximate: t.approximate },
        uncovered: t.uncovered,
        ratio_to_baseline: {
          baseline: base.run.label,
          modeled_ns: ratio(modeled(t), modeled(base.t)),
          submissions: ratio(t.submissions, base.t.submissions),
        },
      };
    });
    return {
      policies,
      not_applicable: notApplicable,
      fidelity,
      anomalies: anomalies.rows,
      anomaly_counts: Object.fromEntries(anomalies.counts),
      requests: this.#requests,
    };
  }
}
