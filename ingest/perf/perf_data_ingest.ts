/**
 * perf.data (file or pipe mode) -> raw Arrow tables: each tracepoint sample's RAW payload is the
 * ftrace record, so its fields are copied straight into the same typed columns as trace.dat's.
 *
 * Columns follow the raw-table contract; for perf: `ts` is the sample time (ns), `pid` the
 * sample's tid (what `perf script` prints; `common_pid` when the sample has no TID), `comm` the
 * thread's name from COMM/FORK records at that time, `flags` and `preempt_count` come from the
 * ftrace record, `buffer` is `""`.
 *
 * @module
 */
import type { TraceWarning } from "../../core/errors.ts";
import type { TraceInfoRow } from "../../core/trace_info.ts";
import type { EventTable, RawTables } from "../arrow/raw_tables.ts";
import type { RecordRows } from "../arrow/record_rows.ts";
import type { FileSource } from "../file_source.ts";
import type { EventFormat } from "../format/types.ts";
import { FEAT } from "./perf_constants.ts";
import { clockName } from "./perf_features.ts";
import {
  type PerfEvsel,
  type PerfReadOptions,
  type PerfReadResult,
  type PerfSampleRows,
  readPerfData,
} from "./perf_reader.ts";

const FEATURE_NAMES: Record<number, string> = {
  [FEAT.TRACING_DATA]: "tracing_data",
  [FEAT.BUILD_ID]: "build_id",
  [FEAT.HOSTNAME]: "hostname",
  [FEAT.OSRELEASE]: "osrelease",
  [FEAT.VERSION]: "version",
  [FEAT.ARCH]: "arch",
  [FEAT.NRCPUS]: "nrcpus",
  [FEAT.CPUDESC]: "cpudesc",
  [FEAT.CPUID]: "cpuid",
  [FEAT.TOTAL_MEM]: "total_mem",
  [FEAT.CMDLINE]: "cmdline",
  [FEAT.EVENT_DESC]: "event_desc",
  [FEAT.CLOCKID]: "clockid",
  [FEAT.COMPRESSED]: "compressed",
};

const U64_MAX = (1n << 64n) - 1n;

/**
 * The `trace_info` row of a perf.data read.
 *
 * @param r the read result
 * @param eventTypes tables that got rows
 * @param warnings warnings count
 * @returns the row
 */
export function perfTraceInfo(
  r: PerfReadResult,
  eventTypes: number,
  warnings: number,
): TraceInfoRow {
  const { session: s, stats: st } = r;
  const f = s.features;
  const opts = [...f.present].sort((a, b) => a - b).map((id) =>
    FEATURE_NAMES[id] ?? `feature${id}`
  );
  if (s.header.pipe) opts.unshift("pipe");
  return {
    source: s.file,
    format: "perf_data",
    version: s.header.pipe ? "2-pipe" : "2",
    clock: clockName(f.clockId),
    clock_is_ns: true,
    kernel: f.osRelease,
    tracer_version: f.perfVersion === null ? null : `perf ${f.perfVersion}`,
    cpus: f.cpusOnline ?? f.cpusAvail ?? st.cpus,
    page_size: s.tracing?.pageSize ?? null,
    long_size: s.tracing?.longSize ?? null,
    endian: s.header.littleEndian ? "little" : "big",
    compression: s.compressed ? "zstd" : "none",
    options: opts.join(","),
    buffers: "",
    events: BigInt(st.samples),
    event_types: eventTypes,
    // LOST records are u64 counts: their sum can pass u64 (damage); saturate like the text readers.
    lost_events: st.lostEvents > U64_MAX ? U64_MAX : st.lostEvents,
    lost_pages_unknown_count: 0,
    damaged_pages: 0,
    lost_bytes: BigInt(st.lostBytes),
    unknown_events: BigInt(st.unknownFormat),
    unparsed_lines: 0n,
    warnings,
  };
}

/** Makes each sample a row of its format's table. */
class TableRows implements PerfSampleRows {
  /** Tables by format (several attrs may share one format). */
  readonly tables = new Map<EventFormat, EventTable>();

  constructor(readonly rt: RawTables) {}

  table(ev: PerfEvsel): number {
    const f = ev.format!;
    let t = this.tables.get(f);
    if (!t) {
      t = this.rt.tableForFormat(f, ev.rawLittleEndian);
      this.tables.set(f, t);
    }
    return t.ordinal;
  }

  add(rows: RecordRows): void {
    this.rt.addRecordRows(rows);
  }
}

/**
 * Reads a perf.data file (or pipe capture) into raw tables.
 *
 * @param src the file
 * @param rt the tables to fill (the caller calls `rt.finish()`)
 * @param onProgress optional progress callback (samples so far, every ~64K)
 * @param opts reader options (chunk size, reorder cap)
 * @returns the trace_info row and the warnings
 * @throws {import("../../core/errors.ts").TraceError} on a bad header, attrs or tracing data
 */
export async function ingestPerfData(
  src: FileSource,
  rt: RawTables,
  onProgress?: (events: number) => void,
  opts: PerfReadOptions = {},
): Promise<{ info: TraceInfoRow; warnings: TraceWarning[] }> {
  const rows = new TableRows(rt);
  const r = await readPerfData(src, () => {}, {
    ...opts,
    ...(onProgress ? { onProgress } : {}),
    backpressure: () => rt.backpressure(),
    rows,
  });
  const warnings = r.warnings;
  return { info: perfTraceInfo(r, rows.tables.size, warnings.length), warnings };
}
