/**
 * Bounds-checked reading of binary inputs in either byte order. Every read past the end throws a
 * {@linkcode TraceError} naming the file, the section and the byte offset.
 *
 * @module
 */
import { TraceError } from "../core/errors.ts";

const DEC = new TextDecoder("utf-8", { fatal: false });

/**
 * A cursor over a byte array.
 *
 * @example
 * ```ts
 * import { ByteReader } from "./byte_reader.ts";
 * const r = new ByteReader(new Uint8Array([1, 0, 0, 0, 0x61, 0]), true, "x.bin", "demo");
 * console.assert(r.u32() === 1 && r.cstring() === "a");
 * ```
 */
export class ByteReader {
  /** Current position in `bytes`. */
  pos = 0;
  /** The data view over `bytes`. */
  readonly view: DataView;

  /**
   * @param bytes data to read
   * @param le true for little endian
   * @param file file name for errors
   * @param section section name for errors
   * @param base offset of `bytes[0]` in the file, for error messages
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
    readonly file: string,
    public section: string,
    readonly base = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Throws a typed error at the current position. */
  fail(code: "truncated" | "bad_size" | "bad_value" | "parse_error", reason: string): never {
    throw new TraceError(code, reason, {
      file: this.file,
      section: this.section,
      offset: this.base + this.pos,
    });
  }

  /** Ensures `n` bytes are available. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      this.fail("truncated", `${what}: needs ${n} bytes, ${this.remaining} left`);
    }
  }

  /** Reads a u8. */
  u8(): number {
    this.need(1, "u8");
    return this.bytes[this.pos++]!;
  }

  /** Reads a u16. */
  u16(): number {
    this.need(2, "u16");
    const v = this.view.getUint16(this.pos, this.le);
    this.pos += 2;
    return v;
  }

  /** Reads a u32. */
  u32(): number {
    this.need(4, "u32");
    const v = this.view.getUint32(this.pos, this.le);
    this.pos += 4;
    return v;
  }

  /** Reads an s32. */
  i32(): number {
    this.need(4, "i32");
    const v = this.view.getInt32(this.pos, this.le);
    this.pos += 4;
    return v;
  }

  /** Reads a u64 as bigint. */
  u64(): bigint {
    this.need(8, "u64");
    const v = this.view.getBigUint64(this.pos, this.le);
    this.pos += 8;
    return v;
  }

  /**
   * Reads a u64 that must be a size or offset within `limit`; returns it as a number.
   *
   * @param what field name for the error
   * @param limit the largest acceptable value
   */
  size64(what: string, limit: number): number {
    const start = this.pos;
    const v = this.u64();
    if (v > BigInt(limit)) {
      this.pos = start;
      this.fail("bad_size", `${what} ${v} exceeds ${limit}`);
    }
    return Number(v);
  }

  /** Reads a u32 size checked against `limit`. */
  size32(what: string, limit: number): number {
    const start = this.pos;
    const v = this.u32();
    if (v > limit) {
      this.pos = start;
      this.fail("bad_size", `${what} ${v} exceeds ${limit}`);
    }
    return v;
  }

  /** Returns a view of the next `n` bytes and advances. */
  take(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads a NUL-terminated string (the NUL is consumed). */
  cstring(what = "string"): string {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) this.fail("truncated", `${what}: no terminating NUL`);
    const s = DEC.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  /** Reads `n` bytes as text. */
  text(n: number, what = "text"): string {
    return DEC.decode(this.take(n, what));
  }
}

/** Decodes bytes up to the first NUL (or the end) as UTF-8 text. */
export function cstr(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return DEC.decode(end < 0 ? bytes : bytes.subarray(0, end));
}
