/**
 * The `dma:*` tracepoints (Linux 6.8+): DMA-API unmaps, each one request on the IOVA space, with
 * neither mm nor PASID (the replay core's DMA requests: they reach the DMA-API bindings). The
 * request row has no device column, so which device unmapped is not carried (the device itself
 * is recorded in `devices`).
 *
 * - `dma_unmap_page` (6.8 - 6.17), `dma_unmap_phys` (6.18+), `dma_unmap_resource`:
 *   `device, addr, size` -> `[addr, addr + size)`.
 * - `dma_free` (coherent memory): `device, dma_addr, size`.
 * - `dma_unmap_sg`: `device, addrs` (the physical addresses of the list). Its IOVA ranges come
 *   from the matching `dma_map_sg` (`device, phys_addrs, dma_addrs, lengths`), remembered while
 *   the mapping is live (at most `maxLiveSg` mappings; the oldest are forgotten beyond that).
 *   One request spans the lowest to the highest mapped IOVA byte.
 *
 * The `iommu:unmap` events on the same CPU right before a DMA unmap are absorbed into it.
 *
 * @module
 */
import type { TraceEvent } from "../event.ts";
import type { CanonicalBuilder } from "./builder.ts";
import { type EventSite, str, u64, u64Array } from "./fields.ts";
import type { IommuEventDecoder } from "./iommu_events.ts";

/** The decoder; one instance per normalization. */
export class DmaEventDecoder {
  #b: CanonicalBuilder;
  #iommu: IommuEventDecoder;
  #sg = new Map<string, { start: bigint; end: bigint }>();
  #maxLiveSg: number;
  /** `dma_unmap_sg` events whose mapping was not seen. */
  unmatchedSg = 0;
  /** Live scatterlist mappings forgotten because of the cap. */
  forgottenSg = 0;
  /** DMA requests made. */
  requests = 0;

  /**
   * Creates the decoder.
   *
   * @param b the collector
   * @param iommu the iommu:* decoder (for absorbing nested unmaps)
   * @param maxLiveSg cap on remembered scatterlist mappings
   */
  constructor(b: CanonicalBuilder, iommu: IommuEventDecoder, maxLiveSg = 65536) {
    this.#b = b;
    this.#iommu = iommu;
    this.#maxLiveSg = maxLiveSg;
  }

  /**
   * Handles one `dma:*` event.
   *
   * @param site stream location
   * @param ev the event
   * @param cpuKey per-CPU key
   */
  onEvent(site: EventSite, ev: TraceEvent, cpuKey: string): void {
    switch (ev.event) {
      case "dma_unmap_page":
      case "dma_unmap_phys":
      case "dma_unmap_resource":
      case "dma_free": {
        const device = str(site, ev, ["device"]);
        const addr = u64(site, ev, ev.event === "dma_free" ? ["dma_addr"] : ["addr", "dma_addr"]);
        const size = u64(site, ev, ["size"]);
        this.#request(ev, cpuKey, device, addr, addr + size);
        return;
      }
      case "dma_map_sg": {
        const device = str(site, ev, ["device"]);
        const phys = u64Array(site, ev, ["phys_addrs"]);
        const dma = u64Array(site, ev, ["dma_addrs"]);
        const lens = u64Array(site, ev, ["lengths"]);
        let start: bigint | null = null;
        let end = 0n;
        dma.forEach((a, i) => {
          const e = a + (lens[i] ?? 0n);
          if (start === null || a < start) start = a;
          if (e > end) end = e;
        });
        if (start === null) return;
        const key = `${device}|${phys.join(",")}`;
        this.#sg.delete(key);
        this.#sg.set(key, { start, end });
        if (this.#sg.size > this.#maxLiveSg) {
          const oldest = this.#sg.keys().next().value;
          if (oldest !== undefined) this.#sg.delete(oldest);
          this.forgottenSg++;
        }
        return;
      }
      case "dma_unmap_sg": {
        const device = str(site, ev, ["device"]);
        const phys = u64Array(site, ev, ["addrs", "phys_addrs"]);
        const key = `${device}|${phys.join(",")}`;
        const m = this.#sg.get(key);
        if (!m) {
          this.unmatchedSg++;
          this.#iommu.absorb(cpuKey);
          return;
        }
        this.#sg.delete(key);
        this.#request(ev, cpuKey, device, m.start, m.end);
        return;
      }
      default:
        this.#b.count("ignored_events");
    }
  }

  #request(ev: TraceEvent, cpuKey: string, device: string, start: bigint, end: bigint): void {
    this.#iommu.absorb(cpuKey);
    this.#b.deviceByName(device, null, "trace");
    this.#b.request({
      ts: ev.ts,
      cpu: ev.cpu,
      mm: null,
      pid: ev.pid,
      pasid: null,
      start,
      end,
      source: "dma_unmap",
      full: false,
    });
    this.requests++;
  }
}
