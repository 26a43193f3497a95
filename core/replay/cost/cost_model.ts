/**
 * The cost model: how many nanoseconds a replayed submission and each descriptor cost.
 *
 * `T(submission) = submission_ns + trap_ns + sum(descriptor_ns[kind])` (iommu.md §4, "Recommended
 * default cost model"). A request's modeled time is the sum of its submissions' times, or for a
 * policy that waits for all IOMMUs in parallel, the largest per-IOMMU sum. Every number is a model
 * input, cited where it is defined, and can be overridden from a JSON file
 * ({@linkcode parseCostModel}).
 *
 * @module
 */

/** A cost model. All times in nanoseconds. */
export interface CostModel {
  /** Stable name (`bare-metal-vtd`, ...). */
  readonly name: string;
  /** One line: what it models and where its numbers come from. */
  readonly description: string;
  /** Per submission: submit, hardware processing and the wait for completion. */
  readonly submission_ns: number;
  /** Per submission: the VM exit of the queue-tail write under a trapping vIOMMU (0 on bare metal). */
  readonly trap_ns: number;
  /** Extra time per descriptor, by kind name (`p_dev_tlb_inv`, `atc_inv`, ...). */
  readonly descriptor_ns: Readonly<Record<string, number>>;
  /** Extra time of a descriptor whose kind is not in `descriptor_ns`. */
  readonly default_descriptor_ns: number;
}

/**
 * The time of one descriptor of a kind.
 *
 * @param model the cost model
 * @param kindName the descriptor kind
 * @returns nanoseconds
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { descriptorNs } from "./cost_model.ts";
 * const m = { name: "x", description: "", submission_ns: 1, trap_ns: 0, descriptor_ns: { a: 5 }, default_descriptor_ns: 2 };
 * assert(descriptorNs(m, "a") === 5 && descriptorNs(m, "b") === 2);
 * ```
 */
export function descriptorNs(model: CostModel, kindName: string): number {
  return Object.hasOwn(model.descriptor_ns, kindName)
    ? model.descriptor_ns[kindName]!
    : model.default_descriptor_ns;
}
