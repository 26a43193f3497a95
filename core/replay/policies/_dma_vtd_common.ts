/**
 * Shared pieces of the DMA-API policies on VT-d second-level domains (iommu.md §3.2 (e)-(f), §3.5).
 *
 * A flush of a DMA domain issues, per IOMMU, one `iotlb_inv` per (IOMMU, DID) tag (page-selective
 * with a power-of-two mask, or domain-selective when the mask exceeds MAMV or the flush is domain
 * wide) and one `dev_tlb_inv` per ATS device (same mask; whole range for a domain-wide flush), in
 * one submission per IOMMU of at most `maxBatch` descriptors (v6.12+ batching) or one submission
 * per descriptor before v6.12.
 *
 * @module
 */
import { kind } from "../kinds.ts";
import { alignDown, POW2, psiMask } from "../pfn_math.ts";
import { type CommandSink, FULL, type RequestInfo } from "../policy.ts";
import type { BindingView } from "../state.ts";

/** Kind indexes of the DMA policies. */
export const IOTLB = 0, DEVTLB = 1, WAIT = 2;
/** Kinds of the DMA policies: `iotlb_inv`, `dev_tlb_inv`, `inv_wait`. */
export const DMA_KINDS = [kind("iotlb_inv"), kind("dev_tlb_inv"), kind("inv_wait")];

/**
 * Emits one flush of a DMA domain.
 *
 * @param view the domain's devices
 * @param out the sink
 * @param addr first page frame (ignored when `devPages` is FULL)
 * @param iotlbPages pages of the `iotlb_inv` (FULL = domain-selective)
 * @param devPages pages of the `dev_tlb_inv` (FULL = whole device TLB)
 * @param maxBatch descriptors per submission (1 = unbatched)
 */
export function emitDomainFlush(
  view: BindingView,
  out: CommandSink,
  addr: number,
  iotlbPages: number,
  devPages: number,
  maxBatch: number,
): void {
  for (let i = 0; i < view.iommuCount; i++) {
    let n = 0;
    const g0 = view.iommuGroupStart[i]!, g1 = view.iommuGroupEnd[i]!;
    for (let g = g0; g < g1; g++) {
      out.cmd(IOTLB, i, g, -1, iotlbPages === FULL ? 0 : addr, iotlbPages);
      if (++n === maxBatch) {
        out.wait(i);
        n = 0;
      }
    }
    const d1 = view.groupDeviceEnd[g1 - 1]!;
    for (let d = view.groupDeviceStart[g0]!; d < d1; d++) {
      if (view.deviceAts[d] !== 1) continue;
      out.cmd(DEVTLB, i, view.deviceGroup[d]!, d, devPages === FULL ? 0 : addr, devPages);
      if (++n === maxBatch) {
        out.wait(i);
        n = 0;
      }
    }
    if (n > 0) out.wait(i);
  }
}

/**
 * Emits the strict flush of one unmapped range (`iommu_iotlb_sync` -> `cache_tag_flush_range`).
 *
 * @param req the request
 * @param view the domain's devices
 * @param out the sink
 * @param mamv VT-d MAMV, or null for no limit
 * @param maxBatch descriptors per submission
 */
export function emitRangeFlush(
  req: RequestInfo,
  view: BindingView,
  out: CommandSink,
  mamv: number | null,
  maxBatch: number,
): void {
  if (req.full) {
    emitDomainFlush(view, out, 0, FULL, FULL, maxBatch);
    return;
  }
  const mask = psiMask(req.startPfn, req.pages);
  if (mask >= 52) {
    emitDomainFlush(view, out, 0, FULL, FULL, maxBatch);
    return;
  }
  const size = POW2[mask]!;
  const addr = alignDown(req.startPfn, size);
  const iotlb = mamv !== null && mask > mamv ? FULL : size;
  emitDomainFlush(view, out, addr, iotlb, size, maxBatch);
}
