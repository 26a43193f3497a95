/**
 * `bare-metal-vtd`: Intel VT-d on bare metal, the default cost model.
 *
 * Sources (iommu.md §4):
 * - C1: IOTLB-class `qi_submit_sync` (including its wait) on Sapphire Rapids, `dmar_perf_latency`:
 *   about 70% in the 0.1-1 us bucket, 30% in 1-10 us (QEMU docs/devel/migration/qpl-compression.rst,
 *   Yuan Liu, Intel, May 2024). submission_ns = 500: the middle of the dominant bucket.
 * - C2: devTLB-class submissions in the same buckets, 67.5% / 32.5%, max 2 us: heavier tail.
 *   p_dev_tlb_inv / dev_tlb_inv = 500 extra (iommu.md §4 recommended t_ats ~ 0.5 us, an inference).
 * - iommu.md §4 recommended t_desc(iotlb / p_iotlb) ~ 0.05 us (inference): p_iotlb_inv / iotlb_inv = 50.
 * - C4: batching saves "> ~800 cycles" (~0.3 us) per eliminated submission, consistent with C1.
 * - The wait descriptor's own time is inside submission_ns, so inv_wait = 0.
 * SMMUv3 and AMD kinds get the same per-class values so that any policy can run under this model.
 *
 * @module
 */
import type { CostModel } from "./cost_model.ts";

/**
 * The `bare-metal-vtd` cost model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bareMetalVtd } from "./bare_metal_vtd.ts";
 * assert(bareMetalVtd.submission_ns === 500 && bareMetalVtd.trap_ns === 0);
 * ```
 */
export const bareMetalVtd: CostModel = Object.freeze({
  name: "bare-metal-vtd",
  description:
    "VT-d bare metal: 500 ns per submission (C1 dmar_perf_latency), +50 ns per IOTLB descriptor, +500 ns per devTLB descriptor (C2)",
  submission_ns: 500, // C1
  trap_ns: 0,
  descriptor_ns: Object.freeze({
    p_iotlb_inv: 50, // iommu.md §4 t_desc(iotlb)
    iotlb_inv: 50, // same class
    p_dev_tlb_inv: 500, // C2, iommu.md §4 t_ats
    dev_tlb_inv: 500, // same class
    inv_wait: 0, // inside submission_ns (C1 times include the wait)
    tlbi_nh_va: 50, // same per-class values for other vendors' kinds
    tlbi_nh_asid: 50,
    atc_inv: 500,
    cmd_sync: 0,
    inv_iommu_pages: 50,
    inv_iotlb_pages: 500,
    completion_wait: 0,
  }),
  default_descriptor_ns: 50,
});
