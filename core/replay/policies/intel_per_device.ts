/**
 * `intel-per-device`: VT-d SVA invalidation up to v6.9 (iommu.md §3.2 (a)-(d)).
 *
 * For every bound device, one `p_iotlb_inv` plus, when the device has ATS, one `p_dev_tlb_inv`,
 * each its own `qi_submit_sync` (one hidden `inv_wait` each). Two devices behind the same IOMMU
 * therefore issue identical `p_iotlb_inv` descriptors (SVA uses DID 1): the redundancy the
 * "Share sva domains" and cache-tag series removed.
 *
 * Range rules by kernel version (option `kernel`, default `6.9`):
 * - v5.11+ (`intel_flush_svm_range_dev` after "Fix unaligned addresses"): align = the request's page
 *   count rounded up to a power of two; the range is widened to `align` boundaries and flushed in
 *   `align`-sized chunks (1 or 2), each chunk a `p_iotlb_inv` + `p_dev_tlb_inv` with mask log2(align).
 * - before v5.11: one chunk; the `p_iotlb_inv` mask is log2(roundup_pow2(pages)) but the address was
 *   not aligned, so the hardware (which ignores address bits below the mask) flushes the aligned block
 *   containing the start, possibly missing the tail; the `p_dev_tlb_inv` uses the smallest aligned
 *   block holding the first and last page (ATS S-bit size encoding).
 * - v6.6+: the x86 33-page CPU ceiling applies first; a full flush (`intel_flush_svm_all`) issues per
 *   device a PASID-selective `p_iotlb_inv` and a whole-range `p_dev_tlb_inv`.
 *
 * @module
 */
import { atLeast } from "../kernel_version.ts";
import { kind } from "../kinds.ts";
import { alignDown, alignUp, orderBase2, POW2, spanOrder } from "../pfn_math.ts";
import {
  FULL,
  type PolicyFactory,
  policyKernel,
  reachesAsFull,
  type ReplayPolicy,
  shapeKey,
  x86Ceiling,
} from "../policy.ts";

const P_IOTLB = 0, P_DEVTLB = 1, WAIT = 2;
const KINDS = [kind("p_iotlb_inv"), kind("p_dev_tlb_inv"), kind("inv_wait")];
const DESCRIPTION =
  "VT-d <= v6.9: p_iotlb_inv (+ p_dev_tlb_inv if ATS) per bound device, one submission each";

/**
 * The `intel-per-device` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { intelPerDevice } from "./intel_per_device.ts";
 * const p = intelPerDevice.create({ kernel: "5.10" });
 * assert(p.kinds[0]!.name === "p_iotlb_inv");
 * ```
 */
export const intelPerDevice: PolicyFactory = {
  name: "intel-per-device",
  description: DESCRIPTION,
  vendor: "intel",
  defaultKernel: "6.9",
  create(options): ReplayPolicy {
    const k = policyKernel(options, "6.9");
    const ceiling = x86Ceiling(options, k);
    const chunked = atLeast(k, 5, 11);
    return {
      name: "intel-per-device",
      description: DESCRIPTION,
      kinds: KINDS,
      waitKind: WAIT,
      parallelIommus: false,
      implicitIotlb: false,
      deferred: false,
      scope: "sva",
      // the chunks (and the pre-5.11 devTLB block) depend on the start's low bits only
      shape(req) {
        const full = reachesAsFull(req, ceiling);
        const f = (full ? 1 : 0) | (req.full ? 2 : 0);
        if (full) return shapeKey(req, 0, f);
        let order = orderBase2(req.pages);
        if (!chunked) {
          order = Math.max(order, spanOrder(req.startPfn, req.startPfn + req.pages - 1));
        }
        return shapeKey(req, order, f);
      },
      evaluate(req, view, out) {
        const full = reachesAsFull(req, ceiling);
        const start = req.startPfn, pages = req.pages;
        // the range depends on the request only: compute it once, then loop over the devices
        let first = 0, end = 0, size = FULL, devAddr = 0, devSize = FULL;
        if (!full) {
          size = POW2[orderBase2(pages)]!;
          first = alignDown(start, size);
          if (chunked) end = alignUp(start + pages, size);
          else {
            end = first + size;
            devSize = POW2[spanOrder(start, start + pages - 1)]!;
            devAddr = alignDown(start, devSize);
          }
        }
        for (let d = 0; d < view.deviceCount; d++) {
          const i = view.deviceIommu[d]!, g = view.deviceGroup[d]!;
          const ats = view.deviceAts[d] === 1;
          if (full) {
            out.cmd(P_IOTLB, i, g, d, 0, FULL);
            out.wait(i);
            if (ats) {
              out.cmd(P_DEVTLB, i, g, d, 0, FULL);
              out.wait(i);
            }
          } else if (chunked) {
            for (let s = first; s < end; s += size) {
              out.cmd(P_IOTLB, i, g, d, s, size);
              out.wait(i);
              if (ats) {
                out.cmd(P_DEVTLB, i, g, d, s, size);
                out.wait(i);
              }
            }
          } else {
            out.cmd(P_IOTLB, i, g, d, first, size);
            out.wait(i);
            if (ats) {
              out.cmd(P_DEVTLB, i, g, d, devAddr, devSize);
              out.wait(i);
            }
          }
        }
      },
    };
  },
};
