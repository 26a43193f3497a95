import assert from "node:assert/strict";
import { compressBlock, decompressBlock } from "./compression.ts";
import { UsageError } from "../core/errors.ts";

Deno.test("zstd frames start with the zstd magic and round-trip", () => {
  const data = new TextEncoder().encode("tlb_flush ".repeat(500));
  const z = compressBlock("zstd", data);
  assert.deepEqual([...z.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  assert.ok(z.length < data.length / 10);
  assert.deepEqual(decompressBlock("zstd", z), data);
});

Deno.test("zlib uses RFC 1950 framing at best compression", () => {
  const data = new TextEncoder().encode("qi_submit ".repeat(500));
  const z = compressBlock("zlib", data);
  assert.deepEqual([...z.subarray(0, 2)], [0x78, 0xda]);
  assert.deepEqual(decompressBlock("zlib", z), data);
});

Deno.test("none has no codec", () => {
  assert.throws(() => compressBlock("none", new Uint8Array(1)), UsageError);
});
