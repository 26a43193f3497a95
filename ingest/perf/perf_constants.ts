/**
 * Numbers of the perf.data format: record types, `sample_type` and `read_format` bits, feature
 * section ids (Linux `include/uapi/linux/perf_event.h`, `tools/lib/perf/include/perf/event.h`,
 * `tools/perf/util/header.h`; see `../shared/research/formats.md` §3).
 *
 * @module
 */

/** `PERF_RECORD_*` types: kernel records (< 64) and records the perf tool writes (>= 64). */
export const REC = {
  MMAP: 1,
  LOST: 2,
  COMM: 3,
  EXIT: 4,
  THROTTLE: 5,
  UNTHROTTLE: 6,
  FORK: 7,
  READ: 8,
  SAMPLE: 9,
  MMAP2: 10,
  AUX: 11,
  ITRACE_START: 12,
  LOST_SAMPLES: 13,
  SWITCH: 14,
  SWITCH_CPU_WIDE: 15,
  HEADER_ATTR: 64,
  HEADER_EVENT_TYPE: 65,
  HEADER_TRACING_DATA: 66,
  HEADER_BUILD_ID: 67,
  FINISHED_ROUND: 68,
  ID_INDEX: 69,
  AUXTRACE_INFO: 70,
  AUXTRACE: 71,
  THREAD_MAP: 73,
  CPU_MAP: 74,
  EVENT_UPDATE: 78,
  TIME_CONV: 79,
  HEADER_FEATURE: 80,
  COMPRESSED: 81,
  FINISHED_INIT: 82,
  COMPRESSED2: 83,
} as const;

/** First record type written by the perf tool rather than the kernel. */
export const USER_TYPE_START = 64;

/** `PERF_SAMPLE_*` bits of `perf_event_attr.sample_type`. */
export const SAMPLE = {
  IP: 1 << 0,
  TID: 1 << 1,
  TIME: 1 << 2,
  ADDR: 1 << 3,
  READ: 1 << 4,
  CALLCHAIN: 1 << 5,
  ID: 1 << 6,
  CPU: 1 << 7,
  PERIOD: 1 << 8,
  STREAM_ID: 1 << 9,
  RAW: 1 << 10,
  IDENTIFIER: 1 << 16,
} as const;

/** `PERF_FORMAT_*` bits of `perf_event_attr.read_format`. */
export const READ_FORMAT = {
  TOTAL_TIME_ENABLED: 1 << 0,
  TOTAL_TIME_RUNNING: 1 << 1,
  ID: 1 << 2,
  GROUP: 1 << 3,
  LOST: 1 << 4,
} as const;

/** `PERF_TYPE_TRACEPOINT`: `attr.config` is the tracepoint id (the format's `ID:`). */
export const PERF_TYPE_TRACEPOINT = 2;

/** Bit of `sample_id_all` in the attr flag bit field (counted from the first bit field). */
export const FLAG_SAMPLE_ID_ALL = 18;

/** `PERF_RECORD_MISC_COMM_EXEC`: a COMM record caused by exec. */
export const MISC_COMM_EXEC = 1 << 13;

/** Size of `perf_event_attr` version 0 (the smallest a file may hold). */
export const ATTR_SIZE_VER0 = 64;

/** Feature section ids (bit numbers of the header's feature bitmap). */
export const FEAT = {
  TRACING_DATA: 1,
  BUILD_ID: 2,
  HOSTNAME: 3,
  OSRELEASE: 4,
  VERSION: 5,
  ARCH: 6,
  NRCPUS: 7,
  CPUDESC: 8,
  CPUID: 9,
  TOTAL_MEM: 10,
  CMDLINE: 11,
  EVENT_DESC: 12,
  CLOCKID: 23,
  COMPRESSED: 27,
} as const;

/** Number of feature bits in the header bitmap (`u64 flags[4]`). */
export const FEAT_BITS = 256;
