/**
 * The metadata blocks shared by trace.dat v6, v7 (as section payloads) and perf's
 * HEADER_TRACING_DATA: header_page/header_event, ftrace and event formats, kallsyms,
 * printk formats and saved cmdlines.
 *
 * @module
 */
import { escapeControl, type TraceWarning } from "../../core/errors.ts";
import type { ByteReader } from "../byte_reader.ts";
import type { FileCursor } from "../file_source.ts";
import { FormatParseError, parseFormatFile, parseHeaderPage } from "../format/format_file.ts";
import type { EventFormat, HeaderPage } from "../format/types.ts";

/** Either reader: in-memory bytes or a file cursor. */
export type BinReader = ByteReader | FileCursor;

/** Upper bound on the number of event formats / systems a file may declare. */
const MAX_FORMATS = 1 << 20;

/** header_page and header_event. */
export interface HeaderInfo {
  /** Parsed `header_page` (ring-buffer page layout). */
  headerPage: HeaderPage;
  /** The `header_page` text as stored. */
  headerPageText: string;
  /** The `header_event` text as stored. */
  headerEventText: string;
}

/**
 * Reads the header info block (`header_page`, `header_event`).
 *
 * @param r reader positioned at `"header_page\0"`
 * @returns the parsed header info
 * @throws {import("../../core/errors.ts").TraceError} on a bad magic string, size or layout
 */
export function readHeaderInfo(r: BinReader): HeaderInfo {
  r.section = "header_page";
  const tag = r.take(12, "header_page tag");
  if (new TextDecoder().decode(tag) !== "header_page\0") {
    r.pos -= 12;
    r.fail("bad_value", "expected 'header_page'");
  }
  const psize = r.size64("header_page size", r.remaining - 8);
  const headerPageText = r.text(psize, "header_page text");
  r.section = "header_event";
  const etag = r.take(13, "header_event tag");
  if (new TextDecoder().decode(etag) !== "header_event\0") {
    r.pos -= 13;
    r.fail("bad_value", "expected 'header_event'");
  }
  const esize = r.size64("header_event size", r.remaining - 8);
  const headerEventText = r.text(esize, "header_event text");
  let headerPage: HeaderPage;
  try {
    headerPage = parseHeaderPage(headerPageText);
  } catch (e) {
    r.section = "header_page";
    return r.fail("parse_error", (e as Error).message);
  }
  return { headerPage, headerPageText, headerEventText };
}

function readOneFormat(
  r: BinReader,
  system: string,
  longSize: number,
  out: EventFormat[],
  warnings: TraceWarning[],
): void {
  const at = r.pos;
  const size = r.size64("format size", r.remaining - 8);
  const text = r.text(size, "format text");
  try {
    out.push(parseFormatFile(text, system, longSize));
  } catch (e) {
    if (!(e instanceof FormatParseError)) throw e;
    warnings.push({
      code: "bad_format",
      message: escapeControl(`skipped a ${system} event format: ${e.message}`),
      location: { file: "", section: r.section, offset: at },
    });
  }
}

/**
 * Reads the ftrace formats block: u32 count, then count × (u64 size, text).
 *
 * @param r reader
 * @param longSize kernel long size
 * @param warnings collects unparsable formats
 * @returns the formats (system `ftrace`)
 */
export function readFtraceFormats(
  r: BinReader,
  longSize: number,
  warnings: TraceWarning[],
): EventFormat[] {
  r.section = "ftrace formats";
  const n = r.size32("ftrace format count", MAX_FORMATS);
  const out: EventFormat[] = [];
  for (let i = 0; i < n; i++) readOneFormat(r, "ftrace", longSize, out, warnings);
  return out;
}

/**
 * Reads the event formats block: u32 systems; per system `name\0`, u32 count, formats.
 *
 * @param r reader
 * @param longSize kernel long size
 * @param warnings collects unparsable formats
 * @returns the formats
 */
export function readEventFormats(
  r: BinReader,
  longSize: number,
  warnings: TraceWarning[],
): EventFormat[] {
  r.section = "event formats";
  const ns = r.size32("system count", MAX_FORMATS);
  const out: EventFormat[] = [];
  for (let s = 0; s < ns; s++) {
    const system = r.cstring("system name");
    const n = r.size32("event count", MAX_FORMATS);
    for (let i = 0; i < n; i++) readOneFormat(r, system, longSize, out, warnings);
  }
  return out;
}

/**
 * Reads kallsyms (u32 size + text). Kept as bytes; parsed only when something needs symbols.
 *
 * @param r reader
 * @returns raw kallsyms bytes
 */
export function readKallsyms(r: BinReader): Uint8Array {
  r.section = "kallsyms";
  const n = r.size32("kallsyms size", r.remaining - 4);
  return r.take(n, "kallsyms");
}

/**
 * Reads the printk formats (u32 size + text).
 *
 * @param r reader
 * @returns the text
 */
export function readPrintk(r: BinReader): string {
  r.section = "printk formats";
  const n = r.size32("printk size", r.remaining - 4);
  return r.text(n, "printk formats");
}

/**
 * Reads saved cmdlines (u64 size + `"<pid> <comm>\n"` lines).
 *
 * @param r reader
 * @returns pid -> comm
 */
export function readCmdlines(r: BinReader): Map<number, string> {
  r.section = "cmdlines";
  const n = r.size64("cmdlines size", r.remaining - 8);
  return parseCmdlines(r.text(n, "cmdlines"));
}

/**
 * Parses `saved_cmdlines` text.
 *
 * @param text `"<pid> <comm>\n"` lines
 * @returns pid -> comm
 * @example
 * ```ts
 * import { parseCmdlines } from "./metadata.ts";
 * console.assert(parseCmdlines("12 bash\n13 kworker/0:1\n").get(13) === "kworker/0:1");
 * ```
 */
export function parseCmdlines(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const pid = Number(line.slice(0, sp));
    if (Number.isInteger(pid)) m.set(pid, line.slice(sp + 1).replace(/\0+$/, ""));
  }
  return m;
}
