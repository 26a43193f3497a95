/**
 * `amd`: AMD-Vi on bare metal.
 *
 * No AMD-Vi command latency was found (iommu.md §4 "Not obtained"); by analogy with VT-d:
 * `completion_wait` round trip = submission_ns 500 (C1), `inv_iommu_pages` +50 (iommu.md §4
 * t_desc(iotlb)), `inv_iotlb_pages` (ATS) +500 (C2). Inferences to calibrate with kprobe timing of
 * `iommu_completion_wait`.
 *
 * @module
 */
import type { CostModel } from "./cost_model.ts";

/**
 * The `amd` cost model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { amd } from "./amd.ts";
 * assert(amd.descriptor_ns["inv_iotlb_pages"] === 500);
 * ```
 */
export const amd: CostModel = Object.freeze({
  name: "amd",
  description:
    "AMD-Vi bare metal: 500 ns per completion_wait (as a VT-d wait, C1), +50 ns per inv_iommu_pages, +500 ns per inv_iotlb_pages (as C2)",
  submission_ns: 500, // C1 by analogy
  trap_ns: 0,
  descriptor_ns: Object.freeze({
    inv_iommu_pages: 50,
    inv_iotlb_pages: 500, // C2 by analogy
    completion_wait: 0, // inside submission_ns
    inv_all: 50,
    p_iotlb_inv: 50,
    iotlb_inv: 50,
    p_dev_tlb_inv: 500,
    dev_tlb_inv: 500,
    inv_wait: 0,
    tlbi_nh_va: 50,
    tlbi_nh_asid: 50,
    atc_inv: 500,
    cmd_sync: 0,
  }),
  default_descriptor_ns: 50,
});
