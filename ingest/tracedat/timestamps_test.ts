import { strictEqual } from "node:assert/strict";
import { clockIsNs, mulU64U32Shr } from "./timestamps.ts";

Deno.test("mul_u64_u32_shr as trace-cmd computes it, including the high word", () => {
  strictEqual(mulU64U32Shr(1000n, 3n, 1), 1500n);
  // a = 2^32 + 10: low part (10*mul)>>shift plus (1*mul) << (32-shift)
  const a = (1n << 32n) + 10n;
  strictEqual(mulU64U32Shr(a, 1000n, 10), ((10n * 1000n) >> 10n) + (1000n << 22n));
});

Deno.test("clocks trace-cmd shows as nanoseconds", () => {
  strictEqual(clockIsNs("local", false), true);
  strictEqual(clockIsNs("mono_raw", false), true);
  strictEqual(clockIsNs("x86-tsc", false), false);
  strictEqual(clockIsNs("counter", false), false);
  strictEqual(clockIsNs("x86-tsc", true), true);
  strictEqual(clockIsNs(null, false), true);
});
