/**
 * `dma-strict`: DMA-API strict mode (iommu.md §3.5): every unmap ends with `iommu_iotlb_sync`, one
 * flush of the unmapped range on the domain: per IOMMU `iotlb_inv` (page-selective, or
 * domain-selective above MAMV) + `dev_tlb_inv` per ATS device, batched per IOMMU from v6.12
 * (default kernel `6.12`). No CPU-side ceiling (these are IOVA ranges, not mm ranges).
 *
 * @module
 */
import { atLeast } from "../kernel_version.ts";
import { type PolicyFactory, policyKernel, type ReplayPolicy } from "../policy.ts";
import { DMA_KINDS, emitRangeFlush, WAIT } from "./_dma_vtd_common.ts";

const DESCRIPTION =
  "DMA-API strict: flush every unmapped range at unmap (iotlb_inv + dev_tlb_inv per ATS device)";

/**
 * The `dma-strict` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dmaStrict } from "./dma_strict.ts";
 * assert(dmaStrict.create({}).kinds[0]!.name === "iotlb_inv");
 * ```
 */
export const dmaStrict: PolicyFactory = {
  name: "dma-strict",
  description: DESCRIPTION,
  vendor: "intel",
  defaultKernel: "6.12",
  create(options): ReplayPolicy {
    const batch = atLeast(policyKernel(options, "6.12"), 6, 12) ? options.maxBatch ?? 16 : 1;
    const mamv = options.mamv ?? null;
    return {
      name: "dma-strict",
      description: DESCRIPTION,
      kinds: DMA_KINDS,
      waitKind: WAIT,
      parallelIommus: false,
      implicitIotlb: false,
      deferred: false,
      scope: "dma",
      evaluate(req, view, out) {
        emitRangeFlush(req, view, out, mamv, batch);
      },
    };
  },
};
