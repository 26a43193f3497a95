/**
 * One zstd decompression stream fed piece by piece: `perf record -z` compresses all its data as
 * a single zstd stream cut into PERF_RECORD_COMPRESSED records, so only the first record
 * decompresses on its own. Uses node:zlib's streaming zstd decoder and flushes after every
 * piece, so each piece's output is available before the next record is read.
 *
 * @module
 */
import { constants, createZstdDecompress, type ZstdDecompress } from "node:zlib";

/** Largest output accepted from one piece (a record decompresses to at most perf's mmap size). */
export const MAX_PIECE_OUTPUT = 64 << 20;

/**
 * A streaming zstd decoder.
 *
 * @example
 * ```ts
 * import { zstdCompressSync } from "node:zlib";
 * import { ZstdStream } from "./zstd_stream.ts";
 * const z = zstdCompressSync(new TextEncoder().encode("hello hello hello"));
 * const s = new ZstdStream();
 * const a = await s.push(z.subarray(0, 5));
 * const b = await s.push(z.subarray(5));
 * s.close();
 * console.assert(new TextDecoder().decode(new Uint8Array([...a, ...b])) === "hello hello hello");
 * ```
 */
export class ZstdStream {
  private d: ZstdDecompress | null = null;
  private parts: Uint8Array[] = [];
  private got = 0;
  private err: Error | null = null;
  private reject: ((e: Error) => void) | null = null;

  /**
   * Creates a decoder (the zstd context is made on the first push).
   *
   * @param maxOutput cap on the output of one piece (bytes)
   */
  constructor(readonly maxOutput: number = MAX_PIECE_OUTPUT) {}

  /** The decoder, created on first use. */
  private open(): ZstdDecompress {
    if (this.d) return this.d;
    const d = createZstdDecompress();
    d.on("data", (c: Uint8Array) => {
      this.got += c.length;
      if (this.got > this.maxOutput) {
        this.fail(new Error(`one compressed record expands past ${this.maxOutput} bytes`));
        return;
      }
      this.parts.push(c);
    });
    d.on("error", (e: Error) => this.fail(e));
    this.d = d;
    return d;
  }

  /** Records the first error, rejects the pending push and stops the decoder. */
  private fail(e: Error): void {
    if (!this.err) this.err = e;
    const rj = this.reject;
    this.reject = null;
    if (rj) rj(this.err);
    this.d?.destroy();
  }

  /**
   * Feeds one piece of the stream.
   *
   * @param piece compressed bytes
   * @returns the bytes decompressed so far that were not returned yet (one array)
   * @throws {Error} when the data is not zstd or expands past the cap
   */
  push(piece: Uint8Array): Promise<Uint8Array> {
    if (this.err) return Promise.reject(this.err);
    const d = this.open();
    this.parts = [];
    this.got = 0;
    // Deno's node:zlib throws some decoder errors (corrupt data after part of a piece was
    // decoded) from a nextTick callback instead of emitting "error": the push would never
    // settle and the error would kill the process. Claim such errors while this push is pending.
    const onGlobalError = (ev: ErrorEvent) => {
      const e: unknown = ev.error;
      if (this.reject && e instanceof Error && e.message.startsWith("Zstd decompress error")) {
        ev.preventDefault();
        this.fail(e);
      }
    };
    globalThis.addEventListener("error", onGlobalError);
    const settled = () => globalThis.removeEventListener("error", onGlobalError);
    return new Promise<Uint8Array>((resolve, reject) => {
      this.reject = reject;
      d.write(piece);
      d.flush(constants.ZSTD_e_flush, () => {
        if (this.reject !== reject) return;
        this.reject = null;
        if (this.err) return reject(this.err);
        const parts = this.parts;
        this.parts = [];
        if (parts.length === 1) return resolve(parts[0]!);
        const out = new Uint8Array(this.got);
        let o = 0;
        for (const p of parts) {
          out.set(p, o);
          o += p.length;
        }
        resolve(out);
      });
    }).finally(settled);
  }

  /** Releases the decoder. */
  close(): void {
    if (this.d) {
      this.d.removeAllListeners();
      this.d.on("error", () => {});
      this.d.destroy();
      this.d = null;
    }
  }
}
