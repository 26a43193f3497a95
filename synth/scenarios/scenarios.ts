/**
 * Every IOMMU scenario, with the normalizer options it is meant to be read with. The trace
 * writers (trace.dat, kernel text) turn `events` into files; the expected canonical rows are in
 * the `*_test.ts` files beside each builder.
 *
 * @module
 */
import type { TraceEvent } from "../../core/event.ts";
import type { NormalizeOptions } from "../../core/normalize/normalize.ts";
import { FORK_EXEC_TOPOLOGY, forkExec } from "./mm_lifecycle.ts";
import { smmuv3Probes } from "./smmuv3_probes.ts";
import { pasidReuse612, sva4Devices612, sva4Devices69, twoIommus612 } from "./vtd_sva.ts";

/** A scenario ready to write or normalize. */
export interface ScenarioEntry {
  /** File-name-safe id (`sva_4dev_6.9`, ...). */
  name: string;
  /** Kernel version the events follow. */
  kernel: string;
  /** One line. */
  description: string;
  /** The events in time order. */
  events: TraceEvent[];
  /** Options to normalize them with (topology, what-if). */
  options: NormalizeOptions;
}

/**
 * Builds every scenario.
 *
 * @returns the scenarios, in a stable order
 * @example
 * ```ts
 * import { allScenarios } from "./scenarios.ts";
 * console.assert(allScenarios().map((s) => s.name).includes("sva_4dev_6.12"));
 * ```
 */
export function allScenarios(): ScenarioEntry[] {
  const plain = [
    sva4Devices69(),
    sva4Devices612(),
    twoIommus612(),
    pasidReuse612(),
    smmuv3Probes(),
  ];
  const out: ScenarioEntry[] = plain.map((s) => ({ ...s, options: {} }));
  const fe = forkExec();
  out.push({ ...fe, options: { whatIf: true, topology: FORK_EXEC_TOPOLOGY } });
  return out;
}
