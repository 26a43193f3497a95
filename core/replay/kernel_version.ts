/**
 * Kernel version strings (`uname -r`) parsed and compared, for per-version policy rules.
 *
 * @module
 */
import { UsageError } from "../errors.ts";

/** A parsed kernel version; `patch` is null when the string gave only major.minor. */
export interface KernelVersion {
  /** Major number. */
  readonly major: number;
  /** Minor number. */
  readonly minor: number;
  /** Patch level, null when not given. */
  readonly patch: number | null;
  /** The text it was parsed from. */
  readonly text: string;
}

/**
 * Parses `6.12.9-arch1-1`, `6.10`, `v6.10.0`.
 *
 * @param text the version string
 * @returns the version
 * @throws {UsageError} when the text does not start with `major.minor`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseKernelVersion } from "./kernel_version.ts";
 * const v = parseKernelVersion("6.12.9-arch1");
 * assert(v.major === 6 && v.minor === 12 && v.patch === 9);
 * ```
 */
export function parseKernelVersion(text: string): KernelVersion {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,4}))?/.exec(text.trim());
  if (!m) throw new UsageError(`bad kernel version "${text}": expected major.minor[.patch]`);
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: m[3] === undefined ? null : Number(m[3]),
    text,
  };
}

/**
 * True when `v` is at least `major.minor` (patch ignored).
 *
 * @param v a version
 * @param major major number
 * @param minor minor number
 * @returns `v >= major.minor`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { atLeast, parseKernelVersion } from "./kernel_version.ts";
 * assert(atLeast(parseKernelVersion("6.10.3"), 6, 6));
 * assert(!atLeast(parseKernelVersion("5.10"), 5, 11));
 * ```
 */
export function atLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}
