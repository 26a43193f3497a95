/**
 * trace.dat events as decoded {@linkcode TraceEvent} objects, in time order: the convenient
 * (allocating) path used by the IOMMU normalizer and by tests. The Arrow writer reads records
 * directly instead (see `ingest/arrow/`).
 *
 * @module
 */
import type { TraceEvent } from "../../core/event.ts";
import { compileDecoder, type EventDecoder } from "../format/field_decoder.ts";
import type { EventFormat } from "../format/types.ts";
import { type ReadOptions, readRecords, type RecordReader } from "./events.ts";
import type { TraceDat } from "./tracedat_file.ts";

/** Common-field offsets of an event type. */
export interface CommonLayout {
  flags: number;
  preempt: number;
  pid: number;
  pidSize: number;
}

/**
 * Where `common_flags`, `common_preempt_count` and `common_pid` sit in an event's records.
 *
 * @param f the event format
 * @returns offsets (defaults: 2, 3, 4 with a 4-byte pid)
 */
export function commonLayout(f: EventFormat): CommonLayout {
  const find = (n: string) => f.fields.find((x) => x.name === n);
  const pid = find("common_pid");
  return {
    flags: find("common_flags")?.offset ?? 2,
    preempt: find("common_preempt_count")?.offset ?? 3,
    pid: pid?.offset ?? 4,
    pidSize: pid?.size ?? 4,
  };
}

/**
 * The comm trace-cmd shows for a pid: saved cmdline, `<idle>` for 0, `<...>` when unknown.
 *
 * @param cmdlines pid -> comm
 * @param pid process id
 * @returns the comm
 */
export function commOf(cmdlines: Map<number, string>, pid: number): string {
  if (pid === 0) return "<idle>";
  return cmdlines.get(pid) ?? "<...>";
}

/** Options for {@linkcode traceDatEvents}. */
export interface EventOptions extends ReadOptions {
  /** Only decode events whose `system:event` key passes this test (others are skipped). */
  want?: (system: string, event: string) => boolean;
}

/**
 * Iterates the decoded events of an opened trace.dat.
 *
 * @param t the opened trace
 * @param opts selection
 * @returns the record reader (for statistics) and the event generator
 */
export function traceDatEvents(
  t: TraceDat,
  opts: EventOptions = {},
): { reader: RecordReader; events: Generator<TraceEvent> } {
  const reader = readRecords(t, opts);
  const le = t.littleEndian;
  const decoders = new Map<number, { d: EventDecoder; c: CommonLayout; ok: boolean }>();
  const bufferNames = t.buffers.map((b) => b.name);
  function* gen(): Generator<TraceEvent> {
    for (const r of reader.records()) {
      let e = decoders.get(r.format.id);
      if (!e) {
        e = {
          d: compileDecoder(r.format, le),
          c: commonLayout(r.format),
          ok: opts.want ? opts.want(r.format.system, r.format.name) : true,
        };
        decoders.set(r.format.id, e);
      }
      if (!e.ok) continue;
      const v = r.view;
      const s = r.start;
      const pid = e.c.pidSize === 4 ? v.getInt32(s + e.c.pid, le) : v.getInt16(s + e.c.pid, le);
      yield {
        ts: reader.ts(r.rel, r.cpu),
        cpu: r.cpu,
        pid,
        comm: commOf(t.cmdlines, pid),
        system: r.format.system,
        event: r.format.name,
        buffer: bufferNames[r.bufferIndex] ?? "",
        flags: v.getUint8(s + e.c.flags),
        preempt_count: v.getUint8(s + e.c.preempt),
        fields: e.d.decode(v, r.bytes, s, r.len),
      };
    }
  }
  return { reader, events: gen() };
}
