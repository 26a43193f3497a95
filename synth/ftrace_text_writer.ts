/**
 * Renders events as the kernel's `/sys/kernel/tracing/trace` file (the ftrace text format),
 * with its header block and one line per event:
 * `%16s-%-7d [%03d] <flags> %5lu.%06lu: <event>: <payload>`.
 *
 * Layout rules from `kernel/trace/trace.c` (`print_event_info`, `print_func_help_header_irq`,
 * `ns2usecs`, which rounds to the nearest microsecond) and `kernel/trace/trace_output.c`
 * (`trace_print_context`, `trace_print_lat_fmt`, `trace_print_time`); syscall events print
 * `sys_<name>(arg: 0x.., ...)` / `sys_<name> -> 0x..` (`kernel/trace/trace_syscalls.c`).
 *
 * The payload after `event: ` is the event's print format rendered; pass a renderer for it
 * (the print-format engine lives in `ingest/format/`). {@linkcode keyValuePayload} is a
 * simple stand-in for tests.
 *
 * @module
 */

import type { FieldValue, TraceEvent } from "../core/event.ts";

/** Options of {@linkcode renderFtraceText}. */
export interface FtraceTextOptions {
  /** `#P:` in the header: number of online CPUs. */
  cpus: number;
  /** Renders the payload after `event: ` (default {@linkcode keyValuePayload}). */
  renderPayload?: (event: TraceEvent) => string;
  /** Renders everything after the timestamp's `: ` (overrides `event: payload` and syscalls). */
  renderBody?: (event: TraceEvent) => string;
  /** `# tracer:` name (default `nop`). */
  tracer?: string;
  /** The `irq-info` option: the 5-character flags column (default true). */
  irqInfo?: boolean;
  /** The `record-tgid` option: pid → tgid; unknown pids print `(-------)`. */
  tgid?: ReadonlyMap<number, number>;
  /** Whether the clock counts nanoseconds (default true); otherwise raw counts `%12llu`. */
  clockInNs?: boolean;
  /** Kernels with lazy preemption (6.13+ [R]): flag bit 0x02 is NEED_RESCHED_LAZY. */
  lazyResched?: boolean;
  /** Only events of this buffer instance (default the top buffer, `""`). */
  buffer?: string;
  /** `entries-in-buffer/entries-written` (default: the number of lines). */
  entries?: { inBuffer: number; written: number };
  /** `CPU:N [LOST K EVENTS]` before the first event of `cpu` with `ts >= ts`. */
  lost?: readonly { cpu: number; ts: bigint; count: number }[];
}

/**
 * The kernel's latency flags column (`trace_print_lat_fmt`): irqs-off/BH-off,
 * need-resched, hardirq/softirq/NMI, preempt depth, migrate-disable depth.
 *
 * @param flags `common_flags`
 * @param preemptCount `common_preempt_count`
 * @param lazyResched use the 6.13+ meaning of bit 0x02 (NEED_RESCHED_LAZY) instead of IRQS_NOSUPPORT
 * @returns five characters
 * @example
 * ```ts
 * import { kernelLatencyFlags } from "./ftrace_text_writer.ts";
 * console.assert(kernelLatencyFlags(0x01, 0x02) === "d..2.");
 * console.assert(kernelLatencyFlags(0x0d, 0x01) === "dnh1.");
 * ```
 */
export function kernelLatencyFlags(
  flags: number,
  preemptCount: number,
  lazyResched = false,
): string {
  const irqsOff = flags & 0x01;
  const bhOff = flags & 0x80;
  const lazy = lazyResched ? flags & 0x02 : 0;
  const noSupport = lazyResched ? 0 : flags & 0x02;
  const c1 = irqsOff && bhOff ? "D" : irqsOff ? "d" : bhOff ? "b" : noSupport ? "X" : ".";
  const nr = flags & 0x04;
  const pr = flags & 0x20;
  let c2: string;
  if (nr && lazy && pr) c2 = "B";
  else if (nr && pr) c2 = "N";
  else if (lazy && pr) c2 = "L";
  else if (nr && lazy) c2 = "b";
  else if (nr) c2 = "n";
  else if (pr) c2 = "p";
  else if (lazy) c2 = "l";
  else c2 = ".";
  const nmi = flags & 0x40;
  const hard = flags & 0x08;
  const soft = flags & 0x10;
  const c3 = nmi && hard ? "Z" : nmi ? "z" : hard && soft ? "H" : hard ? "h" : soft ? "s" : ".";
  const c4 = preemptCount & 0xf ? (preemptCount & 0xf).toString(16) : ".";
  const c5 = preemptCount & 0xf0 ? (preemptCount >> 4).toString(16) : ".";
  return c1 + c2 + c3 + c4 + c5;
}

/**
 * `ns2usecs` and the `%5lu.%06lu` of the kernel: microseconds rounded to the nearest.
 *
 * @param ns nanoseconds
 * @returns e.g. `  383.902511`
 */
export function formatTraceTime(ns: bigint): string {
  const us = (ns + 500n) / 1000n;
  return `${(us / 1_000_000n).toString().padStart(5)}.${
    (us % 1_000_000n).toString().padStart(6, "0")
  }`;
}

function valueText(v: FieldValue | undefined): string {
  if (v === undefined || v === null) return "";
  if (Array.isArray(v)) return `{${v.map((x) => x.toString()).join(",")}}`;
  return String(v);
}

/**
 * A stand-in payload: the event's own fields as `name=value`, in field order.
 *
 * @param e the event
 * @returns e.g. `reason=3 pages=1`
 */
export function keyValuePayload(e: TraceEvent): string {
  return Object.entries(e.fields).map(([k, v]) => `${k}=${valueText(v)}`).join(" ");
}

function hexLong(v: FieldValue | undefined): string {
  if (typeof v === "number" || typeof v === "bigint") {
    return BigInt.asUintN(64, BigInt(v)).toString(16);
  }
  return valueText(v);
}

/**
 * The kernel's own rendering of syscall events (`print_syscall_enter` / `_exit`).
 *
 * @param e a `syscalls:sys_enter_*` or `sys_exit_*` event
 * @returns `sys_munmap(addr: 0x7f5f00038000, len: 0x8c5f)` or `sys_munmap -> 0x0`
 */
export function syscallBody(e: TraceEvent): string {
  const enter = /^sys_enter_(.+)$/.exec(e.event);
  if (enter) {
    const args = Object.entries(e.fields)
      .filter(([k]) => k !== "__syscall_nr")
      .map(([k, v]) => `${k}: 0x${hexLong(v)}`);
    return `sys_${enter[1]}(${args.join(", ")})`;
  }
  const exit = /^sys_exit_(.+)$/.exec(e.event);
  if (exit) return `sys_${exit[1]} -> 0x${hexLong(e.fields.ret)}`;
  return `${e.event}: ${keyValuePayload(e)}`;
}

function headerLines(o: FtraceTextOptions, entries: { inBuffer: number; written: number }): string {
  const tgid = o.tgid !== undefined;
  let h = `# tracer: ${o.tracer ?? "nop"}\n#\n` +
    `# entries-in-buffer/entries-written: ${entries.inBuffer}/${entries.written}   #P:${o.cpus}\n#\n`;
  if (o.irqInfo ?? true) {
    const pad = " ".repeat(tgid ? 12 : 2);
    h += `#                            ${pad}  _-----=> irqs-off/BH-disabled\n` +
      `#                            ${pad} / _----=> need-resched\n` +
      `#                            ${pad}| / _---=> hardirq/softirq\n` +
      `#                            ${pad}|| / _--=> preempt-depth\n` +
      `#                            ${pad}||| / _-=> migrate-disable\n` +
      `#                            ${pad}|||| /     delay\n` +
      `#           TASK-PID  ${tgid ? "     TGID   " : "  "} CPU#  |||||  TIMESTAMP  FUNCTION\n` +
      `#              | |    ${tgid ? "       |    " : "  "}   |   |||||     |         |\n`;
  } else {
    h += `#           TASK-PID    ${tgid ? "   TGID     " : ""} CPU#     TIMESTAMP  FUNCTION\n` +
      `#              | |      ${tgid ? "     |      " : ""}   |         |         |\n`;
  }
  return h;
}

/**
 * One line of the trace file (without the newline).
 *
 * @param e the event
 * @param options rendering options
 * @returns the line
 * @example
 * ```ts
 * import { ftraceLine } from "./ftrace_text_writer.ts";
 * const line = ftraceLine({ ts: 383902511200n, cpu: 1, pid: 9396, comm: "gen.sh", system: "tlb",
 *   event: "tlb_flush", buffer: "", flags: 1, preempt_count: 1, fields: {} }, {
 *   cpus: 2, renderPayload: () => "pages:-1 reason:local MM shootdown (3)" });
 * console.assert(line ===
 *   "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1 reason:local MM shootdown (3)");
 * ```
 */
export function ftraceLine(e: TraceEvent, options: FtraceTextOptions): string {
  const comm = e.pid === 0 ? "<idle>" : e.comm === "" ? "<...>" : e.comm;
  let s = `${comm.padStart(16)}-${String(e.pid).padEnd(7)} `;
  if (options.tgid !== undefined) {
    const t = options.tgid.get(e.pid);
    s += t === undefined ? "(-------) " : `(${String(t).padStart(7)}) `;
  }
  s += `[${String(e.cpu).padStart(3, "0")}] `;
  if (options.irqInfo ?? true) {
    s += kernelLatencyFlags(e.flags, e.preempt_count, options.lazyResched ?? false);
  }
  s += (options.clockInNs ?? true)
    ? ` ${formatTraceTime(e.ts)}`
    : ` ${e.ts.toString().padStart(12)}`;
  s += ": ";
  if (options.renderBody) return s + options.renderBody(e);
  if (e.system === "syscalls") return s + syscallBody(e);
  return s + `${e.event}: ${(options.renderPayload ?? keyValuePayload)(e)}`;
}

/**
 * Renders a whole trace file: header block, then the events merged across CPUs in time order
 * (ties: lower CPU first, as the kernel's iterator picks them).
 *
 * @param events events in any order
 * @param options rendering options
 * @returns the file text, ending with a newline
 */
export function renderFtraceText(events: Iterable<TraceEvent>, options: FtraceTextOptions): string {
  const buffer = options.buffer ?? "";
  const list = [...events].filter((e) => e.buffer === buffer)
    .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.cpu - b.cpu));
  const entries = options.entries ?? { inBuffer: list.length, written: list.length };
  const lost = [...(options.lost ?? [])];
  const out: string[] = [headerLines(options, entries)];
  for (const e of list) {
    for (let i = 0; i < lost.length; i++) {
      const l = lost[i]!;
      if (l.cpu === e.cpu && l.ts <= e.ts) {
        out.push(`CPU:${l.cpu} [LOST ${l.count} EVENTS]\n`);
        lost.splice(i--, 1);
      }
    }
    out.push(ftraceLine(e, options) + "\n");
  }
  return out.join("");
}
