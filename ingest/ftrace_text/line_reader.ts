/**
 * Reads a text trace line by line in fixed-size chunks, so memory stays bounded by the chunk
 * size and the line-length cap, never by the file size.
 *
 * A line longer than the cap is skipped and counted (its start is never decoded), `\r\n` line
 * ends are accepted, and a last line without a newline is returned like any other.
 *
 * @module
 */
import type { FileSource } from "../file_source.ts";

/** Options of {@linkcode LineReader}. */
export interface LineReaderOptions {
  /** Bytes read per chunk (default 1 MiB). */
  chunkBytes?: number;
  /** Longest line kept, in bytes (default 64 KiB); longer lines are skipped and counted. */
  maxLineBytes?: number;
  /** Section name for errors raised by the source (default `text`). */
  section?: string;
}

/** Default cap on a line's length in bytes. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * A pull-style line iterator: call {@linkcode LineReader.next} until it returns false, reading
 * {@linkcode LineReader.text}, {@linkcode LineReader.lineNo} and {@linkcode LineReader.offset}
 * after each call. No object is allocated per line.
 *
 * @example
 * ```ts
 * import { memorySource } from "../file_source.ts";
 * import { LineReader } from "./line_reader.ts";
 * const r = new LineReader(memorySource(new TextEncoder().encode("a\r\nbb\nc"), "mem"));
 * const got: string[] = [];
 * while (r.next()) got.push(`${r.lineNo}@${r.offset}:${r.text}`);
 * console.assert(got.join(" ") === "1@0:a 2@3:bb 3@6:c");
 * ```
 */
export class LineReader {
  /** The current line, without its line end. */
  text = "";
  /** 1-based number of the current line. */
  lineNo = 0;
  /** Byte offset of the current line's start. */
  offset = 0;
  /** Lines skipped because they exceeded the cap. */
  overlong = 0;
  /** Line numbers of the first skipped overlong lines (at most 5). */
  readonly overlongLines: number[] = [];
  /** Bytes consumed so far (for progress). */
  bytesRead = 0;

  private readonly chunkBytes: number;
  private readonly maxLine: number;
  private readonly section: string;
  private readonly dec = new TextDecoder("utf-8", { fatal: false });
  /** Decoded complete lines of the current chunk. */
  private str = "";
  private strPos = 0;
  /** Bytes of the current chunk (complete lines only) and the cursor in them. */
  private bytes: Uint8Array = new Uint8Array(0);
  private bytePos = 0;
  private ascii = true;
  private chunkStart = 0;
  /** Next file position to read. */
  private filePos = 0;
  /** Bytes of an unfinished line carried over from the previous chunk. */
  private carry: Uint8Array = new Uint8Array(0);
  /** True while skipping the rest of an overlong line. */
  private skipping = false;

  /**
   * A reader positioned before the first line.
   *
   * @param src the file
   * @param opts chunk size, line cap
   */
  constructor(readonly src: FileSource, opts: LineReaderOptions = {}) {
    this.chunkBytes = Math.max(opts.chunkBytes ?? 1 << 20, 16);
    this.maxLine = Math.max(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, 1);
    this.section = opts.section ?? "text";
  }

  /**
   * Moves to the next line.
   *
   * @returns false at the end of the file
   */
  next(): boolean {
    for (;;) {
      if (this.bytePos < this.bytes.length) {
        // Every line of the chunk ends with "\n" (fill() guarantees it).
        const end = this.bytes.indexOf(10, this.bytePos);
        const len = end - this.bytePos;
        this.lineNo++;
        this.offset = this.chunkStart + this.bytePos;
        let s: string;
        if (this.ascii) {
          s = this.str.slice(this.strPos, this.strPos + len);
          this.strPos += len + 1;
        } else {
          const send = this.str.indexOf("\n", this.strPos);
          s = this.str.slice(this.strPos, send);
          this.strPos = send + 1;
        }
        this.bytePos = end + 1;
        if (len > this.maxLine) {
          this.noteOverlong(this.lineNo);
          continue;
        }
        this.text = s.endsWith("\r") ? s.slice(0, -1) : s;
        return true;
      }
      if (!this.fill()) return false;
    }
  }

  private noteOverlong(line: number): void {
    this.overlong++;
    if (this.overlongLines.length < 5) this.overlongLines.push(line);
  }

  /** Reads chunks until one holds complete lines; sets up `str`/`bytes` with them. */
  private fill(): boolean {
    const size = this.src.size;
    if (this.pendingOverlong) {
      // The overlong tail of the previous chunk comes after that chunk's lines.
      this.pendingOverlong = false;
      this.lineNo++;
      this.noteOverlong(this.lineNo);
    }
    for (;;) {
      if (this.filePos >= size) {
        // End of file: what is carried is the last line (no newline after it).
        if (this.skipping || this.carry.length === 0) {
          this.skipping = false;
          this.carry = new Uint8Array(0);
          return false;
        }
        const last = concat(this.carry, NEWLINE);
        this.setChunk(last, this.filePos - this.carry.length);
        this.carry = new Uint8Array(0);
        return true;
      }
      const n = Math.min(this.chunkBytes, size - this.filePos);
      const chunk = this.src.readAt(this.filePos, n, this.section);
      const chunkPos = this.filePos;
      this.filePos += n;
      this.bytesRead = this.filePos;
      let start = 0;
      if (this.skipping) {
        const nl = chunk.indexOf(10);
        if (nl < 0) continue;
        this.skipping = false;
        start = nl + 1;
      }
      const lastNl = chunk.lastIndexOf(10);
      if (lastNl < start) {
        // No line end in (the rest of) this chunk: all of it belongs to the carried line.
        if (this.carry.length + chunk.length - start > this.maxLine) {
          this.lineNo++;
          this.noteOverlong(this.lineNo);
          this.skipping = true;
          this.carry = new Uint8Array(0);
        } else {
          this.carry = concat(this.carry, chunk.subarray(start));
        }
        continue;
      }
      let body: Uint8Array;
      let bodyStart: number;
      if (this.carry.length > 0) {
        body = concat(this.carry, chunk.subarray(start, lastNl + 1));
        bodyStart = chunkPos + start - this.carry.length;
      } else {
        body = chunk.subarray(start, lastNl + 1);
        bodyStart = chunkPos + start;
      }
      this.carry = lastNl + 1 < chunk.length ? chunk.slice(lastNl + 1) : new Uint8Array(0);
      if (this.carry.length > this.maxLine) {
        // Counted by the next fill(), after the lines of this body.
        this.pendingOverlong = true;
        this.carry = new Uint8Array(0);
        this.skipping = true;
      }
      this.setChunk(body, bodyStart);
      return true;
    }
  }

  private setChunk(b: Uint8Array, at: number): void {
    this.bytes = b;
    this.bytePos = 0;
    this.chunkStart = at;
    this.str = this.dec.decode(b);
    this.strPos = 0;
    this.ascii = this.str.length === b.length && !NON_ASCII.test(this.str);
  }

  private pendingOverlong = false;
}

const NEWLINE = new Uint8Array([10]);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
