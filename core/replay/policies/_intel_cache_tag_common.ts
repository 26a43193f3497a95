/**
 * Shared body of the VT-d cache-tag policies (v6.10 onwards, iommu.md §3.2 (e), (f)).
 *
 * One `p_iotlb_inv` per IOTLB tag (IOMMU, DID, PASID) and one `p_dev_tlb_inv` per ATS device, both
 * for one naturally aligned power-of-two block (`calculate_psi_aligned_address`); a mask reaching
 * 52 bits makes both whole-range.
 *
 * A full flush (the notifier's `(0, ULONG_MAX)`, i.e. `cache_tag_flush_all`) issues per IOTLB tag a
 * PASID-selective `p_iotlb_inv`, and per DEVTLB tag, from v6.10 up to v6.16, a whole-device
 * **non-PASID** `dev_tlb_inv` (`qi_flush_dev_iotlb(..., 0, MAX_AGAW_PFN_WIDTH)`, qw1
 * 0x7ffffffffffff001; `cache_tag_flush_devtlb_all()` from v6.12). Ethan Milon's "iommu/vt-d: Fix
 * missing PASID in dev TLB flush with cache_tag_flush_all" (upstream 3141153816bf, v6.17, also in
 * 6.16.y stable) made it a whole-range `p_dev_tlb_inv` of the tag's PASID: from v6.17 on the policy
 * emits that. A stable kernel older than 6.17 with the backport behaves like 6.17: replay it with
 * `--kernel 6.17`.
 *
 * Variants: the v6.10.0 first-level under-invalidation, and v6.12 batching (one `qi_submit_sync`
 * per IOMMU, at most `maxBatch` descriptors each).
 *
 * @module
 */
import { atLeast } from "../kernel_version.ts";
import { kind } from "../kinds.ts";
import { alignDown, orderBase2, POW2, psiMask } from "../pfn_math.ts";
import {
  FULL,
  policyKernel,
  type PolicyOptions,
  reachesAsFull,
  type ReplayPolicy,
  shapeKey,
  x86Ceiling,
} from "../policy.ts";

const P_IOTLB = 0, P_DEVTLB = 1, WAIT = 2, DEVTLB_NO_PASID = 3;
const KINDS = [kind("p_iotlb_inv"), kind("p_dev_tlb_inv"), kind("inv_wait"), kind("dev_tlb_inv")];

/** Which cache-tag variant to build. */
export interface CacheTagVariant {
  name: string;
  description: string;
  defaultKernel: string;
  /** v6.10.0: the p_iotlb page count is not updated to 2^mask for unaligned ranges. */
  buggy: boolean;
  /** v6.12+: one submission per IOMMU (per `maxBatch` descriptors). */
  batched: boolean;
}

/**
 * Builds a cache-tag policy instance.
 *
 * @param options policy options
 * @param v the variant
 * @returns the instance
 */
export function createCacheTag(options: PolicyOptions, v: CacheTagVariant): ReplayPolicy {
  const kernel = policyKernel(options, v.defaultKernel);
  const ceiling = x86Ceiling(options, kernel);
  // cache_tag_flush_all's devTLB descriptor: non-PASID before the v6.17 fix, PASID-tagged after
  const flushAllDevtlb = atLeast(kernel, 6, 17) ? P_DEVTLB : DEVTLB_NO_PASID;
  // QI_MAX_BATCHED_DESC_COUNT = 16 (v6.12 batching series, iommu.md §1.2, §3.2 (f))
  const maxBatch = v.batched ? options.maxBatch ?? 16 : 1;
  return {
    name: v.name,
    description: v.description,
    kinds: KINDS,
    waitKind: WAIT,
    parallelIommus: false,
    implicitIotlb: false,
    deferred: false,
    scope: "sva",
    // the commands depend on the start only through its offset in the 2^mask block
    shape(req) {
      const flushAll = reachesAsFull(req, ceiling);
      const f = (flushAll ? 1 : 0) | (req.full ? 2 : 0);
      if (flushAll) return shapeKey(req, 0, f);
      const mask = psiMask(req.startPfn, req.pages);
      return mask >= 52 ? shapeKey(req, 0, f | 4) : shapeKey(req, mask, f);
    },
    evaluate(req, view, out) {
      const flushAll = reachesAsFull(req, ceiling);
      let full = flushAll;
      let addr = 0, iotlbPages = FULL, devPages = FULL;
      if (!full) {
        const mask = psiMask(req.startPfn, req.pages);
        if (mask >= 52) full = true;
        else {
          devPages = POW2[mask]!;
          addr = alignDown(req.startPfn, devPages);
          // v6.10.0 bug: pages stayed roundup_pow2(pages) while addr/mask were widened.
          iotlbPages = v.buggy ? POW2[orderBase2(req.pages)]! : devPages;
        }
      }
      const devKind = flushAll ? flushAllDevtlb : P_DEVTLB;
      for (let i = 0; i < view.iommuCount; i++) {
        let n = 0;
        const g0 = view.iommuGroupStart[i]!, g1 = view.iommuGroupEnd[i]!;
        for (let g = g0; g < g1; g++) {
          out.cmd(P_IOTLB, i, g, -1, addr, iotlbPages);
          if (++n === maxBatch) {
            out.wait(i);
            n = 0;
          }
        }
        const d0 = view.groupDeviceStart[g0]!, d1 = view.groupDeviceEnd[g1 - 1]!;
        for (let d = d0; d < d1; d++) {
          if (view.deviceAts[d] !== 1) continue;
          out.cmd(devKind, i, view.deviceGroup[d]!, d, addr, devPages);
          if (++n === maxBatch) {
            out.wait(i);
            n = 0;
          }
        }
        if (n > 0) out.wait(i);
      }
    },
  };
}
