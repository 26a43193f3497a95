/**
 * `smmuv3`: Arm SMMUv3 on bare metal.
 *
 * No SMMUv3 CMD_SYNC latency in microseconds was found (iommu.md §4 "Not obtained"), so, as
 * iommu.md §4 recommends, one `cmd_sync` wait is treated like one VT-d wait (C1: submission_ns = 500),
 * a TLBI like an IOTLB descriptor (50) and an `atc_inv` like a devTLB descriptor (500, C2). These are
 * inferences to calibrate (kprobe timing of `arm_smmu_cmdq_issue_cmdlist`). For a trapped vSMMU, set
 * `trap_ns`: C9 (tegra241-cmdqv cover letter, Nicolin Chen, 2024) reports 70-90% less guest
 * invalidation time without trapping, i.e. trapped time 3.3-10x the untrapped one.
 *
 * @module
 */
import type { CostModel } from "./cost_model.ts";

/**
 * The `smmuv3` cost model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smmuv3 } from "./smmuv3.ts";
 * assert(smmuv3.descriptor_ns["atc_inv"] === 500);
 * ```
 */
export const smmuv3: CostModel = Object.freeze({
  name: "smmuv3",
  description:
    "SMMUv3 bare metal: 500 ns per cmd_sync batch (as a VT-d wait, C1), +50 ns per TLBI, +500 ns per atc_inv (as C2)",
  submission_ns: 500, // C1 by analogy (iommu.md §4)
  trap_ns: 0,
  descriptor_ns: Object.freeze({
    tlbi_nh_va: 50,
    tlbi_nh_asid: 50,
    atc_inv: 500, // C2 by analogy
    cmd_sync: 0, // inside submission_ns
    p_iotlb_inv: 50,
    iotlb_inv: 50,
    p_dev_tlb_inv: 500,
    dev_tlb_inv: 500,
    inv_wait: 0,
    inv_iommu_pages: 50,
    inv_iotlb_pages: 500,
    completion_wait: 0,
  }),
  default_descriptor_ns: 50,
});
