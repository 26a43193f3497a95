/**
 * Registers the text readers with `ingest/ingest.ts`: `ftrace_text` (the kernel's `trace`,
 * `trace_pipe`, `per_cpu/cpuN/trace` files) and `tracecmd_report` (`trace-cmd report` output).
 * Importing this module is enough; {@linkcode registerTextIngesters} is the explicit form.
 *
 * @module
 */
import { registerIngester } from "../ingest.ts";
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

/** Registers both text readers (idempotent). */
export function registerTextIngesters(): void {
  registerIngester(
    "ftrace_text",
    (src, rt, onProgress) =>
      ingestText(
        src,
        rt,
        { flavor: "kernel", payloadParser: defaultPayloadParser("kernel") },
        onProgress,
      ),
  );
  registerIngester(
    "tracecmd_report",
    (src, rt, onProgress) =>
      ingestText(
        src,
        rt,
        { flavor: "report", payloadParser: defaultPayloadParser("report") },
        onProgress,
      ),
  );
}

registerTextIngesters();
