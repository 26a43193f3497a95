/**
 * Cross-checks a written trace.dat against the real `trace-cmd report`: runs it, parses its
 * raw (`-R -t`) and latency (`-l`) output, and compares every line's buffer, comm, pid, CPU,
 * timestamp, flags and fields with the events that were written.
 *
 * The check fails (throws) when `trace-cmd` is not installed: a missing reference tool must
 * not look like a passing test.
 *
 * @module
 */

import type { FieldValue, TraceEvent } from "../core/event.ts";
import type { EventFormat, FieldFormat } from "../ingest/format/types.ts";

/** One event line of `trace-cmd report -R -t`. */
export interface RawReportLine {
  /** Buffer instance prefix (`inst2`), `""` for the top buffer. */
  buffer: string;
  /** Command name as printed. */
  comm: string;
  /** Process id. */
  pid: number;
  /** CPU number. */
  cpu: number;
  /** Nanoseconds (or raw counts for non-ns clocks). */
  ts: bigint;
  /** Event name. */
  event: string;
  /** `name=value` pairs as printed. */
  fields: Map<string, string>;
}

/** Parsed `trace-cmd report -R -t` output. */
export interface RawReport {
  /** The `cpus=N` line. */
  cpus: number;
  /** Event lines in report order. */
  lines: RawReportLine[];
  /** `CPU:N [K EVENTS DROPPED]` lines (count null when unknown). */
  dropped: { cpu: number; count: number | null }[];
}

const LINE_RE = /^(?:(\S+):)?\s*(.+)-(\d+)\s+\[(\d+)\]\s+(\d+)(?:\.(\d+))?: (\S+):\s*(.*)$/;
const FIELD_RE = /(?:^| )([A-Za-z_]\w*)=(ARRAY\[[^\]]*\]|[^ ]*)/g;
const DROP_RE = /^(?:\S+:)?\s*CPU:(\d+) \[(?:(\d+) )?EVENTS DROPPED\]$/;

/**
 * Runs `trace-cmd` with arguments and returns its standard output.
 *
 * @param args command-line arguments
 * @returns stdout text
 * @throws {Error} when trace-cmd is missing or exits non-zero
 */
export async function runTraceCmd(args: readonly string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("trace-cmd", { args: [...args], stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new Error(
      `trace-cmd is required for this check but could not be run (${(e as Error).message}); ` +
        `install it (apt-get install trace-cmd)`,
    );
  }
  const stdout = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `trace-cmd ${args.join(" ")} failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return stdout;
}

/**
 * Parses `trace-cmd report -R -t` text.
 *
 * @param text the report
 * @returns the cpu count, event lines and dropped-event markers
 * @throws {Error} on a line that is neither
 * @example
 * ```ts
 * import { parseRawReport } from "./trace_cmd_check.ts";
 * const r = parseRawReport(
 *   "cpus=2\ninst2:   trace-cmd-9176  [001]   362.963423000: tlb_flush:   reason=3 pages=1\n",
 * );
 * console.assert(r.lines[0]!.buffer === "inst2" && r.lines[0]!.ts === 362963423000n);
 * console.assert(r.lines[0]!.fields.get("pages") === "1");
 * ```
 */
export function parseRawReport(text: string): RawReport {
  const report: RawReport = { cpus: 0, lines: [], dropped: [] };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const cpus = /^cpus=(\d+)$/.exec(line);
    if (cpus) {
      report.cpus = Number(cpus[1]);
      continue;
    }
    const drop = DROP_RE.exec(line);
    if (drop) {
      report.dropped.push({ cpu: Number(drop[1]), count: drop[2] ? Number(drop[2]) : null });
      continue;
    }
    const m = LINE_RE.exec(line);
    if (!m) throw new Error(`unexpected trace-cmd report line: ${line}`);
    const fields = new Map<string, string>();
    for (const f of m[8]!.matchAll(FIELD_RE)) fields.set(f[1]!, f[2]!);
    const secs = BigInt(m[5]!);
    report.lines.push({
      buffer: m[1] ?? "",
      comm: m[2]!.trim(),
      pid: Number(m[3]),
      cpu: Number(m[4]),
      ts: m[6] !== undefined ? secs * 10n ** BigInt(m[6].length) + BigInt(m[6]) : secs,
      event: m[7]!,
      fields,
    });
  }
  return report;
}

function numberCandidates(token: string): bigint[] {
  const out: bigint[] = [];
  if (/^-?0x[0-9a-f]+$/i.test(token)) {
    const neg = token.startsWith("-");
    const v = BigInt(neg ? token.slice(1) : token);
    out.push(neg ? -v : v);
  } else {
    if (/^-?\d+$/.test(token)) out.push(BigInt(token));
    if (/^[0-9a-f]+$/i.test(token)) out.push(BigInt(`0x${token}`));
  }
  return out;
}

function elementBytes(values: readonly (number | bigint)[], size: number, le: boolean): string {
  const hex: string[] = [];
  for (const v of values) {
    let u = BigInt.asUintN(size * 8, BigInt(v));
    const one: string[] = [];
    for (let i = 0; i < size; i++) {
      one.push((u & 0xffn).toString(16).padStart(2, "0"));
      u >>= 8n;
    }
    hex.push(...(le ? one : one.reverse()));
  }
  return `ARRAY[${hex.join(", ")}]`;
}

/**
 * Whether a printed value stands for the written one. Numbers may be printed in decimal,
 * hex with or without `0x`, signed or unsigned (libtraceevent follows the print format);
 * non-string arrays print as their bytes in file order, `ARRAY[..]`.
 *
 * @param printed the token after `name=`
 * @param value the written value
 * @param field the field's format
 * @param littleEndian byte order of the file (default true)
 * @returns true when they agree
 */
export function printedValueMatches(
  printed: string,
  value: FieldValue | undefined,
  field: FieldFormat,
  littleEndian = true,
): boolean {
  if (value === undefined || value === null) return false;
  if (field.isString || typeof value === "string") {
    const s = String(value);
    return field.kind === "array"
      ? printed === s.slice(0, Math.min(s.length, field.size))
      : printed === s;
  }
  if (Array.isArray(value)) {
    return printed === elementBytes(value, field.elemSize || 1, littleEndian);
  }
  const bits = (field.kind === "int" ? field.size : 8) * 8;
  const want = BigInt.asUintN(bits, BigInt(value as number | bigint | boolean));
  return numberCandidates(printed).some((c) => BigInt.asUintN(bits, c) === want);
}

/** TEP's latency flag column (libtraceevent `data_latency_format`), as trace-cmd 3.1 prints it. */
export function tepLatencyFlags(flags: number, preemptCount: number): string {
  const irq = flags & 0x01 ? "d" : flags & 0x02 ? "X" : ".";
  const resched = flags & 0x04 ? "N" : ".";
  const hard = flags & 0x08;
  const soft = flags & 0x10;
  const ctx = hard && soft ? "H" : hard ? "h" : soft ? "s" : ".";
  const pc = preemptCount & 0xf ? (preemptCount & 0xf).toString(16) : ".";
  const mig = preemptCount >> 4 ? (preemptCount >> 4).toString(16) : ".";
  return irq + resched + ctx + pc + mig;
}

/** What {@linkcode checkWithTraceCmd} compares. */
export interface CheckOptions {
  /** Added to every written `ts` by the reader (OFFSET, DATE×1000 options). */
  tsShift?: bigint;
  /** Also compare flags and preempt count through `trace-cmd report -l` (default true). */
  checkFlags?: boolean;
  /** The file is big endian (array bytes print in file order). */
  bigEndian?: boolean;
  /** Expected `CPU:N [K EVENTS DROPPED]` markers, in report order. */
  dropped?: { cpu: number; count: number | null }[];
}

/** The outcome of a successful check. */
export interface CheckResult {
  /** Event lines compared. */
  events: number;
  /** Field values compared. */
  fields: number;
}

function compareTs(a: TraceEvent, b: TraceEvent): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.cpu - b.cpu;
}

/**
 * Runs `trace-cmd report` on a file and checks that it shows exactly the given events.
 *
 * trace-cmd merges CPUs by timestamp; events with equal timestamps on different CPUs may
 * come in either order, so the comparison sorts both sides by (ts, cpu, buffer).
 *
 * @param path the trace.dat
 * @param events the events written (any order)
 * @param formats parsed formats by `system:event`
 * @param options timestamp shift, flag and drop checks
 * @returns counts of what was compared
 * @throws {Error} at the first difference, naming the event and field
 */
export async function checkWithTraceCmd(
  path: string,
  events: readonly TraceEvent[],
  formats: ReadonlyMap<string, EventFormat>,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const shift = options.tsShift ?? 0n;
  const report = parseRawReport(await runTraceCmd(["report", "-R", "-t", path]));
  if (report.lines.length !== events.length) {
    throw new Error(`trace-cmd shows ${report.lines.length} events, ${events.length} were written`);
  }
  if (options.dropped) {
    const got = JSON.stringify(report.dropped);
    const want = JSON.stringify(options.dropped);
    if (got !== want) throw new Error(`dropped-event markers: trace-cmd ${got}, expected ${want}`);
  }
  const key = (buffer: string, ts: bigint, cpu: number) =>
    `${ts.toString().padStart(24, "0")}/${String(cpu).padStart(5, "0")}/${buffer}`;
  const expected = [...events].sort(compareTs);
  const order = <T extends { k: string }>(xs: T[]): T[] =>
    xs.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const want = order(expected.map((e) => ({ k: key(e.buffer, e.ts + shift, e.cpu), e })));
  const got = order(report.lines.map((l) => ({ k: key(l.buffer, l.ts, l.cpu), l })));
  let fields = 0;
  for (let i = 0; i < want.length; i++) {
    const e = want[i]!.e;
    const l = got[i]!.l;
    const where = `event #${i} (${e.system}:${e.event} cpu ${e.cpu} ts ${e.ts})`;
    const comm = e.pid === 0 ? "<idle>" : e.comm;
    const checks: [string, unknown, unknown][] = [
      ["buffer", l.buffer, e.buffer],
      ["ts", l.ts, e.ts + shift],
      ["cpu", l.cpu, e.cpu],
      ["pid", l.pid, e.pid],
      ["comm", l.comm, comm],
      ["event", l.event, e.event],
    ];
    for (const [name, a, b] of checks) {
      if (a !== b) throw new Error(`${where}: ${name} is ${a} in trace-cmd, ${b} written`);
    }
    const format = formats.get(`${e.system}:${e.event}`);
    if (!format) throw new Error(`${where}: no format`);
    for (const f of format.ownFields) {
      const printed = l.fields.get(f.name);
      if (printed === undefined) throw new Error(`${where}: trace-cmd shows no ${f.name}`);
      if (!printedValueMatches(printed, e.fields[f.name], f, !options.bigEndian)) {
        throw new Error(
          `${where}: ${f.name} is ${printed} in trace-cmd, ${String(e.fields[f.name])} written`,
        );
      }
      fields++;
    }
  }
  if (options.checkFlags ?? true) {
    const lat = (await runTraceCmd(["report", "-l", "-t", path])).split("\n")
      .filter((x) => /^\S*\s*.+-\d+\s+\d+\S{5}\s/.test(x) && !x.includes("EVENTS DROPPED"));
    if (lat.length !== events.length) {
      throw new Error(`trace-cmd -l shows ${lat.length} events, ${events.length} were written`);
    }
    const seen = new Map<string, number>();
    for (const x of lat) {
      const m = /-(\d+)\s+(\d+)(\S{5})\s+(\d+)\.(\d+):/.exec(x)!;
      const k = `${m[1]}/${m[2]}/${m[3]}/${
        BigInt(m[4]!) * 10n ** BigInt(m[5]!.length) + BigInt(m[5]!)
      }`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    for (const e of events) {
      const k = `${e.pid}/${e.cpu}/${tepLatencyFlags(e.flags, e.preempt_count)}/${e.ts + shift}`;
      const n = seen.get(k) ?? 0;
      if (n === 0) throw new Error(`trace-cmd -l has no line ${k} for ${e.system}:${e.event}`);
      seen.set(k, n - 1);
    }
  }
  return { events: events.length, fields };
}
