/**
 * Random access to an input file without loading it whole: positional reads and a sequential
 * cursor with a read-ahead window. Every read is checked against the file's size, so a lying size
 * field gives a typed error instead of a huge allocation.
 *
 * @module
 */
import { TraceError } from "../core/errors.ts";
import { ByteReader } from "./byte_reader.ts";

/** Bytes of a file, read on demand. */
export interface FileSource {
  /** File name for error messages. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `len` bytes at `offset` (throws a typed error if the file is shorter). */
  readAt(offset: number, len: number, section: string): Uint8Array;
  /**
   * Optional: reads exactly `out.length` bytes at `offset` into `out` (a buffer the caller reuses),
   * with the checks of `readAt`. Sources that hold their bytes in memory leave it out.
   */
  readInto?(offset: number, out: Uint8Array, section: string): void;
  /** Releases the file. */
  close(): void;
}

/**
 * Opens a file for positional reads.
 *
 * @param path file path
 * @returns the source
 * @throws {Deno.errors.NotFound} when the file does not exist
 */
export function openFileSource(path: string): FileSource {
  const at = { file: path, section: "open", offset: 0 };
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      throw new TraceError("usage", "no such file", at);
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new TraceError("usage", "is a directory, not a trace file", at);
    }
    throw e;
  }
  const st = f.statSync();
  if (st.isDirectory) {
    f.close();
    throw new TraceError("usage", "is a directory, not a trace file", at);
  }
  const size = st.size;
  return {
    name: path,
    size,
    readAt(offset, len, section) {
      if (offset < 0 || len < 0 || offset + len > size) {
        throw new TraceError(
          "truncated",
          `needs ${len} bytes at ${offset}, file has ${size}`,
          { file: path, section, offset: Math.min(Math.max(offset, 0), size) },
        );
      }
      const out = new Uint8Array(len);
      fill(offset, out, section);
      return out;
    },
    readInto(offset, out, section) {
      const len = out.length;
      if (offset < 0 || offset + len > size) {
        throw new TraceError(
          "truncated",
          `needs ${len} bytes at ${offset}, file has ${size}`,
          { file: path, section, offset: Math.min(Math.max(offset, 0), size) },
        );
      }
      fill(offset, out, section);
    },
    close() {
      f.close();
    },
  };
  function fill(offset: number, out: Uint8Array, section: string): void {
    const len = out.length;
    f.seekSync(offset, Deno.SeekMode.Start);
    let got = 0;
    while (got < len) {
      const n = f.readSync(out.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    if (got < len) {
      throw new TraceError("truncated", `short read: ${got} of ${len} bytes`, {
        file: path,
        section,
        offset: offset + got,
      });
    }
  }
}

/**
 * A source over bytes already in memory (tests, decompressed data, stdin).
 *
 * @param bytes the data
 * @param name label for errors
 * @returns the source
 * @example
 * ```ts
 * import { memorySource } from "./file_source.ts";
 * const s = memorySource(new Uint8Array([1, 2, 3]), "mem");
 * console.assert(s.readAt(1, 2, "x")[1] === 3);
 * ```
 */
export function memorySource(bytes: Uint8Array, name: string): FileSource {
  return {
    name,
    size: bytes.length,
    readAt(offset, len, section) {
      if (offset < 0 || len < 0 || offset + len > bytes.length) {
        throw new TraceError(
          "truncated",
          `needs ${len} bytes at ${offset}, file has ${bytes.length}`,
          { file: name, section, offset: Math.min(Math.max(offset, 0), bytes.length) },
        );
      }
      return bytes.subarray(offset, offset + len);
    },
    close() {},
  };
}

/**
 * A sequential cursor over a {@linkcode FileSource}, with the same reading methods as
 * {@linkcode ByteReader}. Small reads go through a window; `take` of large blocks reads them directly.
 */
export class FileCursor {
  /** Absolute file position. */
  pos: number;
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private r: ByteReader | null = null;
  #le: boolean;

  /**
   * @param src the file
   * @param le byte order
   * @param section section name for errors
   * @param pos start position
   */
  constructor(readonly src: FileSource, le: boolean, public section: string, pos = 0) {
    this.pos = pos;
    this.#le = le;
  }

  /** Byte order of the numbers read from now on (true = little endian). */
  get le(): boolean {
    return this.#le;
  }

  /** Changes the byte order; the window's reader, which fixes a byte order, is rebuilt. */
  set le(v: boolean) {
    if (v === this.#le) return;
    this.#le = v;
    this.r = null;
  }

  /** Bytes left in the file. */
  get remaining(): number {
    return this.src.size - this.pos;
  }

  private small(n: number, what: string): ByteReader {
    if (this.pos + n > this.src.size) {
      throw new TraceError("truncated", `${what}: needs ${n} bytes, ${this.remaining} left`, {
        file: this.src.name,
        section: this.section,
        offset: this.at(),
      });
    }
    if (this.pos < this.winStart || this.pos + n > this.winStart + this.win.length) {
      const len = Math.min(Math.max(n, 65536), this.src.size - this.pos);
      this.win = this.src.readAt(this.pos, len, this.section);
      this.winStart = this.pos;
      this.r = null;
    }
    // Built lazily so that a change of byte order (`le`) takes effect on the next read.
    this.r ??= new ByteReader(this.win, this.#le, this.src.name, this.section, this.winStart);
    this.r.section = this.section;
    this.r.pos = this.pos - this.winStart;
    this.pos += n;
    return this.r;
  }

  /** Reads a u8. */
  u8(): number {
    return this.small(1, "u8").u8();
  }
  /** Reads a u16. */
  u16(): number {
    return this.small(2, "u16").u16();
  }
  /** Reads a u32. */
  u32(): number {
    return this.small(4, "u32").u32();
  }
  /** Reads an s32. */
  i32(): number {
    return this.small(4, "i32").i32();
  }
  /** Reads a u64. */
  u64(): bigint {
    return this.small(8, "u64").u64();
  }

  /** Throws a typed error at the current position. */
  fail(code: "truncated" | "bad_size" | "bad_value" | "parse_error", reason: string): never {
    throw new TraceError(code, reason, {
      file: this.src.name,
      section: this.section,
      offset: this.at(),
    });
  }

  /** The position for an error: within the file even when a lying offset moved it past. */
  private at(): number {
    return Number.isSafeInteger(this.pos)
      ? Math.min(Math.max(this.pos, 0), this.src.size)
      : this.src.size;
  }

  /**
   * Reads a u64 size that must fit in what is left of the file, or within `limit` (a count cap).
   *
   * @param what field name for the error
   * @param limit the largest acceptable value (default: the bytes left after the field)
   * @returns the value
   */
  size64(what: string, limit?: number): number {
    const at = this.pos;
    const v = this.u64();
    const max = Math.max(limit ?? this.remaining, 0);
    if (v > BigInt(max)) {
      this.pos = at;
      this.fail(
        "bad_size",
        limit === undefined
          ? `${what} ${v} exceeds the ${max} bytes left`
          : `${what} ${v} exceeds ${max}`,
      );
    }
    return Number(v);
  }

  /**
   * Reads a u32 size that must fit in what is left of the file, or within `limit` (a count cap).
   *
   * @param what field name for the error
   * @param limit the largest acceptable value (default: the bytes left after the field)
   * @returns the value
   */
  size32(what: string, limit?: number): number {
    const at = this.pos;
    const v = this.u32();
    const max = Math.max(limit ?? this.remaining, 0);
    if (v > max) {
      this.pos = at;
      this.fail(
        "bad_size",
        limit === undefined
          ? `${what} ${v} exceeds the ${max} bytes left`
          : `${what} ${v} exceeds ${max}`,
      );
    }
    return v;
  }

  /** Reads `n` bytes. */
  take(n: number, what = "bytes"): Uint8Array {
    if (n <= 4096) {
      const r = this.small(n, what);
      return r.take(n, what).slice();
    }
    if (this.pos + n > this.src.size) {
      this.fail("truncated", `${what}: needs ${n} bytes, ${this.remaining} left`);
    }
    const out = this.src.readAt(this.pos, n, this.section);
    this.pos += n;
    return out;
  }

  /** Reads a NUL-terminated string of at most `max` bytes. */
  cstring(what = "string", max = 4096): string {
    const start = this.pos;
    const chunk = this.src.readAt(start, Math.min(max + 1, this.remaining), this.section);
    const end = chunk.indexOf(0);
    if (end < 0) this.fail("truncated", `${what}: no terminating NUL within ${max} bytes`);
    this.pos = start + end + 1;
    return new TextDecoder().decode(chunk.subarray(0, end));
  }

  /** Reads `n` bytes as text. */
  text(n: number, what = "text"): string {
    return new TextDecoder().decode(this.take(n, what));
  }
}
