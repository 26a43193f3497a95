/**
 * Invalidation command kinds, named as the kernel names them, and the cache each one targets.
 *
 * VT-d names are the `qi_submit` tracepoint's symbolic names (iommu.md §1.2); SMMUv3 and AMD-Vi
 * names are the command opcodes in lower case (iommu.md §3.3, §3.4).
 *
 * @module
 */

/**
 * Which cache a command invalidates.
 * - `iotlb`: the IOMMU's own TLB (tagged per IOMMU, domain/ASID, PASID)
 * - `devtlb`: a device's ATC (PCIe ATS), one per device
 * - `wait`: the completion/synchronisation command that ends a submission
 * - `other`: anything else (context/PASID caches, interrupt entries, page responses)
 */
export type KindClass = "iotlb" | "devtlb" | "wait" | "other";

/** One command kind a policy can emit. */
export interface KindSpec {
  /** Kernel name, e.g. `p_iotlb_inv`, `tlbi_nh_va`, `inv_iotlb_pages`. */
  readonly name: string;
  /** Which cache it targets. */
  readonly class: KindClass;
}

/** Numeric class codes used on the hot path. */
export const CLASS_CODE: Readonly<Record<KindClass, number>> = {
  iotlb: 1,
  devtlb: 2,
  wait: 3,
  other: 0,
};

/** Every kind this toolkit knows, by name (VT-d, SMMUv3, AMD-Vi). */
export const KNOWN_KINDS: Readonly<Record<string, KindSpec>> = (() => {
  const list: [string, KindClass][] = [
    // VT-d descriptor types 1..9 (qi_submit __print_symbolic of qw0 & 0xf)
    ["cc_inv", "other"],
    ["iotlb_inv", "iotlb"],
    ["dev_tlb_inv", "devtlb"],
    ["iec_inv", "other"],
    ["inv_wait", "wait"],
    ["p_iotlb_inv", "iotlb"],
    ["pc_inv", "other"],
    ["p_dev_tlb_inv", "devtlb"],
    ["page_grp_resp", "other"],
    // SMMUv3 commands (arm-smmu-v3.h opcodes)
    ["cfgi_ste", "other"],
    ["cfgi_cd", "other"],
    ["tlbi_nh_asid", "iotlb"],
    ["tlbi_nh_va", "iotlb"],
    ["tlbi_el2_asid", "iotlb"],
    ["tlbi_el2_va", "iotlb"],
    ["tlbi_s12_vmall", "iotlb"],
    ["tlbi_s2_ipa", "iotlb"],
    ["tlbi_nsnh_all", "iotlb"],
    ["atc_inv", "devtlb"],
    ["pri_resp", "other"],
    ["cmd_sync", "wait"],
    // AMD-Vi commands
    ["completion_wait", "wait"],
    ["inv_dev_entry", "other"],
    ["inv_iommu_pages", "iotlb"],
    ["inv_iotlb_pages", "devtlb"],
    ["inv_irt", "other"],
    ["complete_ppr", "other"],
    ["inv_all", "iotlb"],
  ];
  const out: Record<string, KindSpec> = {};
  for (const [name, cls] of list) out[name] = Object.freeze({ name, class: cls });
  return Object.freeze(out);
})();

/**
 * The spec of a known kind.
 *
 * @param name kernel name
 * @returns the spec
 * @throws {Error} if the name is not a known kind (a programming error in a policy module)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kind } from "./kinds.ts";
 * assert(kind("p_dev_tlb_inv").class === "devtlb");
 * ```
 */
export function kind(name: string): KindSpec {
  const k = KNOWN_KINDS[name];
  if (!k) throw new Error(`unknown command kind ${name}`);
  return k;
}
