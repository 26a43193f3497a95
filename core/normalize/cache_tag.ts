/**
 * The `intel_iommu:cache_tag_*` family (Linux 6.10+): which device is attached to which
 * (IOMMU, domain id, PASID), and the kernel's own invalidation ranges.
 *
 * Event forms handled:
 * - `cache_tag_assign` / `cache_tag_unassign` / `cache_tag_flush_all` (class `cache_tag_log`:
 *   `iommu, dev, type, domain_id, pasid, users`). `flush_all` exists in 6.10 - 6.16 only.
 * - `cache_tag_flush_range` / `cache_tag_flush_range_np` (class `cache_tag_flush`:
 *   `iommu, dev, type, domain_id, pasid, start, end, addr, [pages,] mask`); `pages` is absent in
 *   later trees; 6.17+ reports a full flush as `[0x0-0xffffffffffffffff]`.
 *
 * Tag types: 0 `iotlb`, 1 `devtlb`, 2 `nesting_iotlb`, 3 `nesting_devtlb`. An IOTLB tag's `dev` is
 * the IOMMU's own device (`dmar0`), so only DEVTLB tags name the attached device.
 *
 * ## Bindings
 * The kernel assigns the IOTLB tag, then (for an ATS device) the DEVTLB tag, back to back on one
 * CPU. An IOTLB assign followed by a DEVTLB assign with the same (IOMMU, DID, PASID) is one
 * attach of the named device; an IOTLB assign followed by anything else is the attach of a
 * device the trace does not name (non-ATS), recorded with a placeholder device `?<iommu>#<n>`
 * (one per attach, so devices are not merged; an unassign closes the oldest one of that
 * (IOMMU, DID, PASID)). Unassign works the same way and closes the binding. A PASID'd tag with
 * DID 1 (`FLPT_DEFAULT_DID`, the SVA domain id) is an SVA binding: its mm is the binding task's
 * current mm. Tags of PASID 0 (`IOMMU_NO_PASID`: DMA domains) are DMA-API bindings, with neither
 * mm nor PASID; other PASID'd domains have a PASID but no mm. Nesting tags are counted only.
 * A DEVTLB flush for a (device, PASID) with no open binding records a binding made before the
 * trace started (`from_ts` null).
 *
 * ## Requests
 * The kernel traces one `cache_tag_flush_range` per tag per flush. Consecutive flush events on
 * one CPU with the same (start, end, PASID, variant), separated only by `qi_submit` events, and
 * naming distinct tags, are one kernel flush, hence one request; `end` is inclusive in the event
 * and exclusive in the request. Flushes of PASID 0 (DMA domains) are counted but are not
 * requests: DMA requests come from the `dma:*` / `iommu:unmap` events.
 *
 * @module
 */
import type { TraceEvent } from "../event.ts";
import type { CanonicalBuilder, DeviceRec } from "./builder.ts";
import { END_ALL } from "./builder.ts";
import { type EventSite, int, str, u64, U64_MAX } from "./fields.ts";
import type { MmTracker } from "./mm_tracker.ts";

/** Cache tag type names by number. */
export const CACHE_TAG_TYPES = ["iotlb", "devtlb", "nesting_iotlb", "nesting_devtlb"] as const;

/** VT-d domain id used by SVA domains. */
export const FLPT_DEFAULT_DID = 1;

interface Pending {
  kind: "assign" | "unassign";
  ts: bigint;
  pid: number;
  comm: string;
  iommu: string;
  did: number;
  pasid: number;
}

interface FlushGroup {
  key: string;
  tags: Set<string>;
}

/** The decoder; one instance per normalization. */
export class CacheTagDecoder {
  #b: CanonicalBuilder;
  #mm: MmTracker;
  #pending = new Map<string, Pending>();
  #groups = new Map<string, FlushGroup>();
  #unnamedOpen = new Map<string, string[]>();
  #unnamedSeq = 0;
  /** Flush events seen per PASID class. */
  dmaFlushes = 0;
  /** Requests made. */
  requests = 0;
  /** Bindings opened from assign events. */
  bindings = 0;

  /**
   * Creates the decoder.
   *
   * @param b the collector
   * @param mm the mm tracker
   */
  constructor(b: CanonicalBuilder, mm: MmTracker) {
    this.#b = b;
    this.#mm = mm;
  }

  /**
   * Another normalizer event (not a cache-tag flush, not `qi_submit`) happened on this CPU.
   *
   * @param cpuKey per-CPU key
   * @param keepFlushGroup true for `qi_submit` (which sits inside a flush)
   */
  interrupt(cpuKey: string, keepFlushGroup: boolean): void {
    if (this.#pending.size === 0 && this.#groups.size === 0) return;
    const p = this.#pending.get(cpuKey);
    if (p) {
      this.#pending.delete(cpuKey);
      this.#unnamed(p);
    }
    if (!keepFlushGroup) this.#groups.delete(cpuKey);
  }

  /** End of stream. */
  finish(): void {
    for (const [k, p] of [...this.#pending]) {
      this.#pending.delete(k);
      this.#unnamed(p);
    }
  }

  /**
   * `cache_tag_assign` / `cache_tag_unassign`.
   *
   * @param site stream location
   * @param ev the event
   * @param cpuKey per-CPU key
   */
  onAssign(site: EventSite, ev: TraceEvent, cpuKey: string): void {
    this.#groups.delete(cpuKey);
    const kind = ev.event === "cache_tag_assign" ? "assign" : "unassign";
    const iommu = str(site, ev, ["iommu"]);
    const dev = str(site, ev, ["dev"]);
    const type = int(site, ev, ["type"]);
    const did = int(site, ev, ["domain_id"]);
    const pasid = int(site, ev, ["pasid"]);
    this.#b.iommu(iommu, "intel", "trace");
    const p = this.#pending.get(cpuKey);
    if (p) this.#pending.delete(cpuKey);
    if (type === 0) {
      if (p) this.#unnamed(p);
      this.#pending.set(cpuKey, { kind, ts: ev.ts, pid: ev.pid, comm: ev.comm, iommu, did, pasid });
      return;
    }
    if (p && !(p.kind === kind && p.iommu === iommu && p.did === did && p.pasid === pasid)) {
      this.#unnamed(p);
    }
    if (type !== 1) {
      this.#b.count("nesting_tags");
      return;
    }
    const device = this.#b.deviceByName(dev, iommu, "trace");
    device.ats = true;
    if (pasid !== 0) device.pasid = true;
    if (kind === "assign") this.#open(device, ev.ts, ev.pid, ev.comm, iommu, did, pasid);
    else this.#close(device, ev.ts, ev.pid, ev.comm, iommu, did, pasid);
  }

  #sva(did: number, pasid: number): boolean {
    return did === FLPT_DEFAULT_DID && pasid !== 0;
  }

  #open(
    device: DeviceRec | string,
    ts: bigint,
    pid: number,
    comm: string,
    iommu: string,
    did: number,
    pasid: number,
  ): void {
    const sva = this.#sva(did, pasid);
    this.#b.openBinding({
      mm: sva ? this.#mm.of(pid) : null,
      pid: sva ? pid : null,
      comm: sva ? comm : null,
      pasid: pasid === 0 ? null : pasid,
      device,
      iommu,
      domain_id: did,
      from_ts: ts,
      to_ts: null,
      source: "cache_tag",
    });
    this.bindings++;
  }

  #close(
    device: DeviceRec | string,
    ts: bigint,
    pid: number,
    comm: string,
    iommu: string,
    did: number,
    pasid: number,
  ): void {
    const sva = this.#sva(did, pasid);
    this.#b.closeBinding(device, pasid === 0 ? null : pasid, ts, {
      mm: sva ? (this.#b.pasidOwner.get(pasid) ?? this.#mm.of(pid)) : null,
      pid: sva ? pid : null,
      comm: sva ? comm : null,
      iommu,
      domain_id: did,
      source: "cache_tag",
    });
  }

  #unnamed(p: Pending): void {
    const key = `${p.iommu}|${p.did}|${p.pasid}`;
    if (p.kind === "assign") {
      const name = `?${p.iommu}#${++this.#unnamedSeq}`;
      this.#unnamedOpen.set(key, [...(this.#unnamedOpen.get(key) ?? []), name]);
      this.#open(name, p.ts, p.pid, p.comm, p.iommu, p.did, p.pasid);
      this.#b.count("unnamed_bindings");
      return;
    }
    const open = this.#unnamedOpen.get(key);
    const name = open?.shift() ?? `?${p.iommu}#${++this.#unnamedSeq}`;
    if (open && open.length === 0) this.#unnamedOpen.delete(key);
    this.#close(name, p.ts, p.pid, p.comm, p.iommu, p.did, p.pasid);
  }

  /**
   * `cache_tag_flush_range`, `cache_tag_flush_range_np`, `cache_tag_flush_all`.
   *
   * @param site stream location
   * @param ev the event
   * @param cpuKey per-CPU key
   */
  onFlush(site: EventSite, ev: TraceEvent, cpuKey: string): void {
    const p = this.#pending.get(cpuKey);
    if (p) {
      this.#pending.delete(cpuKey);
      this.#unnamed(p);
    }
    const iommu = str(site, ev, ["iommu"]);
    const dev = str(site, ev, ["dev"]);
    const type = int(site, ev, ["type"]);
    const did = int(site, ev, ["domain_id"]);
    const pasid = int(site, ev, ["pasid"]);
    this.#b.iommu(iommu, "intel", "trace");
    let start = 0n;
    let endIncl = U64_MAX;
    const isAll = ev.event === "cache_tag_flush_all";
    if (!isAll) {
      start = u64(site, ev, ["start"]);
      endIncl = u64(site, ev, ["end"]);
    }
    if (type === 1) {
      const device = this.#b.deviceByName(dev, iommu, "trace");
      device.ats = true;
      if (pasid !== 0) device.pasid = true;
      const bpasid = pasid === 0 ? null : pasid;
      if (!this.#b.openBindingOf(device, bpasid)) {
        const sva = this.#sva(did, pasid);
        this.#b.openBinding({
          mm: sva ? (this.#b.pasidOwner.get(pasid) ?? null) : null,
          pid: null,
          comm: null,
          pasid: bpasid,
          device,
          iommu,
          domain_id: did,
          from_ts: null,
          to_ts: null,
          source: "cache_tag_flush",
        });
        this.#b.count("bindings_before_trace");
      }
    }
    const variant = ev.event === "cache_tag_flush_range_np" ? "np" : isAll ? "all" : "range";
    const key = `${variant}|${start}|${endIncl}|${pasid}`;
    const tag = `${type}|${iommu}|${dev}|${did}`;
    const g = this.#groups.get(cpuKey);
    if (g && g.key === key && !g.tags.has(tag)) {
      g.tags.add(tag);
      return;
    }
    this.#groups.set(cpuKey, { key, tags: new Set([tag]) });
    if (pasid === 0) {
      this.dmaFlushes++;
      return;
    }
    const full = isAll || (start === 0n && endIncl === U64_MAX);
    const end = full || endIncl === U64_MAX ? END_ALL : endIncl + 1n;
    this.#b.request({
      ts: ev.ts,
      cpu: ev.cpu,
      mm: this.#b.pasidOwner.get(pasid) ?? null,
      pid: ev.pid,
      pasid,
      start: full ? 0n : start,
      end,
      source: ev.event,
      full,
    });
    this.requests++;
  }
}
