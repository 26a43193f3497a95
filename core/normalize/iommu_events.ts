/**
 * The generic `iommu:*` tracepoints.
 *
 * - `add_device_to_group` / `remove_device_from_group` (`gid`, `device`): the device exists
 *   behind an IOMMU.
 * - `attach_device_to_domain` and `detach_device_from_domain` (before 6.3) (`device`): a DMA-API
 *   binding (no mm, no PASID) from the attach until the next attach of that device (a domain
 *   change) or its detach. The event carries no domain, type, DID or PASID, so identity and
 *   blocking domains are included; when cache tags already opened the device's DMA binding, the
 *   attach event adds nothing.
 * - `map` (`iova`, `paddr`, `size`): counted only. `unmap` (`iova`, `size`, `unmapped_size`): an
 *   IOVA range that needs invalidating. Older kernels print these without the `- end` part; the
 *   fields are the same, so both print forms decode alike.
 * - `io_page_fault` (`device`, `driver`, `iova`, `flags`): a fault (`flags` bit 0 = write).
 *
 * An `iommu:unmap` that happens inside a `dma_unmap_*` call (same CPU, right before the DMA event)
 * is part of that DMA request; an `iommu:unmap` that no DMA event follows (VFIO, iommufd, drivers
 * using the IOMMU API directly) becomes its own request with source `iommu_unmap` and no mm (the
 * event names no device). It becomes one at the next other event on its CPU, or once `absorbNs`
 * (default 1 ms) passed after the CPU's last pending unmap with no DMA event (an idle CPU).
 *
 * @module
 */
import type { TraceEvent } from "../event.ts";
import type { CanonicalBuilder } from "./builder.ts";
import { type EventSite, int, optU64, str, u64 } from "./fields.ts";

interface PendingUnmap {
  ts: bigint;
  cpu: number;
  pid: number;
  start: bigint;
  end: bigint;
}

/** The decoder; one instance per normalization. */
export class IommuEventDecoder {
  #b: CanonicalBuilder;
  #pending = new Map<string, PendingUnmap[]>();
  #absorbNs: bigint;
  /** `iommu:map` events seen. */
  maps = 0;
  /** `iommu:unmap` events absorbed by a DMA unmap. */
  absorbed = 0;

  /**
   * Creates the decoder.
   *
   * @param b the collector
   * @param absorbNs how long pending unmaps wait for their DMA event (ns)
   */
  constructor(b: CanonicalBuilder, absorbNs = 1_000_000n) {
    this.#b = b;
    this.#absorbNs = absorbNs;
  }

  /**
   * Handles one `iommu:*` event.
   *
   * @param site stream location
   * @param ev the event
   * @param cpuKey per-CPU key
   */
  onEvent(site: EventSite, ev: TraceEvent, cpuKey: string): void {
    switch (ev.event) {
      case "add_device_to_group":
      case "remove_device_from_group":
        this.#b.deviceByName(str(site, ev, ["device"]), null, "trace");
        int(site, ev, ["gid"]);
        this.#b.count("group_events");
        return;
      case "attach_device_to_domain":
      case "detach_device_from_domain": {
        const d = this.#b.deviceByName(str(site, ev, ["device"]), null, "trace");
        const open = this.#b.openBindingOf(d, null);
        const mine = open !== undefined && open.source === "attach_device_to_domain";
        if (mine || (open && ev.event === "detach_device_from_domain")) {
          this.#b.closeBinding(d, null, ev.ts, open!);
        }
        if (ev.event === "attach_device_to_domain" && (!open || mine)) {
          this.#b.openBinding({
            mm: null,
            pid: null,
            comm: null,
            pasid: null,
            device: d,
            iommu: null,
            domain_id: null,
            from_ts: ev.ts,
            to_ts: null,
            source: "attach_device_to_domain",
          });
          this.#b.count("attach_bindings");
        }
        return;
      }
      case "map":
        this.maps++;
        return;
      case "unmap": {
        const iova = u64(site, ev, ["iova"]);
        const size = u64(site, ev, ["size"]);
        const unmapped = optU64(site, ev, ["unmapped_size"]);
        const len = unmapped !== null && unmapped !== 0n ? unmapped : size;
        const list = this.#pending.get(cpuKey) ?? [];
        list.push({ ts: ev.ts, cpu: ev.cpu, pid: ev.pid, start: iova, end: iova + len });
        this.#pending.set(cpuKey, list);
        return;
      }
      case "io_page_fault": {
        const device = str(site, ev, ["device"]);
        const d = this.#b.deviceByName(device, null, "trace");
        const flags = int(site, ev, ["flags"]);
        this.#b.fault({
          ts: ev.ts,
          iommu: d.iommu,
          device,
          pasid: null,
          addr: u64(site, ev, ["iova"]),
          kind: (flags & 1) === 1 ? "write" : "read",
          source: "io_page_fault",
        });
        return;
      }
      default:
        this.#b.count("ignored_events");
    }
  }

  /**
   * A DMA unmap on this CPU: the pending `iommu:unmap` events belong to it.
   *
   * @param cpuKey per-CPU key
   * @returns how many were absorbed
   */
  absorb(cpuKey: string): number {
    const list = this.#pending.get(cpuKey);
    this.#pending.delete(cpuKey);
    const n = list?.length ?? 0;
    this.absorbed += n;
    return n;
  }

  /**
   * Another event on this CPU: pending unmaps become `iommu_unmap` requests.
   *
   * @param cpuKey per-CPU key
   */
  interrupt(cpuKey: string): void {
    if (this.#pending.size === 0) return;
    const list = this.#pending.get(cpuKey);
    if (!list) return;
    this.#pending.delete(cpuKey);
    for (const u of list) {
      this.#b.request({
        ts: u.ts,
        cpu: u.cpu,
        mm: null,
        pid: u.pid,
        pasid: null,
        start: u.start,
        end: u.end,
        source: "iommu_unmap",
        full: false,
      });
    }
  }

  /**
   * Turns the pending unmaps of CPUs whose last one is more than `absorbNs` old into requests.
   *
   * @param now the current event's time
   */
  expire(now: bigint): void {
    if (this.#pending.size === 0) return;
    for (const [k, list] of [...this.#pending]) {
      const last = list[list.length - 1];
      if (last === undefined || now - last.ts > this.#absorbNs) this.interrupt(k);
    }
  }

  /**
   * The time of the oldest pending `iommu:unmap` (it may still become a request).
   *
   * @returns that time, or null when none is pending
   */
  pendingSince(): bigint | null {
    let m: bigint | null = null;
    for (const list of this.#pending.values()) {
      const first = list[0];
      if (first !== undefined && (m === null || first.ts < m)) m = first.ts;
    }
    return m;
  }

  /** End of stream. */
  finish(): void {
    for (const k of [...this.#pending.keys()]) this.interrupt(k);
  }
}
