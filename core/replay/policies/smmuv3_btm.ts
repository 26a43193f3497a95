/**
 * `smmuv3-btm`: SMMUv3 SVA with broadcast TLB maintenance (v5.12 "Make BTM optional for SVA" to
 * v6.10; iommu.md §3.3). The CPU's TLBI also invalidates the SMMU TLB entries of the shared ASID, so
 * only `atc_inv` per ATS master is issued, closed by one `cmd_sync`.
 *
 * @module
 */
import type { PolicyFactory } from "../policy.ts";
import { createSmmu } from "./_smmuv3_common.ts";

const DESCRIPTION =
  "SMMUv3 with BTM (v5.12-v6.10): IOTLB by broadcast TLBI; atc_inv per ATS master, one cmd_sync per SMMU";

/**
 * The `smmuv3-btm` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smmuv3Btm } from "./smmuv3_btm.ts";
 * assert(smmuv3Btm.create({}).implicitIotlb);
 * ```
 */
export const smmuv3Btm: PolicyFactory = {
  name: "smmuv3-btm",
  description: DESCRIPTION,
  vendor: "arm-smmuv3",
  defaultKernel: null,
  create: (options) =>
    createSmmu(options, { name: "smmuv3-btm", description: DESCRIPTION, btm: true }),
};
