/**
 * The latency-format flag column of ftrace text (`d..2.`, `dNh2`, `d...2..`) decoded back into
 * the record's `common_flags` bits and `common_preempt_count` byte.
 *
 * Bits follow the kernel's `enum trace_flag_type` (include/linux/trace_events.h, 6.x). What each
 * character means depends on the column, so the columns are named (from the header's
 * `_-----=> irqs-off` lines when present, else from the number of characters).
 *
 * @module
 */

/** `TRACE_FLAG_IRQS_OFF`. */
export const FLAG_IRQS_OFF = 0x01;
/** `TRACE_FLAG_NEED_RESCHED_LAZY` (6.13+; `TRACE_FLAG_IRQS_NOSUPPORT` before, printed `X`). */
export const FLAG_NEED_RESCHED_LAZY = 0x02;
/** `TRACE_FLAG_NEED_RESCHED`. */
export const FLAG_NEED_RESCHED = 0x04;
/** `TRACE_FLAG_HARDIRQ`. */
export const FLAG_HARDIRQ = 0x08;
/** `TRACE_FLAG_SOFTIRQ`. */
export const FLAG_SOFTIRQ = 0x10;
/** `TRACE_FLAG_PREEMPT_RESCHED`. */
export const FLAG_PREEMPT_RESCHED = 0x20;
/** `TRACE_FLAG_NMI`. */
export const FLAG_NMI = 0x40;
/** `TRACE_FLAG_BH_OFF`. */
export const FLAG_BH_OFF = 0x80;

/** What one character of the flag column stands for. */
export type FlagColumn =
  | "irqs"
  | "resched"
  | "resched_lazy"
  | "hardirq"
  | "preempt"
  | "preempt_lazy"
  | "migrate"
  | "unknown";

/** Column layouts by width, for text without a header. */
const BY_WIDTH: Record<number, readonly FlagColumn[]> = {
  4: ["irqs", "resched", "hardirq", "preempt"],
  5: ["irqs", "resched", "hardirq", "preempt", "migrate"],
  6: ["irqs", "resched", "resched_lazy", "hardirq", "preempt", "migrate"],
  7: ["irqs", "resched", "resched_lazy", "hardirq", "preempt", "preempt_lazy", "migrate"],
};

/**
 * The column layout for a flag field of `width` characters when the header did not name them.
 *
 * @param width number of flag characters
 * @returns the columns (unknown columns for unusual widths)
 * @example
 * ```ts
 * import { layoutForWidth } from "./flags.ts";
 * console.assert(layoutForWidth(4).join() === "irqs,resched,hardirq,preempt");
 * ```
 */
export function layoutForWidth(width: number): readonly FlagColumn[] {
  const l = BY_WIDTH[width];
  if (l) return l;
  const out: FlagColumn[] = [];
  for (let i = 0; i < width; i++) out.push(i === 0 ? "irqs" : "unknown");
  return out;
}

/**
 * The column a header legend names (`irqs-off/BH-disabled`, `need-resched`, `hardirq/softirq`,
 * `preempt-depth`, `migrate-disable`, `need-resched-lazy`, `preempt-lazy-depth`), or null for
 * legend entries that are not flag characters (`CPU#`, `delay`).
 *
 * @param legend the text after `=>`
 * @returns the column, or null
 * @example
 * ```ts
 * import { columnOfLegend } from "./flags.ts";
 * console.assert(columnOfLegend("irqs-off/BH-disabled") === "irqs");
 * console.assert(columnOfLegend("CPU#") === null);
 * ```
 */
export function columnOfLegend(legend: string): FlagColumn | null {
  const l = legend.trim().toLowerCase();
  if (l.startsWith("irqs-off")) return "irqs";
  if (l === "need-resched-lazy") return "resched_lazy";
  if (l.startsWith("need-resched")) return "resched";
  if (l.startsWith("hardirq")) return "hardirq";
  if (l === "preempt-lazy-depth") return "preempt_lazy";
  if (l.startsWith("preempt-depth") || l === "preempt-count") return "preempt";
  if (l.startsWith("migrate")) return "migrate";
  return null;
}

/** Decoded flag column. */
export interface DecodedFlags {
  /** `common_flags`. */
  flags: number;
  /** `common_preempt_count`: preempt depth in the low nibble, migrate-disable in the high one. */
  preempt: number;
}

function hexDigit(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Decodes a flag field. Returns null when a character does not fit its column (then the field
 * was not a flag field).
 *
 * `X` (irq state not supported) maps to bit 0x02 as kernels before 6.13 recorded it. A PREEMPT_RT
 * `preempt-lazy-depth` column is checked but not stored (it was a separate record field).
 *
 * libtraceevent (trace-cmd report `-l`, and every report from trace-cmd 3.3 on) prints `N` for
 * need-resched alone, where the kernel prints `n` (its `N` means need-resched and
 * preempt-resched) and never shows preempt-resched (0x20), which therefore reads as 0: pass
 * `tep` for text written by trace-cmd.
 *
 * @param text the flag characters
 * @param layout the columns (defaults to {@linkcode layoutForWidth})
 * @param tep true when libtraceevent printed the flags
 * @returns flags and preempt count, or null
 * @example
 * ```ts
 * import { decodeFlags } from "./flags.ts";
 * const f = decodeFlags("dNh21")!;
 * console.assert(f.flags === (0x01 | 0x04 | 0x20 | 0x08) && f.preempt === 0x12);
 * ```
 */
export function decodeFlags(
  text: string,
  layout: readonly FlagColumn[] = layoutForWidth(text.length),
  tep = false,
): DecodedFlags | null {
  if (text.length !== layout.length) return null;
  let flags = 0;
  let preempt = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    switch (layout[i]) {
      case "irqs":
        if (c === "D") flags |= FLAG_IRQS_OFF | FLAG_BH_OFF;
        else if (c === "d") flags |= FLAG_IRQS_OFF;
        else if (c === "b") flags |= FLAG_BH_OFF;
        else if (c === "X") flags |= FLAG_NEED_RESCHED_LAZY;
        else if (c !== ".") return null;
        break;
      case "resched":
        switch (c) {
          case "B":
            flags |= FLAG_NEED_RESCHED | FLAG_NEED_RESCHED_LAZY | FLAG_PREEMPT_RESCHED;
            break;
          case "N":
            flags |= tep ? FLAG_NEED_RESCHED : FLAG_NEED_RESCHED | FLAG_PREEMPT_RESCHED;
            break;
          case "L":
            flags |= FLAG_NEED_RESCHED_LAZY | FLAG_PREEMPT_RESCHED;
            break;
          case "b":
            flags |= FLAG_NEED_RESCHED | FLAG_NEED_RESCHED_LAZY;
            break;
          case "n":
            flags |= FLAG_NEED_RESCHED;
            break;
          case "l":
            flags |= FLAG_NEED_RESCHED_LAZY;
            break;
          case "p":
            flags |= FLAG_PREEMPT_RESCHED;
            break;
          case ".":
            break;
          default:
            return null;
        }
        break;
      case "resched_lazy":
        if (c === "L" || c === "l") flags |= FLAG_NEED_RESCHED_LAZY;
        else if (c !== ".") return null;
        break;
      case "hardirq":
        switch (c) {
          case "Z":
            flags |= FLAG_NMI | FLAG_HARDIRQ;
            break;
          case "z":
            flags |= FLAG_NMI;
            break;
          case "H":
            flags |= FLAG_HARDIRQ | FLAG_SOFTIRQ;
            break;
          case "h":
            flags |= FLAG_HARDIRQ;
            break;
          case "s":
            flags |= FLAG_SOFTIRQ;
            break;
          case ".":
            break;
          default:
            return null;
        }
        break;
      case "preempt":
      case "migrate":
      case "preempt_lazy": {
        if (c === ".") break;
        const d = hexDigit(c);
        if (d < 0) return null;
        if (layout[i] === "preempt") preempt |= d;
        else if (layout[i] === "migrate") preempt |= d << 4;
        break;
      }
      default:
        break;
    }
  }
  return { flags, preempt };
}

/**
 * Reads the flag legend of a header (`#  _-----=> irqs-off/BH-disabled` lines) into a layout.
 *
 * @param legends the texts after `=>`, in header order
 * @returns the flag columns in order (CPU# and delay left out), or null if none was a flag
 * @example
 * ```ts
 * import { layoutFromLegend } from "./flags.ts";
 * const l = layoutFromLegend(["CPU#", "irqs-off", "need-resched", "hardirq/softirq", "preempt-depth", "delay"]);
 * console.assert(l!.join() === "irqs,resched,hardirq,preempt");
 * ```
 */
export function layoutFromLegend(legends: readonly string[]): FlagColumn[] | null {
  const out: FlagColumn[] = [];
  for (const l of legends) {
    const c = columnOfLegend(l);
    if (c) out.push(c);
  }
  return out.length ? out : null;
}
