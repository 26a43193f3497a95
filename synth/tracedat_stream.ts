/**
 * Writes very large trace.dat files with bounded memory: events are encoded into pages as
 * they arrive, each CPU's pages (or compressed 10-page chunks) go to a temporary file, and
 * {@linkcode TraceDatStreamWriter.close} assembles the final file by copying them in. Memory
 * holds one page and one chunk per CPU plus the pid → comm table, whatever the event count.
 *
 * Unlike {@linkcode writeTraceDat}, events are not sorted: per buffer and CPU they must
 * arrive in non-decreasing `ts` order (events of different CPUs may interleave freely).
 *
 * @module
 */

import type { TraceEvent } from "../core/event.ts";
import { FileByteStore } from "./cpu_data_store.ts";
import {
  type FilePart,
  partSize,
  TraceDatBuilder,
  type TraceDatHeader,
} from "./tracedat_builder.ts";

/** Options of {@linkcode TraceDatStreamWriter}. */
export interface TraceDatStreamOptions {
  /** Directory for the per-CPU temporary files (default: the system's temp directory). */
  tempDir?: string;
}

/** What {@linkcode TraceDatStreamWriter.close} reports. */
export interface StreamResult {
  /** File size in bytes. */
  bytes: number;
  /** Events written. */
  events: number;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/**
 * Streams events into a trace.dat file.
 *
 * @example
 * ```ts ignore
 * import { TraceDatStreamWriter } from "./tracedat_stream.ts";
 * import { knownFormats } from "../ingest/known_formats/known_formats.ts";
 * const w = new TraceDatStreamWriter("big.dat", { cpus: 4, formats: knownFormats("6.18") });
 * for (let i = 0; i < 5_000_000; i++) {
 *   w.add({ ts: BigInt(1e9 + i * 100), cpu: i % 4, pid: 1, comm: "init", system: "tlb",
 *     event: "tlb_flush", buffer: "", flags: 0, preempt_count: 0, fields: { reason: 3, pages: 1 } });
 * }
 * const { bytes } = await w.close();
 * ```
 */
export class TraceDatStreamWriter {
  /** Output path. */
  readonly path: string;
  readonly #builder: TraceDatBuilder;
  #closed = false;

  /**
   * Prepares a streamed trace; nothing is written to `path` before {@linkcode close}.
   *
   * @param path output file (created or truncated at {@linkcode close})
   * @param header the trace's description
   * @param options temporary directory
   * @throws {UsageError} on inconsistent settings or unparsable formats
   */
  constructor(path: string, header: TraceDatHeader, options: TraceDatStreamOptions = {}) {
    this.path = path;
    this.#builder = new TraceDatBuilder(header, () => new FileByteStore(options.tempDir));
  }

  /** Events added so far. */
  get events(): number {
    return this.#builder.events;
  }

  /**
   * Adds one event.
   *
   * @param event the event (per buffer and CPU in non-decreasing `ts`)
   * @throws {UsageError} for unknown event types, bad CPUs, timestamps going backwards
   */
  add(event: TraceEvent): void {
    this.#builder.add(event);
  }

  /**
   * Adds events in order.
   *
   * @param events the events
   */
  addAll(events: Iterable<TraceEvent>): void {
    for (const e of events) this.#builder.add(e);
  }

  /**
   * Writes the file and removes the temporary files.
   *
   * @returns the file size and event count
   */
  async close(): Promise<StreamResult> {
    if (this.#closed) throw new Error(`${this.path}: already closed`);
    this.#closed = true;
    try {
      const parts: FilePart[] = this.#builder.finish();
      const file = await Deno.open(this.path, { write: true, create: true, truncate: true });
      let bytes = 0;
      try {
        for (const p of parts) {
          if (p instanceof Uint8Array) {
            await writeAll(file, p);
          } else {
            if (p.withChunkCount) {
              const head = new Uint8Array(4);
              new DataView(head.buffer).setUint32(0, p.cpu.chunks, p.cpu.littleEndian);
              await writeAll(file, head);
            }
            for (const piece of p.cpu.store.pieces()) await writeAll(file, piece);
          }
          bytes += partSize(p);
        }
      } finally {
        file.close();
      }
      return { bytes, events: this.#builder.events };
    } finally {
      this.#builder.dispose();
    }
  }

  /** Drops everything written so far and removes the temporary files. */
  abort(): void {
    this.#closed = true;
    this.#builder.dispose();
  }
}
