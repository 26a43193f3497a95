/**
 * Input format detection from content (never from the file name).
 *
 * @module
 */

/** The formats the toolkit reads. */
export type TraceFormat =
  | "tracedat"
  | "perf_data"
  | "perf_data_pipe"
  | "ftrace_text"
  | "tracecmd_report"
  | "perf_script"
  | "unknown";

const TRACEDAT = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67];

function startsWith(b: Uint8Array, s: number[] | string): boolean {
  const arr = typeof s === "string" ? [...s].map((c) => c.charCodeAt(0)) : s;
  if (b.length < arr.length) return false;
  for (let i = 0; i < arr.length; i++) if (b[i] !== arr[i]) return false;
  return true;
}

/**
 * Detects the format of an input from its first bytes (4 KiB or more is best).
 *
 * @param head the first bytes
 * @returns the format, `unknown` if none matches
 * @example
 * ```ts
 * import { sniffFormat } from "./sniff.ts";
 * console.assert(sniffFormat(new TextEncoder().encode("PERFILE2")) === "perf_data");
 * console.assert(sniffFormat(new TextEncoder().encode("cpus=2\n")) === "tracecmd_report");
 * ```
 */
export function sniffFormat(head: Uint8Array): TraceFormat {
  if (startsWith(head, TRACEDAT)) return "tracedat";
  if (startsWith(head, "PERFILE2") || startsWith(head, "2ELIFREP")) {
    if (head.length >= 16) {
      const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
      const le = startsWith(head, "PERFILE2");
      const size = v.getBigUint64(8, le);
      if (size === 16n) return "perf_data_pipe";
    }
    return "perf_data";
  }
  // Text: look at the first lines.
  for (const b of head.subarray(0, 512)) if (b === 0) return "unknown";
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head);
  const lines = text.split("\n").slice(0, 60);
  if (lines.some((l) => /^# tracer: /.test(l) || /^# entries-in-buffer/.test(l))) {
    return "ftrace_text";
  }
  if (lines.some((l) => /^cpus=\d+\s*$/.test(l) || /^version = \d/.test(l))) {
    return "tracecmd_report";
  }
  for (const l of lines) {
    if (l.startsWith("#") || l.trim() === "") continue;
    // perf script: "comm  tid [cpu] 123.456789:  sys:event: payload"
    if (/^\s*\S.*?\s+\d+(\/\d+)?\s+\[\d{3}\]\s+\d+\.\d+:\s+(\d+\s+)?[\w-]+:[\w-]+:/.test(l)) {
      return "perf_script";
    }
    // kernel trace text without the header: "comm-pid [cpu] flags ts: event:"
    if (/^\s*.+-\d+\s+(\(\s*[\d-]+\)\s+)?\[\d{3}\]\s+\S{4,7}\s+\d+(\.\d+)?:/.test(l)) {
      return "ftrace_text";
    }
    // trace-cmd report without cpus= (filtered output)
    if (/^\s*.+-\d+\s+\[\d{3}\]\s+\d+(\.\d+)?:\s+\w+:/.test(l)) return "tracecmd_report";
    // kernel latency-format ("%8.8s-%-7d %3d" flags " %4lldus%c: ") / trace-cmd report -l
    if (/^.{8}-\d+\s+\d+[.a-zA-Z0-9]*\s+\d+us.:\s/.test(l)) return "ftrace_text";
    if (/^.{8}-\d+\s+\d+[.a-zA-Z0-9]*\s+\d+\.\d+:\s+\w+:/.test(l)) return "tracecmd_report";
    // kernel raw / hex options without the header (trace_pipe): "pid cpu ts type: id"
    if (/^(\d+ \d+ \d+|[0-9a-f]{8} [0-9a-f]{8} [0-9a-f]{16}) type: \d+$/.test(l)) {
      return "ftrace_text";
    }
  }
  return "unknown";
}
