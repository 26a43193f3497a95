import assert from "node:assert/strict";
import {
  compareKernelVersions,
  formatKernelVersion,
  parseKernelVersion,
} from "./kernel_version.ts";
import { UsageError } from "../../core/errors.ts";

Deno.test("parses uname -r strings and ignores patch level and suffixes", () => {
  assert.deepEqual(parseKernelVersion("6.18.44-fc-v595"), { major: 6, minor: 18 });
  assert.deepEqual(parseKernelVersion("6.1.0-18-amd64"), { major: 6, minor: 1 });
  assert.deepEqual(parseKernelVersion("v6.10-rc3"), { major: 6, minor: 10 });
  assert.deepEqual(parseKernelVersion(" 7.1 "), { major: 7, minor: 1 });
  assert.equal(formatKernelVersion(parseKernelVersion("5.15.0-91-generic")), "5.15");
});

Deno.test("rejects text that is not a version", () => {
  for (const bad of ["", "six.1", "6", "6.x", "1234.5"]) {
    assert.throws(() => parseKernelVersion(bad), UsageError, bad);
  }
});

Deno.test("orders numerically, not lexically", () => {
  assert.ok(compareKernelVersions("6.9", "6.10") < 0);
  assert.ok(compareKernelVersions("7.0", "6.18") > 0);
  assert.equal(compareKernelVersions("6.18.1", "6.18.44-x"), 0);
  assert.ok(compareKernelVersions({ major: 5, minor: 15 }, "6.1") < 0);
});
