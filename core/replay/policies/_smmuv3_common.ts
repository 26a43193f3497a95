/**
 * Shared body of the SMMUv3 SVA policies (iommu.md §3.3).
 *
 * Per SVA domain (one per SMMU instance and domain, as the bindings group them), in the order of
 * `arm_smmu_mm_arch_invalidate_secondary_tlbs`:
 * 1. the size rule: without range invalidation (RIL, `FEAT_RANGE_INV`) a range of at least
 *    `CMDQ_MAX_TLBI_OPS` = 1 << (PAGE_SHIFT - 3) = 512 pages becomes a whole-ASID flush (fix
 *    d5afb4b47e13, v6.6); with RIL only the full range does;
 * 2. without BTM: the TLBI set, `tlbi_nh_asid` for a whole-ASID flush, else `tlbi_nh_va` per page
 *    (no RIL) or per 5-bit window of the page count (RIL: each command covers num * 2^scale pages,
 *    num <= 31; a non-leaf count whose low window is 1 gets one extra page);
 *    with BTM the CPU's broadcast TLBI already invalidated the IOTLB, so nothing;
 * 3. `atc_inv` for every ATS master, sized as the smallest aligned block holding the first and last
 *    page (log2 span = fls(first ^ last)), or the whole ATC for a whole-ASID flush.
 * The TLBI set and the ATC set are each one `arm_smmu_cmdq_batch`: `arm_smmu_cmdq_batch_add` pushes a
 * full batch of `CMDQ_BATCH_ENTRIES` = 64 commands to the queue *without* a sync, and
 * `arm_smmu_cmdq_batch_submit` closes the set with the one `cmd_sync` the CPU waits for. So each set
 * costs one wait however many commands it holds. With `ARM_SMMU_OPT_CMDQ_FORCE_SYNC` (the MMU-600/700
 * erratum workaround; option `smmuForceSync`) the batch is instead issued with a sync once it holds
 * `CMDQ_BATCH_ENTRIES - 1` = 63 commands. Instances are serviced one after the other (the notifiers
 * run sequentially).
 *
 * @module
 */
import { kind } from "../kinds.ts";
import { alignDown, ffs, POW2, spanOrder } from "../pfn_math.ts";
import { FULL, type PolicyOptions, type ReplayPolicy, shapeKey } from "../policy.ts";

const VA = 0, ASID = 1, ATC = 2, SYNC = 3;
const KINDS = [kind("tlbi_nh_va"), kind("tlbi_nh_asid"), kind("atc_inv"), kind("cmd_sync")];

/** `CMDQ_MAX_TLBI_OPS` with 4 KiB pages: 1 << (12 - 3). */
export const SMMU_MAX_TLBI_OPS = 512;

/** `CMDQ_BATCH_ENTRIES` (= `BITS_PER_LONG` on 64-bit kernels). */
export const SMMU_CMDQ_BATCH_ENTRIES = 64;

/**
 * Builds an SMMUv3 policy instance.
 *
 * @param options policy options (`ril`, `smmuForceSync`)
 * @param v name, description and whether BTM makes the IOTLB invalidation implicit
 * @returns the instance
 */
export function createSmmu(
  options: PolicyOptions,
  v: { name: string; description: string; btm: boolean },
): ReplayPolicy {
  const ril = options.ril ?? false;
  // Commands after which a sync is forced mid-set: never, unless the erratum option is set.
  const batch = options.smmuForceSync ? SMMU_CMDQ_BATCH_ENTRIES - 1 : Infinity;
  return {
    name: v.name,
    description: v.description,
    kinds: KINDS,
    waitKind: SYNC,
    parallelIommus: false,
    implicitIotlb: v.btm,
    deferred: false,
    scope: "sva",
    // TLBIs run from the start page by page (or by RIL range); the ATC block depends on its low bits
    shape(req) {
      const whole = req.full || (!ril && req.pages >= SMMU_MAX_TLBI_OPS);
      const f = (whole ? 1 : 0) | (req.full ? 2 : 0);
      if (whole) return shapeKey(req, 0, f);
      return shapeKey(req, spanOrder(req.startPfn, req.startPfn + req.pages - 1), f);
    },
    evaluate(req, view, out) {
      const start = req.startPfn, pages = req.pages, end = start + pages;
      const whole = req.full || (!ril && pages >= SMMU_MAX_TLBI_OPS);
      let atcAddr = 0, atcPages = FULL;
      if (!whole) {
        atcPages = POW2[spanOrder(start, end - 1)]!;
        atcAddr = alignDown(start, atcPages);
      }
      for (let g = 0; g < view.groupCount; g++) {
        const i = view.groupIommu[g]!;
        let n = 0;
        if (!v.btm) {
          if (whole) {
            out.cmd(ASID, i, g, -1, 0, FULL);
            n = 1;
          } else if (!ril) {
            // one tlbi_nh_va per page (a forced sync every `batch` commands with the erratum)
            if (batch === Infinity) {
              out.cmdRun(VA, i, g, -1, start, 1, pages);
              n = pages;
            } else {
              for (let p = start; p < end; p += batch) {
                n = Math.min(batch, end - p);
                out.cmdRun(VA, i, g, -1, p, 1, n);
                if (n === batch) {
                  out.wait(i);
                  n = 0;
                }
              }
            }
          } else {
            let num = pages;
            if ((num & 31) === 1) num++; // low 5 bits (ToInt32 keeps them for any integer)
            let iova = start;
            while (iova < end && num > 0) {
              const scale = ffs(num);
              const cover = (Math.floor(num / POW2[scale]!) & 31) * POW2[scale]!;
              out.cmd(VA, i, g, -1, iova, cover);
              iova += cover;
              num -= cover;
              if (++n === batch) {
                out.wait(i);
                n = 0;
              }
            }
          }
          if (n > 0) out.wait(i);
          n = 0;
        }
        const d1 = view.groupDeviceEnd[g]!;
        for (let d = view.groupDeviceStart[g]!; d < d1; d++) {
          if (view.deviceAts[d] !== 1) continue;
          out.cmd(ATC, i, g, d, atcAddr, atcPages);
          if (++n === batch) {
            out.wait(i);
            n = 0;
          }
        }
        if (n > 0) out.wait(i);
      }
    },
  };
}
