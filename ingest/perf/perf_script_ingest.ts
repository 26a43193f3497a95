/**
 * `perf script` text -> raw Arrow tables.
 *
 * Each sample line becomes a row of `<system>.<event>` with the common columns (`ts` at the
 * printed precision, `cpu`, `pid` = the printed tid, `comm`; `flags` and `preempt_count` are null:
 * perf script does not print them). The payload becomes fields in one of two ways:
 * - typed, when a payload parser is given and a format of the event is known (supplied formats,
 *   or the bundled ones of the header's kernel, or any bundled version): the table has the
 *   format's own columns, the same as from the binary file;
 * - otherwise a `payload` column with the whole text, plus one string column per `key=value`
 *   (or syscall-style `key: value, ...`) pair of the event's first line.
 *
 * Lines that match nothing are counted (`trace_info.unparsed_lines`) and reported in a warning
 * with the first few line numbers; call-chain lines (`perf script -g`) and `#` header lines are
 * recognised and skipped (the header's `os release` picks the bundled formats).
 *
 * @module
 */
import type { TraceWarning } from "../../core/errors.ts";
import type { FieldValue } from "../../core/event.ts";
import type { TraceInfoRow } from "../../core/trace_info.ts";
import type { EventTable, RawTables } from "../arrow/raw_tables.ts";
import type { FileSource } from "../file_source.ts";
import type { EventFormat } from "../format/types.ts";
import { emptyScriptLine, parseScriptLine } from "./script_line.ts";
import { ScriptFormats } from "./script_formats.ts";
import { MAX_LINE_BYTES, textLines } from "./text_lines.ts";

/** Reads field values from a payload printed with one format's print fmt (null: no fit). */
export type PayloadParser = (payload: string) => Record<string, FieldValue> | null;

/** Compiles the payload parser of a format (null when it cannot be inverted). */
export type PayloadParserFactory = (fmt: EventFormat) => PayloadParser | null;

/** Options of {@linkcode ingestPerfScript}. */
export interface PerfScriptOptions {
  /** Payload text -> typed fields (e.g. `compilePayloadParser` of `ingest/format`). */
  payloadParser?: PayloadParserFactory;
  /** Formats tried before the bundled ones (e.g. from the perf.data the text came from). */
  formats?: readonly EventFormat[];
  /** Kernel release whose bundled formats to try first when the text has no header. */
  kernel?: string;
  /** Cap on a line's length in bytes (longer lines count as unparsed). */
  maxLineBytes?: number;
}

/** How one event type's lines are turned into a row. */
interface EventPlan {
  table: EventTable;
  /** Typed path: the parser and the format it was chosen for. */
  parse: PayloadParser | null;
  /** Fallback path: index of each column name among `fieldNames` (payload first). */
  columns: Map<string, number> | null;
}

/**
 * The `key=value` pairs of a payload, or its syscall-style `key: value, ...` arguments.
 *
 * @param payload the payload text
 * @returns name/value pairs in order (values as printed)
 * @example
 * ```ts
 * import { payloadPairs } from "./perf_script_ingest.ts";
 * console.assert(payloadPairs("page=0x1 order=0").map((p) => p[0] + p[1]).join() === "page0x1,order0");
 * console.assert(payloadPairs("addr: 0x7f, len: 0x10")[1]![1] === "0x10");
 * ```
 */
export function payloadPairs(payload: string): [string, string][] {
  const out: [string, string][] = [];
  if (/^\w+: [^,]*(, \w+: [^,]*)*$/.test(payload)) {
    for (const part of payload.split(", ")) {
      const i = part.indexOf(": ");
      out.push([part.slice(0, i), part.slice(i + 2)]);
    }
    return out;
  }
  const re = /(?:^|\s)([A-Za-z_][\w.]*)=(\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(payload)) !== null) out.push([m[1]!, m[2]!]);
  return out;
}

const HEADER_KERNEL = /^#\s*os release\s*:\s*(\S+)/;
const HEADER_VERSION = /^#\s*perf version\s*:\s*(\S+)/;
const HEADER_CPUS = /^#\s*nrcpus online\s*:\s*(\d+)/;
/** Largest `nrcpus online` header value believed (the trace.dat reader's CPU cap). */
const MAX_HEADER_CPUS = 1 << 16;

/**
 * Reads `perf script` text into raw tables.
 *
 * @param src the text file
 * @param rt the tables to fill (the caller calls `rt.finish()`)
 * @param onProgress optional progress callback (rows so far, every ~64K)
 * @param opts payload parser, formats, kernel
 * @returns the trace_info row and the warnings
 */
export function ingestPerfScript(
  src: FileSource,
  rt: RawTables,
  onProgress?: (events: number) => void,
  opts: PerfScriptOptions = {},
): { info: TraceInfoRow; warnings: TraceWarning[] } {
  const formats = new ScriptFormats(opts.formats ?? []);
  if (opts.kernel) formats.setKernel(opts.kernel);
  const plans = new Map<string, EventPlan>();
  const warnings: TraceWarning[] = [];
  const line = emptyScriptLine();
  let kernel: string | null = null;
  let perfVersion: string | null = null;
  let headerCpus: number | null = null;
  let rows = 0;
  let maxCpu = -1;
  let unparsed = 0;
  const unparsedAt: number[] = [];
  let callchain = 0;
  let typedMisses = 0;
  const precisions = new Set<number>();
  let rowsWithoutTime = 0;

  const plan = (event: string, payload: string): EventPlan => {
    const c = event.indexOf(":");
    const system = c > 0 ? event.slice(0, c) : "perf";
    const name = c > 0 ? event.slice(c + 1) : event;
    if (opts.payloadParser) {
      for (const fmt of formats.candidates(system, name)) {
        const parse = opts.payloadParser(fmt);
        if (parse && parse(payload) !== null) {
          return { table: rt.tableForFormat(fmt, true), parse, columns: null };
        }
      }
    }
    const fields: { name: string; value: FieldValue }[] = [{ name: "payload", value: "" }];
    const seen = new Set(["payload"]);
    for (const [k] of payloadPairs(payload)) {
      if (seen.has(k)) continue;
      seen.add(k);
      fields.push({ name: k, value: "" });
    }
    const table = rt.tableForFields(system, name, fields);
    const columns = new Map<string, number>();
    table.fieldNames.forEach((n, i) => columns.set(n, i));
    return { table, parse: null, columns };
  };

  for (const l of textLines(src, opts.maxLineBytes ?? MAX_LINE_BYTES)) {
    if (l.overlong) {
      unparsed++;
      if (unparsedAt.length < 5) unparsedAt.push(l.number);
      continue;
    }
    const kind = parseScriptLine(l.text, line);
    if (kind === "comment") {
      const k = HEADER_KERNEL.exec(l.text);
      if (k) {
        kernel ??= k[1]!;
        formats.setKernel(k[1]!);
      }
      const v = HEADER_VERSION.exec(l.text);
      if (v) perfVersion ??= v[1]!;
      const n = HEADER_CPUS.exec(l.text);
      // A count past any real machine (or past u32) is damage: fall back to the CPUs seen.
      if (n && Number(n[1]) <= MAX_HEADER_CPUS) headerCpus ??= Number(n[1]);
      continue;
    }
    if (kind === "blank") continue;
    if (kind === "callchain") {
      callchain++;
      continue;
    }
    if (kind === "unparsed") {
      unparsed++;
      if (unparsedAt.length < 5) unparsedAt.push(l.number);
      continue;
    }
    let p = plans.get(line.event);
    if (!p) {
      p = plan(line.event, line.payload);
      plans.set(line.event, p);
    }
    const t = p.table;
    let values: (FieldValue | undefined)[];
    if (p.parse) {
      const rec = p.parse(line.payload);
      if (rec === null) typedMisses++;
      values = t.fieldNames.map((n) => (rec ? rec[n] : undefined));
    } else {
      values = new Array(t.fieldNames.length).fill(undefined);
      values[0] = line.payload;
      for (const [k, v] of payloadPairs(line.payload)) {
        const i = p.columns!.get(k);
        if (i !== undefined && i > 0 && values[i] === undefined) values[i] = v;
      }
    }
    if (line.ts === null) rowsWithoutTime++;
    else precisions.add(line.precision);
    const cpu = line.cpu ?? 0;
    if (line.cpu !== null && cpu > maxCpu) maxCpu = cpu;
    rt.addValues(
      t,
      line.ts ?? 0n,
      cpu,
      line.tid ?? line.pid ?? -1,
      line.comm ?? "",
      null,
      null,
      "",
      values,
    );
    rows++;
    if (onProgress && (rows & 0xffff) === 0) onProgress(rows);
  }

  if (unparsed > 0) {
    warnings.push({
      code: "unparsed_lines",
      message: `${unparsed} lines match no perf script layout (first at lines ${
        unparsedAt.join(", ")
      })`,
      location: { file: src.name, section: "text", offset: 0 },
    });
  }
  if (typedMisses > 0) {
    warnings.push({
      code: "payload_unparsed",
      message: `${typedMisses} payloads did not fit their event's print fmt: their fields are null`,
    });
  }
  if (rowsWithoutTime > 0) {
    warnings.push({
      code: "no_time",
      message: `${rowsWithoutTime} lines have no time column: their ts is 0`,
    });
  }
  const opt: string[] = [];
  if (precisions.size > 0) {
    opt.push(
      `precision=${
        [...precisions].sort().map((p) => (p === 9 ? "ns" : p === 6 ? "us" : `1e-${p}s`)).join("/")
      }`,
    );
  }
  if (callchain > 0) opt.push("callchains");
  let typed = 0;
  for (const p of plans.values()) if (p.parse) typed++;
  opt.push(`typed_events=${typed}/${plans.size}`);
  let used = 0;
  for (const p of plans.values()) if (p.table.builder.rows > 0) used++;
  const info: TraceInfoRow = {
    source: src.name,
    format: "perf_script",
    version: "text",
    clock: "perf",
    clock_is_ns: true,
    kernel,
    tracer_version: perfVersion === null ? null : `perf ${perfVersion}`,
    cpus: headerCpus ?? Math.min(maxCpu + 1, MAX_HEADER_CPUS),
    page_size: null,
    long_size: null,
    endian: "unknown",
    compression: "none",
    options: opt.join(","),
    buffers: "",
    events: BigInt(rows),
    event_types: used,
    lost_events: 0n,
    lost_pages_unknown_count: 0,
    damaged_pages: 0,
    lost_bytes: 0n,
    unknown_events: 0n,
    unparsed_lines: BigInt(unparsed),
    warnings: warnings.length,
  };
  return { info, warnings };
}
