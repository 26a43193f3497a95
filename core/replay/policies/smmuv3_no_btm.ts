/**
 * `smmuv3-no-btm`: SMMUv3 SVA without BTM (and every SVA domain since v6.11, which dropped the BTM
 * path; iommu.md §3.3). Per SMMU instance: `tlbi_nh_va` per page, or per range window with RIL
 * (option `ril`), or one `tlbi_nh_asid` from 512 pages up without RIL (claim K8); then `atc_inv` per
 * ATS master; one `cmd_sync` closing each set (full 64-command batches go out without one).
 *
 * @module
 */
import type { PolicyFactory } from "../policy.ts";
import { createSmmu } from "./_smmuv3_common.ts";

const DESCRIPTION =
  "SMMUv3 without BTM: tlbi_nh_va per page or RIL range (tlbi_nh_asid from 512 pages without RIL), atc_inv per ATS master, one cmd_sync per command set";

/**
 * The `smmuv3-no-btm` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { smmuv3NoBtm } from "./smmuv3_no_btm.ts";
 * assert(!smmuv3NoBtm.create({ ril: true }).implicitIotlb);
 * ```
 */
export const smmuv3NoBtm: PolicyFactory = {
  name: "smmuv3-no-btm",
  description: DESCRIPTION,
  vendor: "arm-smmuv3",
  defaultKernel: null,
  create: (options) =>
    createSmmu(options, { name: "smmuv3-no-btm", description: DESCRIPTION, btm: false }),
};
