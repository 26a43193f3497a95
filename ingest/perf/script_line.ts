/**
 * One line of `perf script` text output, split into its columns.
 *
 * The default tracepoint line is `"%16s %5d [%03d] %12s: %*s: <payload>"`: comm, tid, CPU, time
 * (`sec.usec`, truncated; `sec.nsec` with `--ns`), the event name right-aligned to the longest
 * name, then the payload rendered from the print fmt. `-F` selects and orders fewer columns
 * (`pid/tid` with `-F +pid`); each column is recognised by its shape, right to left from the
 * event name: an optional period after the time, `sec.frac:`, `[cpu]`, `pid/tid` or a single id
 * (taken as the tid, which is what `perf script` prints by default), and the comm as whatever text
 * remains at the start (it may hold spaces).
 *
 * @module
 */

/** What a line is. */
export type ScriptLineKind = "sample" | "comment" | "callchain" | "blank" | "unparsed";

/** The columns of a sample line (null when the column is absent). */
export interface ScriptLine {
  /** Command name as printed (trimmed). */
  comm: string | null;
  /** Process id (printed as `pid/tid` with `-F +pid`). */
  pid: number | null;
  /** Thread id (the single id perf script prints by default). */
  tid: number | null;
  /** CPU from `[NNN]`. */
  cpu: number | null;
  /** Time in ns (at the printed precision), null without a time column. */
  ts: bigint | null;
  /** Digits after the decimal point of the time (6 default, 9 with `--ns`). */
  precision: number;
  /** The sample period printed before the event name of non-tracepoint events. */
  period: bigint | null;
  /** Event name as printed (`tlb:tlb_flush`, `cycles`). */
  event: string;
  /** Text after `<event>: ` (may be empty). */
  payload: string;
}

/** A fresh line record (reused by {@linkcode parseScriptLine}). */
export function emptyScriptLine(): ScriptLine {
  return {
    comm: null,
    pid: null,
    tid: null,
    cpu: null,
    ts: null,
    precision: 0,
    period: null,
    event: "",
    payload: "",
  };
}

const TIME = /^(\d+)\.(\d{1,9}):$/;
const CPU = /^\[(\d+)\]$/;
const IDS = /^(-?\d+)(?:\/(-?\d+))?$/;
const SCALE = [
  1000000000n,
  100000000n,
  10000000n,
  1000000n,
  100000n,
  10000n,
  1000n,
  100n,
  10n,
  1n,
];

/**
 * Classifies a line and, for a sample line, fills `out`.
 *
 * @param line one line without its newline
 * @param out receives the columns of a sample line
 * @returns the kind of line
 * @example
 * ```ts
 * import { emptyScriptLine, parseScriptLine } from "./script_line.ts";
 * const l = emptyScriptLine();
 * const k = parseScriptLine(
 *   "     workload.sh 10663 [001]   425.890850: syscalls:sys_enter_munmap: addr: 0x7f31a6373000",
 *   l,
 * );
 * console.assert(k === "sample" && l.comm === "workload.sh" && l.tid === 10663 && l.cpu === 1);
 * console.assert(l.ts === 425890850000n && l.event === "syscalls:sys_enter_munmap");
 * console.assert(l.payload === "addr: 0x7f31a6373000");
 * ```
 */
export function parseScriptLine(line: string, out: ScriptLine): ScriptLineKind {
  if (line.trim() === "") return "blank";
  if (line.startsWith("#")) return "comment";
  // Call chains (`perf script -g`): "\t<hex address> <symbol> (<dso>)" after each sample.
  if (/^\t\s*[0-9a-f]+ /.test(line)) return "callchain";

  // Tokens with their start offsets.
  const toks: { t: string; at: number }[] = [];
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  let ev = -1;
  while ((m = re.exec(line)) !== null) {
    const t = m[0];
    toks.push({ t, at: m.index });
    const end = m.index + t.length;
    // The event name is the first token ending in ':' (followed by a space or the end) that is
    // not the time column.
    if (
      t.length > 1 && t.endsWith(":") && (end === line.length || line[end] === " ") &&
      !TIME.test(t)
    ) {
      ev = toks.length - 1;
      break;
    }
  }
  if (ev < 0) return "unparsed";
  const evTok = toks[ev]!;
  const event = evTok.t.slice(0, -1);
  const after = evTok.at + evTok.t.length;
  const payload = after + 1 <= line.length ? line.slice(after + 1) : "";

  out.comm = null;
  out.pid = null;
  out.tid = null;
  out.cpu = null;
  out.ts = null;
  out.precision = 0;
  out.period = null;
  let i = ev - 1;
  // period: a bare number right after the time column
  if (i >= 1 && /^\d+$/.test(toks[i]!.t) && TIME.test(toks[i - 1]!.t)) {
    out.period = BigInt(toks[i]!.t);
    i--;
  }
  if (i >= 0) {
    const tm = TIME.exec(toks[i]!.t);
    if (tm) {
      const frac = tm[2]!;
      out.ts = BigInt(tm[1]!) * 1000000000n + BigInt(frac) * SCALE[frac.length]!;
      out.precision = frac.length;
      i--;
    }
  }
  if (i >= 0) {
    const c = CPU.exec(toks[i]!.t);
    if (c) {
      out.cpu = Number(c[1]);
      i--;
    }
  }
  if (i >= 0) {
    const id = IDS.exec(toks[i]!.t);
    // A lone number at the very start with nothing before it, or one after the comm.
    if (id) {
      if (id[2] !== undefined) {
        out.pid = Number(id[1]);
        out.tid = Number(id[2]);
      } else out.tid = Number(id[1]);
      i--;
    }
  }
  if (i >= 0) {
    // Whatever precedes is the comm (may contain spaces). A comm is printed right-aligned.
    out.comm = line.slice(0, toks[i]!.at + toks[i]!.t.length).trim();
  }
  if (out.ts === null && out.tid === null && out.cpu === null && out.comm === null) {
    return "unparsed";
  }
  out.event = event;
  out.payload = payload;
  return "sample";
}
