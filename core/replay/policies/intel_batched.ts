/**
 * `intel-batched`: VT-d v6.12+ (iommu.md §3.2 (f); Tina Zhang, "iommu/vt-d: Batch IOTLB/dev-IOTLB
 * invalidation commands", commit 705c1cdf1e73).
 *
 * The cache-tag descriptors, gathered per IOMMU into one `qi_submit_sync` (one `inv_wait`, one IQT
 * write) of at most 16 descriptors (`QI_MAX_BATCHED_DESC_COUNT`, option `maxBatch`): with 4 ATS
 * devices behind one IOMMU, 5 descriptors in 1 submission per range.
 *
 * @module
 */
import type { PolicyFactory } from "../policy.ts";
import { createCacheTag } from "./_intel_cache_tag_common.ts";

const DESCRIPTION =
  "VT-d v6.12+: cache-tag descriptors batched, one submission per IOMMU per flush (<= 16 descriptors)";

/**
 * The `intel-batched` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intelBatched } from "./intel_batched.ts";
 * assert(intelBatched.create({}).name === "intel-batched");
 * ```
 */
export const intelBatched: PolicyFactory = {
  name: "intel-batched",
  description: DESCRIPTION,
  vendor: "intel",
  defaultKernel: "6.12",
  create: (options) =>
    createCacheTag(options, {
      name: "intel-batched",
      description: DESCRIPTION,
      defaultKernel: "6.12",
      buggy: false,
      batched: true,
    }),
};
