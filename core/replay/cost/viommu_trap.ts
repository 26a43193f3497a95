/**
 * `viommu-trap`: a guest's VT-d behind a nested vIOMMU that traps the queue-tail (IQT) write.
 *
 * Sources (iommu.md §4):
 * - C5: guest `qi_submit_sync` mean 6.96 / 8.18 / 7.20 / 8.21 us at 1 / 2 / 4 / 8 cores (Linux
 *   6.12.9, iommufd nested; xlab-uiuc/Fast-and-Safe-IO-Memory-Protection
 *   utils/reports/vary_cores_results.md, Oct 2025); C6: 8.77 / 9.42 / 8.60 us in a second run.
 * - C7: skipping the trapping IQT write brings it to 2.7-3.3 us, so the trap is the bulk.
 * - trap_ns = 7000: C5/C6 minus the ~0.5 us bare-metal submission (C1), the middle of the 6-8 us
 *   that iommu.md §4 recommends. One trap per submission (one IQT write per `qi_submit_sync`).
 * - Not modeled: contention at 16+ invalidating CPUs (C5: 69-92 us), which is a queue, not a constant.
 * Descriptor and submission times as in `bare-metal-vtd`.
 *
 * @module
 */
import { bareMetalVtd } from "./bare_metal_vtd.ts";
import type { CostModel } from "./cost_model.ts";

/**
 * The `viommu-trap` cost model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { viommuTrap } from "./viommu_trap.ts";
 * assert(viommuTrap.trap_ns === 7000);
 * ```
 */
export const viommuTrap: CostModel = Object.freeze({
  name: "viommu-trap",
  description:
    "guest VT-d under a trapping nested vIOMMU: bare-metal-vtd plus 7000 ns of VM exit per submission (C5/C6)",
  submission_ns: bareMetalVtd.submission_ns, // C1
  trap_ns: 7000, // C5/C6 minus C1
  descriptor_ns: bareMetalVtd.descriptor_ns,
  default_descriptor_ns: bareMetalVtd.default_descriptor_ns,
});
