/**
 * The perf readers, keyed by sniffed format, for `ingest/ingest.ts` to add to its table of
 * readers:
 *
 * ```ts ignore
 * import { PERF_INGESTERS } from "./perf/register.ts";
 * for (const [format, fn] of PERF_INGESTERS) INGESTERS.set(format, fn);
 * ```
 *
 * This module imports `ingest.ts` for types only, so importing it from there makes no cycle.
 *
 * @module
 */
import type { SourceIngester } from "../ingest.ts";
import { compilePrintFmtInverse } from "../ftrace_text/print_fmt_inverse.ts";
import type { TraceFormat } from "../sniff.ts";
import { ingestPerfData } from "./perf_data_ingest.ts";
import { ingestPerfScript, type PerfScriptOptions } from "./perf_script_ingest.ts";

/**
 * Options the registered perf script reader uses: payloads are read back through the event's
 * print fmt as libtraceevent (which perf uses) prints it.
 */
export const SCRIPT_OPTIONS: PerfScriptOptions = {
  payloadParser: (fmt) => compilePrintFmtInverse(fmt, "tep"),
};

/** `perf_data`, `perf_data_pipe` and `perf_script` readers. */
export const PERF_INGESTERS: ReadonlyArray<readonly [TraceFormat, SourceIngester]> = [
  ["perf_data", (src, rt, onProgress) => ingestPerfData(src, rt, onProgress)],
  ["perf_data_pipe", (src, rt, onProgress) => ingestPerfData(src, rt, onProgress)],
  ["perf_script", (src, rt, onProgress) => ingestPerfScript(src, rt, onProgress, SCRIPT_OPTIONS)],
];

/**
 * Registers the perf readers through a registration function (e.g. `registerIngester`).
 *
 * @param register called once per format
 * @example
 * ```ts
 * import { registerPerfIngesters } from "./register.ts";
 * const seen: string[] = [];
 * registerPerfIngesters((f) => seen.push(f));
 * console.assert(seen.join() === "perf_data,perf_data_pipe,perf_script");
 * ```
 */
export function registerPerfIngesters(
  register: (format: TraceFormat, fn: SourceIngester) => void,
): void {
  for (const [f, fn] of PERF_INGESTERS) register(f, fn);
}
