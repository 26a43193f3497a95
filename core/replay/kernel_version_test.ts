import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { atLeast, parseKernelVersion } from "./kernel_version.ts";

Deno.test("parseKernelVersion", () => {
  assert.deepEqual(parseKernelVersion("6.12.9-arch1-1"), {
    major: 6,
    minor: 12,
    patch: 9,
    text: "6.12.9-arch1-1",
  });
  assert.equal(parseKernelVersion("v6.10").patch, null);
  assert.throws(() => parseKernelVersion("six"), UsageError);
  assert.ok(atLeast(parseKernelVersion("7.0"), 6, 12));
  assert.ok(!atLeast(parseKernelVersion("6.9.12"), 6, 10));
});
