/**
 * Values of kernel enum constants that print formats name without a `TRACE_DEFINE_ENUM`.
 *
 * When a tracepoint's `__print_symbolic` table keys are enum constants and the subsystem does not
 * export them with `TRACE_DEFINE_ENUM`, the format file keeps the bare names (`{ CACHE_TAG_IOTLB,
 * "iotlb" }`): nothing in the trace says which number a printed name stands for. To read such a
 * name back out of text, the value has to come from the kernel source. This table holds those
 * values; a name not listed here stays unresolved (the field is left null, never guessed).
 *
 * @module
 */

/**
 * Enum constants by name, with their values.
 *
 * - `enum cache_tag_type` (`drivers/iommu/intel/iommu.h`, v6.10+; printed by the
 *   `intel_iommu:cache_tag_*` events as `type iotlb`, `type devtlb`, ...): declared in this order
 *   without initialisers, so `CACHE_TAG_IOTLB` = 0, `CACHE_TAG_DEVTLB` = 1,
 *   `CACHE_TAG_NESTING_IOTLB` = 2, `CACHE_TAG_NESTING_DEVTLB` = 3.
 */
export const KERNEL_ENUMS: ReadonlyMap<string, bigint> = new Map([
  ["CACHE_TAG_IOTLB", 0n],
  ["CACHE_TAG_DEVTLB", 1n],
  ["CACHE_TAG_NESTING_IOTLB", 2n],
  ["CACHE_TAG_NESTING_DEVTLB", 3n],
]);

/**
 * The value of an enum constant a print format names, or null when it is not known.
 *
 * @param name the constant's name as written in the format
 * @returns its value, or null
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelEnumValue } from "./kernel_enums.ts";
 * assert.equal(kernelEnumValue("CACHE_TAG_DEVTLB"), 1n);
 * assert.equal(kernelEnumValue("NOT_AN_ENUM"), null);
 * ```
 */
export function kernelEnumValue(name: string): bigint | null {
  return KERNEL_ENUMS.get(name) ?? null;
}
