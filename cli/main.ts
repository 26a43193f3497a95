/**
 * The `iommu-replay` command line: `replay`, `ingest`, `query`, `report`, `capture`.
 *
 * @module
 */
import { guarded } from "./common.ts";
import { ingestCommand } from "./ingest_cmd.ts";

/** Top-level help. */
export const MAIN_HELP =
  `iommu-replay: replay Linux IOMMU invalidations from kernel traces under other policies.

Usage:
  deno task replay <trace> [--topology FILE] [--policy a,b] [--cost-model NAME|FILE] [--out DIR] [--json]
  deno task ingest <trace> --out DIR [--format arrow,parquet,csv]
  deno task query <DIR|trace> "<SQL>" [--json]
  deno task report <DIR> --out report.html
  deno task capture [--out topology.json]

Every command takes --help.
`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  ingest: () => Promise.resolve(ingestCommand),
  query: async () => (await import("./query_cmd.ts")).queryCommand,
  replay: async () => (await import("./replay_cmd.ts")).replayCommand,
  report: async () => (await import("./report_cmd.ts")).reportCommand,
  capture: async () => (await import("./capture_cmd.ts")).captureCommand,
};

/**
 * Runs the command line.
 *
 * @param argv arguments (subcommand first)
 * @returns exit code
 */
export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(MAIN_HELP);
    return sub ? 0 : 2;
  }
  const load = COMMANDS[sub];
  if (!load) {
    console.error(`iommu-replay: unknown command '${sub}' (try --help)`);
    return 2;
  }
  return await guarded(sub, async () => (await load())(rest));
}

/**
 * The process's peak resident set size (`VmHWM` in `/proc/self/status`), in KiB.
 *
 * @returns KiB, or null where /proc is not available
 */
export function peakRssKiB(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  // for the scale benchmark (bench/scale.ts): the child reports its own peak memory
  if (Deno.env.get("IOMMU_REPLAY_PRINT_HWM") === "1") {
    const kib = peakRssKiB();
    console.error(
      kib === null
        ? "iommu-replay: VmHWM unknown (/proc/self/status needs --allow-all)"
        : `iommu-replay: VmHWM ${kib} kB`,
    );
  }
  Deno.exit(code);
}
