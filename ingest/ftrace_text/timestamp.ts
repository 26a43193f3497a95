/**
 * Timestamps as ftrace text prints them, back to int64 nanoseconds.
 *
 * - `seconds.fraction` (ns clocks): the fraction has 6 digits in the kernel `trace` file and in
 *   `trace-cmd report` (microseconds, **rounded** by both: `(ns + 500) / 1000`), 9 under
 *   `trace-cmd report -t`. The value is converted exactly as printed: `250.672888` becomes
 *   250672888000 ns, so a text timestamp is the binary one rounded to the printed precision.
 * - a bare integer (counter, x86-tsc, uptime clocks): a raw count, kept as is.
 *
 * @module
 */

/** A parsed timestamp. */
export interface TextTimestamp {
  /** Nanoseconds, or the raw count of a non-ns clock. */
  ts: bigint;
  /** False for a bare integer (a non-ns clock's count). */
  isNs: boolean;
  /** Digits after the point (0 for a bare integer). */
  digits: number;
}

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/**
 * Parses `123.456789`, `250.672887703` or `999239826013`.
 *
 * @param s the timestamp text (digits, at most one point, at most 9 fraction digits)
 * @returns the timestamp, or null if `s` is not one
 * @example
 * ```ts
 * import { parseTextTimestamp } from "./timestamp.ts";
 * console.assert(parseTextTimestamp("383.902511")!.ts === 383902511000n);
 * console.assert(parseTextTimestamp("250.672887703")!.ts === 250672887703n);
 * console.assert(parseTextTimestamp("3126")!.isNs === false);
 * ```
 */
export function parseTextTimestamp(s: string): TextTimestamp | null {
  const dot = s.indexOf(".");
  const intPart = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? "" : s.slice(dot + 1);
  if (intPart.length === 0 || intPart.length > 20 || frac.length > 9) return null;
  if (dot >= 0 && frac.length === 0) return null;
  if (!allDigits(intPart) || !allDigits(frac)) return null;
  if (dot < 0) {
    const v = intPart.length <= 15 ? BigInt(Number(intPart)) : BigInt(intPart);
    if (v > 0x7fffffffffffffffn) return null;
    return { ts: v, isNs: false, digits: 0 };
  }
  const scale = POW10[9 - frac.length]!;
  const fracNs = (frac.length ? Number(frac) : 0) * scale;
  let ts: bigint;
  if (intPart.length <= 6) {
    // < 1e6 s: the ns value stays below 2^53, exact in a double.
    ts = BigInt(Number(intPart) * 1e9 + fracNs);
  } else {
    ts = BigInt(intPart) * 1000000000n + BigInt(fracNs);
  }
  if (ts > 0x7fffffffffffffffn) return null;
  return { ts, isNs: true, digits: frac.length };
}

function allDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
