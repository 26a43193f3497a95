/**
 * Where the per-CPU flyrecord data of a trace being written waits until the file is
 * assembled: in memory for small traces, in a temporary file for large ones (so memory stays
 * bounded by one compression chunk per CPU).
 *
 * {@linkcode CpuDataStream} turns records into pages ({@linkcode RingBufferPageWriter}) and,
 * for compressed v7 files, pages into chunks of 10 pages (`PAGES_IN_CHUNK` in trace-cmd's
 * `trace-output.c`), each stored as `u32 compressed size, u32 uncompressed size, bytes`.
 *
 * @module
 */

import { compressBlock, type Compression } from "./compression.ts";
import { type PageWriterOptions, RingBufferPageWriter } from "./ring_buffer_page.ts";

/** Append-only byte storage. */
export interface ByteStore {
  /** Appends bytes (copied). */
  append(bytes: Uint8Array): void;
  /** Bytes appended so far. */
  readonly size: number;
  /** The stored bytes, in order, in pieces of any size. */
  pieces(): Iterable<Uint8Array>;
  /** Releases resources (deletes a temporary file). */
  dispose(): void;
}

/** Keeps the bytes in memory. */
export class MemoryByteStore implements ByteStore {
  #parts: Uint8Array[] = [];
  #size = 0;

  /**
   * Appends a copy of the bytes.
   *
   * @param bytes bytes to append
   */
  append(bytes: Uint8Array): void {
    this.#parts.push(bytes.slice());
    this.#size += bytes.length;
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * The stored bytes.
   *
   * @returns the appended pieces
   */
  pieces(): Iterable<Uint8Array> {
    return this.#parts;
  }

  /** Drops the data. */
  dispose(): void {
    this.#parts = [];
  }
}

/** Keeps the bytes in a temporary file (needs `--allow-write` and `--allow-read`). */
export class FileByteStore implements ByteStore {
  readonly #path: string;
  readonly #file: Deno.FsFile;
  #size = 0;

  /**
   * Creates the temporary file.
   *
   * @param dir directory for the temporary file (default: the system's)
   */
  constructor(dir?: string) {
    this.#path = Deno.makeTempFileSync(dir ? { dir, prefix: "cpu-" } : { prefix: "cpu-" });
    this.#file = Deno.openSync(this.#path, { read: true, write: true, truncate: true });
  }

  /**
   * Writes the bytes at the end of the temporary file.
   *
   * @param bytes bytes to append
   */
  append(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += this.#file.writeSync(bytes.subarray(done));
    this.#size += bytes.length;
  }

  /** Bytes appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Reads the file back from the start.
   *
   * @returns the file content in 1 MiB pieces (views of one reused buffer)
   */
  *pieces(): Iterable<Uint8Array> {
    this.#file.seekSync(0, Deno.SeekMode.Start);
    const buf = new Uint8Array(1 << 20);
    let left = this.#size;
    while (left > 0) {
      const n = this.#file.readSync(buf.subarray(0, Math.min(buf.length, left)));
      if (n === null || n === 0) throw new Error(`temporary file ${this.#path} is truncated`);
      left -= n;
      yield buf.subarray(0, n);
    }
    this.#file.seekSync(0, Deno.SeekMode.End);
  }

  /** Closes and deletes the temporary file. */
  dispose(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
    try {
      Deno.removeSync(this.#path);
    } catch { /* already gone */ }
  }
}

/** Options of {@linkcode CpuDataStream}. */
export interface CpuDataStreamOptions extends PageWriterOptions {
  /** `none` stores raw pages; `zstd`/`zlib` store compressed chunks. */
  compression?: Compression;
  /** Pages per compression chunk (trace-cmd uses 10). */
  pagesPerChunk?: number;
}

/**
 * The flyrecord data of one CPU of one buffer, being written.
 *
 * @example
 * ```ts
 * import { CpuDataStream, MemoryByteStore } from "./cpu_data_store.ts";
 * const s = new CpuDataStream(new MemoryByteStore(), { compression: "zstd" });
 * s.add(5n, new Uint8Array(16));
 * s.finish();
 * console.assert(s.chunks === 1 && s.pages === 1 && s.records === 1);
 * ```
 */
export class CpuDataStream {
  /** Where the bytes go. */
  readonly store: ByteStore;
  /** The compression of the stored bytes. */
  readonly compression: Compression;
  /** Byte order of the stored numbers. */
  readonly littleEndian: boolean;
  readonly #le: boolean;
  readonly #writer: RingBufferPageWriter;
  readonly #chunk: Uint8Array;
  #chunkUsed = 0;
  #chunks = 0;
  #firstTs: bigint | null = null;
  #lastTs: bigint | null = null;

  /**
   * Starts the data of one CPU.
   *
   * @param store storage for the data
   * @param options page layout and compression
   */
  constructor(store: ByteStore, options: CpuDataStreamOptions = {}) {
    this.store = store;
    this.compression = options.compression ?? "none";
    this.#le = options.littleEndian ?? true;
    this.littleEndian = this.#le;
    this.#writer = new RingBufferPageWriter((page) => this.#onPage(page), options);
    this.#chunk = new Uint8Array(
      this.compression === "none" ? 0 : this.#writer.pageSize * (options.pagesPerChunk ?? 10),
    );
  }

  #onPage(page: Uint8Array): void {
    if (this.compression === "none") {
      this.store.append(page);
      return;
    }
    this.#chunk.set(page, this.#chunkUsed);
    this.#chunkUsed += page.length;
    if (this.#chunkUsed === this.#chunk.length) this.#flushChunk();
  }

  #flushChunk(): void {
    if (this.#chunkUsed === 0) return;
    const raw = this.#chunk.subarray(0, this.#chunkUsed);
    const z = compressBlock(this.compression, raw);
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint32(0, z.length, this.#le);
    v.setUint32(4, raw.length, this.#le);
    this.store.append(head);
    this.store.append(z);
    this.#chunks++;
    this.#chunkUsed = 0;
  }

  /**
   * Appends one record.
   *
   * @param ts timestamp (clock units, non-decreasing)
   * @param payload record bytes
   */
  add(ts: bigint, payload: Uint8Array): void {
    this.#writer.add(ts, payload);
    if (this.#firstTs === null) this.#firstTs = ts;
    this.#lastTs = ts;
  }

  /**
   * Marks lost events before the next record.
   *
   * @param count lost events, null when unknown
   */
  markLost(count: number | null): void {
    this.#writer.markLost(count);
  }

  /** Flushes the last page and chunk. */
  finish(): void {
    this.#writer.finish();
    this.#flushChunk();
  }

  /** Records written. */
  get records(): number {
    return this.#writer.records;
  }

  /** Pages written. */
  get pages(): number {
    return this.#writer.pages;
  }

  /** Compressed chunks written (0 without compression). */
  get chunks(): number {
    return this.#chunks;
  }

  /** Timestamp of the first record, or null. */
  get firstTs(): bigint | null {
    return this.#firstTs;
  }

  /** Timestamp of the last record, or null. */
  get lastTs(): bigint | null {
    return this.#lastTs;
  }

  /** Bytes of uncompressed page data. */
  get rawBytes(): number {
    return this.#writer.pages * this.#writer.pageSize;
  }
}
