/**
 * ftrace text and trace-cmd report text -> raw Arrow tables.
 *
 * Events with a known format land in the same typed table (`tableForFormat`) the binary readers
 * fill; the others get a table of string columns, one per `key=value` key of the event's first
 * line, plus a `payload` column holding the whole payload text.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { TraceWarning } from "../../core/errors.ts";
import type { TraceInfoRow } from "../../core/trace_info.ts";
import type { EventTable, RawTables } from "../arrow/raw_tables.ts";
import type { FileSource } from "../file_source.ts";
import { type FtraceTextOptions, FtraceTextReader, type TextEvent } from "./text_reader.ts";

/** Progress callback: events read so far. */
export type TextProgress = (events: number) => void;

/** Name of the column holding the payload text of events without a format. */
export const PAYLOAD_COLUMN = "payload";

interface Target {
  t: EventTable;
  /** For events without a format: key -> position among the own columns. */
  keyIndex: Map<string, number> | null;
  values: (FieldValue | undefined)[];
}

function targetFor(rt: RawTables, e: TextEvent): Target {
  if (e.format) {
    const t = rt.tableForFormat(e.format, true);
    return { t, keyIndex: null, values: new Array(t.fieldNames.length) };
  }
  const fields = e.keys.map((name) => ({ name, value: "" as FieldValue }));
  fields.push({ name: PAYLOAD_COLUMN, value: "" });
  const t = rt.tableForFields(e.system, e.event, fields);
  const keyIndex = new Map<string, number>();
  // The table may predate this call (same name from an earlier event): map by its own names.
  const names = t.fieldNames;
  for (let i = 0; i < names.length - 1; i++) {
    if (!keyIndex.has(names[i]!)) keyIndex.set(names[i]!, i);
  }
  return { t, keyIndex, values: new Array(names.length) };
}

/**
 * Reads a text trace into raw tables.
 *
 * @param src the file
 * @param rt the tables (the caller calls `rt.finish()`)
 * @param opts flavor, formats, limits (see {@linkcode FtraceTextOptions})
 * @param onProgress called every 65536 events
 * @returns the trace_info row and the warnings
 * @throws {TraceError} when the text holds no recognisable event line at all
 * @example
 * ```ts
 * import { RawTables } from "../arrow/raw_tables.ts";
 * import { memorySource } from "../file_source.ts";
 * import { ingestText } from "./text_ingest.ts";
 * const text = "cpus=1\n           bash-1     [000]    10.000001: my_event:   a=1 b=x y\n";
 * const tables: string[] = [];
 * const rt = new RawTables({ write: (s, t) => tables.push(`${s}.${t}`) });
 * const { info } = ingestText(memorySource(new TextEncoder().encode(text), "r.txt"), rt, { flavor: "report" });
 * rt.finish();
 * console.assert(info.events === 1n && tables.includes("unknown.my_event"));
 * ```
 */
export function ingestText(
  src: FileSource,
  rt: RawTables,
  opts: FtraceTextOptions,
  onProgress?: TextProgress,
): { info: TraceInfoRow; warnings: TraceWarning[] } {
  const reader = new FtraceTextReader(src, opts);
  const targets: Target[] = [];
  let n = 0;
  for (const e of reader.events()) {
    let tg = targets[e.type];
    if (!tg) {
      tg = targetFor(rt, e);
      targets[e.type] = tg;
    }
    const vals = tg.values;
    const names = tg.t.fieldNames;
    if (tg.keyIndex === null) {
      for (let i = 0; i < names.length; i++) vals[i] = e.values[names[i]!];
    } else {
      vals.fill(undefined);
      for (const k of e.keys) {
        const i = tg.keyIndex.get(k);
        if (i !== undefined) vals[i] = e.values[k];
      }
      vals[names.length - 1] = e.payload;
    }
    rt.addValues(tg.t, e.ts, e.cpu, e.pid, e.comm, e.flags, e.preempt, e.buffer, vals);
    n++;
    if (onProgress && (n & 0xffff) === 0) onProgress(n);
  }
  if (onProgress) onProgress(n);
  const warnings = reader.warnings();
  return { info: reader.info(warnings.length), warnings };
}
