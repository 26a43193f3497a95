/**
 * Lines of a text file read in chunks (UTF-8, `\n` or `\r\n` endings), with a cap on line length
 * so a file without newlines cannot exhaust memory.
 *
 * @module
 */
import type { FileSource } from "../file_source.ts";

/** One line. */
export interface TextLine {
  /** The text without its line ending (cut at the cap when `overlong`). */
  text: string;
  /** 1-based line number. */
  number: number;
  /** Byte offset of the line's start. */
  offset: number;
  /** The line was longer than the cap; `text` holds its beginning. */
  overlong: boolean;
}

/** Default cap on a line's length (bytes). */
export const MAX_LINE_BYTES = 1 << 20;

/**
 * Iterates the lines of a file.
 *
 * @param src the file
 * @param maxLine cap on a line's length in bytes
 * @param chunk bytes read at a time
 * @returns the lines
 * @example
 * ```ts
 * import { memorySource } from "../file_source.ts";
 * import { textLines } from "./text_lines.ts";
 * const src = memorySource(new TextEncoder().encode("a\r\nbb\nc"), "t.txt");
 * console.assert([...textLines(src)].map((l) => l.text).join("|") === "a|bb|c");
 * ```
 */
export function* textLines(
  src: FileSource,
  maxLine: number = MAX_LINE_BYTES,
  chunk: number = 1 << 20,
): Generator<TextLine> {
  const dec = new TextDecoder("utf-8", { fatal: false });
  let pos = 0;
  let number = 0;
  let parts: Uint8Array[] = [];
  let partLen = 0;
  let lineStart = 0;
  let overlong = false;
  const make = (bytes: Uint8Array): TextLine => {
    let b = bytes;
    if (b.length > 0 && b[b.length - 1] === 0x0d) b = b.subarray(0, b.length - 1);
    return { text: dec.decode(b), number: ++number, offset: lineStart, overlong };
  };
  const joined = (tail: Uint8Array): Uint8Array => {
    if (parts.length === 0) return tail;
    const out = new Uint8Array(Math.min(partLen + tail.length, maxLine));
    let o = 0;
    for (const p of [...parts, tail]) {
      const n = Math.min(p.length, out.length - o);
      out.set(p.subarray(0, n), o);
      o += n;
      if (o >= out.length) break;
    }
    return out;
  };
  while (pos < src.size) {
    const buf = src.readAt(pos, Math.min(chunk, src.size - pos), "text");
    let s = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, s);
      if (nl < 0) break;
      let piece = buf.subarray(s, nl);
      if (partLen + piece.length > maxLine) overlong = true;
      if (parts.length === 0 && piece.length > maxLine) piece = piece.subarray(0, maxLine);
      yield make(joined(piece));
      parts = [];
      partLen = 0;
      overlong = false;
      s = nl + 1;
      lineStart = pos + s;
    }
    const rest = buf.subarray(s);
    if (rest.length > 0) {
      if (partLen + rest.length > maxLine) overlong = true;
      if (partLen < maxLine) {
        const keep = rest.subarray(0, maxLine - partLen);
        parts.push(keep.slice());
        partLen += keep.length;
      }
    }
    pos += buf.length;
  }
  if (parts.length > 0 || overlong) yield make(joined(new Uint8Array(0)));
}
