/**
 * trace.dat -> raw Arrow tables (the fast path: fields are copied from record bytes straight
 * into typed columns, no per-event objects).
 *
 * @module
 */
import type { TraceInfoRow } from "../../core/trace_info.ts";
import type { TraceWarning } from "../../core/errors.ts";
import type { EventTable, RawTables } from "../arrow/raw_tables.ts";
import type { FileSource } from "../file_source.ts";
import { readRecords } from "./events.ts";
import { clockIsNs } from "./timestamps.ts";
import { commOf, type CommonLayout, commonLayout } from "./tracedat_events.ts";
import { openTraceDat } from "./tracedat_file.ts";

/** Progress callback: events read so far. */
export type Progress = (events: number) => void;

/**
 * Reads a trace.dat into raw tables.
 *
 * @param src the file
 * @param rt the tables to fill (the caller calls `rt.finish()`)
 * @param onProgress optional progress callback (called every ~64K events)
 * @returns the trace_info row and the warnings
 */
export async function ingestTraceDat(
  src: FileSource,
  rt: RawTables,
  onProgress?: Progress,
): Promise<{ info: TraceInfoRow; warnings: TraceWarning[] }> {
  const t = openTraceDat(src);
  const reader = readRecords(t);
  const le = t.littleEndian;
  const additive = (reader.ts as { additive?: bigint }).additive;
  const addHi = additive !== undefined ? Number(BigInt.asIntN(64, additive) >> 32n) : 0;
  const addLo = additive !== undefined ? Number(BigInt.asUintN(32, additive)) : 0;
  const fast = additive !== undefined && additive >= 0n && additive < (1n << 62n);
  const tables: ({ t: EventTable; c: CommonLayout } | undefined)[] = new Array(65536);
  let types = 0;
  const bufferNames = t.buffers.map((b) => b.name);
  const comm = (pid: number) => commOf(t.cmdlines, pid);
  let n = 0;
  const r = reader.cursor;
  while (reader.next()) {
    let e = tables[r.format.id];
    if (!e) {
      e = { t: rt.tableForFormat(r.format, le), c: commonLayout(r.format) };
      tables[r.format.id] = e;
      types++;
    }
    const v = r.view;
    const s = r.start;
    const pid = e.c.pidSize === 4 ? v.getInt32(s + e.c.pid, le) : v.getInt16(s + e.c.pid, le);
    if (fast) rt.tsPushSplit(e.t, addHi, addLo, r.rel);
    else rt.tsPush(e.t, reader.ts(r.rel, r.cpu));
    rt.addRecord(
      e.t,
      r.cpu,
      pid,
      comm,
      v.getUint8(s + e.c.flags),
      v.getUint8(s + e.c.preempt),
      r.bufferIndex,
      bufferNames[r.bufferIndex] ?? "",
      v,
      r.bytes,
      s,
      r.len,
    );
    if ((++n & 0x3fff) === 0) {
      const wait = rt.backpressure();
      if (wait) await wait;
      if (onProgress && (n & 0xffff) === 0) onProgress(n);
    }
  }
  const st = reader.stats;
  const warnings = [...t.warnings, ...reader.warnings];
  let unknown = 0n;
  for (const c of st.unknownIds.values()) unknown += BigInt(c);
  if (st.lostEvents > 0 || st.lostPagesUnknownCount > 0) {
    warnings.push({
      code: "lost_events",
      message: `the kernel lost events: ${st.lostEvents} counted` +
        (st.lostPagesUnknownCount
          ? `, plus ${st.lostPagesUnknownCount} pages with an unknown count`
          : ""),
    });
  }
  const info: TraceInfoRow = {
    source: src.name,
    format: "tracedat",
    version: String(t.version),
    clock: t.clock,
    clock_is_ns: clockIsNs(t.clock, t.options.tsc2nsec !== null),
    kernel: t.options.uname,
    tracer_version: t.options.version,
    cpus: t.cpus,
    page_size: t.pageSize,
    long_size: t.longSize,
    endian: le ? "little" : "big",
    compression: t.compression.name,
    options: [...new Set(t.options.seen)].join(","),
    buffers: bufferNames.join(","),
    events: BigInt(st.events),
    event_types: types,
    lost_events: BigInt(st.lostEvents),
    lost_pages_unknown_count: st.lostPagesUnknownCount,
    damaged_pages: st.damagedPages,
    lost_bytes: BigInt(st.lostBytes),
    unknown_events: unknown,
    unparsed_lines: 0n,
    warnings: warnings.length,
  };
  return { info, warnings };
}
