import assert from "node:assert/strict";
import {
  alignDown,
  alignUp,
  bigintToNumber,
  ffs,
  fls,
  orderBase2,
  psiMask,
  spanOrder,
  xor,
} from "./pfn_math.ts";

Deno.test("fls / ffs across the 32-bit boundary", () => {
  assert.deepEqual([fls(0), fls(1), fls(0xffffffff), fls(2 ** 32), fls(2 ** 52 - 1)], [
    0,
    1,
    32,
    33,
    52,
  ]);
  assert.deepEqual([ffs(1), ffs(0x80000000), ffs(2 ** 32), ffs(2 ** 51 + 2 ** 40), ffs(0)], [
    0,
    31,
    32,
    40,
    64,
  ]);
});

Deno.test("xor of 52-bit values", () => {
  assert.equal(xor(2 ** 51 + 0xf0, 2 ** 51 + 0x0f), 0xff);
  assert.equal(xor(2 ** 40, 0), 2 ** 40);
  assert.equal(xor(0xffffffff, 2 ** 32), 2 ** 33 - 1);
});

Deno.test("alignment and orders", () => {
  assert.deepEqual([alignDown(0x107, 8), alignUp(0x101, 8), alignUp(0x108, 8)], [
    0x100,
    0x108,
    0x108,
  ]);
  assert.deepEqual([orderBase2(1), orderBase2(4), orderBase2(5), orderBase2(2 ** 40 + 1)], [
    0,
    2,
    3,
    41,
  ]);
});

Deno.test("spanOrder: ATS size encoding", () => {
  assert.equal(spanOrder(7, 10), 4); // [7;10] -> [0;15]
  assert.equal(spanOrder(8, 11), 2);
  assert.equal(spanOrder(0, 2 ** 52 - 1), 52);
});

Deno.test("psiMask: calculate_psi_aligned_address cases", () => {
  assert.equal(psiMask(0x100, 4), 2);
  assert.equal(psiMask(0x102, 4), 3);
  assert.equal(psiMask(3, 2), 3);
  assert.equal(psiMask(0x7ffff, 2), 20);
  assert.equal(psiMask(0x1000, 33), 6);
  assert.equal(psiMask(2 ** 51 - 1, 2), 52);
  assert.equal(psiMask(0, 2 ** 52), 52);
});

Deno.test("bigintToNumber equals Number() on every kind of bigint", () => {
  const xs = [0n, 1n, 4095n, 2n ** 32n - 1n, 2n ** 32n, 0x7f0000001000n, 2n ** 53n - 1n, 2n ** 53n];
  xs.push(2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, 2n ** 70n + 3n, -1n, -(2n ** 60n));
  let x = 0x2545f4914f6cdd1dn;
  for (let i = 0; i < 1000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & (2n ** 64n - 1n);
    xs.push(x, x >> BigInt(i % 64));
  }
  for (const v of xs) assert.equal(bigintToNumber(v), Number(v), String(v));
});
