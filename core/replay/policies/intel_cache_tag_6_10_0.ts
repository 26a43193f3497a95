/**
 * `intel-cache-tag-6.10.0`: the v6.10.0 cache-tag code with its first-level under-invalidation
 * (iommu.md §3.2 (e) "Bug window"; Lu Baolu, "iommu/vt-d: Fix aligned pages in
 * calculate_psi_aligned_address()", 8 Jul 2024, Fixes c4d27ffaa8eb).
 *
 * For an unaligned range the mask and address are widened but the page count handed to the
 * first-level `p_iotlb_inv` stays roundup_pow2(pages), so that descriptor covers only the first
 * roundup_pow2(pages) pages of the widened block: pfn 3-4 is flushed as pfn 0-1. The devTLB path
 * uses the mask and is correct. The coverage check reports the stale IOTLB entries (claim K10).
 *
 * @module
 */
import type { PolicyFactory } from "../policy.ts";
import { createCacheTag } from "./_intel_cache_tag_common.ts";

const DESCRIPTION =
  "VT-d v6.10.0 cache tags with the first-level under-invalidation of unaligned ranges (fixed after v6.10.0)";

/**
 * The `intel-cache-tag-6.10.0` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intelCacheTag6100 } from "./intel_cache_tag_6_10_0.ts";
 * assert(intelCacheTag6100.create({}).name === "intel-cache-tag-6.10.0");
 * ```
 */
export const intelCacheTag6100: PolicyFactory = {
  name: "intel-cache-tag-6.10.0",
  description: DESCRIPTION,
  vendor: "intel",
  defaultKernel: "6.10.0",
  create: (options) =>
    createCacheTag(options, {
      name: "intel-cache-tag-6.10.0",
      description: DESCRIPTION,
      defaultKernel: "6.10.0",
      buggy: true,
      batched: false,
    }),
};
