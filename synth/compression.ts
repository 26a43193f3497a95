/**
 * The two compression algorithms of trace.dat v7 (`lib/trace-cmd/trace-compress-{zstd,zlib}.c`):
 * `zstd` (independent frames) and `zlib` (`compress2` at best compression, RFC 1950 framing).
 *
 * @module
 */

import { deflateSync, inflateSync, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { UsageError } from "../core/errors.ts";

/** Compression choice of a v7 file. */
export type Compression = "none" | "zstd" | "zlib";

/** Version strings written after the algorithm name (those of Debian 12's trace-cmd build). */
export const DEFAULT_COMPRESSION_VERSION: Readonly<Record<Exclude<Compression, "none">, string>> =
  Object.freeze({ zstd: "1.5.4", zlib: "1.2.13" });

/**
 * Compresses one block (a metadata section or a chunk of ring-buffer pages).
 *
 * @param algo `zstd` or `zlib`
 * @param data uncompressed bytes
 * @returns the compressed bytes
 * @throws {UsageError} for `none`
 * @example
 * ```ts
 * import { compressBlock, decompressBlock } from "./compression.ts";
 * const z = compressBlock("zlib", new TextEncoder().encode("aaaaaaaa"));
 * console.assert(z[0] === 0x78 && new TextDecoder().decode(decompressBlock("zlib", z)) === "aaaaaaaa");
 * ```
 */
export function compressBlock(algo: Compression, data: Uint8Array): Uint8Array {
  switch (algo) {
    case "zstd":
      return new Uint8Array(zstdCompressSync(data));
    case "zlib":
      return new Uint8Array(deflateSync(data, { level: 9 }));
    default:
      throw new UsageError(`compression ${algo} has no compressor`);
  }
}

/**
 * Decompresses one block (used by tests and round-trip checks).
 *
 * @param algo `zstd` or `zlib`
 * @param data compressed bytes
 * @returns the original bytes
 * @throws {UsageError} for `none`
 */
export function decompressBlock(algo: Compression, data: Uint8Array): Uint8Array {
  switch (algo) {
    case "zstd":
      return new Uint8Array(zstdDecompressSync(data));
    case "zlib":
      return new Uint8Array(inflateSync(data));
    default:
      throw new UsageError(`compression ${algo} has no decompressor`);
  }
}
