/**
 * Writes trace.dat files (v6 or v7; uncompressed, zstd or zlib) from decoded events, laid out
 * as `trace-cmd record` writes them, so that `trace-cmd report` and the toolkit's readers can
 * read them. For traces too large to hold in memory use {@linkcode TraceDatStreamWriter}.
 *
 * Event timestamps are written as they are (raw clock values): readers apply the OFFSET,
 * DATE and TSC2NSEC options on top.
 *
 * @module
 */

import type { TraceEvent } from "../core/event.ts";
import { MemoryByteStore } from "./cpu_data_store.ts";
import {
  type FilePart,
  partSize,
  TraceDatBuilder,
  type TraceDatHeader,
} from "./tracedat_builder.ts";

export type { TraceDatHeader, TraceDatOptions } from "./tracedat_builder.ts";

/** A whole trace: its description and its events. */
export interface TraceDatInput extends TraceDatHeader {
  /** Events in any order; they are sorted per buffer and CPU by `ts` (stable). */
  events: Iterable<TraceEvent>;
}

function compareTs(a: TraceEvent, b: TraceEvent): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
}

/**
 * Concatenates file parts into one buffer.
 *
 * @param parts the parts of a {@linkcode TraceDatBuilder}
 * @returns the file bytes
 */
export function concatParts(parts: readonly FilePart[]): Uint8Array {
  const total = parts.reduce((n, p) => n + partSize(p), 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    if (p instanceof Uint8Array) {
      out.set(p, at);
      at += p.length;
      continue;
    }
    if (p.withChunkCount) {
      new DataView(out.buffer).setUint32(at, p.cpu.chunks, p.cpu.littleEndian);
      at += 4;
    }
    for (const piece of p.cpu.store.pieces()) {
      out.set(piece, at);
      at += piece.length;
    }
  }
  return out;
}

/**
 * Builds a trace.dat file in memory.
 *
 * @param input the trace
 * @returns the file bytes
 * @throws {UsageError} for unknown event types, bad CPUs, values that do not fit their fields
 * @example
 * ```ts
 * import { writeTraceDat } from "./tracedat_writer.ts";
 * import { knownFormats } from "../ingest/known_formats/known_formats.ts";
 * const bytes = writeTraceDat({
 *   cpus: 1,
 *   formats: knownFormats("6.18", { systems: ["tlb"] }),
 *   events: [{ ts: 1_000_000n, cpu: 0, pid: 1, comm: "init", system: "tlb", event: "tlb_flush",
 *     buffer: "", flags: 0, preempt_count: 0, fields: { reason: 3, pages: 1 } }],
 * });
 * console.assert(bytes[0] === 0x17 && new TextDecoder().decode(bytes.subarray(3, 11)) === "tracing7");
 * ```
 */
export function writeTraceDat(input: TraceDatInput): Uint8Array {
  const { events, ...header } = input;
  const builder = new TraceDatBuilder(header, () => new MemoryByteStore());
  try {
    const sorted = [...events].sort(compareTs);
    for (const e of sorted) builder.add(e);
    return concatParts(builder.finish());
  } finally {
    builder.dispose();
  }
}

/**
 * Builds a trace.dat file and writes it to disk.
 *
 * @param path output path
 * @param input the trace
 * @returns the number of bytes written
 */
export async function writeTraceDatFile(path: string, input: TraceDatInput): Promise<number> {
  const bytes = writeTraceDat(input);
  await Deno.writeFile(path, bytes);
  return bytes.length;
}
