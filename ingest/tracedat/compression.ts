/**
 * trace.dat v7 decompression: zstd and zlib blocks with the uncompressed size from the block
 * header (trace-cmd writes zstd frames without a content size).
 *
 * @module
 */
import { inflateSync, zstdDecompressSync } from "node:zlib";
import { TraceError, type TraceLocation } from "../../core/errors.ts";

/**
 * Largest uncompressed block accepted (a metadata section such as kallsyms or BTF, or a chunk):
 * a few kilobytes of zstd can claim and produce this much, so it bounds what one block costs.
 */
export const MAX_UNCOMPRESSED_BLOCK = 256 << 20;

/** A decompressor for one algorithm. */
export type Decompressor = (
  data: Uint8Array,
  usize: number,
  where: TraceLocation,
  limit?: number,
) => Uint8Array;

function run(
  fn: (d: Uint8Array, o: { maxOutputLength: number }) => Uint8Array,
  algo: string,
): Decompressor {
  return (data, usize, where, limit = MAX_UNCOMPRESSED_BLOCK) => {
    if (usize > limit) {
      throw new TraceError(
        "limit_exceeded",
        `uncompressed size ${usize} exceeds the ${limit}-byte cap of a block`,
        where,
      );
    }
    let out: Uint8Array;
    try {
      out = fn(data, { maxOutputLength: Math.max(usize, 1) });
    } catch (e) {
      throw new TraceError(
        "decompress_failed",
        `${algo} block does not decompress: ${(e as Error).message}`,
        where,
      );
    }
    if (out.length !== usize) {
      throw new TraceError(
        "decompress_failed",
        `${algo} block gave ${out.length} bytes, header says ${usize}`,
        where,
      );
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  };
}

/**
 * The decompressor for a trace-cmd compression name.
 *
 * @param name `zstd`, `zlib` or `none`
 * @param where location for the error
 * @returns the decompressor, or null for `none`
 * @throws {TraceError} `unknown_compression` for any other name
 */
export function decompressorFor(name: string, where: TraceLocation): Decompressor | null {
  switch (name) {
    case "none":
    case "":
      return null;
    case "zstd":
      return run(zstdDecompressSync as never, "zstd");
    case "zlib":
      return run(inflateSync as never, "zlib");
    default:
      throw new TraceError("unknown_compression", `unknown compression '${name}'`, where);
  }
}
