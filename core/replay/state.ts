/**
 * The replay state machine: mm <-> PASID <-> domain(s) <-> devices <-> IOMMU units, at any instant.
 *
 * Built once from the canonical `iommus`, `devices` and `bindings` rows. A binding is active on
 * `[from_ts, to_ts)`; a null end is open (bound before the trace started / still bound at its end).
 * The state between two consecutive binding boundaries is constant, so the view for a key (an mm,
 * a PASID, or the DMA-API bindings) is built once per such interval and reused by every request in
 * it: requests in time order cost one cache check each.
 *
 * @module
 */
import type { BindingRow, DeviceRow, IommuRow, IommuVendor } from "../canonical.ts";
import { UsageError } from "../errors.ts";

/**
 * The devices a request must reach, grouped for the policies: IOMMU units, then IOTLB tag groups
 * (one per (IOMMU, domain id, PASID): the unit of an IOTLB invalidation), then devices. Slots are
 * contiguous: the groups of IOMMU `i` are `iommuGroupStart[i] .. iommuGroupEnd[i] - 1`, the devices of
 * group `g` are `groupDeviceStart[g] .. groupDeviceEnd[g] - 1`. Immutable once built, so a stateful
 * policy may keep a reference.
 */
export interface BindingView {
  /** What the view was looked up by: `mm:<mm>`, `pasid:<n>` or `dma`. */
  readonly key: string;
  /** The mm, when looked up by mm. */
  readonly mm: string | null;
  /** The PASID when all active bindings agree on one, else null. */
  readonly pasid: number | null;
  /** The active bindings (one per device). */
  readonly bindings: readonly BindingRow[];
  /** Number of IOMMU units reached. */
  readonly iommuCount: number;
  /** Unit names, by IOMMU slot. */
  readonly iommuName: readonly string[];
  /** Unit vendors, by IOMMU slot. */
  readonly iommuVendor: readonly IommuVendor[];
  /** First group slot of each IOMMU. */
  readonly iommuGroupStart: Int32Array;
  /** One past the last group slot of each IOMMU. */
  readonly iommuGroupEnd: Int32Array;
  /** Number of IOTLB tag groups. */
  readonly groupCount: number;
  /** IOMMU slot of each group. */
  readonly groupIommu: Int32Array;
  /** Domain id (VT-d DID, SMMU ASID domain, AMD DomainID) of each group, null if unknown. */
  readonly groupDomain: readonly (number | null)[];
  /** PASID of each group, null if unknown. */
  readonly groupPasid: readonly (number | null)[];
  /** First device slot of each group. */
  readonly groupDeviceStart: Int32Array;
  /** One past the last device slot of each group. */
  readonly groupDeviceEnd: Int32Array;
  /** Number of devices. */
  readonly deviceCount: number;
  /** Device names, by device slot. */
  readonly deviceName: readonly string[];
  /** 1 when the device has ATS enabled (a device TLB); unknown (null) counts as 0. */
  readonly deviceAts: Uint8Array;
  /** PCI requester ids, null if unknown. */
  readonly deviceSid: readonly (number | null)[];
  /** Group slot of each device. */
  readonly deviceGroup: Int32Array;
  /** IOMMU slot of each device. */
  readonly deviceIommu: Int32Array;
  /** Number of devices with ATS. */
  readonly atsCount: number;
}

/** What a request is bound through: its mm, else its PASID, else the DMA-API bindings. */
export interface ViewQuery {
  /** The request's mm, or null. */
  mm: string | null;
  /** The request's PASID, or null. */
  pasid: number | null;
}

/** One IOTLB group in a {@linkcode StateSnapshot}. */
export interface SnapshotDomain {
  /** IOMMU unit. */
  iommu: string;
  /** Domain id, null if unknown. */
  domain_id: number | null;
  /** Devices in it. */
  devices: string[];
}

/** The state at one instant, as a tree mm -> PASID -> domains -> devices (for humans and tests). */
export interface StateSnapshot {
  /** The instant (ns). */
  ts: bigint;
  /** Bound mms (null: bindings without an mm), their PASIDs and domains. */
  mms: { mm: string | null; pasids: { pasid: number | null; domains: SnapshotDomain[] }[] }[];
}

interface KeyState {
  key: string;
  mm: string | null;
  bindings: BindingRow[];
  /** Sorted distinct non-null from_ts/to_ts values. */
  boundaries: bigint[];
  view: BindingView | null;
  /** Cached view valid on [cacheFrom, cacheUntil); null = unbounded. */
  cacheFrom: bigint | null;
  cacheUntil: bigint | null;
}

const NO_INT = new Int32Array(0);

function emptyView(key: string, mm: string | null): BindingView {
  return Object.freeze({
    key,
    mm,
    pasid: null,
    bindings: [],
    iommuCount: 0,
    iommuName: [],
    iommuVendor: [],
    iommuGroupStart: NO_INT,
    iommuGroupEnd: NO_INT,
    groupCount: 0,
    groupIommu: NO_INT,
    groupDomain: [],
    groupPasid: [],
    groupDeviceStart: NO_INT,
    groupDeviceEnd: NO_INT,
    deviceCount: 0,
    deviceName: [],
    deviceAts: new Uint8Array(0),
    deviceSid: [],
    deviceGroup: NO_INT,
    deviceIommu: NO_INT,
    atsCount: 0,
  });
}

/** Name of the IOMMU used when neither the binding nor the device row names one. */
export const UNKNOWN_IOMMU = "unknown";

function active(b: BindingRow, ts: bigint): boolean {
  return (b.from_ts === null || b.from_ts <= ts) && (b.to_ts === null || ts < b.to_ts);
}

const collator = new Intl.Collator("en", { numeric: true });

function cmpNullNum(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a - b;
}

/**
 * The binding state over time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BindingState } from "./state.ts";
 * const st = new BindingState({
 *   iommus: [{ iommu: "dmar0", vendor: "intel", source: "topology" }],
 *   devices: [{ device: "0000:00:01.0", sid: 8, iommu: "dmar0", ats: true, pasid: true, qdep: 32, source: "topology" }],
 *   bindings: [{
 *     binding_id: 0, mm: "mm1", pid: 10, comm: "app", pasid: 5, device: "0000:00:01.0",
 *     iommu: "dmar0", domain_id: 1, from_ts: 100n, to_ts: 200n, source: "sva_bind",
 *   }],
 * });
 * assert(st.viewFor({ mm: "mm1", pasid: null }, 150n).deviceCount === 1);
 * assert(st.viewFor({ mm: "mm1", pasid: null }, 200n).deviceCount === 0);
 * ```
 */
export class BindingState {
  /** Device rows by name. */
  readonly devices: ReadonlyMap<string, DeviceRow>;
  /** IOMMU rows by name. */
  readonly iommus: ReadonlyMap<string, IommuRow>;
  /** All bindings, sorted by start. */
  readonly bindings: readonly BindingRow[];
  readonly #byMm = new Map<string, KeyState>();
  readonly #byPasid = new Map<number, KeyState>();
  readonly #dma: KeyState;
  readonly #emptyByKey = new Map<string, BindingView>();
  #lastMm: string | null = null;
  #lastMmState: KeyState | undefined = undefined;

  /**
   * Indexes the bindings by mm, by PASID, and the DMA-API bindings.
   *
   * @param input the canonical topology and binding rows
   * @throws {UsageError} when a binding ends before it starts
   */
  constructor(input: {
    iommus: Iterable<IommuRow>;
    devices: Iterable<DeviceRow>;
    bindings: Iterable<BindingRow>;
  }) {
    const iommus = new Map<string, IommuRow>();
    for (const r of input.iommus) if (!iommus.has(r.iommu)) iommus.set(r.iommu, r);
    const devices = new Map<string, DeviceRow>();
    for (const r of input.devices) if (!devices.has(r.device)) devices.set(r.device, r);
    this.iommus = iommus;
    this.devices = devices;
    const bindings = [...input.bindings];
    for (const b of bindings) {
      if (b.from_ts !== null && b.to_ts !== null && b.to_ts < b.from_ts) {
        throw new UsageError(
          `binding ${b.binding_id} (${b.device}): ends at ${b.to_ts} before it starts at ${b.from_ts}`,
        );
      }
    }
    bindings.sort((a, b) =>
      a.from_ts === b.from_ts
        ? a.binding_id - b.binding_id
        : a.from_ts === null
        ? -1
        : b.from_ts === null
        ? 1
        : a.from_ts < b.from_ts
        ? -1
        : 1
    );
    this.bindings = bindings;
    const mk = (key: string, mm: string | null): KeyState => ({
      key,
      mm,
      bindings: [],
      boundaries: [],
      view: null,
      cacheFrom: null,
      cacheUntil: null,
    });
    this.#dma = mk("dma", null);
    for (const b of bindings) {
      if (b.mm !== null) {
        let s = this.#byMm.get(b.mm);
        if (!s) this.#byMm.set(b.mm, s = mk(`mm:${b.mm}`, b.mm));
        s.bindings.push(b);
      }
      if (b.pasid !== null) {
        let s = this.#byPasid.get(b.pasid);
        if (!s) this.#byPasid.set(b.pasid, s = mk(`pasid:${b.pasid}`, null));
        s.bindings.push(b);
      }
      if (b.mm === null && b.pasid === null) this.#dma.bindings.push(b);
    }
    const all = [...this.#byMm.values(), ...this.#byPasid.values(), this.#dma];
    for (const s of all) {
      const set = new Set<bigint>();
      for (const b of s.bindings) {
        if (b.from_ts !== null) set.add(b.from_ts);
        if (b.to_ts !== null) set.add(b.to_ts);
      }
      s.boundaries = [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
  }

  /**
   * The devices a request reaches at `ts`: bindings of its mm when it has one, else of its PASID,
   * else the DMA-API bindings (rows with neither mm nor PASID).
   *
   * @param q the request's mm and PASID
   * @param ts the instant (ns)
   * @returns the view (an empty view when nothing is bound)
   */
  viewFor(q: ViewQuery, ts: bigint): BindingView {
    let s: KeyState | undefined;
    if (q.mm !== null) {
      // consecutive requests mostly come from the same mm: skip the map lookup
      if (q.mm === this.#lastMm) s = this.#lastMmState;
      else {
        s = this.#byMm.get(q.mm);
        this.#lastMm = q.mm;
        this.#lastMmState = s;
      }
    } else if (q.pasid !== null) s = this.#byPasid.get(q.pasid);
    else s = this.#dma;
    if (!s) {
      const key = q.mm !== null ? `mm:${q.mm}` : `pasid:${q.pasid}`;
      let v = this.#emptyByKey.get(key);
      if (!v) this.#emptyByKey.set(key, v = emptyView(key, q.mm));
      return v;
    }
    if (
      s.view !== null && (s.cacheFrom === null || s.cacheFrom <= ts) &&
      (s.cacheUntil === null || ts < s.cacheUntil)
    ) return s.view;
    // first boundary > ts
    const bs = s.boundaries;
    let lo = 0, hi = bs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (bs[mid]! <= ts) lo = mid + 1;
      else hi = mid;
    }
    s.cacheFrom = lo > 0 ? bs[lo - 1]! : null;
    s.cacheUntil = lo < bs.length ? bs[lo]! : null;
    s.view = this.#build(s, ts);
    return s.view;
  }

  /**
   * The bindings active at `ts`.
   *
   * @param ts the instant (ns)
   * @returns active bindings, sorted by start
   */
  bindingsAt(ts: bigint): BindingRow[] {
    return this.bindings.filter((b) => active(b, ts));
  }

  /**
   * The PASIDs an mm has bound at `ts`.
   *
   * @param mm the mm
   * @param ts the instant (ns)
   * @returns distinct PASIDs, ascending
   */
  pasidsOf(mm: string, ts: bigint): number[] {
    const s = this.#byMm.get(mm);
    if (!s) return [];
    const out = new Set<number>();
    for (const b of s.bindings) if (b.pasid !== null && active(b, ts)) out.add(b.pasid);
    return [...out].sort((a, b) => a - b);
  }

  /**
   * The mms bound through a PASID at `ts`.
   *
   * @param pasid the PASID
   * @param ts the instant (ns)
   * @returns distinct mms
   */
  mmsOf(pasid: number, ts: bigint): string[] {
    const s = this.#byPasid.get(pasid);
    if (!s) return [];
    const out = new Set<string>();
    for (const b of s.bindings) if (b.mm !== null && active(b, ts)) out.add(b.mm);
    return [...out];
  }

  /**
   * The IOMMU unit of a device (from its device row), or null.
   *
   * @param device device name
   * @returns the unit name or null
   */
  iommuOf(device: string): string | null {
    return this.devices.get(device)?.iommu ?? null;
  }

  /**
   * True when some binding with this PASID (on this IOMMU, when both are known) is active at `ts`,
   * with its interval widened by `graceNs` on both sides.
   *
   * @param pasid the PASID
   * @param ts the instant (ns)
   * @param iommu the unit, or null for any
   * @param graceNs tolerance for bind/unbind timing (ns)
   * @returns whether the PASID is bound
   */
  isPasidBound(pasid: number, ts: bigint, iommu: string | null, graceNs: bigint): boolean {
    const s = this.#byPasid.get(pasid);
    if (!s) return false;
    for (const b of s.bindings) {
      if (b.from_ts !== null && ts < b.from_ts - graceNs) continue;
      if (b.to_ts !== null && ts >= b.to_ts + graceNs) continue;
      const bi = b.iommu ?? this.iommuOf(b.device);
      if (iommu !== null && bi !== null && bi !== iommu) continue;
      return true;
    }
    return false;
  }

  /**
   * The whole state at `ts` as a tree, mm -> PASID -> domains -> devices.
   *
   * @param ts the instant (ns)
   * @returns the snapshot
   */
  snapshot(ts: bigint): StateSnapshot {
    const byMm = new Map<string | null, Map<number | null, Map<string, SnapshotDomain>>>();
    for (const b of this.bindingsAt(ts)) {
      let p = byMm.get(b.mm);
      if (!p) byMm.set(b.mm, p = new Map());
      let d = p.get(b.pasid);
      if (!d) p.set(b.pasid, d = new Map());
      const iommu = b.iommu ?? this.iommuOf(b.device) ?? UNKNOWN_IOMMU;
      const k = `${iommu}\u0000${b.domain_id}`;
      let dom = d.get(k);
      if (!dom) d.set(k, dom = { iommu, domain_id: b.domain_id, devices: [] });
      if (!dom.devices.includes(b.device)) dom.devices.push(b.device);
    }
    return {
      ts,
      mms: [...byMm].map(([mm, p]) => ({
        mm,
        pasids: [...p].map(([pasid, d]) => ({ pasid, domains: [...d.values()] })),
      })),
    };
  }

  #build(s: KeyState, ts: bigint): BindingView {
    interface Dev {
      b: BindingRow;
      iommu: string;
      ats: boolean;
      sid: number | null;
    }
    const seen = new Set<string>();
    const devs: Dev[] = [];
    for (const b of s.bindings) {
      if (!active(b, ts) || seen.has(b.device)) continue;
      seen.add(b.device);
      const row = this.devices.get(b.device);
      devs.push({
        b,
        iommu: b.iommu ?? row?.iommu ?? UNKNOWN_IOMMU,
        ats: row?.ats === true,
        sid: row?.sid ?? null,
      });
    }
    if (devs.length === 0) {
      let v = this.#emptyByKey.get(s.key);
      if (!v) this.#emptyByKey.set(s.key, v = emptyView(s.key, s.mm));
      return v;
    }
    devs.sort((x, y) =>
      collator.compare(x.iommu, y.iommu) || cmpNullNum(x.b.domain_id, y.b.domain_id) ||
      cmpNullNum(x.b.pasid, y.b.pasid) || collator.compare(x.b.device, y.b.device)
    );
    const n = devs.length;
    const iommuName: string[] = [];
    const iommuVendor: IommuVendor[] = [];
    const gStart: number[] = [], gEnd: number[] = [];
    const groupIommu: number[] = [], groupDomain: (number | null)[] = [];
    const groupPasid: (number | null)[] = [];
    const gdStart: number[] = [], gdEnd: number[] = [];
    const deviceAts = new Uint8Array(n);
    const deviceGroup = new Int32Array(n), deviceIommu = new Int32Array(n);
    let atsCount = 0;
    let pasid: number | null | undefined = undefined;
    for (let i = 0; i < n; i++) {
      const d = devs[i]!;
      const prev = i > 0 ? devs[i - 1]! : null;
      if (prev === null || prev.iommu !== d.iommu) {
        if (iommuName.length > 0) gEnd.push(groupIommu.length);
        iommuName.push(d.iommu);
        iommuVendor.push(this.iommus.get(d.iommu)?.vendor ?? "unknown");
        gStart.push(groupIommu.length);
      }
      if (
        prev === null || prev.iommu !== d.iommu || prev.b.domain_id !== d.b.domain_id ||
        prev.b.pasid !== d.b.pasid
      ) {
        if (groupIommu.length > 0) gdEnd.push(i);
        groupIommu.push(iommuName.length - 1);
        groupDomain.push(d.b.domain_id);
        groupPasid.push(d.b.pasid);
        gdStart.push(i);
      }
      deviceGroup[i] = groupIommu.length - 1;
      deviceIommu[i] = iommuName.length - 1;
      if (d.ats) {
        deviceAts[i] = 1;
        atsCount++;
      }
      pasid = pasid === undefined ? d.b.pasid : pasid === d.b.pasid ? pasid : null;
    }
    gEnd.push(groupIommu.length);
    gdEnd.push(n);
    return Object.freeze({
      key: s.key,
      mm: s.mm,
      pasid: pasid ?? null,
      bindings: devs.map((d) => d.b),
      iommuCount: iommuName.length,
      iommuName,
      iommuVendor,
      iommuGroupStart: Int32Array.from(gStart),
      iommuGroupEnd: Int32Array.from(gEnd),
      groupCount: groupIommu.length,
      groupIommu: Int32Array.from(groupIommu),
      groupDomain,
      groupPasid,
      groupDeviceStart: Int32Array.from(gdStart),
      groupDeviceEnd: Int32Array.from(gdEnd),
      deviceCount: n,
      deviceName: devs.map((d) => d.b.device),
      deviceAts,
      deviceSid: devs.map((d) => d.sid),
      deviceGroup,
      deviceIommu,
      atsCount,
    });
  }
}
