/**
 * The probe mappings shipped with the toolkit, validated at load time.
 *
 * - `core.json`: vendor-neutral SVA attach/detach and the mmu-notifier invalidation hook.
 * - `intel.json`: `qi_submit_sync` boundaries, Intel SVA `set_dev_pasid`/`remove_dev_pasid`.
 * - `smmuv3.json`: `arm_smmu_cmdq_issue_cmdlist`, SMMUv3 SVA callbacks.
 * - `amd.json`: `__iommu_queue_command_sync`, AMD SVA callbacks.
 *
 * All use the group `iommu_replay` with distinct event names, so they can be enabled together.
 *
 * @module
 */
import { type ProbeMapping, validateProbeMapping } from "./mapping.ts";
import core from "./core.json" with { type: "json" };
import intel from "./intel.json" with { type: "json" };
import smmuv3 from "./smmuv3.json" with { type: "json" };
import amd from "./amd.json" with { type: "json" };

/**
 * Every shipped mapping, in the order core, intel, smmuv3, amd.
 *
 * @example
 * ```ts
 * import { SHIPPED_MAPPINGS } from "./shipped.ts";
 * console.assert(SHIPPED_MAPPINGS.map((m) => m.name).join() === "core,intel-vtd,arm-smmuv3,amd-vi");
 * ```
 */
export const SHIPPED_MAPPINGS: readonly ProbeMapping[] = Object.freeze([
  validateProbeMapping(core, "core/probes/core.json"),
  validateProbeMapping(intel, "core/probes/intel.json"),
  validateProbeMapping(smmuv3, "core/probes/smmuv3.json"),
  validateProbeMapping(amd, "core/probes/amd.json"),
]);
