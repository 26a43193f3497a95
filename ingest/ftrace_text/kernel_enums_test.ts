import assert from "node:assert/strict";
import { KERNEL_ENUMS, kernelEnumValue } from "./kernel_enums.ts";

Deno.test("kernel enums: enum cache_tag_type in declaration order; unknown names stay null", () => {
  assert.deepEqual(
    ["CACHE_TAG_IOTLB", "CACHE_TAG_DEVTLB", "CACHE_TAG_NESTING_IOTLB", "CACHE_TAG_NESTING_DEVTLB"]
      .map(kernelEnumValue),
    [0n, 1n, 2n, 3n],
  );
  assert.equal(kernelEnumValue("CACHE_TAG_TYPE_IOTLB"), null); // a name of the RFC, never merged
  assert.equal(KERNEL_ENUMS.size, 4);
});
