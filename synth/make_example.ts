/**
 * Generates the repository's example trace.
 *
 * For now the example is a handful of `tlb:tlb_flush` events on two CPUs (the IOMMU scenario
 * will replace {@linkcode exampleEvents} once the scenario builders exist); the file is then
 * read back with the real `trace-cmd report` to prove it is a valid trace.dat.
 *
 * Run: `deno run --allow-read --allow-write --allow-run synth/make_example.ts [out.dat]`
 * (default `out/example.dat`).
 *
 * @module
 */

import type { TraceEvent } from "../core/event.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import { type KnownFormat, knownFormats } from "../ingest/known_formats/known_formats.ts";
import { checkWithTraceCmd } from "./trace_cmd_check.ts";
import { writeTraceDat } from "./tracedat_writer.ts";

/** The kernel the example pretends to come from. */
export const EXAMPLE_KERNEL = "6.18";

/**
 * The example's events: a process doing mm work on CPU 1 while CPU 0 switches tasks.
 *
 * @returns the events, in time order
 */
export function exampleEvents(): TraceEvent[] {
  const flush = (
    ts: bigint,
    cpu: number,
    pid: number,
    comm: string,
    reason: number,
    pages: number,
  ): TraceEvent => ({
    ts,
    cpu,
    pid,
    comm,
    system: "tlb",
    event: "tlb_flush",
    buffer: "",
    flags: 0x01,
    preempt_count: 0x02,
    fields: { reason, pages },
  });
  return [
    flush(250_672_887_703n, 0, 7373, "trace-cmd", 0, -1),
    flush(250_672_898_168n, 1, 7374, "workload.sh", 3, 1),
    flush(250_672_912_040n, 1, 7374, "workload.sh", 3, 16),
    flush(250_673_774_000n, 1, 7374, "workload.sh", 1, 1),
    flush(250_675_827_074n, 0, 7375, "python3", 4, 1),
    flush(251_014_656_000n, 0, 0, "<idle>", 0, -1),
  ];
}

/** The example trace, ready to write. */
export interface Example {
  /** The trace.dat bytes. */
  bytes: Uint8Array;
  /** The events in it. */
  events: TraceEvent[];
  /** The format files in it. */
  formats: KnownFormat[];
}

/**
 * Builds the example trace in memory.
 *
 * @returns bytes, events and formats
 * @example
 * ```ts
 * import { makeExample } from "./make_example.ts";
 * const ex = makeExample();
 * console.assert(ex.events.length === 6 && ex.bytes.length > 1000);
 * ```
 */
export function makeExample(): Example {
  const formats = knownFormats(EXAMPLE_KERNEL, { systems: ["tlb"] });
  const events = exampleEvents();
  const bytes = writeTraceDat({
    version: 7,
    compression: "zstd",
    kernel: "6.18.44",
    cpus: 2,
    formats,
    events,
  });
  return { bytes, events, formats };
}

/**
 * Writes the example and checks it with `trace-cmd report`.
 *
 * @param path output file
 * @returns the number of events trace-cmd showed
 * @throws {Error} when trace-cmd is missing or disagrees with the events written
 */
export async function writeExample(path: string): Promise<number> {
  const ex = makeExample();
  await Deno.writeFile(path, ex.bytes);
  const parsed = new Map<string, EventFormat>(
    ex.formats.map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system)]),
  );
  const r = await checkWithTraceCmd(path, ex.events, parsed);
  return r.events;
}

if (import.meta.main) {
  const path = Deno.args[0] ?? "out/example.dat";
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (dir) await Deno.mkdir(dir, { recursive: true });
  const n = await writeExample(path);
  console.log(`${path}: ${n} events, read back by trace-cmd`);
}
