/**
 * Reads field values back out of a payload that an event's `print fmt:` produced.
 *
 * The format string becomes an anchored pattern: literal text must match exactly, each
 * conversion matches what it can print (`%d` a signed decimal, `%08lx` hex digits, `%s` any
 * text). Conversions whose argument is a field give that field's value:
 * - `REC->f` (through casts) with an integer conversion: the number (hex for `x`, `p`);
 * - `REC->f` of a char array or `__get_str(f)` with `%s`: the string;
 * - `__print_symbolic(REC->f, ...)`: the value whose name was printed (table keys that are enum
 *   constants without a `TRACE_DEFINE_ENUM`, such as `CACHE_TAG_IOTLB`, take their values from
 *   `kernel_enums.ts`; a printed number, e.g. `0x1` from trace-cmd for a key it could not
 *   resolve, is read as the number);
 * - `__print_flags(REC->f, "|", ...)`: the OR of the flags printed (and any hex rest);
 * - `__print_array(__get_dynamic_array(f), ...)`: the list (`{0x1,0x2}` or `1 2`);
 * - `REC->f ? "a" : "b"`: 1 or 0; `cond ? 0 : REC->f`: the field when the printed value is not
 *   the constant (the kernel's `IS_ERR_VALUE` split of an address into `addr=` and `err=`).
 * Numbers from direct conversions win over names read back from tables. Conversions whose
 * argument is any other expression only have to match. Plain `%p` in kernel text is read back
 * only when it cannot be a hash: by default (trace option `hash-ptr`, v5.12+) the kernel prints a
 * 32-bit hash of the pointer, zero-extended, and with the option off the real address; a printed
 * value above 2^32 - 1 is therefore taken, a smaller one is not.
 *
 * The parsed print format comes from `ingest/format/print_fmt.ts`; nothing is evaluated.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import {
  type Expr,
  type Flavor,
  parsePrintFmt,
  type Segment,
  splitFormat,
  type TableEntry,
  unescapeC,
} from "../format/print_fmt.ts";
import type { EventFormat, FieldFormat } from "../format/types.ts";
import { kernelEnumValue } from "./kernel_enums.ts";
import { fitInt, valueForField } from "./payload_fields.ts";

/** Inverts one format: payload text to values by field name, or null when it does not match. */
export type PrintFmtInverse = (payload: string) => Record<string, FieldValue> | null;

type Binding =
  | { k: "int"; f: FieldFormat; radix: 10 | 16 | 8 }
  | { k: "unhashed"; f: FieldFormat }
  | { k: "str"; f: FieldFormat }
  | { k: "sym"; f: FieldFormat; names: Map<string, bigint> }
  | { k: "flags"; f: FieldFormat; sep: string; names: Map<string, bigint> }
  | { k: "bool"; f: FieldFormat; t: string; e: string }
  | { k: "unless"; f: FieldFormat; konst: bigint; radix: 10 | 16 | 8 }
  | { k: "array"; f: FieldFormat }
  | { k: "none" };

/** Largest value a hashed `%p` prints (the hash is 32 bits wide). */
const HASH_MAX = 0xffffffffn;

/** Longest payload matched (longer ones are left to the other decoders). */
const MAX_PAYLOAD = 8192;

function stripCasts(e: Expr): Expr {
  let x = e;
  while (x.k === "cast") x = x.e;
  return x;
}

/** Value of a constant expression (table keys), or null. */
function constValue(e: Expr, depth = 0): bigint | null {
  if (depth > 50) return null;
  switch (e.k) {
    case "num":
      return e.value;
    case "ident":
      return kernelEnumValue(e.name);
    case "cast":
      return constValue(e.e, depth + 1);
    case "unary": {
      const v = constValue(e.e, depth + 1);
      if (v === null) return null;
      if (e.op === "-") return -v;
      if (e.op === "~") return ~v;
      if (e.op === "+") return v;
      return null;
    }
    case "binary": {
      const l = constValue(e.l, depth + 1);
      const r = constValue(e.r, depth + 1);
      if (l === null || r === null) return null;
      switch (e.op) {
        case "<<":
          return r >= 0n && r < 128n ? l << r : null;
        case ">>":
          return r >= 0n && r < 128n ? l >> r : null;
        case "|":
          return l | r;
        case "&":
          return l & r;
        case "+":
          return l + r;
        case "-":
          return l - r;
        case "*":
          return l * r;
        default:
          return null;
      }
    }
    default:
      return null;
  }
}

function tableNames(table: readonly TableEntry[]): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const t of table) {
    if (t.name === null) continue;
    const v = constValue(t.value);
    if (v === null) continue;
    const name = unescapeC(t.name);
    if (!m.has(name)) m.set(name, v);
  }
  return m;
}

function fieldOf(e: Expr, byName: Map<string, FieldFormat>): FieldFormat | null {
  const x = stripCasts(e);
  if (x.k === "field") return byName.get(x.name) ?? null;
  return null;
}

function radixOf(ch: string): 10 | 16 | 8 {
  return ch === "x" || ch === "X" || ch === "p" ? 16 : ch === "o" ? 8 : 10;
}

function bindingOf(
  seg: Extract<Segment, { kind: "conv" }>,
  byName: Map<string, FieldFormat>,
  flavor: Flavor,
): Binding {
  const a = seg.arg;
  if (!a) return { k: "none" };
  if (seg.conv === "int" || (seg.conv === "pointer" && seg.ext === "")) {
    const f = fieldOf(a, byName);
    if (seg.conv === "pointer" && flavor === "kernel") {
      return f && f.kind === "int" ? { k: "unhashed", f } : { k: "none" };
    }
    if (f && f.kind === "int") return { k: "int", f, radix: radixOf(seg.ch) };
    const x = stripCasts(a);
    if (x.k === "cond") {
      const tf = fieldOf(x.t, byName);
      const ff = fieldOf(x.f, byName);
      const tk = constValue(x.t);
      const fk = constValue(x.f);
      if (ff && ff.kind === "int" && tk !== null) {
        return { k: "unless", f: ff, konst: tk, radix: radixOf(seg.ch) };
      }
      if (tf && tf.kind === "int" && fk !== null) {
        return { k: "unless", f: tf, konst: fk, radix: radixOf(seg.ch) };
      }
    }
    return { k: "none" };
  }
  if (seg.conv === "string") {
    const x = stripCasts(a);
    if (x.k === "get_str") {
      const f = byName.get(x.field);
      return f ? { k: "str", f } : { k: "none" };
    }
    if (x.k === "field") {
      const f = byName.get(x.name);
      if (f && (f.isString || f.kind === "data_loc" || f.kind === "rel_loc")) {
        return { k: "str", f };
      }
      return { k: "none" };
    }
    if (x.k === "symbolic") {
      const f = fieldOf(x.e, byName);
      return f && f.kind === "int" ? { k: "sym", f, names: tableNames(x.table) } : { k: "none" };
    }
    if (x.k === "flags") {
      const f = fieldOf(x.e, byName);
      return f && f.kind === "int"
        ? { k: "flags", f, sep: unescapeC(x.sep), names: tableNames(x.table) }
        : { k: "none" };
    }
    if (x.k === "array") {
      const buf = stripCasts(x.buf);
      const name = buf.k === "dyn_array" ? buf.field : buf.k === "field" ? buf.name : null;
      const f = name === null ? undefined : byName.get(name);
      return f && !f.isString && f.kind !== "int" ? { k: "array", f } : { k: "none" };
    }
    if (x.k === "cond") {
      const f = fieldOf(x.c, byName);
      const t = stripCasts(x.t);
      const e = stripCasts(x.f);
      if (f && f.kind === "int" && t.k === "str" && e.k === "str" && t.value !== e.value) {
        return { k: "bool", f, t: t.value, e: e.value };
      }
    }
  }
  return { k: "none" };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function patternOf(seg: Extract<Segment, { kind: "conv" }>): string {
  const pad = seg.width !== null || seg.starArg !== null ? " *" : "";
  switch (seg.conv) {
    case "int":
      if (seg.ch === "x" || seg.ch === "X") return `${pad}((?:0[xX])?[0-9a-fA-F]+)`;
      if (seg.ch === "o") return `${pad}(0?[0-7]+)`;
      if (seg.ch === "u") return `${pad}(\\+?\\d+)`;
      return `${pad}([-+ ]?\\d+)`;
    case "char":
      return "([\\s\\S])";
    case "pointer":
      return seg.ext === "" ? `${pad}(\\(null\\)|\\(nil\\)|(?:0x)?[0-9a-fA-F]+)` : "([\\s\\S]*?)";
    default:
      return `${pad}([\\s\\S]*?)`;
  }
}

function parseNum(text: string, radix: 10 | 16 | 8): bigint | null {
  let t = text.trim();
  let neg = false;
  if (t.startsWith("-")) {
    neg = true;
    t = t.slice(1);
  } else if (t.startsWith("+")) t = t.slice(1);
  if (t === "(null)" || t === "(nil)") return 0n;
  if (t.startsWith("0x") || t.startsWith("0X")) {
    t = t.slice(2);
    radix = 16;
  }
  if (t === "") return null;
  let v: bigint;
  if (radix === 16) {
    if (!/^[0-9a-fA-F]+$/.test(t)) return null;
    v = BigInt(`0x${t}`);
  } else if (radix === 8) {
    if (!/^[0-7]+$/.test(t)) return null;
    v = BigInt(`0o${t}`);
  } else {
    if (!/^\d+$/.test(t)) return null;
    v = BigInt(t);
  }
  return neg ? -v : v;
}

function flagsValue(text: string, sep: string, names: Map<string, bigint>): bigint | null {
  if (text === "") return 0n;
  let v = 0n;
  for (const part of sep === "" ? [text] : text.split(sep)) {
    const n = names.get(part);
    if (n !== undefined) {
      v |= n;
      continue;
    }
    const rest = parseNum(part, 16);
    if (rest === null) return null;
    v |= rest;
  }
  return v;
}

/**
 * Compiles the inverse of an event's print format.
 *
 * @param fmt the event format
 * @param flavor `"kernel"` for the kernel's trace files, `"tep"` for trace-cmd/perf output
 * @returns the inverse, or null when the print format does not parse
 * @example
 * ```ts
 * import { parseFormatFile } from "../format/format_file.ts";
 * import { compilePrintFmtInverse } from "./print_fmt_inverse.ts";
 * const fmt = parseFormatFile(
 *   "name: tlb_flush\nID: 1\nformat:\n\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;\n" +
 *     "\tfield:unsigned long pages;\toffset:16;\tsize:8;\tsigned:0;\n\n" +
 *     'print fmt: "pages:%ld reason:%s (%d)", REC->pages, ' +
 *     '__print_symbolic(REC->reason, { 0, "flush on task switch" }, { 3, "local MM shootdown" }), REC->reason\n',
 *   "tlb",
 * );
 * const inv = compilePrintFmtInverse(fmt, "kernel")!;
 * const v = inv("pages:-1 reason:local MM shootdown (3)")!;
 * console.assert(v.reason === 3 && v.pages === 0xffffffffffffffffn);
 * ```
 */
export function compilePrintFmtInverse(
  fmt: EventFormat,
  flavor: Flavor,
): PrintFmtInverse | null {
  if (!fmt.printFmt) return null;
  const p = parsePrintFmt(fmt.printFmt);
  if (p.error) return null;
  const segs = splitFormat(p.format, p.args, flavor);
  const byName = new Map(fmt.ownFields.map((f) => [f.name, f]));
  let re = "^";
  const binds: Binding[] = [];
  const last = segs.length - 1;
  for (let i = 0; i <= last; i++) {
    const s = segs[i]!;
    if (s.kind === "text") {
      // A format ending in a newline (older kernels' TP_printk) prints it as a line of its own.
      re += escapeRe(i === last ? s.text.replace(/\n+$/, "") : s.text);
      continue;
    }
    re += patternOf(s);
    binds.push(bindingOf(s, byName, flavor));
  }
  re += "\\s*$";
  let rx: RegExp;
  try {
    rx = new RegExp(re);
  } catch {
    return null;
  }
  return (payload: string) => {
    if (payload.length > MAX_PAYLOAD) return null;
    const m = rx.exec(payload);
    if (!m) return null;
    const out: Record<string, FieldValue> = {};
    const direct = new Set<string>();
    const unless: { b: Extract<Binding, { k: "unless" }>; v: bigint }[] = [];
    for (let i = 0; i < binds.length; i++) {
      const b = binds[i]!;
      const text = m[i + 1] ?? "";
      switch (b.k) {
        case "int": {
          const v = parseNum(text, b.radix);
          if (v === null) return null;
          out[b.f.name] = fitInt(b.f, v);
          direct.add(b.f.name);
          break;
        }
        case "unhashed": {
          // a hashed %p is at most 32 bits wide; only a wider value is the pointer itself
          const v = parseNum(text, 16);
          if (v === null) return null;
          if (v > HASH_MAX) {
            out[b.f.name] = fitInt(b.f, v);
            direct.add(b.f.name);
          }
          break;
        }
        case "str":
          if (!direct.has(b.f.name)) out[b.f.name] = text;
          direct.add(b.f.name);
          break;
        case "sym": {
          const v = b.names.get(text) ?? parseNum(text, 10);
          if (v !== null && v !== undefined && !direct.has(b.f.name)) {
            out[b.f.name] = fitInt(b.f, v);
          }
          break;
        }
        case "flags": {
          const v = flagsValue(text, b.sep, b.names);
          if (v !== null && !direct.has(b.f.name)) out[b.f.name] = fitInt(b.f, v);
          break;
        }
        case "bool":
          if (!direct.has(b.f.name)) {
            if (text === b.t) out[b.f.name] = fitInt(b.f, 1n);
            else if (text === b.e) out[b.f.name] = fitInt(b.f, 0n);
          }
          break;
        case "array": {
          const v = valueForField(b.f, text);
          if (v !== undefined && !direct.has(b.f.name)) out[b.f.name] = v;
          break;
        }
        case "unless": {
          const v = parseNum(text, b.radix);
          if (v === null) return null;
          unless.push({ b, v });
          break;
        }
        default:
          break;
      }
    }
    for (const { b, v } of unless) {
      if (v !== b.konst && !direct.has(b.f.name)) {
        out[b.f.name] = fitInt(b.f, v);
        direct.add(b.f.name);
      }
    }
    for (const { b } of unless) {
      if (!(b.f.name in out)) out[b.f.name] = fitInt(b.f, b.konst);
    }
    return out;
  };
}

/**
 * Fields the print format prints directly with a hex conversion (`%x`, `%llx`, `%p`): where
 * trace-cmd's `-R` output prints their values, it uses that conversion, without a `0x`.
 *
 * @param fmt the event format
 * @returns names of the fields printed in hex
 * @example
 * ```ts
 * import { parseFormatFile } from "../format/format_file.ts";
 * import { hexPrintedFields } from "./print_fmt_inverse.ts";
 * const fmt = parseFormatFile(
 *   "name: e\nID: 1\nformat:\n\tfield:u64 clone_flags;\toffset:8;\tsize:8;\tsigned:0;\n\n" +
 *     'print fmt: "clone_flags=%llx", REC->clone_flags\n',
 *   "task",
 * );
 * console.assert(hexPrintedFields(fmt).has("clone_flags"));
 * ```
 */
export function hexPrintedFields(fmt: EventFormat): Set<string> {
  const out = new Set<string>();
  if (!fmt.printFmt) return out;
  const p = parsePrintFmt(fmt.printFmt);
  if (p.error) return out;
  const byName = new Map(fmt.ownFields.map((f) => [f.name, f]));
  for (const s of splitFormat(p.format, p.args, "tep")) {
    if (s.kind !== "conv" || !s.arg) continue;
    const f = fieldOf(s.arg, byName);
    if (f && radixOf(s.ch) === 16 && (s.conv === "int" || s.ext === "")) out.add(f.name);
  }
  return out;
}
