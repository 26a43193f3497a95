/**
 * perf.data feature sections (file mode: a table after the data section; pipe mode:
 * HEADER_FEATURE records): the few this reader reports in `trace_info`.
 *
 * @module
 */
import type { ByteReader } from "../byte_reader.ts";
import { FEAT } from "./perf_constants.ts";

/** What the feature sections told about the recording. */
export interface PerfFeatures {
  /** Feature ids present (set bits / HEADER_FEATURE records seen). */
  present: number[];
  /** Host name of the recording machine. */
  hostname: string | null;
  /** `uname -r` of the traced machine. */
  osRelease: string | null;
  /** perf version that recorded. */
  perfVersion: string | null;
  /** Machine architecture (`uname -m`). */
  arch: string | null;
  /** CPUs online / available when recording. */
  cpusOnline: number | null;
  /** CPUs available. */
  cpusAvail: number | null;
  /** `perf record` command line. */
  cmdline: string | null;
  /** COMPRESSED: `{version, type (1 = zstd), level, ratio, mmap_len}`. */
  compression: { type: number; level: number; mmapLen: number } | null;
  /** CLOCKID: the `clockid_t` given with `perf record -k`, null for perf's default clock. */
  clockId: number | null;
}

/** Empty feature set. */
export function emptyFeatures(): PerfFeatures {
  return {
    present: [],
    hostname: null,
    osRelease: null,
    perfVersion: null,
    arch: null,
    cpusOnline: null,
    cpusAvail: null,
    cmdline: null,
    compression: null,
    clockId: null,
  };
}

/** Names of the `clockid_t` values perf accepts with `-k`. */
const CLOCK_NAMES: Record<number, string> = {
  0: "realtime",
  1: "monotonic",
  4: "monotonic_raw",
  5: "realtime_coarse",
  6: "monotonic_coarse",
  7: "boottime",
  11: "tai",
};

/**
 * The clock name of a perf recording, as `trace_info.clock` shows it.
 *
 * @param clockId CLOCKID feature value, null when absent
 * @returns `perf` (the kernel's `perf_clock()`, sched_clock ns) or the `-k` clock's name
 * @example
 * ```ts
 * import { clockName } from "./perf_features.ts";
 * console.assert(clockName(null) === "perf" && clockName(1) === "monotonic");
 * ```
 */
export function clockName(clockId: number | null): string {
  if (clockId === null) return "perf";
  return CLOCK_NAMES[clockId] ?? `clockid ${clockId}`;
}

/** Reads a `perf_header_string`: u32 length (padding included) + NUL-padded text. */
function headerString(r: ByteReader): string {
  const n = r.size32("string length", r.remaining - 4);
  const b = r.take(n, "string");
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

/**
 * Reads one feature section's payload into `out` (unknown or unused ids are only recorded as
 * present).
 *
 * @param id feature id
 * @param r reader over exactly the section's bytes, in the file's byte order
 * @param out the features to update
 * @throws {import("../../core/errors.ts").TraceError} when a section is shorter than its content
 * @example
 * ```ts
 * import { ByteReader } from "../byte_reader.ts";
 * import { emptyFeatures, readFeature } from "./perf_features.ts";
 * const b = new Uint8Array([8, 0, 0, 0, 0x36, 0x2e, 0x31, 0, 0, 0, 0, 0]);
 * const f = emptyFeatures();
 * readFeature(4, new ByteReader(b, true, "f", "feature 4"), f);
 * console.assert(f.osRelease === "6.1");
 * ```
 */
export function readFeature(id: number, r: ByteReader, out: PerfFeatures): void {
  if (!out.present.includes(id)) out.present.push(id);
  switch (id) {
    case FEAT.HOSTNAME:
      out.hostname = headerString(r);
      break;
    case FEAT.OSRELEASE:
      out.osRelease = headerString(r);
      break;
    case FEAT.VERSION:
      out.perfVersion = headerString(r);
      break;
    case FEAT.ARCH:
      out.arch = headerString(r);
      break;
    case FEAT.NRCPUS:
      out.cpusAvail = r.u32();
      out.cpusOnline = r.u32();
      break;
    case FEAT.CMDLINE: {
      const n = r.size32("cmdline count", r.remaining / 4);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(headerString(r));
      out.cmdline = parts.join(" ");
      break;
    }
    case FEAT.COMPRESSED: {
      r.u32(); // version
      const type = r.u32();
      const level = r.u32();
      r.u32(); // ratio
      const mmapLen = r.u32();
      out.compression = { type, level, mmapLen };
      break;
    }
    case FEAT.CLOCKID: {
      const v = r.u64();
      out.clockId = v > 0xffffn ? -1 : Number(v);
      break;
    }
    default:
      break;
  }
}
