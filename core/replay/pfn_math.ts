/**
 * Exact integer math on 4 KiB page frame numbers held in plain JS numbers.
 *
 * A 64-bit address has a 52-bit page frame number, and every integer below 2^53 is exact in a
 * float64, so the replay hot path keeps page numbers as `number` (no `bigint`, no allocation).
 * JS bitwise operators only see 32 bits, so the helpers here split values into high and low
 * words, or use division by powers of two (always exact for these values).
 *
 * @module
 */

/** Bytes per page (VT-d, SMMUv3 with a 4 KiB granule, AMD: all 4 KiB). */
export const PAGE_SIZE = 4096;

/** Pages in a whole 64-bit address space (2^52). */
export const ALL_PAGES = 2 ** 52;

const TWO32 = 2 ** 32;

/** `POW2[k]` = 2^k for k in 0..64. */
export const POW2: Float64Array = (() => {
  const t = new Float64Array(65);
  for (let k = 0; k <= 64; k++) t[k] = 2 ** k;
  return t;
})();

/**
 * Index of the highest set bit plus one (the kernel's `fls`); 0 for 0.
 *
 * @param x a non-negative integer below 2^53
 * @returns 0..53
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fls } from "./pfn_math.ts";
 * assert(fls(1) === 1 && fls(0x80000) === 20 && fls(2 ** 40) === 41);
 * ```
 */
export function fls(x: number): number {
  if (x < TWO32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO32));
}

/**
 * Index of the lowest set bit (the kernel's `__ffs`); 64 for 0.
 *
 * @param x a non-negative integer below 2^53
 * @returns 0..52, or 64 when `x` is 0
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ffs } from "./pfn_math.ts";
 * assert(ffs(12) === 2 && ffs(2 ** 40) === 40 && ffs(0) === 64);
 * ```
 */
export function ffs(x: number): number {
  const lo = x >>> 0; // ToUint32 keeps the low 32 bits of any integer below 2^53

  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / TWO32);
  if (hi === 0) return 64;
  return 63 - Math.clz32(hi & -hi);
}

/**
 * Bitwise XOR of two integers below 2^53.
 *
 * @param a first operand
 * @param b second operand
 * @returns `a ^ b`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xor } from "./pfn_math.ts";
 * assert(xor(2 ** 40 + 3, 5) === 2 ** 40 + 6);
 * ```
 */
export function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO32) ^ Math.floor(b / TWO32)) >>> 0;
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  return hi * TWO32 + lo;
}

/**
 * Rounds down to a multiple of a power of two.
 *
 * @param x integer below 2^53
 * @param pow2 a power of two
 * @returns the largest multiple of `pow2` that is `<= x`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignDown } from "./pfn_math.ts";
 * assert(alignDown(7, 4) === 4);
 * ```
 */
export function alignDown(x: number, pow2: number): number {
  // division by a power of two is exact; Math.floor is cheaper than a float remainder
  return Math.floor(x / pow2) * pow2;
}

/**
 * Rounds up to a multiple of a power of two.
 *
 * @param x integer below 2^53
 * @param pow2 a power of two
 * @returns the smallest multiple of `pow2` that is `>= x`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alignUp } from "./pfn_math.ts";
 * assert(alignUp(5, 4) === 8 && alignUp(8, 4) === 8);
 * ```
 */
export function alignUp(x: number, pow2: number): number {
  return Math.ceil(x / pow2) * pow2;
}

/**
 * log2 of the smallest power of two `>= n` (the kernel's `order_base_2`, `ilog2(roundup_pow_of_two(n))`).
 *
 * @param n a positive integer below 2^53
 * @returns the order
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orderBase2 } from "./pfn_math.ts";
 * assert(orderBase2(1) === 0 && orderBase2(2) === 1 && orderBase2(3) === 2 && orderBase2(33) === 6);
 * ```
 */
export function orderBase2(n: number): number {
  return n <= 1 ? 0 : fls(n - 1);
}

/**
 * Order of the smallest naturally aligned power-of-two block that contains both page frames
 * (`fls(first ^ last)`): the PCIe ATS "S bit" size encoding that the Intel pre-v5.11 devTLB path,
 * SMMUv3 `ATC_INV` and the AMD `build_inv_address` use.
 *
 * @param firstPfn first page frame
 * @param lastPfn last page frame (inclusive)
 * @returns the block order (0 for a single page)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spanOrder } from "./pfn_math.ts";
 * // pages [7;10] become [0;15]: order 4
 * assert(spanOrder(7, 10) === 4 && spanOrder(5, 5) === 0);
 * ```
 */
export function spanOrder(firstPfn: number, lastPfn: number): number {
  return fls(xor(firstPfn, lastPfn));
}

/**
 * The VT-d cache-tag range-to-mask rule (`calculate_psi_aligned_address`, v6.10+, iommu.md §3.2(e)):
 * the order of one naturally aligned power-of-two block covering `pages` pages from `startPfn`.
 * If `startPfn` is not aligned to the rounded-up size, the order is the lowest bit at or above it
 * where `startPfn` and the last page agree on 0 in `~(first ^ last)`, i.e. the lowest zero bit of
 * `first ^ last` at or above that order. With 52-bit page numbers the result is at most 52; 52
 * means the whole address space.
 *
 * @param startPfn first page frame
 * @param pages number of pages (>= 1)
 * @returns the mask (block order), 0..52
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { psiMask } from "./pfn_math.ts";
 * assert(psiMask(4, 4) === 2);          // aligned
 * assert(psiMask(3, 2) === 3);          // pfn 3-4 -> block 0-7
 * assert(psiMask(0x7ffff, 2) === 20);   // straddles a 4 GiB boundary
 * ```
 */
export function psiMask(startPfn: number, pages: number): number {
  const order = orderBase2(pages);
  const size = POW2[order]!;
  if (Math.floor(startPfn / size) * size === startPfn) return order;
  const diff = xor(startPfn, startPfn + pages - 1);
  // lowest zero bit of diff at or above `order`: lowest set bit of (diff >> order) + 1
  const m = order + ffs(Math.floor(diff / POW2[order]!) + 1);
  return m > 52 ? 52 : m;
}

const TWO53N = 1n << 53n;
const U64_SCRATCH = new BigUint64Array(1);
const U64_WORDS = new Uint32Array(U64_SCRATCH.buffer);
// the high word's index in the scratch pair: 1 on little-endian hosts
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * `Number(x)` for a bigint, cheaply on the hot path: values in [0, 2^53) go through a 64-bit
 * typed-array word pair (V8's `Number(bigint)` is a runtime call several times slower); others
 * take `Number(x)` itself. Same result as `Number(x)` for every bigint.
 *
 * @param x any bigint
 * @returns `Number(x)`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bigintToNumber } from "./pfn_math.ts";
 * assert.equal(bigintToNumber(0x7f0000001000n), 0x7f0000001000);
 * assert.equal(bigintToNumber(-5n), -5);
 * assert.equal(bigintToNumber(1n << 64n), 2 ** 64);
 * ```
 */
export function bigintToNumber(x: bigint): number {
  if (x >= 0n && x < TWO53N) {
    U64_SCRATCH[0] = x;
    return U64_WORDS[HI]! * TWO32 + U64_WORDS[1 - HI]!;
  }
  return Number(x);
}
