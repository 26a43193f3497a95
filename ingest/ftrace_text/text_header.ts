/**
 * Comment and bookkeeping lines of ftrace text: the kernel `trace` file header (`# tracer:`,
 * `# entries-in-buffer/entries-written:`, the flag legend, the latency banner with the kernel
 * release), `##### CPU n buffer started ####`, lost-event lines, and the lines `trace-cmd report`
 * prints besides events (`cpus=N`, `version = 6`, `CPU n is empty`, `CPU:n [N EVENTS DROPPED]`,
 * the `--stat` block).
 *
 * @module
 */

/** What the header and bookkeeping lines said. */
export interface HeaderFacts {
  /** `# tracer: nop`. */
  tracer: string | null;
  /** `entries-in-buffer` of the header. */
  entriesInBuffer: number | null;
  /** `entries-written` of the header. */
  entriesWritten: number | null;
  /** CPU count (`#P:2`, `cpus=2`). */
  cpus: number | null;
  /** Kernel release from the latency banner (`... trace v1.1.5 on 6.18.44`). */
  kernel: string | null;
  /** True when the latency-format banner was seen. */
  latencyBanner: boolean;
  /** `version = 6` of old trace-cmd reports. */
  reportVersion: string | null;
  /** Flag legend texts (`irqs-off/BH-disabled`, ...), in order. */
  legend: string[];
  /** True once a column header (`TASK-PID ... FUNCTION`) was seen. */
  columnHeader: boolean;
  /** True when the column header has a TGID column. */
  tgidColumn: boolean;
  /** Sum of `[LOST n EVENTS]` and `[n EVENTS DROPPED]` counts. */
  lostEvents: bigint;
  /** Number of lost-event lines. */
  lostLines: number;
  /** `CPU n is empty` lines. */
  emptyCpus: number[];
  /** Lines of a `trace-cmd report --stat` block. */
  statLines: number;
  /** `##### CPU n buffer started ####` lines. */
  bufferStarted: number;
  /** Stack trace lines (` => func`, `<stack trace>`), skipped. */
  stackLines: number;
}

/**
 * Fresh, empty facts.
 *
 * @returns the facts
 */
export function emptyHeaderFacts(): HeaderFacts {
  return {
    tracer: null,
    entriesInBuffer: null,
    entriesWritten: null,
    cpus: null,
    kernel: null,
    latencyBanner: false,
    reportVersion: null,
    legend: [],
    columnHeader: false,
    tgidColumn: false,
    lostEvents: 0n,
    lostLines: 0,
    emptyCpus: [],
    statLines: 0,
    bufferStarted: 0,
    stackLines: 0,
  };
}

const TRACER = /^#\s*tracer:\s*(\S+)/;
const ENTRIES = /^#\s*entries-in-buffer\/entries-written:\s*(\d+)\/(\d+)\s+#P:(\d+)/;
const LAT_BANNER = /^#\s*(\S+) latency trace v[\d.]+ on (\S+)/;
const LAT_CPUS = /^#\s*latency:.*?#(\d+)\/(\d+),.*#P:(\d+)\)/;
const LEGEND = /=>\s*(\S.*?)\s*$/;
const BUFFER_STARTED = /^#{3,}\s*CPU\s+\d+\s+buffer started\s*#*\s*$/;
const LOST = /^\s*CPU:\s*\d+\s+\[LOST\s+(\d+)\s+EVENTS\]\s*$/;
const DROPPED = /^\s*CPU:\s*\d+\s+\[(\d+)\s+EVENTS DROPPED\]\s*$/;
const CPUS = /^cpus=(\d+)\s*$/;
const VERSION = /^version\s*=\s*(\S+)\s*$/;
const EMPTY_CPU = /^CPU\s+(\d+)\s+is empty\s*$/;
const STAT_START = /^Kernel buffer statistics:/;
const STAT_LINE =
  /^(?:\s+Note:|\s+recorded in|CPU: \d+$|CPU\d+ data recorded at offset=|\s+\d+ bytes in size|entries: |overrun: |commit overrun: |bytes: |oldest event ts: |now ts: |dropped events: |read events: )/;
const STACK = /^\s*(?:=> |<stack trace>|<user stack trace>)/;

/** Largest CPU count a header may claim (the trace.dat reader's cap too). */
export const MAX_TEXT_CPUS = 1 << 16;
const U64_MAX = (1n << 64n) - 1n;

/** A header count, or null when it is not a safe integer within `max` (damaged or hostile). */
function count(text: string, max = Number.MAX_SAFE_INTEGER): number | null {
  const n = Number(text);
  return Number.isSafeInteger(n) && n <= max ? n : null;
}

/**
 * Reads a comment line (starting with `#`) into the facts.
 *
 * @param line the line
 * @param h the facts to update
 * @example
 * ```ts
 * import { emptyHeaderFacts, readCommentLine } from "./text_header.ts";
 * const h = emptyHeaderFacts();
 * readCommentLine("# entries-in-buffer/entries-written: 2509/2511   #P:2", h);
 * readCommentLine("# nop latency trace v1.1.5 on 6.18.44-fc-v595", h);
 * console.assert(h.entriesWritten === 2511 && h.cpus === 2 && h.kernel === "6.18.44-fc-v595");
 * ```
 */
export function readCommentLine(line: string, h: HeaderFacts): void {
  let m: RegExpExecArray | null;
  if (BUFFER_STARTED.test(line)) {
    h.bufferStarted++;
    return;
  }
  if ((m = TRACER.exec(line))) {
    h.tracer = m[1]!;
    return;
  }
  if ((m = ENTRIES.exec(line))) {
    h.entriesInBuffer = count(m[1]!);
    h.entriesWritten = count(m[2]!);
    h.cpus = count(m[3]!, MAX_TEXT_CPUS);
    return;
  }
  if ((m = LAT_BANNER.exec(line))) {
    h.latencyBanner = true;
    h.tracer ??= m[1]!;
    h.kernel = m[2]!;
    return;
  }
  if ((m = LAT_CPUS.exec(line))) {
    h.entriesInBuffer = count(m[1]!);
    h.entriesWritten = count(m[2]!);
    h.cpus = count(m[3]!, MAX_TEXT_CPUS);
    return;
  }
  if (line.includes("=>") && (m = LEGEND.exec(line))) {
    h.legend.push(m[1]!);
    return;
  }
  if (/TASK-PID/.test(line) || /\bcmd\s+pid\b/.test(line)) {
    h.columnHeader = true;
    if (/\bTGID\b/.test(line)) h.tgidColumn = true;
  }
}

/**
 * Recognises a non-comment line that is not an event: lost-event markers, trace-cmd report
 * bookkeeping (when `report` is set), stack trace lines.
 *
 * @param line the line (an instance prefix is allowed before lost-event markers)
 * @param h the facts to update
 * @param report true for trace-cmd report text
 * @returns true when the line was consumed
 * @example
 * ```ts
 * import { emptyHeaderFacts, readMetaLine } from "./text_header.ts";
 * const h = emptyHeaderFacts();
 * console.assert(readMetaLine("CPU:1 [LOST 42 EVENTS]", h, false) && h.lostEvents === 42n);
 * console.assert(readMetaLine("cpus=6", h, true) && h.cpus === 6);
 * console.assert(!readMetaLine("cpus=6", h, false));
 * ```
 */
export function readMetaLine(line: string, h: HeaderFacts, report: boolean): boolean {
  let m: RegExpExecArray | null;
  const body = stripInstance(line);
  if ((m = LOST.exec(body)) || (m = DROPPED.exec(body))) {
    const sum = h.lostEvents + BigInt(m[1]!);
    h.lostEvents = sum > U64_MAX ? U64_MAX : sum;
    h.lostLines++;
    return true;
  }
  if (STACK.test(line)) {
    h.stackLines++;
    return true;
  }
  if (!report) return false;
  if ((m = CPUS.exec(line))) {
    h.cpus = count(m[1]!, MAX_TEXT_CPUS);
    return true;
  }
  if ((m = VERSION.exec(line))) {
    h.reportVersion = m[1]!;
    return true;
  }
  if ((m = EMPTY_CPU.exec(line))) {
    h.emptyCpus.push(Number(m[1]));
    return true;
  }
  if (STAT_START.test(line) || (h.statLines > 0 && STAT_LINE.test(line))) {
    h.statLines++;
    return true;
  }
  return false;
}

function stripInstance(line: string): string {
  const c = line.charCodeAt(0);
  if (c === 32 || c === 9) return line;
  const m = /^[^\s:]{1,64}:\s+(CPU:.*)$/.exec(line);
  return m ? m[1]! : line;
}
