/**
 * `intel-cache-tag`: VT-d v6.10 stable / v6.11 (iommu.md §3.2 (e)).
 *
 * One `p_iotlb_inv` per (IOMMU, DID, PASID) tag and one `p_dev_tlb_inv` per ATS device, for one
 * naturally aligned power-of-two block; each descriptor still its own `qi_submit_sync` (no batching
 * before v6.12). With 4 ATS devices behind one IOMMU: 5 descriptors, 5 submissions per range.
 *
 * @module
 */
import type { PolicyFactory } from "../policy.ts";
import { createCacheTag } from "./_intel_cache_tag_common.ts";

const DESCRIPTION =
  "VT-d v6.10-6.11 cache tags: one p_iotlb_inv per (IOMMU, DID, PASID), one p_dev_tlb_inv per ATS device, aligned power-of-2 range";

/**
 * The `intel-cache-tag` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intelCacheTag } from "./intel_cache_tag.ts";
 * assert(intelCacheTag.create({}).name === "intel-cache-tag");
 * ```
 */
export const intelCacheTag: PolicyFactory = {
  name: "intel-cache-tag",
  description: DESCRIPTION,
  vendor: "intel",
  defaultKernel: "6.11",
  create: (options) =>
    createCacheTag(options, {
      name: "intel-cache-tag",
      description: DESCRIPTION,
      defaultKernel: "6.11",
      buggy: false,
      batched: false,
    }),
};
