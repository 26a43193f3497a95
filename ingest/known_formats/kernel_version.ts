/**
 * Kernel release strings (`uname -r`) reduced to comparable `major.minor` pairs.
 *
 * Tracepoint layouts change only with mainline releases, so the patch level and any
 * distribution suffix (`6.18.44-fc-v595`, `6.1.0-18-amd64`) are ignored.
 *
 * @module
 */

import { UsageError } from "../../core/errors.ts";

/** A mainline kernel release, `major.minor`. */
export interface KernelVersion {
  /** Major number (`6` in `6.18.44`). */
  major: number;
  /** Minor number (`18` in `6.18.44`). */
  minor: number;
}

/**
 * Parses a kernel release string such as `6.18.44-fc-v595`, `6.1` or `v6.10-rc3`.
 *
 * @param release the text of `uname -r` (a leading `v` is accepted)
 * @returns the major and minor numbers
 * @throws {UsageError} when the text does not start with `<major>.<minor>`
 * @example
 * ```ts
 * import { parseKernelVersion } from "./kernel_version.ts";
 * const v = parseKernelVersion("6.18.44-fc-v595");
 * console.assert(v.major === 6 && v.minor === 18);
 * ```
 */
export function parseKernelVersion(release: string): KernelVersion {
  const m = /^v?(\d{1,3})\.(\d{1,3})(?![0-9])/.exec(release.trim());
  if (!m) {
    throw new UsageError(
      `not a kernel version: ${JSON.stringify(release)} (expected e.g. 6.18 or 6.1.0-18-amd64)`,
    );
  }
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/**
 * Orders two kernel releases by `major.minor`.
 *
 * @param a a release string or parsed version
 * @param b a release string or parsed version
 * @returns a negative number when `a` is older, 0 when equal, positive when newer
 * @example
 * ```ts
 * import { compareKernelVersions } from "./kernel_version.ts";
 * console.assert(compareKernelVersions("6.9", "6.10") < 0);
 * console.assert(compareKernelVersions("6.18.44-x", "6.18") === 0);
 * ```
 */
export function compareKernelVersions(
  a: string | KernelVersion,
  b: string | KernelVersion,
): number {
  const x = typeof a === "string" ? parseKernelVersion(a) : a;
  const y = typeof b === "string" ? parseKernelVersion(b) : b;
  return x.major !== y.major ? x.major - y.major : x.minor - y.minor;
}

/**
 * Formats a parsed version as `major.minor`.
 *
 * @param v the version
 * @returns e.g. `6.18`
 * @example
 * ```ts
 * import { formatKernelVersion } from "./kernel_version.ts";
 * console.assert(formatKernelVersion({ major: 6, minor: 1 }) === "6.1");
 * ```
 */
export function formatKernelVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}`;
}
