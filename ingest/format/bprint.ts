/**
 * `ftrace:bprint` support: the printk formats table and the binary argument buffer.
 *
 * A `trace_printk()` with arguments records only the address of its format (`fmt`) and the
 * arguments packed by the kernel's `vbin_printf` (`buf`, a `u32[]`): integers 4-byte aligned
 * (4 bytes, or 8 for `ll`/`L`, or the kernel's long size for `l`/`z`/`p`), strings inline and
 * NUL-terminated without alignment. The format text comes from the trace's printk formats table
 * (`0xaddr : "fmt"` lines). {@link ./print_render.ts} `renderPayload` uses both to print a bprint
 * record; `bputs` and `print` need only the table (`bputs`) or nothing (`print`).
 *
 * The argument walk follows libtraceevent 1.7 (`make_bprint_args`), including its limits: a `%h`
 * length or `%c` consumes nothing, and `%p` followed by a letter other than `s S x f F` reads a
 * string when the next byte is printable.
 *
 * @module
 */

/**
 * Parses a printk formats table (the trace.dat "printk" section, `/sys/kernel/tracing/printk_formats`).
 *
 * Each line is `0xADDR : "format"`. Like libtraceevent, the quotes and one trailing `\n` escape
 * are removed; other C escapes stay as written (the renderer unescapes `bprint` formats).
 * Lines that do not look like `address : text` are skipped.
 *
 * @param text the table text
 * @returns address -> format
 * @example
 * ```ts
 * import { parsePrintkFormats } from "./bprint.ts";
 * const m = parsePrintkFormats('0xffffffff81a0 : "cpu=%d\\n"\n');
 * if (!(m.get(0xffffffff81a0n) === "cpu=%d")) throw new Error("example failed");
 * ```
 */
export function parsePrintkFormats(text: string): Map<bigint, string> {
  const out = new Map<bigint, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const m = /^\s*(?:0[xX])?([0-9a-fA-F]+)\s*$/.exec(line.slice(0, colon));
    if (!m) continue;
    let fmt = line.slice(colon + 1);
    if (fmt.startsWith(" ")) fmt = fmt.slice(1);
    if (fmt.startsWith('"')) fmt = fmt.slice(1);
    if (fmt.endsWith('"')) fmt = fmt.slice(0, -1);
    if (fmt.endsWith("\\n")) fmt = fmt.slice(0, -2);
    out.set(BigInt("0x" + m[1]!), fmt);
  }
  return out;
}

/** Options for {@linkcode decodeBprintArgs}. */
export interface BprintOptions {
  /** The traced kernel's `sizeof(long)` (8 default). */
  readonly longSize?: number;
  /** Byte order of the trace (little endian default). */
  readonly bigEndian?: boolean;
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9]/.test(c);
}

/**
 * Decodes the binary `buf` of a bprint record into its arguments, walking the printk format.
 *
 * Integers are returned as unsigned bigints of their stored size (the renderer applies the
 * conversion's signedness); strings as strings. Decoding stops at the end of the buffer.
 *
 * @param fmt the printk format (from {@linkcode parsePrintkFormats}), without the `%ps: ` prefix
 * @param buf the record's `buf` bytes
 * @param opts long size and byte order
 * @returns the arguments in format order
 * @example
 * ```ts
 * import { decodeBprintArgs } from "./bprint.ts";
 * const buf = new Uint8Array([0xfb, 0xff, 0xff, 0xff, 0x6f, 0x6b, 0, 0, 7, 0, 0, 0]);
 * const a = decodeBprintArgs("a=%d s=%s b=%u", buf);
 * if (!(a[0] === 0xfffffffbn && a[1] === "ok" && a[2] === 7n)) throw new Error("example failed");
 * ```
 */
export function decodeBprintArgs(
  fmt: string,
  buf: Uint8Array,
  opts: BprintOptions = {},
): (bigint | string)[] {
  const longSize = opts.longSize ?? 8;
  const le = !opts.bigEndian;
  const out: (bigint | string)[] = [];
  let pos = 0;
  const readNum = (size: number): bigint => {
    pos = (pos + 3) & ~3;
    let v = 0n;
    for (let i = 0; i < size; i++) {
      const b = BigInt(buf[pos + (le ? i : size - 1 - i)] ?? 0);
      v |= b << BigInt(8 * i);
    }
    pos += size;
    return v;
  };
  const readStr = (): string => {
    let end = pos;
    while (end < buf.length && buf[end] !== 0) end++;
    const s = new TextDecoder().decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  for (let i = 0; i < fmt.length && pos < buf.length; i++) {
    if (fmt[i] !== "%") continue;
    let ls = 0;
    for (;;) {
      i++;
      const c = fmt[i];
      if (c === undefined) break;
      if (c === "l") {
        ls++;
        continue;
      }
      if (c === "L") {
        ls = 2;
        continue;
      }
      if (/[0-9.#+]/.test(c)) continue;
      if (c === "z" || c === "Z") {
        ls = 1;
        continue;
      }
      if (c === "*") {
        out.push(readNum(4));
        continue;
      }
      let numeric = false;
      let string = false;
      if (c === "p") {
        ls = 1;
        numeric = true;
        if (isAlnum(fmt[i + 1])) {
          i++;
          const e = fmt[i]!;
          const symbolLike = e === "s" || e === "S" || e === "x" ||
            ((e === "f" || e === "F") && fmt[i + 1] !== "w");
          if (!symbolLike) {
            const b = buf[pos];
            if (b !== undefined && b >= 0x20 && b < 0x7f) {
              numeric = false;
              string = true;
            }
          }
        }
      } else if ("duixXo".includes(c)) {
        numeric = true;
      } else if (c === "s") {
        string = true;
      }
      if (numeric) out.push(readNum(ls === 0 ? 4 : ls === 1 ? longSize : ls === 2 ? 8 : ls));
      else if (string) out.push(readStr());
      break;
    }
  }
  return out;
}
