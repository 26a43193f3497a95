/**
 * `main.trace_info` and `main.events`: what every ingest writes besides the raw event tables.
 *
 * @module
 */
import { defineTable, type TableSpec } from "./schema.ts";

/** One row describing an ingested trace. */
export interface TraceInfoRow {
  source: string;
  format: string;
  version: string;
  clock: string | null;
  clock_is_ns: boolean;
  kernel: string | null;
  tracer_version: string | null;
  cpus: number;
  page_size: number | null;
  long_size: number | null;
  endian: string;
  compression: string;
  options: string;
  buffers: string;
  events: bigint;
  event_types: number;
  lost_events: bigint;
  lost_pages_unknown_count: number;
  damaged_pages: number;
  lost_bytes: bigint;
  unknown_events: bigint;
  unparsed_lines: bigint;
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
