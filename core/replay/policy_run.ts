/**
 * One policy's replay: the {@linkcode CommandSink} the policy emits into, and its counters.
 *
 * This is the hot path. Counting a command touches typed arrays only; rows
 * (`replayed_commands`, per-request costs) are built only when a callback asks for them. Per request
 * it tracks, for every cache the request must reach (each IOTLB tag group, unless the IOTLB is
 * invalidated implicitly, and each ATS device's ATC), the page intervals its commands covered
 * (up to 4 disjoint intervals; contiguous chunks merge) or that a full-scope command hit it. At the
 * end of the request that gives:
 * - `pages_requested` / `pages_invalidated`: for each such cache not hit by a full-scope command,
 *   the request's pages and the union of the pages its commands covered (over-invalidation is the
 *   ratio). Full-scope commands are counted in `full_flushes` instead, since their extent is the
 *   whole address space;
 * - the coverage check: a cache whose commands do not cover every requested page is an
 *   `uncovered_range` anomaly (stale IOTLB or ATC entries), except for deferred policies.
 *
 * @module
 */
import type { AnomalyRow, ReplayedCommandRow } from "../canonical.ts";
import type { AnomalyCollector } from "./checks.ts";
import type { CostModel } from "./cost/cost_model.ts";
import { descriptorNs } from "./cost/cost_model.ts";
import { Distribution, type DistributionSummary } from "./distribution.ts";
import { ExactSum } from "./exact_sum.ts";
import type { FidelityTracker } from "./fidelity.ts";
import { CLASS_CODE } from "./kinds.ts";
import { ALL_PAGES, PAGE_SIZE } from "./pfn_math.ts";
import type { CommandSink, ReplayPolicy, RequestInfo } from "./policy.ts";
import type { BindingView } from "./state.ts";

const C_IOTLB = CLASS_CODE.iotlb, C_DEVTLB = CLASS_CODE.devtlb, C_WAIT = CLASS_CODE.wait;
const K = 4; // intervals tracked per cache per request

/** The modeled cost of one request under one policy (the `request_costs` table). */
export interface RequestCostRow {
  /** Policy label. */
  policy: string;
  /** The request. */
  request_id: number;
  /** The request's time (ns). */
  ts: bigint;
  /** Submissions (waits) issued for this request. */
  submissions: number;
  /** Descriptors issued for this request, waits excluded. */
  descriptors: number;
  /** Modeled time (ns) on the request's path. */
  modeled_ns: number;
}

/** Callbacks and collaborators of a run. */
export interface PolicyRunHooks {
  /** Receives every replayed command (and wait) as a row. */
  onCommand?: ((row: ReplayedCommandRow) => void) | undefined;
  /** Receives every request's modeled cost. */
  onRequestCost?: ((row: RequestCostRow) => void) | undefined;
  /** Where coverage anomalies go. */
  anomalies: AnomalyCollector;
  /** Set when this run is the one compared with the observed commands. */
  fidelity?: FidelityTracker | undefined;
  /**
   * Count requests of a shape already seen from its remembered outcome (see
   * `ReplayPolicy.shape`). Default true; false evaluates every request (tests compare both).
   */
  memo?: boolean | undefined;
}

// Layout of a remembered outcome: per-request time, counter deltas, then one delta per kind.
const O_T = 0, O_SUBS = 1, O_TRAPS = 2, O_FULL = 3, O_UNCOV = 4, O_REQ = 5, O_INV = 6, O_KINDS = 7;
/** Slots of a view's outcome cache (direct-mapped: a shape evicts the one in its slot). */
const MEMO_BITS = 10;
/** Views with an outcome cache before the caches start over. */
const MEMO_VIEWS = 32;

/** Remembered outcomes of one view: slot -> shape key, and the outcomes side by side. */
interface Memo {
  keys: Int32Array;
  outcomes: Float64Array;
}

/**
 * A run's counters once it is over: what the summary is built from, the same whether the run
 * went on this thread or in a replay worker (where it travels by structured clone).
 */
export interface RunTotals {
  /** Count per kind (index = policy kind index). */
  kindCount: number[];
  /** Requests evaluated. */
  requests: number;
  /** Requests skipped. */
  requestsSkipped: number;
  /** Requests outside the policy's scope. */
  requestsOutOfScope: number;
  /** Submissions (waits). */
  submissions: number;
  /** Traps. */
  traps: number;
  /** Full-scope commands. */
  fullFlushes: number;
  /** Caches left with requested pages not invalidated. */
  uncovered: number;
  /** Modeled time on requests' paths (ns). */
  syncNs: number;
  /** Modeled time of deferred flushes (ns). */
  asyncNs: number;
  /** Requested pages per reached cache. */
  pagesRequested: bigint;
  /** Invalidated pages per reached cache. */
  pagesInvalidated: bigint;
  /** Per-request modeled times. */
  perRequest: DistributionSummary;
  /** The per-request distribution is bucketed. */
  approximate: boolean;
}

function hex(pfn: number): string {
  return "0x" + pfn.toString(16);
}

/**
 * Counts one policy's commands and costs over a replay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PolicyRun } from "./policy_run.ts";
 * import { AnomalyCollector } from "./checks.ts";
 * import { bareMetalVtd } from "./cost/bare_metal_vtd.ts";
 * import { intelBatched } from "./policies/intel_batched.ts";
 * const run = new PolicyRun("intel-batched", intelBatched.create({}), bareMetalVtd, {
 *   anomalies: new AnomalyCollector(),
 * });
 * assert(run.submissions === 0);
 * ```
 */
export class PolicyRun implements CommandSink {
  /** Name shown in results. */
  readonly label: string;
  /** The policy instance. */
  readonly policy: ReplayPolicy;
  /** The cost model. */
  readonly model: CostModel;
  /** Count per kind (index = policy kind index). */
  readonly kindCount: Float64Array;
  /** Requests evaluated (something bound, non-empty range). */
  requests = 0;
  /** Requests skipped (nothing bound, or an empty range). */
  requestsSkipped = 0;
  /** Requests outside the policy's scope (`ReplayPolicy.scope`), not replayed. */
  requestsOutOfScope = 0;
  /** Submissions (waits). */
  submissions = 0;
  /** Traps (submissions under a model with `trap_ns` > 0). */
  traps = 0;
  /** Full-scope commands. */
  fullFlushes = 0;
  /** Caches left with requested pages not invalidated. */
  uncovered = 0;
  /** Modeled time on requests' paths (ns). */
  syncNs = 0;
  /** Modeled time of deferred (timer) flushes (ns). */
  asyncNs = 0;
  /** Requested pages per reached cache (see module doc). */
  readonly pagesRequested: ExactSum = new ExactSum();
  /** Invalidated pages per reached cache (see module doc). */
  readonly pagesInvalidated: ExactSum = new ExactSum();
  /** Per-request modeled times. */
  readonly perRequest: Distribution = new Distribution();

  // Hot-path state: plain (TypeScript-private) fields, read through locals in the loops.
  private readonly kindNs: Float64Array;
  private readonly kindClass: Uint8Array;
  private readonly subNs: number;
  private readonly trap: number;
  private readonly parallel: boolean;
  private readonly implicit: boolean;
  private readonly deferred: boolean;
  private readonly hooks: PolicyRunHooks;
  private readonly waitKind: number;
  /** Rows or fidelity wanted: number submissions and report commands. */
  private readonly slow: boolean;
  private req: RequestInfo | null = null;
  private view: BindingView | null = null;
  /** Slot of the first device target (= the view's group count). */
  private devBase = 0;
  private iommuTime = new Float64Array(8);
  private pending = new Int32Array(8);
  private open = new Int32Array(8);
  private asyncOpen = new Int32Array(8);
  private tN = new Uint8Array(16);
  private tFull = new Uint8Array(16);
  private tLo = new Float64Array(16 * K);
  private tHi = new Float64Array(16 * K);
  private sub = 0;
  private reqSubs = 0;
  private reqDescs = 0;
  private inAsync = false;
  /** Per-request modeled time of the last `end`. */
  private lastT = 0;
  private readonly memoOn: boolean;
  private readonly memos = new Map<BindingView, Memo>();
  private memoView: BindingView | null = null;
  private memo: Memo | null = null;
  private kindsBefore: Float64Array;
  /** Numbers per remembered outcome. */
  private readonly oStride: number;
  private asyncReq = -1;
  private asyncView: BindingView | null = null;

  /**
   * Prepares the counters of one policy under one cost model.
   *
   * @param label name in results
   * @param policy the policy instance
   * @param model the cost model
   * @param hooks callbacks and collaborators
   */
  constructor(label: string, policy: ReplayPolicy, model: CostModel, hooks: PolicyRunHooks) {
    this.label = label;
    this.policy = policy;
    this.model = model;
    const n = policy.kinds.length;
    this.kindCount = new Float64Array(n);
    this.kindNs = new Float64Array(n);
    this.kindClass = new Uint8Array(n);
    policy.kinds.forEach((k, i) => {
      this.kindNs[i] = descriptorNs(model, k.name);
      this.kindClass[i] = CLASS_CODE[k.class];
    });
    this.subNs = model.submission_ns + model.trap_ns;
    this.trap = model.trap_ns > 0 ? 1 : 0;
    this.parallel = policy.parallelIommus;
    this.implicit = policy.implicitIotlb;
    this.deferred = policy.deferred;
    this.hooks = hooks;
    this.waitKind = policy.waitKind;
    this.slow = hooks.onCommand !== undefined || hooks.fidelity !== undefined;
    this.memoOn = (hooks.memo ?? true) && policy.shape !== undefined && !this.slow &&
      hooks.onRequestCost === undefined && policy.advance === undefined &&
      policy.finish === undefined && !policy.deferred;
    this.kindsBefore = new Float64Array(n);
    this.oStride = O_KINDS + n;
  }

  /**
   * Replays one request: `begin`, the policy's `evaluate`, `end`; or, for a request whose shape
   * this run has replayed against the same view, the remembered outcome (identical counts).
   *
   * @param req the request
   * @param view what it reaches
   */
  replay(req: RequestInfo, view: BindingView): void {
    if (this.memoOn) {
      const key = this.policy.shape!(req);
      if (key >= 0) {
        let m = this.memo;
        if (view !== this.memoView || m === null) m = this.memoFor(view);
        const slot = Math.imul(key, 0x9e3779b1) >>> (32 - MEMO_BITS);
        // an outcome with uncovered caches is reused only once their rows are no longer kept
        if (
          m.keys[slot] === key &&
          (m.outcomes[slot * this.oStride + O_UNCOV] === 0 ||
            this.uncovered >= this.hooks.anomalies.maxPerKind)
        ) {
          this.reuse(m.outcomes, slot * this.oStride);
          return;
        }
        this.remember(req, view, m, key, slot);
        return;
      }
    }
    this.begin(req, view);
    this.policy.evaluate(req, view, this);
    this.end();
  }

  /** The outcome cache of a view. */
  private memoFor(view: BindingView): Memo {
    let m = this.memos.get(view);
    if (m === undefined) {
      if (this.memos.size >= MEMO_VIEWS) this.memos.clear();
      m = {
        keys: new Int32Array(1 << MEMO_BITS).fill(-1),
        outcomes: new Float64Array((1 << MEMO_BITS) * this.oStride),
      };
      this.memos.set(view, m);
    }
    this.memoView = view;
    this.memo = m;
    return m;
  }

  /** Evaluates a request and remembers its outcome under its shape key. */
  private remember(
    req: RequestInfo,
    view: BindingView,
    m: Memo,
    key: number,
    slot: number,
  ): void {
    const kc = this.kindCount, before = this.kindsBefore;
    before.set(kc);
    const subs = this.submissions, traps = this.traps, full = this.fullFlushes;
    const unc = this.uncovered;
    const rh = this.pagesRequested.hiWord, rl = this.pagesRequested.loWord;
    const ih = this.pagesInvalidated.hiWord, il = this.pagesInvalidated.loWord;
    this.begin(req, view);
    this.policy.evaluate(req, view, this);
    this.end();
    const dr = this.pagesRequested.since(rh, rl), di = this.pagesInvalidated.since(ih, il);
    if (dr < 0 || dr > ALL_PAGES || di < 0 || di > ALL_PAGES) return;
    const o = m.outcomes, b = slot * this.oStride;
    o[b + O_T] = this.lastT;
    o[b + O_SUBS] = this.submissions - subs;
    o[b + O_TRAPS] = this.traps - traps;
    o[b + O_FULL] = this.fullFlushes - full;
    o[b + O_UNCOV] = this.uncovered - unc;
    o[b + O_REQ] = dr;
    o[b + O_INV] = di;
    for (let k = 0; k < kc.length; k++) o[b + O_KINDS + k] = kc[k]! - before[k]!;
    m.keys[slot] = key;
  }

  /** Counts a remembered outcome (at `o[b..]`), as `end` would have. */
  private reuse(o: Float64Array, b: number): void {
    const kc = this.kindCount;
    for (let k = 0; k < kc.length; k++) kc[k]! += o[b + O_KINDS + k]!;
    this.submissions += o[b + O_SUBS]!;
    this.traps += o[b + O_TRAPS]!;
    this.fullFlushes += o[b + O_FULL]!;
    const t = o[b + O_T]!;
    this.syncNs += t;
    this.perRequest.add(t);
    this.requests++;
    const u = o[b + O_UNCOV]!;
    if (u > 0) {
      this.uncovered += u;
      this.hooks.anomalies.countMore("uncovered_range", u);
    }
    const r = o[b + O_REQ]!, i = o[b + O_INV]!;
    if (r > 0) this.pagesRequested.add(r);
    if (i > 0) this.pagesInvalidated.add(i);
  }

  /** Modeled time in total (ns). */
  get modeledNs(): number {
    return this.syncNs + this.asyncNs;
  }

  /** Where this run's anomalies go (the engine sets its `seq` before each request). */
  get anomalies(): AnomalyCollector {
    return this.hooks.anomalies;
  }

  /**
   * The counters, for the summary.
   *
   * @returns the totals
   */
  totals(): RunTotals {
    return {
      kindCount: [...this.kindCount],
      requests: this.requests,
      requestsSkipped: this.requestsSkipped,
      requestsOutOfScope: this.requestsOutOfScope,
      submissions: this.submissions,
      traps: this.traps,
      fullFlushes: this.fullFlushes,
      uncovered: this.uncovered,
      syncNs: this.syncNs,
      asyncNs: this.asyncNs,
      pagesRequested: this.pagesRequested.value(),
      pagesInvalidated: this.pagesInvalidated.value(),
      perRequest: this.perRequest.summary(),
      approximate: this.perRequest.approximate,
    };
  }

  /**
   * Starts a request: sizes the scratch arrays for its view.
   *
   * @param req the request
   * @param view what it reaches
   */
  begin(req: RequestInfo, view: BindingView): void {
    this.req = req;
    this.view = view;
    if (view.iommuCount > this.pending.length) {
      const n = view.iommuCount * 2;
      this.iommuTime = new Float64Array(n);
      this.open = new Int32Array(n);
      this.pending = new Int32Array(n);
    }
    const t = view.groupCount + view.deviceCount;
    if (t > this.tN.length) {
      const n = t * 2;
      this.tN = new Uint8Array(n);
      this.tFull = new Uint8Array(n);
      this.tLo = new Float64Array(n * K);
      this.tHi = new Float64Array(n * K);
    }
    this.devBase = view.groupCount;
    this.reqSubs = 0;
    this.reqDescs = 0;
  }

  /** Counts a request that had nothing to do. */
  skip(): void {
    this.requestsSkipped++;
  }

  /**
   * Counts one command (see {@linkcode CommandSink.cmd}).
   *
   * @param kind index into the policy's kinds
   * @param iommu IOMMU slot
   * @param group IOTLB group slot, or -1
   * @param device device slot, or -1
   * @param addrPfn first page frame
   * @param pages pages, or FULL
   */
  cmd(
    kind: number,
    iommu: number,
    group: number,
    device: number,
    addrPfn: number,
    pages: number,
  ): void {
    // kept small so that V8 inlines it into the policies' loops; rare paths are methods
    this.kindCount[kind]!++;
    if (this.inAsync) return this.asyncCmd(kind, iommu, device, addrPfn, pages);
    const cls = this.kindClass[kind]!;
    if (pages < 0 && cls !== C_WAIT) this.fullFlushes++;
    this.iommuTime[iommu]! += this.kindNs[kind]!;
    this.pending[iommu]!++;
    if (cls === C_IOTLB) {
      if (group >= 0) this.cover(group, addrPfn, pages);
      else this.coverIommu(iommu, addrPfn, pages);
    } else if (cls === C_DEVTLB && device >= 0) this.cover(this.devBase + device, addrPfn, pages);
    if (this.slow) this.slowCmd(kind, cls, iommu, device, addrPfn, pages);
  }

  /**
   * Counts a run of commands (see {@linkcode CommandSink.cmdRun}).
   *
   * @param kind index into the policy's kinds
   * @param iommu IOMMU slot
   * @param group IOTLB group slot, or -1
   * @param device device slot, or -1
   * @param addrPfn first page frame of the first command
   * @param pagesEach pages per command
   * @param count number of commands
   */
  cmdRun(
    kind: number,
    iommu: number,
    group: number,
    device: number,
    addrPfn: number,
    pagesEach: number,
    count: number,
  ): void {
    if (count <= 0) return;
    if (this.slow || this.inAsync || pagesEach < 0) {
      for (let k = 0; k < count; k++) {
        this.cmd(kind, iommu, group, device, addrPfn + k * pagesEach, pagesEach);
      }
      return;
    }
    this.kindCount[kind]! += count;
    const cls = this.kindClass[kind]!;
    this.iommuTime[iommu]! += this.kindNs[kind]! * count;
    this.pending[iommu]! += count;
    const pages = pagesEach * count;
    if (cls === C_IOTLB) {
      if (group >= 0) this.cover(group, addrPfn, pages);
      else this.coverIommu(iommu, addrPfn, pages);
    } else if (cls === C_DEVTLB && device >= 0) this.cover(this.devBase + device, addrPfn, pages);
  }

  /** Marks pages covered in every IOTLB group of an IOMMU. */
  private coverIommu(iommu: number, addrPfn: number, pages: number): void {
    const view = this.view!;
    const g1 = view.iommuGroupEnd[iommu]!;
    for (let g = view.iommuGroupStart[iommu]!; g < g1; g++) this.cover(g, addrPfn, pages);
  }

  /** Numbers the submission and reports the command to the row and fidelity callbacks. */
  private slowCmd(
    kind: number,
    cls: number,
    iommu: number,
    device: number,
    addrPfn: number,
    pages: number,
  ) {
    const view = this.view!;
    if (this.open[iommu] === 0) this.open[iommu] = ++this.sub;
    if (this.hooks.onCommand !== undefined) {
      this.row(view, this.req!.id, this.open[iommu]!, kind, iommu, device, addrPfn, pages);
    }
    const fid = this.hooks.fidelity;
    if (fid !== undefined && cls !== C_WAIT) {
      fid.replayed(
        view.iommuName[iommu]!,
        this.policy.kinds[kind]!.name,
        cls === C_DEVTLB && device >= 0 ? view.deviceName[device]! : null,
        pages < 0 ? null : BigInt(addrPfn) * 4096n,
        pages < 0 ? null : BigInt(pages) * 4096n,
        this.open[iommu]!,
      );
    }
  }

  /** Counts a command of a deferred (timer) flush. */
  private asyncCmd(kind: number, iommu: number, device: number, addrPfn: number, pages: number) {
    const cls = this.kindClass[kind]!;
    if (pages < 0 && cls !== C_WAIT) this.fullFlushes++;
    this.asyncNs += this.kindNs[kind]!;
    if (pages >= 0 && (cls === C_IOTLB || cls === C_DEVTLB)) this.pagesInvalidated.add(pages);
    if (this.asyncOpen[iommu] === 0) this.asyncOpen[iommu] = ++this.sub;
    if (this.hooks.onCommand !== undefined) {
      this.row(
        this.asyncView!,
        this.asyncReq,
        this.asyncOpen[iommu]!,
        kind,
        iommu,
        device,
        addrPfn,
        pages,
      );
    }
  }

  /**
   * Ends a submission (see {@linkcode CommandSink.wait}).
   *
   * @param iommu IOMMU slot
   * @param kind wait kind index (default: the policy's)
   */
  wait(iommu: number, kind: number = this.waitKind): void {
    this.kindCount[kind]!++;
    this.submissions++;
    this.traps += this.trap;
    const ns = this.subNs + this.kindNs[kind]!;
    if (this.inAsync) {
      this.asyncNs += ns;
      if (this.asyncOpen[iommu] === 0) this.asyncOpen[iommu] = ++this.sub;
      if (this.hooks.onCommand !== undefined) {
        this.row(this.asyncView!, this.asyncReq, this.asyncOpen[iommu]!, kind, iommu, -1, 0, -1);
      }
      this.asyncOpen[iommu] = 0;
      return;
    }
    this.iommuTime[iommu]! += ns;
    this.reqDescs += this.pending[iommu]!;
    this.pending[iommu] = 0;
    this.reqSubs++;
    if (this.slow) {
      if (this.open[iommu] === 0) this.open[iommu] = ++this.sub;
      if (this.hooks.onCommand !== undefined) {
        this.row(this.view!, this.req!.id, this.open[iommu]!, kind, iommu, -1, 0, -1);
      }
      this.hooks.fidelity?.submitted(this.open[iommu]!);
      this.open[iommu] = 0;
    }
  }

  /**
   * Starts a deferred flush (see {@linkcode CommandSink.beginAsync}).
   *
   * @param requestId the request it is attributed to
   * @param view the view its slots refer to
   */
  beginAsync(requestId: number, view: BindingView): void {
    this.inAsync = true;
    this.asyncReq = requestId;
    this.asyncView = view;
    if (view.iommuCount > this.asyncOpen.length) {
      this.asyncOpen = new Int32Array(view.iommuCount * 2);
    }
  }

  /** Ends a deferred flush, closing submissions it left open. */
  endAsync(): void {
    const v = this.asyncView;
    if (v !== null) {
      // close what the policy left open
      for (let i = 0; i < v.iommuCount; i++) if (this.asyncOpen[i] !== 0) this.wait(i);
    }
    this.inAsync = false;
    this.asyncView = null;
  }

  /**
   * Ends a request: closes open submissions, charges its time, accounts its caches and runs the
   * coverage check.
   */
  end(): void {
    const view = this.view!, req = this.req!;
    const pending = this.pending, it = this.iommuTime, par = this.parallel;
    let t = 0;
    for (let i = 0; i < view.iommuCount; i++) {
      if (pending[i]! > 0) this.wait(i);
      const x = it[i]!;
      if (par) {
        if (x > t) t = x;
      } else t += x;
      it[i] = 0;
    }
    this.syncNs += t;
    this.perRequest.add(t);
    this.requests++;
    this.lastT = t;
    // account the caches: IOTLB groups (unless implicit), then ATS devices
    const g = view.groupCount, nT = g + view.deviceCount;
    const tN = this.tN, tFull = this.tFull, L = this.tLo, H = this.tHi;
    const s = req.startPfn, e = req.endPfn, full = req.full;
    let reqN = 0, invalidated = 0, invN = 0;
    const x0 = this.implicit ? g : 0;
    for (let x = 0; x < x0; x++) {
      tN[x] = 0;
      tFull[x] = 0;
    }
    for (let x = x0; x < nT; x++) {
      const n = tN[x]!, f = tFull[x]!;
      tN[x] = 0;
      tFull[x] = 0;
      if (f === 1 || (x >= g && view.deviceAts[x - g] !== 1)) continue;
      if (n === 1 && !full) {
        const lo = L[x * K]!, hi = H[x * K]!;
        reqN++;
        // page sums stay exact: flush to the exact counter before it could pass 2^52
        if (invalidated + (hi - lo) > ALL_PAGES) {
          this.pagesInvalidated.add(invalidated);
          invalidated = 0;
        }
        invalidated += hi - lo;
        invN++;
        if (lo > s || hi < e) this.miss(x, req, view, n);
        continue;
      }
      this.account(x, req, view, n);
    }
    if (reqN > 0) {
      const p = req.pages;
      if (reqN * p <= ALL_PAGES) this.pagesRequested.add(reqN * p);
      else for (let k = 0; k < reqN; k++) this.pagesRequested.add(p);
    }
    if (invN > 0) this.pagesInvalidated.add(invalidated);
    const cb = this.hooks.onRequestCost;
    if (cb !== undefined) {
      cb({
        policy: this.label,
        request_id: req.id,
        ts: req.ts,
        submissions: this.reqSubs,
        descriptors: this.reqDescs,
        modeled_ns: t,
      });
    }
  }

  /** Marks pages covered in one cache (interval merge, up to K pieces). */
  private cover(t: number, lo: number, pages: number): void {
    if (pages < 0) {
      this.tFull[t] = 1;
      return;
    }
    const hi = lo + pages;
    const n = this.tN[t]!, base = t * K;
    const L = this.tLo, H = this.tHi;
    for (let k = 0; k < n; k++) {
      const j = base + k;
      if (lo <= H[j]! && hi >= L[j]!) {
        if (lo < L[j]!) L[j] = lo;
        if (hi > H[j]!) H[j] = hi;
        return;
      }
    }
    if (n < K) {
      L[base + n] = lo;
      H[base + n] = hi;
      this.tN[t] = n + 1;
      return;
    }
    // more than K disjoint pieces: widen the last one (over-approximates coverage)
    const j = base + K - 1;
    if (lo < L[j]!) L[j] = lo;
    if (hi > H[j]!) H[j] = hi;
  }

  /** The general case of one cache's accounting: several pieces, none, or a full request. */
  private account(t: number, req: RequestInfo, view: BindingView, n: number): void {
    const base = t * K, L = this.tLo, H = this.tHi;
    // sort the n <= 4 intervals by start (insertion sort, in place)
    for (let a = 1; a < n; a++) {
      const lo = L[base + a]!, hi = H[base + a]!;
      let b = a - 1;
      while (b >= 0 && L[base + b]! > lo) {
        L[base + b + 1] = L[base + b]!;
        H[base + b + 1] = H[base + b]!;
        b--;
      }
      L[base + b + 1] = lo;
      H[base + b + 1] = hi;
    }
    let union = 0, cur = req.startPfn, prevHi = -1;
    for (let k = 0; k < n; k++) {
      const lo = L[base + k]!, hi = H[base + k]!;
      union += hi - (lo > prevHi ? lo : prevHi > hi ? hi : prevHi);
      if (hi > prevHi) prevHi = hi;
      if (lo <= cur && hi > cur) cur = hi;
    }
    if (!req.full) {
      // a deferred policy left this cache for a later whole-domain flush: no ranged coverage
      if (n === 0 && this.deferred) return;
      this.pagesRequested.add(req.pages);
      this.pagesInvalidated.add(union);
      if (cur >= req.endPfn) return;
    }
    this.miss(t, req, view, n);
  }

  /** A cache left with requested pages not invalidated. */
  private miss(t: number, req: RequestInfo, view: BindingView, n: number): void {
    if (this.deferred) return;
    this.uncovered++;
    const a = this.hooks.anomalies;
    if (a.count("uncovered_range")) a.keep(this.uncoveredRow(t, req, view, n));
  }

  /** Formats an `uncovered_range` anomaly. */
  private uncoveredRow(t: number, req: RequestInfo, view: BindingView, n: number): AnomalyRow {
    const g = view.groupCount;
    const isDev = t >= g;
    const group = isDev ? view.deviceGroup[t - g]! : t;
    const device = isDev
      ? view.deviceName[t - g]!
      : view.deviceName[view.groupDeviceStart[t]!] ?? null;
    const iommu = view.iommuName[view.groupIommu[group]!]!;
    const got: string[] = [];
    for (let k = 0; k < n; k++) {
      got.push(`${hex(this.tLo[t * K + k]!)}-${hex(this.tHi[t * K + k]! - 1)}`);
    }
    const what = isDev
      ? `ATC of ${device}`
      : `IOTLB of ${iommu} (domain ${view.groupDomain[group]})`;
    const need = req.full
      ? "the whole address space"
      : `pfn ${hex(req.startPfn)}-${hex(req.endPfn - 1)}`;
    return {
      kind: "uncovered_range",
      ts: req.ts,
      policy: this.label,
      request_id: req.id,
      device,
      pasid: view.groupPasid[group] ?? null,
      mm: view.mm,
      detail: `${what}: request needs ${need}, commands covered ${
        got.length ? `pfn ${got.join(", ")}` : "nothing"
      } (stale ${isDev ? "ATC" : "IOTLB"} entries)`,
    };
  }

  /** Hands one `replayed_commands` row to the callback. */
  private row(
    view: BindingView,
    requestId: number,
    submission: number,
    kind: number,
    iommu: number,
    device: number,
    addrPfn: number,
    pages: number,
  ): void {
    this.hooks.onCommand!({
      policy: this.label,
      request_id: requestId,
      submission,
      iommu: view.iommuName[iommu] ?? "unknown",
      device: device >= 0 ? view.deviceName[device] ?? null : null,
      kind: this.policy.kinds[kind]!.name,
      addr: pages < 0 ? null : BigInt(addrPfn) * BigInt(PAGE_SIZE),
      size: pages < 0 ? null : BigInt(pages) * BigInt(PAGE_SIZE),
    });
  }
}
