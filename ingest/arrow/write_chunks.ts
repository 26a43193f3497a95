/**
 * Writes a stream given as pieces (e.g. an Arrow batch from `encodeBatchChunks`) with few write
 * calls and few copies: small pieces are gathered in a buffer the caller keeps, large ones are
 * written as they are.
 *
 * @module
 */

/** Something to write to (a `Deno.FsFile`). */
export interface SyncWriter {
  /** Writes some of `b` and returns how many bytes it wrote. */
  writeSync(b: Uint8Array): number;
}

/**
 * Writes all of `b`.
 *
 * @param f the file
 * @param b the bytes
 */
export function writeAll(f: SyncWriter, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += f.writeSync(b.subarray(off));
}

/**
 * Writes `chunks` in order: pieces shorter than `direct` bytes are gathered in `scratch` (flushed
 * when full and before a large piece), larger ones are written without a copy.
 *
 * @param f the file
 * @param chunks the pieces, in order
 * @param scratch a buffer the caller reuses (its contents are overwritten)
 * @param direct pieces at least this long are written as they are (default 64 KiB)
 * @example
 * ```ts
 * import { writeChunks } from "./write_chunks.ts";
 * const out: number[] = [];
 * const f = { writeSync: (b: Uint8Array) => (out.push(...b), b.length) };
 * writeChunks(f, [Uint8Array.of(1), Uint8Array.of(2, 3, 4), Uint8Array.of(5)], new Uint8Array(2), 3);
 * console.assert(out.join() === "1,2,3,4,5");
 * ```
 */
export function writeChunks(
  f: SyncWriter,
  chunks: readonly Uint8Array[],
  scratch: Uint8Array,
  direct = 1 << 16,
): void {
  let fill = 0;
  for (const c of chunks) {
    const big = c.length >= direct || c.length > scratch.length;
    if (fill > 0 && (big || fill + c.length > scratch.length)) {
      writeAll(f, scratch.subarray(0, fill));
      fill = 0;
    }
    if (big) writeAll(f, c);
    else {
      scratch.set(c, fill);
      fill += c.length;
    }
  }
  if (fill > 0) writeAll(f, scratch.subarray(0, fill));
}
