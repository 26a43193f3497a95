/**
 * The context part of an ftrace text line (task, pid, CPU, flags, timestamp), in every shape the
 * kernel's `trace` file and `trace-cmd report` print it. What follows the context (the event
 * name and payload) is returned untouched as `body`.
 *
 * Shapes:
 * - `default`: `"%16s-%-7d "` comm-pid, optional `"(%7d) "` tgid, `"[%03d] "` cpu, optional flag
 *   characters, `"%5lu.%06lu: "` or `"%12llu: "` timestamp. trace-cmd report prints the same with
 *   `%-5d` pids, `%9` ns fractions under `-t`, flags only from 3.3 on, an optional `inst:` buffer
 *   prefix and `(+N)` under `--ts-diff`.
 * - `latency`: `"%8.8s-%-7d %3d"` + flags + `" %4lldus%c: "` (kernel latency-format, time
 *   relative to the buffer start) or + `"   250.672888: "` (trace-cmd report `-l`).
 * - `verbose`: latency-format + verbose: `"%16s %7d %3d %d %08x %08lx "` (comm, pid, cpu, flags,
 *   preempt count, index) + `"[%08llx] %ld.%03ldms (+%ld.%03ldms): "` (absolute µs in hex).
 * - `raw`: `"%d %d %llu "` pid, cpu, ns (the `raw` option).
 * - `hex`: pid, cpu, ts as fixed-width hex (the `hex` option).
 *
 * Comms may contain spaces and dashes: the pid is the last `-<digits>` before the CPU field.
 *
 * @module
 */
import { parseTextTimestamp } from "./timestamp.ts";

/** The shapes of a context. */
export type ContextShape = "default" | "latency" | "verbose" | "raw" | "hex";

/** A parsed line context (reused between lines by the reader). */
export interface LineContext {
  /** Which shape matched. */
  shape: ContextShape;
  /** Command name. */
  comm: string;
  /** Process id. */
  pid: number;
  /** Thread group id when `record-tgid` printed it (null when not printed or `-------`). */
  tgid: number | null;
  /** CPU. */
  cpu: number;
  /** Flag characters as printed, or null when the line has none. */
  flagsText: string | null;
  /** Numeric flags when the shape prints them as numbers (verbose), else null. */
  flagsNum: number | null;
  /** Numeric preempt count when the shape prints it as a number (verbose), else null. */
  preemptNum: number | null;
  /** ns, or a raw count for a non-ns clock, or µs·1000 relative to the buffer start. */
  ts: bigint;
  /** False when the timestamp is a non-ns clock's raw count. */
  tsIsNs: boolean;
  /** Fraction digits the timestamp was printed with (0: bare integer). */
  tsDigits: number;
  /** True when the timestamp is relative to the buffer start (kernel latency-format). */
  tsRelative: boolean;
  /** Buffer (instance) prefix of a trace-cmd report line, `""` when none. */
  buffer: string;
  /** The rest of the line: event name and payload. */
  body: string;
}

/**
 * A fresh context object.
 *
 * @returns an empty context
 */
export function emptyContext(): LineContext {
  return {
    shape: "default",
    comm: "",
    pid: 0,
    tgid: null,
    cpu: 0,
    flagsText: null,
    flagsNum: null,
    preemptNum: null,
    ts: 0n,
    tsIsNs: true,
    tsDigits: 0,
    tsRelative: false,
    buffer: "",
    body: "",
  };
}

// comm (bounded, lazy so the last "-pid" before the cpu wins by backtracking), pid, tgid, [cpu]
const DEFAULT_HEAD = /^[ \t]*(.{0,64}?)-(\d{1,10})\s+(?:\(\s*(-+|\d{1,10})\)\s+)?\[(\d{1,6})\]/;
const LATENCY_HEAD = /^(.{8})-(\d{1,10}) +(\d{1,6})(\S{0,10}) +(\d{1,20}(?:\.\d{1,9})?)(?:us(.))?:/;
const VERBOSE_HEAD =
  /^ *(.{1,64}?) +(\d{1,10}) +(\d{1,6}) (\d{1,3}) ([0-9a-f]{8}) ([0-9a-f]{8,16}) \[([0-9a-f]{1,16})\] (?:\d+\.\d{3}ms \(\+\d+\.\d{3}ms\)|(\d+) \(\+\d+\)):/;
const RAW_HEAD = /^(\d{1,10}) (\d{1,6}) (\d{1,20}) /;
const HEX_HEAD = /^([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{16}) /;
const TS_DIFF = /^\(\+?-?\d+\)\s*/;

/** Flag characters: the irqs-off, need-resched, hardirq and count columns. */
const FLAG_CHARS = /^[.dDbXnNpPlLBhHsSzZ0-9a-f]{3,10}$/;

function setBody(out: LineContext, s: string): void {
  let i = 0;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  let b = i ? s.slice(i) : s;
  if (b.charCodeAt(0) === 40 /* ( */) {
    // trace-cmd report --ts-diff: "(+10)" between the time and the event.
    const m = TS_DIFF.exec(b);
    if (m) b = b.slice(m[0].length);
  }
  out.body = b;
}

/**
 * Parses a line in the `default` shape (kernel `trace` file, `trace_pipe`, trace-cmd report).
 *
 * @param line the line (without an instance prefix)
 * @param out receives the context
 * @returns true when the line has this shape
 * @example
 * ```ts
 * import { emptyContext, parseDefaultContext } from "./context_line.ts";
 * const c = emptyContext();
 * parseDefaultContext("     Web Content-2711  [003] d...  26186.336632: sched_waking: comm=T", c);
 * console.assert(c.comm === "Web Content" && c.pid === 2711 && c.cpu === 3 && c.flagsText === "d...");
 * console.assert(c.ts === 26186336632000n && c.body === "sched_waking: comm=T");
 * ```
 */
export function parseDefaultContext(line: string, out: LineContext): boolean {
  const m = DEFAULT_HEAD.exec(line.length > 200 ? line.slice(0, 200) : line);
  if (!m) return false;
  let i = m[0].length;
  const n = line.length;
  while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  // First token: the timestamp (ends with ':') or the flag characters.
  let j = i;
  while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++;
  let tok = line.slice(i, j);
  let flags: string | null = null;
  if (!tok.endsWith(":") || !isTimestampToken(tok)) {
    if (!FLAG_CHARS.test(tok)) return false;
    flags = tok;
    i = j;
    while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    j = i;
    while (j < n && line.charCodeAt(j) !== 32 && line.charCodeAt(j) !== 9) j++;
    tok = line.slice(i, j);
    if (!tok.endsWith(":")) {
      // "ts:event" is not printed by any tool; but "ts:" glued to nothing is the line end.
      const colon = tok.indexOf(":");
      if (colon < 0) return false;
      j = i + colon + 1;
      tok = tok.slice(0, colon + 1);
    }
  }
  const ts = parseTextTimestamp(tok.slice(0, -1));
  if (!ts) return false;
  out.shape = "default";
  out.comm = m[1]!;
  out.pid = Number(m[2]);
  const tg = m[3];
  out.tgid = tg === undefined || tg.startsWith("-") ? null : Number(tg);
  out.cpu = Number(m[4]);
  out.flagsText = flags;
  out.flagsNum = null;
  out.preemptNum = null;
  out.ts = ts.ts;
  out.tsIsNs = ts.isNs;
  out.tsDigits = ts.digits;
  out.tsRelative = false;
  setBody(out, line.slice(j));
  return true;
}

function isTimestampToken(tok: string): boolean {
  for (let k = 0; k < tok.length - 1; k++) {
    const c = tok.charCodeAt(k);
    if (!((c >= 48 && c <= 57) || c === 46)) return false;
  }
  return tok.length > 1;
}

/**
 * Parses a line in the `latency` shape (`%8.8s-%-7d %3d` + flags + time).
 *
 * @param line the line
 * @param out receives the context
 * @returns true when the line has this shape
 * @example
 * ```ts
 * import { emptyContext, parseLatencyContext } from "./context_line.ts";
 * const c = emptyContext();
 * parseLatencyContext("  gen.sh-9484      0d..2. 17611us : tlb_flush: pages:1", c);
 * console.assert(c.comm === "gen.sh" && c.cpu === 0 && c.flagsText === "d..2.");
 * console.assert(c.ts === 17611000n && c.tsRelative && c.body === "tlb_flush: pages:1");
 * ```
 */
export function parseLatencyContext(line: string, out: LineContext): boolean {
  const m = LATENCY_HEAD.exec(line.length > 200 ? line.slice(0, 200) : line);
  if (!m) return false;
  const flags = m[4]!;
  if (flags !== "" && !FLAG_CHARS.test(flags)) return false;
  const ts = parseTextTimestamp(m[5]!);
  if (!ts) return false;
  // "17611us : " is the kernel's time since the buffer start in µs; without "us" the time is
  // absolute (trace-cmd report -l) or a raw count (the caller knows which program wrote it).
  const relative = m[6] !== undefined;
  out.shape = "latency";
  out.comm = m[1]!.trimStart();
  out.pid = Number(m[2]);
  out.tgid = null;
  out.cpu = Number(m[3]);
  out.flagsText = flags === "" ? null : flags;
  out.flagsNum = null;
  out.preemptNum = null;
  if (relative) {
    out.ts = ts.ts * 1000n;
    out.tsIsNs = true;
    out.tsDigits = 0;
  } else {
    out.ts = ts.ts;
    out.tsIsNs = ts.isNs;
    out.tsDigits = ts.digits;
  }
  out.tsRelative = relative;
  setBody(out, line.slice(m[0].length));
  return true;
}

/**
 * Parses a line in the `verbose` shape (latency-format + verbose).
 *
 * @param line the line
 * @param out receives the context
 * @returns true when the line has this shape
 * @example
 * ```ts
 * import { emptyContext, parseVerboseContext } from "./context_line.ts";
 * const c = emptyContext();
 * const l = "          gen.sh    9873   1 1 00000001 00000000 [170075ec] 17.568ms (+0.018ms): tlb_flush: x";
 * parseVerboseContext(l, c);
 * console.assert(c.pid === 9873 && c.cpu === 1 && c.flagsNum === 1 && c.preemptNum === 1);
 * console.assert(c.ts === 0x170075ecn * 1000n && c.body === "tlb_flush: x");
 * ```
 */
export function parseVerboseContext(line: string, out: LineContext): boolean {
  const m = VERBOSE_HEAD.exec(line.length > 240 ? line.slice(0, 240) : line);
  if (!m) return false;
  out.shape = "verbose";
  out.comm = m[1]!;
  out.pid = Number(m[2]);
  out.tgid = null;
  out.cpu = Number(m[3]);
  out.flagsText = null;
  out.flagsNum = Number(m[4]) & 0xff;
  out.preemptNum = parseInt(m[5]!, 16) & 0xff;
  const hex = BigInt(`0x${m[7]!}`);
  if (m[8] === undefined) {
    // ns clock: the bracket holds ns2usecs(ts), rounded microseconds.
    out.ts = hex * 1000n;
    out.tsIsNs = true;
    out.tsDigits = 6;
  } else {
    out.ts = hex;
    out.tsIsNs = false;
    out.tsDigits = 0;
  }
  out.tsRelative = false;
  setBody(out, line.slice(m[0].length));
  return true;
}

/**
 * Parses a line of the `raw` option (`pid cpu ns body`) or the `hex` option.
 *
 * @param line the line
 * @param out receives the context
 * @returns true when the line has one of these shapes
 * @example
 * ```ts
 * import { emptyContext, parseRawContext } from "./context_line.ts";
 * const c = emptyContext();
 * parseRawContext("9697 0 385174334039 type: 188", c);
 * console.assert(c.shape === "raw" && c.pid === 9697 && c.ts === 385174334039n && c.body === "type: 188");
 * parseRawContext("0000260d 00000001 00000059b9db9985 type: 188", c);
 * console.assert(c.shape === "hex" && c.pid === 9741 && c.cpu === 1 && c.ts === 0x59b9db9985n);
 * ```
 */
export function parseRawContext(line: string, out: LineContext): boolean {
  let m = HEX_HEAD.exec(line);
  let shape: ContextShape = "hex";
  if (!m) {
    m = RAW_HEAD.exec(line);
    shape = "raw";
  }
  if (!m) return false;
  const hex = shape === "hex";
  out.shape = shape;
  out.comm = "<...>";
  out.pid = hex ? parseInt(m[1]!, 16) | 0 : Number(m[1]);
  out.tgid = null;
  out.cpu = hex ? parseInt(m[2]!, 16) : Number(m[2]);
  out.flagsText = null;
  out.flagsNum = null;
  out.preemptNum = null;
  out.ts = hex ? BigInt(`0x${m[3]!}`) : BigInt(m[3]!);
  if (out.ts > 0x7fffffffffffffffn) return false;
  out.tsIsNs = true;
  out.tsDigits = 9;
  out.tsRelative = false;
  out.body = line.slice(m[0].length);
  return true;
}
