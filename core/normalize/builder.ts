/**
 * Collects canonical rows while the normalizer streams, and finishes them into
 * {@linkcode CanonicalTables}.
 *
 * Rows refer to devices and address spaces through live objects ({@linkcode DeviceRec},
 * {@linkcode MmRef}) so that a name learned later (a device's BDF behind a SID seen first, an mm
 * pointer learned at `exit_mmap`) shows in every row when the tables are finished. The live state
 * (open bindings, PASID owners, device registry) is bounded by the number of live objects; the
 * row arrays are the output.
 *
 * @module
 */
import type {
  BindingRow,
  DeviceRow,
  FaultRow,
  IommuRow,
  IommuVendor,
  ObservedCommandRow,
  RequestRow,
} from "../canonical.ts";
import type { ProcessEventKind, ProcessEventRow } from "../replay/process_event.ts";
import type { MmRef } from "./mm_tracker.ts";

/** The normalizer's output. */
export interface CanonicalTables {
  /** IOMMU units. */
  iommus: IommuRow[];
  /** Devices behind them. */
  devices: DeviceRow[];
  /** (mm, PASID, device) binding intervals. */
  bindings: BindingRow[];
  /** mm / IOVA ranges that needed invalidating, one per kernel invalidation. */
  requests: RequestRow[];
  /** Decoded invalidation commands the kernel issued. */
  observed_commands: ObservedCommandRow[];
  /** Faults and page requests. */
  faults: FaultRow[];
  /** Process lifecycle (real forks, execs, mm exits) for the replay checks. */
  process_events: ProcessEventRow[];
  /** What the trace supports, one sentence each. */
  statements: string[];
}

/**
 * Receives requests, observed commands and faults in their final order (time, then emission) while
 * the normalizer runs, instead of the builder keeping them: memory then stays bounded by the rows
 * still in flight (a decoder's open group, a CPU's pending unmaps), not by the trace length.
 *
 * Rows are passed before the request-source filter (it is known only at the end: see
 * {@linkcode StreamResolver.keepSource}). Address spaces and devices are passed as keys, resolved to
 * their final names by the {@linkcode StreamResolver} once normalization is finished (a name learned
 * later, such as an mm pointer at `exit_mmap`, shows in every row). The row objects are only valid
 * during the call.
 */
export interface CanonicalSink {
  /**
   * A request.
   *
   * @param r the request (its `mm` is not final: use `mm`)
   * @param mm key of its address space for {@linkcode StreamResolver.mmId} (-1: none)
   */
  request(r: Readonly<RequestRec>, mm: number): void;
  /**
   * An observed command (its `submission` is the builder's key, in order of first appearance).
   *
   * @param c the command (its `device` is not final: use `device`)
   * @param device key for {@linkcode StreamResolver.deviceName} (-1: none)
   */
  observed(c: Readonly<ObservedRec>, device: number): void;
  /**
   * A fault or page request (final).
   *
   * @param f the row
   */
  fault(f: FaultRow): void;
}

/** Final names of the keys a {@linkcode CanonicalSink} got, and the request filter. */
export interface StreamResolver {
  /**
   * Whether requests of this source are kept (one preferred SVA source per trace, DMA always).
   *
   * @param source the request's source
   * @returns true when kept
   */
  keepSource(source: string): boolean;
  /**
   * The final id of an address-space key.
   *
   * @param key the key (-1: none)
   * @returns the mm id or null
   */
  mmId(key: number): string | null;
  /**
   * The final name of a device key.
   *
   * @param key the key (-1: none)
   * @returns the device name or null
   */
  deviceName(key: number): string | null;
  /** Requests kept (after the filter). */
  readonly requests: number;
  /** Observed commands. */
  readonly observedCommands: number;
  /** Faults. */
  readonly faults: number;
  /** Rows that came after rows of a later time had been released (a trace out of time order). */
  readonly late: number;
}

/** A device as known so far. */
export interface DeviceRec {
  /** Registry id. */
  id: number;
  /** Kernel device name, null while only the SID is known. */
  name: string | null;
  /** PCI requester id. */
  sid: number | null;
  /** IOMMU unit. */
  iommu: string | null;
  /** ATS enabled. */
  ats: boolean | null;
  /** PASID capable. */
  pasid: boolean | null;
  /** ATS invalidate queue depth. */
  qdep: number | null;
  /** Where it was first learned. */
  source: string;
  /** Set when this SID-only record turned out to be a named device. */
  alias: DeviceRec | null;
}

/** An address-space reference in a row: a tracked mm, a fixed id, or unknown (null). */
export type MmLike = MmRef | string | null;

/** A binding under construction. */
export interface BindingRec {
  /** The bound address space. */
  mm: MmLike;
  /** Binding task. */
  pid: number | null;
  /** Its name. */
  comm: string | null;
  /** PASID. */
  pasid: number | null;
  /** The device, or a placeholder text for a device the trace does not name. */
  device: DeviceRec | string;
  /** IOMMU unit. */
  iommu: string | null;
  /** Domain id (VT-d DID). */
  domain_id: number | null;
  /** Bound at (null: before the trace). */
  from_ts: bigint | null;
  /** Unbound at (null: still bound). */
  to_ts: bigint | null;
  /** How it was learned. */
  source: string;
}

/** A request under construction. */
export interface RequestRec {
  /** Time (ns). */
  ts: bigint;
  /** CPU. */
  cpu: number | null;
  /** Address space. */
  mm: MmLike;
  /** Task that caused it. */
  pid: number | null;
  /** PASID of the mm, when bound. */
  pasid: number | null;
  /** First byte. */
  start: bigint;
  /** Last byte + 1. */
  end: bigint;
  /** Where the range came from. */
  source: string;
  /** Whole address space. */
  full: boolean;
  /** Ordering key. */
  seq: number;
}

/** An observed command under construction. */
export interface ObservedRec {
  /** Time (ns). */
  ts: bigint;
  /** CPU. */
  cpu: number | null;
  /** IOMMU unit. */
  iommu: string | null;
  /** Submission key (renumbered in time order when finished). */
  submission: number;
  /** Kernel command name. */
  kind: string;
  /** Domain id. */
  domain_id: number | null;
  /** PASID. */
  pasid: number | null;
  /** Source id. */
  sid: number | null;
  /** Device behind the SID. */
  device: DeviceRec | null;
  /** First byte covered. */
  addr: bigint | null;
  /** Bytes covered. */
  size: bigint | null;
  /** Granularity text. */
  granularity: string | null;
  /** Raw words (hex). */
  raw: string | null;
  /** Other decoded fields. */
  fields: string | null;
  /** Ordering key. */
  seq: number;
}

/** A process event under construction. */
export interface ProcessEventRec {
  /** Time (ns). */
  ts: bigint;
  /** `fork`, `exec` or `exit`. */
  kind: ProcessEventKind;
  /** The process (the parent for a fork). */
  pid: number;
  /** The child of a fork. */
  child_pid: number | null;
  /** The mm the event is about. */
  mm: MmLike;
}

/** Sources of requests, by class, in order of preference within the class. */
export const SVA_REQUEST_SOURCES = [
  "mmu_notifier",
  "cache_tag_flush_range",
  "cache_tag_flush_all",
  "cache_tag_flush_range_np",
  "qi_submit",
] as const;

/** Request sources that exist only in what-if mode. */
export const WHAT_IF_SOURCES = ["munmap", "mprotect", "madvise", "mremap", "tlb_flush"] as const;

/** End value meaning "to the end of the address space". */
export const END_ALL = (1n << 64n) - 1n;

const PCI_NAME = /^(?:([0-9a-fA-F]{4,}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

/**
 * The PCI requester id (SID) of a device name such as `0000:6a:01.0`.
 *
 * @param name device name
 * @returns `bus << 8 | dev << 3 | fn`, or null when the name is not a PCI address
 * @example
 * ```ts
 * import { pciSid } from "./builder.ts";
 * console.assert(pciSid("0000:6a:01.0") === 0x6a08);
 * console.assert(pciSid("dmar0") === null);
 * ```
 */
export function pciSid(name: string): number | null {
  const m = PCI_NAME.exec(name);
  if (!m) return null;
  return (parseInt(m[2]!, 16) << 8) | (parseInt(m[3]!, 16) << 3) | parseInt(m[4]!, 10);
}

/**
 * `bb:dd.f` text of a SID.
 *
 * @param sid requester id
 * @returns bus:device.function
 * @example
 * ```ts
 * import { bdf } from "./builder.ts";
 * console.assert(bdf(0x6a08) === "6a:01.0");
 * ```
 */
export function bdf(sid: number): string {
  const bus = (sid >> 8) & 0xff;
  const dev = (sid >> 3) & 0x1f;
  const fn = sid & 7;
  return `${bus.toString(16).padStart(2, "0")}:${dev.toString(16).padStart(2, "0")}.${fn}`;
}

/**
 * Pages of 4 KiB touched by `[start, end)`.
 *
 * @param start first byte
 * @param end last byte + 1
 * @returns page count
 * @example
 * ```ts
 * import { pagesOf } from "./builder.ts";
 * console.assert(pagesOf(0x1800n, 0x2800n) === 2n);
 * ```
 */
export function pagesOf(start: bigint, end: bigint): bigint {
  if (end <= start) return 0n;
  const first = start >> 12n;
  const last = (end - 1n) >> 12n;
  return last - first + 1n;
}

/** The collector. */
export class CanonicalBuilder {
  #iommus = new Map<string, IommuRow>();
  #devices: DeviceRec[] = [];
  #byName = new Map<string, DeviceRec>();
  #bySid = new Map<string, DeviceRec>();
  /** Named devices with a SID but no IOMMU yet, by SID. */
  #unplaced = new Map<number, DeviceRec[]>();
  #bindings: BindingRec[] = [];
  #open = new Map<string, BindingRec[]>();
  #requests: RequestRec[] = [];
  #observed: ObservedRec[] = [];
  #faults: FaultRow[] = [];
  #process: ProcessEventRec[] = [];
  #seq = 0;
  #submission = 0;
  #sources = new Map<string, number>();
  readonly #sink: CanonicalSink | null;
  #pendingReq: RequestRec[] = [];
  #pendingObs: ObservedRec[] = [];
  #pendingFault: FaultRow[] = [];
  #mmKeys = new Map<MmRef | string, number>();
  #mmList: (MmRef | string)[] = [];
  #lastReleased: bigint | null = null;
  #lastBefore: bigint | null = null;
  #late = 0;
  #observedCount = 0;
  #faultCount = 0;
  /** PASID -> owning mm (latest bind). */
  readonly pasidOwner = new Map<number, MmLike>();
  /** Statement counters and flags, read by the normalizer when finishing. */
  readonly counts = new Map<string, number>();

  /**
   * Creates an empty collector.
   *
   * @param sink where requests, observed commands and faults go (default: kept in the builder)
   */
  constructor(sink: CanonicalSink | null = null) {
    this.#sink = sink;
  }

  /**
   * Adds one to a named counter.
   *
   * @param key counter name
   * @param n amount
   */
  count(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /**
   * Records an IOMMU unit (first source wins; a vendor learned later replaces `unknown`).
   *
   * @param name unit name
   * @param vendor vendor
   * @param source `trace`, `topology`, `sysfs`, `probe`
   */
  iommu(name: string, vendor: IommuVendor, source: string): void {
    const r = this.#iommus.get(name);
    if (!r) this.#iommus.set(name, { iommu: name, vendor, source });
    else if (r.vendor === "unknown" && vendor !== "unknown") r.vendor = vendor;
  }

  #newDevice(
    name: string | null,
    sid: number | null,
    iommu: string | null,
    source: string,
  ): DeviceRec {
    const d: DeviceRec = {
      id: this.#devices.length,
      name,
      sid,
      iommu,
      ats: null,
      pasid: null,
      qdep: null,
      source,
      alias: null,
    };
    this.#devices.push(d);
    return d;
  }

  /**
   * The device record of a named device, created on first use. When the IOMMU is given and a
   * SID-only record exists for the same (IOMMU, SID), that record becomes an alias of this one.
   *
   * @param name kernel device name
   * @param iommu its IOMMU, when known
   * @param source where it was learned
   * @returns the record
   */
  deviceByName(name: string, iommu: string | null, source: string): DeviceRec {
    let d = this.#byName.get(name);
    if (!d) {
      d = this.#newDevice(name, pciSid(name), null, source);
      this.#byName.set(name, d);
      if (d.sid !== null && iommu === null) {
        this.#unplaced.set(d.sid, [...(this.#unplaced.get(d.sid) ?? []), d]);
      }
    }
    if (iommu !== null && d.iommu === null) this.#placeDevice(d, iommu);
    return d;
  }

  #placeDevice(d: DeviceRec, iommu: string): void {
    d.iommu = iommu;
    if (d.sid === null) return;
    const waiting = this.#unplaced.get(d.sid);
    if (waiting) {
      const rest = waiting.filter((x) => x !== d);
      if (rest.length > 0) this.#unplaced.set(d.sid, rest);
      else this.#unplaced.delete(d.sid);
    }
    const key = `${iommu}|${d.sid}`;
    const other = this.#bySid.get(key);
    if (other && other !== d && other.name === null) {
      const oldPrefix = `d:${other.id}|`;
      other.alias = d;
      d.ats ??= other.ats;
      d.pasid ??= other.pasid;
      d.qdep ??= other.qdep;
      for (const [k, list] of [...this.#open]) {
        if (!k.startsWith(oldPrefix)) continue;
        this.#open.delete(k);
        const nk = `d:${d.id}|${k.slice(oldPrefix.length)}`;
        this.#open.set(nk, [...(this.#open.get(nk) ?? []), ...list]);
      }
    }
    this.#bySid.set(key, d);
  }

  /**
   * The device record behind (IOMMU, SID), created nameless on first use. When exactly one named
   * device with that SID has no IOMMU yet, it is that device (and is placed behind the unit).
   *
   * @param iommu IOMMU unit
   * @param sid requester id
   * @param source where it was learned
   * @returns the record (resolved through aliases)
   */
  deviceBySid(iommu: string, sid: number, source: string): DeviceRec {
    const key = `${iommu}|${sid}`;
    const d = this.#bySid.get(key);
    if (d) return resolve(d);
    const waiting = this.#unplaced.get(sid);
    if (waiting && waiting.length === 1) {
      // The only named device with this SID whose IOMMU is unknown: it is behind this unit.
      const named = waiting[0]!;
      this.#placeDevice(named, iommu);
      return named;
    }
    const n = this.#newDevice(null, sid, iommu, source);
    this.#bySid.set(key, n);
    return n;
  }

  /**
   * Opens a binding unless one is already open for the same device and PASID, in which case the
   * open one is completed with the facts it lacked.
   *
   * @param b the binding
   * @returns the open binding
   */
  openBinding(b: BindingRec): BindingRec {
    const key = bindingKey(b.device, b.pasid);
    const list = this.#open.get(key);
    const cur = list?.[0];
    if (cur && typeof b.device !== "string") {
      if (cur.mm === null) cur.mm = b.mm;
      cur.pid ??= b.pid;
      cur.comm ??= b.comm;
      cur.iommu ??= b.iommu;
      cur.domain_id ??= b.domain_id;
      return cur;
    }
    this.#bindings.push(b);
    if (list) list.push(b);
    else this.#open.set(key, [b]);
    if (b.pasid !== null && b.mm !== null) this.pasidOwner.set(b.pasid, b.mm);
    return b;
  }

  /**
   * The open binding of a device and PASID, if any.
   *
   * @param device device record or placeholder
   * @param pasid PASID
   * @returns the oldest open binding or undefined
   */
  openBindingOf(device: DeviceRec | string, pasid: number | null): BindingRec | undefined {
    return this.#open.get(bindingKey(device, pasid))?.[0];
  }

  /**
   * Open bindings of an mm (for PASID lookup).
   *
   * @param mm the mm
   * @returns the PASID of one open binding of that mm, or null
   */
  pasidOfMm(mm: MmLike): number | null {
    if (mm === null) return null;
    for (const [pasid, owner] of this.pasidOwner) if (owner === mm) return pasid;
    return null;
  }

  /**
   * Closes the oldest open binding of (device, PASID); when none is open, records one that was
   * bound before the trace started (`from_ts` null).
   *
   * @param device device record or placeholder
   * @param pasid PASID
   * @param ts close time
   * @param template facts for a binding that was not open
   * @returns the closed binding
   */
  closeBinding(
    device: DeviceRec | string,
    pasid: number | null,
    ts: bigint,
    template: Omit<BindingRec, "device" | "pasid" | "from_ts" | "to_ts">,
  ): BindingRec {
    const key = bindingKey(device, pasid);
    const list = this.#open.get(key);
    let b = list?.shift();
    if (list && list.length === 0) this.#open.delete(key);
    if (!b) {
      b = { ...template, device, pasid, from_ts: null, to_ts: null };
      this.#bindings.push(b);
    }
    b.to_ts = ts;
    return b;
  }

  /**
   * Closes every open binding whose mm is `mm` (used for topology bindings at `exit_mmap`).
   *
   * @param mm the mm
   * @param ts close time
   * @param source only bindings of this source
   */
  closeBindingsOfMm(mm: MmRef, ts: bigint, source: string): void {
    for (const [key, list] of this.#open) {
      const keep = list.filter((b) => {
        if (b.mm === mm && b.source === source) {
          b.to_ts = ts;
          return false;
        }
        return true;
      });
      if (keep.length === 0) this.#open.delete(key);
      else this.#open.set(key, keep);
    }
  }

  /**
   * Adds a request.
   *
   * @param r the request (without ordering key)
   * @returns the stored request
   */
  request(r: Omit<RequestRec, "seq">): RequestRec {
    // one shape for every request (a spread copy would allocate twice and vary the shape)
    const rec: RequestRec = {
      ts: r.ts,
      cpu: r.cpu,
      mm: r.mm,
      pid: r.pid,
      pasid: r.pasid,
      start: r.start,
      end: r.end,
      source: r.source,
      full: r.full,
      seq: this.#seq++,
    };
    this.#sources.set(r.source, (this.#sources.get(r.source) ?? 0) + 1);
    if (this.#sink) this.#pendingReq.push(rec);
    else this.#requests.push(rec);
    return rec;
  }

  /**
   * A new submission key.
   *
   * @returns the key
   */
  newSubmission(): number {
    return this.#submission++;
  }

  /**
   * Adds an observed command.
   *
   * @param c the command (without ordering key)
   */
  observed(c: Omit<ObservedRec, "seq">): void {
    const rec = { ...c, seq: this.#seq++ };
    if (this.#sink) this.#pendingObs.push(rec);
    else this.#observed.push(rec);
  }

  /**
   * Adds a fault.
   *
   * @param f the fault row
   */
  fault(f: FaultRow): void {
    if (this.#sink) this.#pendingFault.push(f);
    else this.#faults.push(f);
  }

  /**
   * Adds a process lifecycle event.
   *
   * @param e the event
   */
  processEvent(e: ProcessEventRec): void {
    this.#process.push(e);
  }

  /** Requests recorded so far, by source (for the normalizer's final filtering). */
  get requestSources(): ReadonlyMap<string, number> {
    return this.#sources;
  }

  /** Rows waiting for {@linkcode CanonicalBuilder.release} (with a sink). */
  get pending(): number {
    return this.#pendingReq.length + this.#pendingObs.length + this.#pendingFault.length;
  }

  /**
   * Hands the rows older than `before` to the sink, in final order. The caller guarantees that no
   * row older than `before` will be added or changed later (the normalizer's watermark: the current
   * event's time, or the oldest row a decoder still holds).
   *
   * @param before release rows with `ts < before`; null releases everything (end of stream)
   */
  release(before: bigint | null): void {
    const sink = this.#sink;
    if (!sink) return;
    // rows added since the last release are not older than its watermark: nothing new is ready
    if (before !== null && this.#lastBefore !== null && before <= this.#lastBefore) return;
    this.#lastBefore = before;
    const reqs = takeBefore(this.#pendingReq, before, bySeq);
    this.#pendingReq = reqs.rest;
    const obs = takeBefore(this.#pendingObs, before, bySeq);
    this.#pendingObs = obs.rest;
    const faults = takeBefore(this.#pendingFault, before, null);
    this.#pendingFault = faults.rest;
    // requests before observed commands at equal times (the replay's merge order)
    let i = 0, j = 0;
    const r = reqs.ready, o = obs.ready;
    while (i < r.length || j < o.length) {
      if (i < r.length && (j >= o.length || r[i]!.ts <= o[j]!.ts)) {
        const x = r[i++]!;
        this.#order(x.ts);
        sink.request(x, this.#mmKey(x.mm));
      } else {
        const x = o[j++]!;
        this.#order(x.ts);
        this.#observedCount++;
        sink.observed(x, x.device === null ? -1 : x.device.id);
      }
    }
    for (const f of faults.ready) {
      this.#faultCount++;
      sink.fault(f);
    }
  }

  #order(ts: bigint): void {
    if (this.#lastReleased !== null && ts < this.#lastReleased) this.#late++;
    else this.#lastReleased = ts;
  }

  #mmKey(m: MmLike): number {
    if (m === null) return -1;
    let k = this.#mmKeys.get(m);
    if (k === undefined) {
      k = this.#mmList.length;
      this.#mmList.push(m);
      this.#mmKeys.set(m, k);
    }
    return k;
  }

  /**
   * The resolver of a streamed normalization (call after {@linkcode CanonicalBuilder.finish}).
   *
   * @param keepRequest which requests are kept
   * @returns names for the keys the sink got, the filter and the counts
   */
  resolver(keepRequest: (r: { source: string }) => boolean): StreamResolver {
    const mmList = this.#mmList;
    const devices = this.#devices;
    let kept = 0;
    for (const [source, n] of this.#sources) if (keepRequest({ source })) kept += n;
    const keepBySource = new Map<string, boolean>();
    return {
      keepSource(source: string): boolean {
        let k = keepBySource.get(source);
        if (k === undefined) keepBySource.set(source, k = keepRequest({ source }));
        return k;
      },
      mmId: (key: number) => (key < 0 ? null : mmId(mmList[key] ?? null)),
      deviceName: (key: number) => {
        const d = key < 0 ? undefined : devices[key];
        return d ? deviceName(resolve(d)) : null;
      },
      requests: kept,
      observedCommands: this.#observedCount,
      faults: this.#faultCount,
      late: this.#late,
    };
  }

  /** Bindings recorded so far. */
  get bindingRecs(): readonly BindingRec[] {
    return this.#bindings;
  }

  /**
   * Finishes the tables.
   *
   * @param keepRequest which requests to keep
   * @param statements the statements
   * @returns the tables, ids assigned in time order
   */
  finish(keepRequest: (r: RequestRec) => boolean, statements: string[]): CanonicalTables {
    const iommus = [...this.#iommus.values()];
    const devices: DeviceRow[] = [];
    for (const d of this.#devices) {
      if (d.alias) continue;
      devices.push({
        device: deviceName(d),
        sid: d.sid,
        iommu: d.iommu,
        ats: d.ats,
        pasid: d.pasid,
        qdep: d.qdep,
        source: d.source,
      });
    }
    const bindings: BindingRow[] = this.#bindings.map((b, i) => ({
      binding_id: i,
      mm: mmId(b.mm),
      pid: b.pid,
      comm: b.comm,
      pasid: b.pasid,
      device: typeof b.device === "string" ? b.device : deviceName(resolve(b.device)),
      iommu: b.iommu ?? (typeof b.device === "string" ? null : resolve(b.device).iommu),
      domain_id: b.domain_id,
      from_ts: b.from_ts,
      to_ts: b.to_ts,
      source: b.source,
    }));
    const reqs = this.#requests.filter(keepRequest).sort((a, b) =>
      a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq
    );
    const requests: RequestRow[] = reqs.map((r, i) => requestRow(r, i, mmId(r.mm)));
    const obs = [...this.#observed].sort((a, b) =>
      a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq
    );
    const subIds = new Map<number, number>();
    const observed_commands: ObservedCommandRow[] = obs.map((c, i) => {
      let s = subIds.get(c.submission);
      if (s === undefined) {
        s = subIds.size;
        subIds.set(c.submission, s);
      }
      return observedRow(c, i, s, c.device ? deviceName(resolve(c.device)) : null);
    });
    const faults = [...this.#faults].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const process_events: ProcessEventRow[] = this.#process.map((e) => ({
      ts: e.ts,
      kind: e.kind,
      pid: e.pid,
      child_pid: e.child_pid,
      mm: mmId(e.mm),
    }));
    return {
      iommus,
      devices,
      bindings,
      requests,
      observed_commands,
      faults,
      process_events,
      statements,
    };
  }
}

/**
 * The `requests` row of a request (also for rows streamed through a {@linkcode CanonicalSink}).
 *
 * @param r the request's facts
 * @param id its `request_id` (position among the kept requests, in time order)
 * @param mm its final mm id
 * @returns the row
 * @example
 * ```ts
 * import { requestRow } from "./builder.ts";
 * const row = requestRow({ ts: 5n, cpu: 0, pid: 1, pasid: 2, start: 0x1800n, end: 0x2800n,
 *   source: "munmap", full: false }, 0, "pid:1");
 * console.assert(row.pages === 2n && row.mm === "pid:1");
 * ```
 */
export function requestRow(
  r: Pick<RequestRec, "ts" | "cpu" | "pid" | "pasid" | "start" | "end" | "source" | "full">,
  id: number,
  mm: string | null,
): RequestRow {
  return {
    request_id: id,
    ts: r.ts,
    cpu: r.cpu,
    mm,
    pid: r.pid,
    pasid: r.pasid,
    start: r.start,
    end: r.end,
    pages: r.full ? pagesOf(0n, END_ALL) : pagesOf(r.start, r.end),
    source: r.source,
    full: r.full,
  };
}

/**
 * The `observed_commands` row of a command (also for rows streamed through a
 * {@linkcode CanonicalSink}).
 *
 * @param c the command's facts
 * @param id its `command_id` (position in time order)
 * @param submission its `submission_id` (submissions numbered in order of first appearance)
 * @param device its final device name
 * @returns the row
 */
export function observedRow(
  c: Omit<ObservedRec, "device" | "submission" | "seq">,
  id: number,
  submission: number,
  device: string | null,
): ObservedCommandRow {
  return {
    command_id: id,
    ts: c.ts,
    cpu: c.cpu,
    iommu: c.iommu,
    submission_id: submission,
    kind: c.kind,
    domain_id: c.domain_id,
    pasid: c.pasid,
    sid: c.sid,
    device,
    addr: c.addr,
    size: c.size,
    granularity: c.granularity,
    raw: c.raw,
    fields: c.fields,
  };
}

/**
 * Follows aliases to the final record.
 *
 * @param d a device record
 * @returns the record it resolves to
 */
export function resolve(d: DeviceRec): DeviceRec {
  let r = d;
  while (r.alias) r = r.alias;
  return r;
}

/**
 * The name a device row shows: the kernel name, or `<iommu>/<bb:dd.f>` when only the SID is
 * known (the PCI segment is not in a SID, so no `0000:` is guessed).
 *
 * @param d a device record
 * @returns display name
 */
export function deviceName(d: DeviceRec): string {
  if (d.name !== null) return d.name;
  return `${d.iommu ?? "?"}/${d.sid === null ? "?" : bdf(d.sid)}`;
}

function bySeq(a: { ts: bigint; seq: number }, b: { ts: bigint; seq: number }): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq;
}

/** Splits `rows` into those with `ts < before` (sorted) and the rest (in their order). */
function takeBefore<T extends { ts: bigint }>(
  rows: T[],
  before: bigint | null,
  cmp: ((a: T, b: T) => number) | null,
): { ready: T[]; rest: T[] } {
  if (rows.length === 0) return { ready: rows, rest: rows };
  let ready: T[], rest: T[];
  if (before === null) {
    ready = rows;
    rest = [];
  } else {
    ready = [];
    rest = [];
    for (const r of rows) (r.ts < before ? ready : rest).push(r);
  }
  let sorted = true;
  for (let i = 1; i < ready.length && sorted; i++) {
    const a = ready[i - 1]!, b = ready[i]!;
    sorted = cmp ? cmp(a, b) <= 0 : a.ts <= b.ts;
  }
  if (!sorted) ready.sort(cmp ?? ((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)));
  return { ready, rest };
}

function mmId(m: MmLike): string | null {
  if (m === null) return null;
  return typeof m === "string" ? m : m.id();
}

function bindingKey(device: DeviceRec | string, pasid: number | null): string {
  const d = typeof device === "string" ? `s:${device}` : `d:${resolve(device).id}`;
  return `${d}|${pasid ?? "-"}`;
}
