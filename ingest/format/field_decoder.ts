/**
 * Field decoders: turn an event record's bytes into typed values, as laid out by its format file.
 *
 * Decoders are closures built once per event type (never generated code). Values follow
 * {@linkcode FieldValue}: 8-byte integers are bigint, smaller ones number, character arrays
 * and `__data_loc char[]` are strings, other arrays are number[] or bigint[].
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat, FieldFormat } from "./types.ts";

const UTF8 = new TextDecoder("utf-8", { fatal: false });

/**
 * Decodes bytes as a C string: up to the first NUL, ASCII fast path, UTF-8 otherwise.
 *
 * @param b bytes
 * @param start first byte
 * @param end one past the last byte
 * @returns the string
 */
export function decodeCString(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0) return s;
    if (c >= 0x80) {
      let e = i;
      while (e < end && b[e] !== 0) e++;
      return s + UTF8.decode(b.subarray(i, e));
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/** Reads one integer of `size` bytes. */
export type IntReader = (v: DataView, at: number) => number | bigint;

/**
 * An integer reader for a size and signedness.
 *
 * @param size 1, 2, 4 or 8 (other sizes read as unsigned bytes, little endian)
 * @param signed signedness
 * @param le byte order
 * @returns reader
 */
export function intReader(size: number, signed: boolean, le: boolean): IntReader {
  switch (size) {
    case 1:
      return signed ? (v, a) => v.getInt8(a) : (v, a) => v.getUint8(a);
    case 2:
      return signed ? (v, a) => v.getInt16(a, le) : (v, a) => v.getUint16(a, le);
    case 4:
      return signed ? (v, a) => v.getInt32(a, le) : (v, a) => v.getUint32(a, le);
    case 8:
      return signed ? (v, a) => v.getBigInt64(a, le) : (v, a) => v.getBigUint64(a, le);
    default:
      return (v, a) => {
        let x = 0n;
        for (let i = 0; i < size; i++) {
          const byte = BigInt(v.getUint8(a + (le ? i : size - 1 - i)));
          x |= byte << BigInt(8 * i);
        }
        return x;
      };
  }
}

/** Decodes one field from a record. `start`/`len` delimit the record inside `bytes`. */
export type FieldGetter = (
  v: DataView,
  bytes: Uint8Array,
  start: number,
  len: number,
) => FieldValue;

function readArray(
  v: DataView,
  bytes: Uint8Array,
  at: number,
  byteLen: number,
  f: FieldFormat,
  rd: IntReader,
): FieldValue {
  if (f.isString) return decodeCString(bytes, at, at + byteLen);
  const es = f.elemSize > 0 ? f.elemSize : 1;
  const n = Math.floor(byteLen / es);
  if (es === 8) {
    const out: bigint[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = rd(v, at + i * 8) as bigint;
    return out;
  }
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = rd(v, at + i * es) as number;
  return out;
}

/**
 * Where a dynamic field's data is: `[offset from record start, byte length]`, clamped to the record.
 *
 * @param v view
 * @param start record start in the view
 * @param len record length
 * @param f the `__data_loc` / `__rel_loc` field
 * @param le byte order
 * @returns offset and length inside the record, or null if the field itself is outside the record
 */
export function dynamicLocation(
  v: DataView,
  start: number,
  len: number,
  f: FieldFormat,
  le: boolean,
): [number, number] | null {
  if (f.offset + f.size > len || f.size < 2) return null;
  let off: number;
  let n: number;
  if (f.size === 2) {
    off = v.getUint16(start + f.offset, le);
    n = len - off;
  } else {
    const w = v.getUint32(start + f.offset, le);
    off = w & 0xffff;
    n = w >>> 16;
  }
  if (f.kind === "rel_loc") off += f.offset + f.size;
  if (off > len) return [len, 0];
  if (off + n > len) n = len - off;
  return [off, n];
}

/**
 * Builds the getter of one field.
 *
 * @param f field
 * @param le byte order
 * @returns getter returning null when the record is too short for the field
 */
export function fieldGetter(f: FieldFormat, le: boolean): FieldGetter {
  switch (f.kind) {
    case "int": {
      const rd = intReader(f.size, f.signed, le);
      const end = f.offset + f.size;
      return (v, _b, s, len) => (end <= len ? rd(v, s + f.offset) : null);
    }
    case "array": {
      const rd = intReader(f.elemSize, f.signed, le);
      return (v, b, s, len) => {
        if (f.offset >= len) return null;
        const n = Math.min(f.size, len - f.offset);
        return readArray(v, b, s + f.offset, n, f, rd);
      };
    }
    case "flex": {
      const rd = intReader(f.elemSize, f.signed, le);
      return (v, b, s, len) => {
        if (f.offset > len) return null;
        return readArray(v, b, s + f.offset, len - f.offset, f, rd);
      };
    }
    case "data_loc":
    case "rel_loc": {
      const rd = intReader(f.elemSize, f.signed, le);
      return (v, b, s, len) => {
        const loc = dynamicLocation(v, s, len, f, le);
        if (!loc) return null;
        return readArray(v, b, s + loc[0], loc[1], f, rd);
      };
    }
  }
}

/** A compiled decoder for one event type. */
export interface EventDecoder {
  /** The event format the decoder was compiled from. */
  readonly format: EventFormat;
  /** Names of the event's own fields, in order. */
  readonly names: readonly string[];
  /** Getters of the event's own fields, same order as `names`. */
  readonly getters: readonly FieldGetter[];
  /** Decodes all own fields into an object. */
  decode(v: DataView, bytes: Uint8Array, start: number, len: number): Record<string, FieldValue>;
}

/**
 * Compiles the decoder of an event type.
 *
 * @param format the event's format
 * @param le byte order of the trace
 * @returns the decoder
 * @example
 * ```ts
 * import { parseFormatFile } from "./format_file.ts";
 * import { compileDecoder } from "./field_decoder.ts";
 * const fmt = parseFormatFile(
 *   "name: x\nID: 1\nformat:\n\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n",
 *   "demo",
 * );
 * const rec = new Uint8Array(12);
 * new DataView(rec.buffer).setInt32(8, -5, true);
 * const d = compileDecoder(fmt, true);
 * console.assert(d.decode(new DataView(rec.buffer), rec, 0, 12).a === -5);
 * ```
 */
export function compileDecoder(format: EventFormat, le: boolean): EventDecoder {
  const names = format.ownFields.map((f) => f.name);
  const getters = format.ownFields.map((f) => fieldGetter(f, le));
  return {
    format,
    names,
    getters,
    decode(v, bytes, start, len) {
      const out: Record<string, FieldValue> = {};
      for (let i = 0; i < names.length; i++) out[names[i]!] = getters[i]!(v, bytes, start, len);
      return out;
    },
  };
}
