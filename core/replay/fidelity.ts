/**
 * Fidelity: does the policy that models the traced kernel reproduce the commands it really issued?
 *
 * ## Which observed commands are compared
 *
 * Fidelity compares like with like: only commands the kernel issued *for an mm-invalidation
 * request* are compared with what the policy replays for that request. Every other observed
 * command is counted in `ignored`, with its reason in `ignored_by_reason`:
 *
 * - `kind`: a kind the policy never emits (`pc_inv`, `page_grp_resp`, `inv_wait`, ...);
 * - `teardown`: the PASID-entry teardown at unbind or mm release (`ctx=teardown` in the observed
 *   row's `fields`: `pc_inv`, then a PASID-selective IOTLB and a whole dev-TLB flush);
 * - `prq_drain`: the page-request drain at unbind (`ctx=prq_drain`);
 * - `outside_request`: the command belongs to no request: it came before any request, or it names
 *   a PASID other than the PASID of the request it would be assigned to (a DMA-API flush-queue
 *   flush of PASID 0 on a CPU whose latest request is an SVA flush, say).
 *
 * The rest are assigned to requests by time: each goes to the latest request on the same CPU at or
 * before it (or, when its CPU has had no request or is unknown, to the latest request on any CPU),
 * provided the PASIDs agree (a command or request without a PASID agrees with any). Then, per
 * request, the replayed and observed commands are compared as multisets under the comparison key
 *
 * ```
 * iommu | kind | device | addr | size
 * ```
 *
 * - `kind` as the kernel names it; wait descriptors are not compared (`qi_submit` does not trace
 *   `inv_wait`);
 * - `device` only for device-TLB kinds (`p_dev_tlb_inv`, `dev_tlb_inv`, `atc_inv`,
 *   `inv_iotlb_pages`): the observed row's `device`, else the device whose `sid` matches; empty
 *   for IOTLB kinds, whose descriptors name no device;
 * - `addr` / `size` in hex bytes; a full-scope command (address or size null, or size >= 2^63) is
 *   `all`.
 *
 * Submissions are compared as counts (observed distinct `submission_id`s vs replayed waits per
 * request), since observed boundaries are inferred. Deferred (timer) flushes are not compared.
 *
 * @module
 */
import type { DeviceRow, ObservedCommandRow } from "../canonical.ts";

/** Documentation of the comparison key, as reported. */
export const FIDELITY_KEY =
  "iommu|kind|device (device-TLB kinds only)|addr|size (hex bytes; full scope = all)";

/** One difference between replayed and observed commands. */
export interface FidelityDifference {
  /** The request the commands belong to. */
  request_id: number;
  /** The request's time. */
  ts: bigint;
  /** `missing`: replayed but not observed; `extra`: observed but not replayed. */
  side: "missing" | "extra";
  /** The comparison key. */
  key: string;
  /** How many such commands. */
  count: number;
}

/** The fidelity result. */
export interface FidelityReport {
  /** Policy compared (the one modeling the traced kernel). */
  policy: string;
  /** Commands present on both sides. */
  matched: number;
  /** Replayed commands not observed. */
  missing: number;
  /** Observed commands not replayed. */
  extra: number;
  /** Observed commands not compared (see `ignored_by_reason`). */
  ignored: number;
  /**
   * `ignored` by reason: `kind` (a kind the policy never emits), `teardown` (PASID-entry
   * teardown), `prq_drain` (page-request drain), `outside_request` (before any request, or another
   * PASID than the request's). Reasons with no command are absent.
   */
  ignored_by_reason: Record<string, number>;
  /** Requests compared. */
  requests: number;
  /** Requests whose commands matched exactly. */
  requests_matched: number;
  /** Replayed submissions in compared requests. */
  submissions_replayed: number;
  /** Observed submissions (distinct submission ids) in compared requests. */
  submissions_observed: number;
  /** The comparison key. */
  key: string;
  /** The first differences, in trace order. */
  first_differences: FidelityDifference[];
}

const DEVICE_KINDS = new Set(["p_dev_tlb_inv", "dev_tlb_inv", "atc_inv", "inv_iotlb_pages"]);
const HALF = 1n << 63n;

/** Why an observed command is not compared. */
export type IgnoredReason = "kind" | "teardown" | "prq_drain" | "outside_request";

const CTX = /(?:^|\s)ctx=(teardown|prq_drain)(?:\s|$)/;

interface Bucket {
  requestId: number;
  ts: bigint;
  pasid: number | null;
  replayed: Map<string, number>;
  observed: Map<string, number>;
  replayedSubs: number;
  observedSubs: Set<number>;
}

/**
 * The comparison key of one command.
 *
 * @param iommu unit name
 * @param kindName kernel kind name
 * @param device device name, or null
 * @param addr first byte, or null
 * @param size bytes, or null
 * @returns the key
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fidelityKey } from "./fidelity.ts";
 * assert(fidelityKey("dmar0", "p_iotlb_inv", "x", 0n, 4096n) === "dmar0|p_iotlb_inv||0x0|0x1000");
 * assert(fidelityKey("dmar0", "p_dev_tlb_inv", "x", null, null) === "dmar0|p_dev_tlb_inv|x|all");
 * ```
 */
export function fidelityKey(
  iommu: string,
  kindName: string,
  device: string | null,
  addr: bigint | null,
  size: bigint | null,
): string {
  const dev = DEVICE_KINDS.has(kindName) ? device ?? "" : "";
  const range = addr === null || size === null || size >= HALF
    ? "all"
    : `0x${addr.toString(16)}|0x${size.toString(16)}`;
  return `${iommu}|${kindName}|${dev}|${range}`;
}

/**
 * Streams requests, replayed and observed commands, and compares them per request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FidelityTracker } from "./fidelity.ts";
 * const f = new FidelityTracker("p", new Set(["p_iotlb_inv"]), new Map());
 * f.openRequest(0, 1, 10n);
 * f.replayed("dmar0", "p_iotlb_inv", null, 0n, 4096n, 1);
 * f.submitted(1);
 * f.observed({ command_id: 0, ts: 11n, cpu: 0, iommu: "dmar0", submission_id: 5, kind: "p_iotlb_inv",
 *   domain_id: 1, pasid: 2, sid: null, device: null, addr: 0n, size: 4096n, granularity: "page", raw: null });
 * const r = f.finish();
 * assert(r.matched === 1 && r.missing === 0 && r.extra === 0);
 * ```
 */
export class FidelityTracker {
  readonly #policy: string;
  readonly #kinds: ReadonlySet<string>;
  readonly #bySid = new Map<number, string>();
  readonly #maxDiffs: number;
  readonly #open = new Map<number, Bucket>();
  #last: Bucket | null = null;
  #report: FidelityReport;

  /**
   * Creates a tracker for one policy.
   *
   * @param policy the compared policy's name
   * @param kinds the kinds it emits (waits excluded)
   * @param devices device rows, to name devices by `sid`
   * @param maxDiffs differences kept
   */
  constructor(
    policy: string,
    kinds: ReadonlySet<string>,
    devices: ReadonlyMap<string, DeviceRow>,
    maxDiffs = 20,
  ) {
    this.#policy = policy;
    this.#kinds = kinds;
    this.#maxDiffs = maxDiffs;
    for (const d of devices.values()) {
      if (d.sid !== null && !this.#bySid.has(d.sid)) this.#bySid.set(d.sid, d.device);
    }
    this.#report = {
      policy,
      matched: 0,
      missing: 0,
      extra: 0,
      ignored: 0,
      ignored_by_reason: {},
      requests: 0,
      requests_matched: 0,
      submissions_replayed: 0,
      submissions_observed: 0,
      key: FIDELITY_KEY,
      first_differences: [],
    };
  }

  /**
   * A request starts on a CPU: closes that CPU's previous request.
   *
   * @param cpu the CPU, or -1
   * @param requestId the request
   * @param ts its time
   * @param pasid its PASID, or null when it has none (DMA-API) or it is unknown
   */
  openRequest(cpu: number, requestId: number, ts: bigint, pasid: number | null = null): void {
    const prev = this.#open.get(cpu);
    if (prev) this.#close(prev);
    const b: Bucket = {
      requestId,
      ts,
      pasid,
      replayed: new Map(),
      observed: new Map(),
      replayedSubs: 0,
      observedSubs: new Set(),
    };
    this.#open.set(cpu, b);
    this.#last = b;
  }

  /**
   * A command the policy issued for the latest request.
   *
   * @param iommu unit
   * @param kindName kind
   * @param device device for device-TLB kinds, else null
   * @param addr first byte or null
   * @param size bytes or null
   * @param _submission replayed submission number
   */
  replayed(
    iommu: string,
    kindName: string,
    device: string | null,
    addr: bigint | null,
    size: bigint | null,
    _submission: number,
  ): void {
    const b = this.#last;
    if (!b) return;
    const k = fidelityKey(iommu, kindName, device, addr, size);
    b.replayed.set(k, (b.replayed.get(k) ?? 0) + 1);
  }

  /**
   * The policy ended a submission for the latest request.
   *
   * @param _submission replayed submission number
   */
  submitted(_submission: number): void {
    if (this.#last) this.#last.replayedSubs++;
  }

  /**
   * A command the traced kernel issued.
   *
   * @param c the observed command
   */
  observed(c: ObservedCommandRow): void {
    if (!this.#kinds.has(c.kind)) return this.#ignore("kind");
    const ctx = c.fields ? CTX.exec(c.fields) : null;
    if (ctx) return this.#ignore(ctx[1] as IgnoredReason);
    const b = (c.cpu !== null ? this.#open.get(c.cpu) : undefined) ?? this.#last;
    if (!b || (b.pasid !== null && c.pasid !== null && c.pasid !== b.pasid)) {
      return this.#ignore("outside_request");
    }
    const device = c.device ?? (c.sid !== null ? this.#bySid.get(c.sid) ?? null : null);
    const k = fidelityKey(c.iommu ?? "?", c.kind, device, c.addr, c.size);
    b.observed.set(k, (b.observed.get(k) ?? 0) + 1);
    b.observedSubs.add(c.submission_id);
  }

  #ignore(reason: IgnoredReason): void {
    const r = this.#report;
    r.ignored++;
    r.ignored_by_reason[reason] = (r.ignored_by_reason[reason] ?? 0) + 1;
  }

  /**
   * Closes every open request and returns the report.
   *
   * @returns the fidelity report
   */
  finish(): FidelityReport {
    const open = [...this.#open.values()].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    for (const b of open) this.#close(b);
    this.#open.clear();
    this.#last = null;
    return this.#report;
  }

  #close(b: Bucket): void {
    const r = this.#report;
    r.requests++;
    r.submissions_replayed += b.replayedSubs;
    r.submissions_observed += b.observedSubs.size;
    let exact = true;
    for (const [k, n] of b.observed) {
      const m = b.replayed.get(k) ?? 0;
      const matched = Math.min(m, n);
      r.matched += matched;
      if (n > matched) {
        exact = false;
        r.extra += n - matched;
        this.#diff(b.requestId, b.ts, "extra", k, n - matched);
      }
      if (m > matched) {
        exact = false;
        r.missing += m - matched;
        this.#diff(b.requestId, b.ts, "missing", k, m - matched);
      }
      b.replayed.delete(k);
    }
    for (const [k, m] of b.replayed) {
      exact = false;
      r.missing += m;
      this.#diff(b.requestId, b.ts, "missing", k, m);
    }
    if (exact) r.requests_matched++;
  }

  #diff(
    request_id: number,
    ts: bigint,
    side: "missing" | "extra",
    key: string,
    count: number,
  ) {
    if (this.#report.first_differences.length < this.#maxDiffs) {
      this.#report.first_differences.push({ request_id, ts, side, key, count });
    }
  }
}
