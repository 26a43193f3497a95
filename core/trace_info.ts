/**
 * `main.trace_info` and `main.events`: what every ingest writes besides the raw event tables.
 *
 * @module
 */
import { defineTable, type TableSpec } from "./schema.ts";

/** One row describing an ingested trace. */
export interface TraceInfoRow {
  /** Input file path. */
  source: string;
  /** Detected format: `tracedat`, `ftrace_text`, `tracecmd_report`, `perf_data` or `perf_script`. */
  format: string;
  /** File format version (trace.dat `6`/`7`, perf `2` or `2-pipe`, ...). */
  version: string;
  /** Trace clock (`local`, `x86-tsc`, `counter`, ...), null if the file does not say. */
  clock: string | null;
  /** False when `ts` holds raw counts of a non-ns clock instead of nanoseconds. */
  clock_is_ns: boolean;
  /** uname of the traced machine, null if the file does not record it. */
  kernel: string | null;
  /** trace-cmd / perf version that wrote the file, null if unknown. */
  tracer_version: string | null;
  /** CPU count. */
  cpus: number;
  /** Ring-buffer page size in bytes, null if the format has none (text, perf without tracing data). */
  page_size: number | null;
  /** Kernel `sizeof(long)` in bytes, null if unknown. */
  long_size: number | null;
  /** Byte order of the file: `little` or `big`. */
  endian: string;
  /** Compression of the file: `none`, `zstd` or `zlib`. */
  compression: string;
  /** Options present in the file, comma separated. */
  options: string;
  /** Buffer instances, comma separated (the top-level buffer is `''`). */
  buffers: string;
  /** Events read. */
  events: bigint;
  /** Event types with at least one event. */
  event_types: number;
  /** Events the kernel reported lost (sum of the stored counts). */
  lost_events: bigint;
  /** Ring-buffer pages flagged as having lost events without a count. */
  lost_pages_unknown_count: number;
  /** Malformed pages (the page walk stopped early). */
  damaged_pages: number;
  /** Bytes of a damaged or truncated tail that were not read. */
  lost_bytes: bigint;
  /** Records with an event id that has no format. */
  unknown_events: bigint;
  /** Text lines that matched nothing (text formats; 0 for binary ones). */
  unparsed_lines: bigint;
  /** Warnings raised while reading. */
  warnings: number;
}

/** Declaration of `main.trace_info`. */
export const TRACE_INFO_TABLE: TableSpec = defineTable({
  schema: "main",
  name: "trace_info",
  doc: "One row per ingested trace: file facts, clock and what was lost or skipped.",
  columns: [
    { name: "source", type: "utf8", doc: "input file" },
    {
      name: "format",
      type: "utf8",
      doc: "tracedat, ftrace_text, tracecmd_report, perf_data, perf_script",
    },
    { name: "version", type: "utf8", doc: "file format version (trace.dat 6/7, perf header)" },
    {
      name: "clock",
      type: "utf8",
      doc: "trace clock (local, x86-tsc, counter, ...)",
      nullable: true,
    },
    { name: "clock_is_ns", type: "bool", doc: "false when ts holds raw counts of a non-ns clock" },
    { name: "kernel", type: "utf8", doc: "uname of the traced machine", nullable: true },
    { name: "tracer_version", type: "utf8", doc: "trace-cmd / perf version", nullable: true },
    { name: "cpus", type: "u32", doc: "CPU count" },
    { name: "page_size", type: "u32", doc: "ring-buffer page size", nullable: true },
    { name: "long_size", type: "u32", doc: "kernel sizeof(long)", nullable: true },
    { name: "endian", type: "utf8", doc: "little or big" },
    { name: "compression", type: "utf8", doc: "none, zstd, zlib" },
    { name: "options", type: "utf8", doc: "options present, comma separated" },
    { name: "buffers", type: "utf8", doc: "buffer instances, comma separated (top = '')" },
    { name: "events", type: "u64", doc: "events read" },
    { name: "event_types", type: "u32", doc: "event types with at least one event" },
    { name: "lost_events", type: "u64", doc: "events the kernel reported lost (stored counts)" },
    { name: "lost_pages_unknown_count", type: "u32", doc: "pages flagged lost without a count" },
    { name: "damaged_pages", type: "u32", doc: "malformed pages (walk stopped early)" },
    { name: "lost_bytes", type: "u64", doc: "bytes of a damaged or truncated tail not read" },
    { name: "unknown_events", type: "u64", doc: "records with an event id that has no format" },
    { name: "unparsed_lines", type: "u64", doc: "text lines that matched nothing" },
    { name: "warnings", type: "u32", doc: "warnings raised while reading" },
  ],
});

/**
 * Declaration of `main.events`, the time-ordered index of every event (written by ingest's raw
 * table builder; a test checks the written schema against this declaration).
 */
export const EVENTS_TABLE: TableSpec = defineTable({
  schema: "main",
  name: "events",
  doc: "One row per event of the trace, in time order (ties: top buffer, then lower CPU).",
  columns: [
    {
      name: "ts",
      type: "i64",
      doc: "timestamp (ns after trace-cmd's corrections; raw counts for non-ns clocks)",
    },
    { name: "cpu", type: "u32", doc: "CPU" },
    { name: "pid", type: "i32", doc: "common_pid" },
    { name: "comm", type: "utf8", doc: "command name of pid (saved cmdlines / COMM records)" },
    { name: "system", type: "utf8", doc: "trace system (DuckDB schema of the event's table)" },
    { name: "event", type: "utf8", doc: "event name (table name)" },
    { name: "buffer", type: "utf8", doc: "buffer instance ('' = top-level buffer)" },
  ],
});

/**
 * The columns every raw event table `<system>.<event>` starts with, before the event's own fields
 * (typed from its format file; a field named like one of these is renamed `f_<name>`).
 */
export const RAW_EVENT_COMMON_COLUMNS: TableSpec = defineTable({
  schema: "<system>",
  name: "<event>",
  doc:
    "One row per event of that type. After these columns come the event's own fields under their " +
    "format-file names: u8..u64/s8..s64 as (U)Int8..64, char arrays and __data_loc strings as " +
    "dictionary-encoded VARCHAR, other arrays as lists.",
  columns: [
    { name: "ts", type: "i64", doc: "timestamp (ns)" },
    { name: "cpu", type: "u32", doc: "CPU" },
    { name: "pid", type: "i32", doc: "common_pid" },
    { name: "comm", type: "utf8", doc: "command name" },
    {
      name: "flags",
      type: "u8",
      doc: "common_flags (irqs-off 0x01, need-resched 0x04, hardirq 0x08, softirq 0x10, ...)",
      nullable: true,
    },
    {
      name: "preempt_count",
      type: "u8",
      doc: "common_preempt_count (low nibble depth, high nibble migrate-disable)",
      nullable: true,
    },
    { name: "buffer", type: "utf8", doc: "buffer instance ('' = top-level buffer)" },
  ],
});
