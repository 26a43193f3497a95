/**
 * Test helpers: event formats from a field list and a print fmt, and record bytes from values.
 *
 * @module
 */
import type { FieldValue } from "../../../core/event.ts";
import { compileDecoder } from "../field_decoder.ts";
import { parseFormatFile } from "../format_file.ts";
import type { EventFormat } from "../types.ts";

const COMMON = "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
  "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
  "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
  "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n";

/**
 * Builds an event format from `decl;offset;size;signed` field strings and a print fmt.
 *
 * @param printFmt the text after `print fmt: `
 * @param fields field lines, e.g. `"int a;8;4;1"`
 * @param opts system, name, id, long size
 * @returns the parsed format
 */
export function makeFormat(
  printFmt: string,
  fields: string[],
  opts: { system?: string; name?: string; id?: number; longSize?: number } = {},
): EventFormat {
  const lines = fields.map((f) => {
    const [decl, off, size, signed] = f.split(";");
    return `\tfield:${decl};\toffset:${off};\tsize:${size};\tsigned:${signed};\n`;
  });
  const text = `name: ${opts.name ?? "demo"}\nID: ${opts.id ?? 1000}\nformat:\n${COMMON}\n${
    lines.join("")
  }\nprint fmt: ${printFmt}\n`;
  return parseFormatFile(text, opts.system ?? "demo", opts.longSize ?? 8);
}

/**
 * Decodes record bytes (own fields only; the common header is prepended) with the project's
 * field decoder.
 *
 * @param fmt the format
 * @param payload bytes from offset 8 on
 * @returns the decoded own fields
 */
export function decodeBody(fmt: EventFormat, payload: Uint8Array): Record<string, FieldValue> {
  const rec = new Uint8Array(8 + payload.length);
  rec.set(payload, 8);
  new DataView(rec.buffer).setUint16(0, fmt.id, true);
  return compileDecoder(fmt, true).decode(new DataView(rec.buffer), rec, 0, rec.length);
}

/**
 * Little-endian byte builder.
 */
export class Bytes {
  private readonly out: number[] = [];
  /**
   * Appends an integer.
   *
   * @param v value
   * @param size bytes
   * @returns this
   */
  int(v: number | bigint, size: number): this {
    const b = BigInt.asUintN(size * 8, BigInt(v));
    for (let i = 0; i < size; i++) this.out.push(Number((b >> BigInt(8 * i)) & 0xffn));
    return this;
  }
  /**
   * Appends raw bytes or a string's bytes.
   *
   * @param s bytes
   * @returns this
   */
  raw(s: string | number[]): this {
    if (typeof s === "string") { for (const c of s) this.out.push(c.charCodeAt(0)); }
    else this.out.push(...s);
    return this;
  }
  /** @returns the bytes */
  done(): Uint8Array {
    return new Uint8Array(this.out);
  }
}
