/**
 * `ideal`: the lower bound. Exact ranges (no power-of-two widening, no CPU ceiling), one IOTLB
 * invalidation per IOMMU (covering every tag group on it) plus one per ATS device, in one
 * submission per IOMMU, with all IOMMUs waited for in parallel (request time = the slowest IOMMU).
 *
 * Commands are named after the unit's vendor: VT-d (and unknown) `p_iotlb_inv` / `p_dev_tlb_inv` /
 * `inv_wait` (`iotlb_inv` / `dev_tlb_inv` for DMA-API requests), SMMUv3 `tlbi_nh_va` / `atc_inv` /
 * `cmd_sync`, AMD `inv_iommu_pages` / `inv_iotlb_pages` / `completion_wait`. They are hypothetical:
 * no hardware encodes an arbitrary exact range in one command.
 *
 * @module
 */
import { kind } from "../kinds.ts";
import { FULL, type PolicyFactory, type ReplayPolicy, shapeKey } from "../policy.ts";

const KINDS = [
  kind("p_iotlb_inv"),
  kind("p_dev_tlb_inv"),
  kind("inv_wait"),
  kind("iotlb_inv"),
  kind("dev_tlb_inv"),
  kind("tlbi_nh_va"),
  kind("atc_inv"),
  kind("cmd_sync"),
  kind("inv_iommu_pages"),
  kind("inv_iotlb_pages"),
  kind("completion_wait"),
];
const DESCRIPTION =
  "lower bound: exact ranges, one IOTLB invalidation per IOMMU + one per ATS device, IOMMUs waited in parallel";

/**
 * The `ideal` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ideal } from "./ideal.ts";
 * assert(ideal.create({}).parallelIommus);
 * ```
 */
export const ideal: PolicyFactory = {
  name: "ideal",
  description: DESCRIPTION,
  vendor: "unknown",
  defaultKernel: null,
  create(): ReplayPolicy {
    return {
      name: "ideal",
      description: DESCRIPTION,
      kinds: KINDS,
      waitKind: 2,
      parallelIommus: true,
      implicitIotlb: false,
      deferred: false,
      scope: "any",
      // exact ranges: nothing depends on where the request starts
      shape: (req) => shapeKey(req, 0, (req.full ? 1 : 0) | (req.dma ? 2 : 0)),
      evaluate(req, view, out) {
        const addr = req.full ? 0 : req.startPfn;
        const pages = req.full ? FULL : req.pages;
        for (let i = 0; i < view.iommuCount; i++) {
          const vendor = view.iommuVendor[i];
          const iotlb = vendor === "arm-smmuv3" ? 5 : vendor === "amd" ? 8 : req.dma ? 3 : 0;
          const dev = vendor === "arm-smmuv3" ? 6 : vendor === "amd" ? 9 : req.dma ? 4 : 1;
          out.cmd(iotlb, i, -1, -1, addr, pages);
          const g0 = view.iommuGroupStart[i]!, g1 = view.iommuGroupEnd[i]!;
          const d1 = view.groupDeviceEnd[g1 - 1]!;
          for (let d = view.groupDeviceStart[g0]!; d < d1; d++) {
            if (view.deviceAts[d] === 1) out.cmd(dev, i, view.deviceGroup[d]!, d, addr, pages);
          }
          out.wait(i, vendor === "arm-smmuv3" ? 7 : vendor === "amd" ? 10 : 2);
        }
      },
    };
  },
};
