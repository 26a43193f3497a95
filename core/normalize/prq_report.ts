/**
 * `intel_iommu:prq_report`: a page request (an SVA fault) the IOMMU delivered to the kernel.
 *
 * Fields: `dw0..dw3` (the raw page-request descriptor), `seq`, `iommu`, `dev`, `buff`.
 * Descriptor layout (Linux `struct page_req_dsc`): dw0 type[7:0], PASID-present bit 8,
 * RID[31:16], PASID[51:32], execute bit 52, privileged bit 53; dw1 read bit 0, write bit 1,
 * last-in-group bit 2, PRG index[11:3], address[63:12].
 *
 * The fault kind is `page_request_` followed by the access letters `r`, `w`, `x` (`page_request_rw`).
 *
 * @module
 */
import type { TraceEvent } from "../event.ts";
import type { CanonicalBuilder } from "./builder.ts";
import { type EventSite, str, u64 } from "./fields.ts";

/** A decoded page request. */
export interface PageRequest {
  /** Requester id (dw0[31:16]). */
  rid: number;
  /** PASID (dw0[51:32]) when present. */
  pasid: number | null;
  /** Page address (dw1[63:12]). */
  addr: bigint;
  /** Read access. */
  read: boolean;
  /** Write access. */
  write: boolean;
  /** Execute access. */
  exec: boolean;
  /** Privileged access. */
  priv: boolean;
  /** Last request of the group. */
  last: boolean;
  /** Page request group index. */
  prgIndex: number;
}

/**
 * Decodes the first two words of a page-request descriptor.
 *
 * @param dw0 first word
 * @param dw1 second word
 * @returns the request
 * @example
 * ```ts
 * import { decodePageRequest } from "./prq_report.ts";
 * // PASID present (bit 8), RID 0x6a08, PASID 2; write, last, PRG index 5, address 0x7f0000001000
 * const r = decodePageRequest((2n << 32n) | (0x6a08n << 16n) | 0x100n | 1n, 0x7f0000001000n | (5n << 3n) | 6n);
 * console.assert(r.pasid === 2 && r.rid === 0x6a08 && r.write && r.last && r.prgIndex === 5);
 * ```
 */
export function decodePageRequest(dw0: bigint, dw1: bigint): PageRequest {
  const bit = (v: bigint, b: number) => ((v >> BigInt(b)) & 1n) === 1n;
  return {
    rid: Number((dw0 >> 16n) & 0xffffn),
    pasid: bit(dw0, 8) ? Number((dw0 >> 32n) & 0xfffffn) : null,
    addr: dw1 & ~0xfffn & ((1n << 64n) - 1n),
    read: bit(dw1, 0),
    write: bit(dw1, 1),
    exec: bit(dw0, 52),
    priv: bit(dw0, 53),
    last: bit(dw1, 2),
    prgIndex: Number((dw1 >> 3n) & 0x1ffn),
  };
}

/**
 * Handles one `prq_report` event: a fault row, and the device behind the IOMMU.
 *
 * @param b the collector
 * @param site stream location
 * @param ev the event
 */
export function onPrqReport(b: CanonicalBuilder, site: EventSite, ev: TraceEvent): void {
  const iommu = str(site, ev, ["iommu"]);
  const dev = str(site, ev, ["dev"]);
  const r = decodePageRequest(u64(site, ev, ["dw0"]), u64(site, ev, ["dw1"]));
  b.iommu(iommu, "intel", "trace");
  const d = b.deviceByName(dev, iommu, "trace");
  if (r.pasid !== null) d.pasid = true;
  if (d.sid === null) d.sid = r.rid;
  b.fault({
    ts: ev.ts,
    iommu,
    device: dev,
    pasid: r.pasid,
    addr: r.addr,
    kind: `page_request_${r.read ? "r" : ""}${r.write ? "w" : ""}${r.exec ? "x" : ""}`,
    source: "prq_report",
  });
}
