/**
 * The text readers, keyed by sniffed format, for `ingest/ingest.ts` to add to its table of
 * readers: `ftrace_text` (the kernel's `trace`, `trace_pipe`, `per_cpu/cpuN/trace` files) and
 * `tracecmd_report` (`trace-cmd report` output).
 *
 * ```ts ignore
 * import { TEXT_INGESTERS } from "./ftrace_text/register.ts";
 * for (const [format, fn] of TEXT_INGESTERS) INGESTERS.set(format, fn);
 * ```
 *
 * This module imports `ingest.ts` for types only, so importing it from there makes no cycle.
 *
 * @module
 */
import type { SourceIngester } from "../ingest.ts";
import type { TraceFormat } from "../sniff.ts";
import type { PayloadParserFactory } from "./payload_decoder.ts";
import { compilePrintFmtInverse } from "./print_fmt_inverse.ts";
import { ingestText } from "./text_ingest.ts";
import type { TextFlavor } from "./text_reader.ts";

/**
 * The print-format inverter for text written by the kernel (`kernel`) or by trace-cmd
 * (`report`, libtraceevent's reading of format strings).
 *
 * @param flavor who wrote the text
 * @returns the factory the reader uses for known-format events
 * @example
 * ```ts
 * import { defaultPayloadParser } from "./register.ts";
 * console.assert(typeof defaultPayloadParser("kernel") === "function");
 * ```
 */
export function defaultPayloadParser(flavor: TextFlavor): PayloadParserFactory {
  const f = flavor === "kernel" ? "kernel" : "tep";
  return (fmt) => compilePrintFmtInverse(fmt, f);
}

const KERNEL = defaultPayloadParser("kernel");
const REPORT = defaultPayloadParser("report");

/** `ftrace_text` and `tracecmd_report` readers. */
export const TEXT_INGESTERS: ReadonlyArray<readonly [TraceFormat, SourceIngester]> = [
  [
    "ftrace_text",
    (src, rt, onProgress) =>
      ingestText(src, rt, { flavor: "kernel", payloadParser: KERNEL }, onProgress),
  ],
  [
    "tracecmd_report",
    (src, rt, onProgress) =>
      ingestText(src, rt, { flavor: "report", payloadParser: REPORT }, onProgress),
  ],
];

/**
 * Registers the text readers through a registration function (e.g. `registerIngester`).
 *
 * @param register called once per format
 * @example
 * ```ts
 * import { registerTextIngesters } from "./register.ts";
 * const seen: string[] = [];
 * registerTextIngesters((f) => seen.push(f));
 * console.assert(seen.join() === "ftrace_text,tracecmd_report");
 * ```
 */
export function registerTextIngesters(
  register: (format: TraceFormat, fn: SourceIngester) => void,
): void {
  for (const [f, fn] of TEXT_INGESTERS) register(f, fn);
}
