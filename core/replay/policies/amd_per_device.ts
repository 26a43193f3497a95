/**
 * `amd-per-device`: AMD-Vi SVA (iommu.md §3.4).
 *
 * v6.9+ (`sva_arch_invalidate_secondary_tlbs` -> `amd_iommu_dev_flush_pasid_pages` for every device
 * of the SVA domain): per device one `inv_iommu_pages` (tagged with that device's domain id), plus
 * `inv_iotlb_pages` if ATS, then `completion_wait`: one submission per device. Both commands use the
 * `build_inv_address` size encoding: the smallest aligned block holding the first and last page;
 * when that block would exceed 2^52 bytes (msb_diff > 51) the whole address space.
 * Before v6.7 (`iommu_v2`): a single page is flushed as a page, anything larger as the whole PASID.
 * The x86 33-page CPU ceiling applies from v6.6. Default kernel `6.9`.
 *
 * @module
 */
import { atLeast } from "../kernel_version.ts";
import { kind } from "../kinds.ts";
import { alignDown, POW2, spanOrder } from "../pfn_math.ts";
import {
  FULL,
  type PolicyFactory,
  policyKernel,
  reachesAsFull,
  type ReplayPolicy,
  shapeKey,
  x86Ceiling,
} from "../policy.ts";

const PAGES = 0, IOTLB_PAGES = 1, WAIT = 2;
const KINDS = [kind("inv_iommu_pages"), kind("inv_iotlb_pages"), kind("completion_wait")];
const DESCRIPTION =
  "AMD-Vi SVA: inv_iommu_pages (+ inv_iotlb_pages if ATS) + completion_wait per device";

/**
 * The `amd-per-device` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { amdPerDevice } from "./amd_per_device.ts";
 * assert(amdPerDevice.create({}).kinds[2]!.name === "completion_wait");
 * ```
 */
export const amdPerDevice: PolicyFactory = {
  name: "amd-per-device",
  description: DESCRIPTION,
  vendor: "amd",
  defaultKernel: "6.9",
  create(options): ReplayPolicy {
    const k = policyKernel(options, "6.9");
    const ceiling = x86Ceiling(options, k);
    const v2 = !atLeast(k, 6, 7);
    return {
      name: "amd-per-device",
      description: DESCRIPTION,
      kinds: KINDS,
      waitKind: WAIT,
      parallelIommus: false,
      implicitIotlb: false,
      deferred: false,
      scope: "sva",
      // the block depends on the start's low bits only
      shape(req) {
        const full = reachesAsFull(req, ceiling) || (v2 && req.pages > 1);
        const f = (full ? 1 : 0) | (req.full ? 2 : 0);
        if (full) return shapeKey(req, 0, f);
        const order = spanOrder(req.startPfn, req.startPfn + req.pages - 1);
        return order > 40 ? shapeKey(req, 0, f | 4) : shapeKey(req, order, f);
      },
      evaluate(req, view, out) {
        let full = reachesAsFull(req, ceiling) || (v2 && req.pages > 1);
        let addr = 0, size = FULL;
        if (!full) {
          const order = spanOrder(req.startPfn, req.startPfn + req.pages - 1);
          // msb_diff = order + 11 in bytes; > 51 means "all pages"
          if (order > 40) full = true;
          else {
            size = POW2[order]!;
            addr = alignDown(req.startPfn, size);
          }
        }
        for (let d = 0; d < view.deviceCount; d++) {
          const i = view.deviceIommu[d]!, g = view.deviceGroup[d]!;
          out.cmd(PAGES, i, g, d, addr, size);
          if (view.deviceAts[d] === 1) out.cmd(IOTLB_PAGES, i, g, d, addr, size);
          out.wait(i);
        }
      },
    };
  },
};
