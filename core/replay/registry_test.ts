import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { BUILTIN_POLICY_NAMES, policyForKernel, resolvePolicy } from "./registry.ts";

Deno.test("the built-in policy names are stable", () => {
  assert.deepEqual(BUILTIN_POLICY_NAMES, [
    "intel-per-device",
    "intel-cache-tag",
    "intel-cache-tag-6.10.0",
    "intel-batched",
    "smmuv3-btm",
    "smmuv3-no-btm",
    "amd-per-device",
    "dma-strict",
    "dma-lazy",
    "ideal",
  ]);
});

Deno.test("resolvePolicy: name@kernel, unknown names, bad versions", () => {
  assert.equal(resolvePolicy("intel-per-device@5.10").label, "intel-per-device@5.10");
  assert.throws(
    () => resolvePolicy("intel-nope"),
    (e: unknown) => e instanceof UsageError && /unknown policy "intel-nope"/.test(e.message),
  );
  assert.throws(() => resolvePolicy("intel-batched@x"), UsageError);
});

Deno.test("policyForKernel", () => {
  assert.equal(policyForKernel("6.9.0", "intel"), "intel-per-device@6.9.0");
  assert.equal(policyForKernel("6.10", "intel"), "intel-cache-tag-6.10.0@6.10");
  assert.equal(policyForKernel("6.10.2", "unknown"), "intel-cache-tag@6.10.2");
  assert.equal(policyForKernel("6.11", "intel"), "intel-cache-tag@6.11");
  assert.equal(policyForKernel("6.18.1", "intel"), "intel-batched@6.18.1");
  assert.equal(policyForKernel("6.12", "arm-smmuv3"), "smmuv3-no-btm");
  assert.equal(policyForKernel("6.12", "amd"), "amd-per-device@6.12");
});
