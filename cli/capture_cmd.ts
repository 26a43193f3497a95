/**
 * `deno task capture`: snapshot the machine's IOMMU topology from sysfs and print the trace-cmd
 * command line (tracepoints plus probe definitions) that records what a replay needs.
 *
 * @module
 */
import { runCapture } from "../core/capture.ts";

/**
 * Runs the capture command.
 *
 * @param args arguments after `capture`
 * @returns exit code
 */
export function captureCommand(args: string[]): Promise<number> {
  return runCapture(args);
}
