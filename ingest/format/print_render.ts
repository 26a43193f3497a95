/**
 * Renders an event's decoded fields as text, the way `trace-cmd report -N` (libtraceevent 1.7,
 * no plugins) or the kernel's own `trace` file prints them, from the event's `print fmt:`.
 *
 * Two flavors (see {@linkcode RenderContext.flavor}):
 * - `"trace-cmd"` (default) reproduces libtraceevent 1.7 byte for byte, quirks included:
 *   arithmetic is unsigned 64-bit, fields are read zero-extended, `(int)` casts only mask, plain
 *   `%p` prints `0x...` or `(nil)`, `%pK`/`%pB` leave `K`/`B` in the text, `%c` and `%+d` print
 *   `>c<`/`>+<`, `__print_array` prints decimal values separated by spaces, and an event whose
 *   print fmt libtraceevent cannot parse (statement expressions `({ ... })`, unknown helpers,
 *   `sizeof(u64)`) prints `[FAILED TO PARSE]` followed by every field raw (` name=value`).
 * - `"kernel"` follows C and the kernel's `vsnprintf`: signed fields are sign-extended, casts
 *   convert, statement expressions and `__print_ns_to_secs`-style helpers are evaluated,
 *   `__print_array` prints `{0x1,0x2}`. Hashed pointers cannot be reproduced: `%p`, `%pK` and
 *   `%px` print the raw value as 16 (or 8) hex digits, like a kernel booted with
 *   `no_hash_pointers`.
 *
 * In both flavors a helper nobody knows (e.g. `jiffies_to_msecs`) makes the event render as
 * `[FAILED TO PARSE]` plus the raw fields, which is what trace-cmd prints for it.
 *
 * The rendered payload never ends in a newline: like trace-cmd, one trailing `\n` is removed.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat, FieldFormat } from "./types.ts";
import {
  type Expr,
  type Flavor,
  parsePrintFmt,
  type PrintFmt,
  type Segment,
  splitFormat,
  type TableEntry,
  unescapeC,
} from "./print_fmt.ts";
import { decodeBprintArgs } from "./bprint.ts";

/** A symbol found for an address. */
export interface SymbolInfo {
  /** Symbol name. */
  readonly name: string;
  /** Start address. */
  readonly addr: bigint;
  /** Size in bytes when known (kernel flavor prints `+0xoff/0xsize`). */
  readonly size?: bigint;
}

/** Address <-> symbol lookups (kallsyms). */
export interface Symbolizer {
  /** The symbol containing `addr`, or null. */
  lookup(addr: bigint): SymbolInfo | null;
  /** The address of a symbol by name, or null. */
  address(name: string): bigint | null;
}

/** What the renderer needs to know beyond the fields. */
export interface RenderContext {
  /** `"trace-cmd"` (libtraceevent 1.7, default) or `"kernel"`. */
  readonly flavor?: "trace-cmd" | "kernel";
  /** The traced kernel's `sizeof(long)`: 8 (default) or 4. */
  readonly longSize?: number;
  /** Byte order of the trace (matters for bitmasks, MAC/IP fields, hex dumps of wide arrays). */
  readonly bigEndian?: boolean;
  /** kallsyms, for `%pS`/`%ps` and bare identifiers. */
  readonly symbols?: Symbolizer;
  /** printk formats (address -> format as written in the file), for `bprint`/`bputs`. */
  readonly printk?: ReadonlyMap<bigint, string>;
}

/**
 * Builds a {@linkcode Symbolizer} from `(address, name)` pairs with libtraceevent's rule: an
 * address belongs to the symbol at or below it, except past the last symbol, where only the exact
 * address matches.
 *
 * @param entries address and name pairs, any order
 * @returns the symbolizer
 * @example
 * ```ts
 * import { makeSymbolizer } from "./print_render.ts";
 * const s = makeSymbolizer([[0x1000n, "a"], [0x1100n, "b"]]);
 * if (!(s.lookup(0x1010n)!.name === "a" && s.lookup(0x1110n) === null)) throw new Error("example failed");
 * ```
 */
export function makeSymbolizer(entries: Iterable<readonly [bigint, string]>): Symbolizer {
  const list = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const byName = new Map<string, bigint>();
  for (const [a, n] of list) if (!byName.has(n)) byName.set(n, a);
  return {
    lookup(addr) {
      let lo = 0;
      let hi = list.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const [a, name] = list[mid]!;
        const next = list[mid + 1];
        if (addr === a || (next !== undefined && addr > a && addr < next[0])) {
          return next !== undefined ? { name, addr: a, size: next[0] - a } : { name, addr: a };
        }
        if (addr < a) hi = mid - 1;
        else lo = mid + 1;
      }
      return null;
    },
    address(name) {
      return byName.get(name) ?? null;
    },
  };
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);
const TE = new TextEncoder();

/** libtraceevent's per-field flags, derived from the declared type text. */
interface FieldInfo {
  readonly f: FieldFormat;
  readonly isArray: boolean;
  readonly isString: boolean;
  readonly isLong: boolean;
  readonly isPointer: boolean;
}

function fieldInfo(f: FieldFormat): FieldInfo {
  // libtraceevent treats a field as an array only when its declaration has brackets
  // (old kernels declare bprint's buffer as `u32 buf;` with size 0)
  const isArray = f.kind === "data_loc" || f.kind === "rel_loc" || f.type.includes("[");
  return {
    f,
    isArray,
    isString: isArray && /char|u8|s8/.test(f.type),
    isLong: /long/.test(f.type),
    isPointer: f.type.includes("*"),
  };
}

function putInt(out: number[], v: bigint, size: number, le: boolean): void {
  const u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    const shift = BigInt(8 * (le ? i : size - 1 - i));
    out.push(Number((u >> shift) & 0xffn));
  }
}

/** The bytes a decoded field value stands for (strings re-encoded, NUL-terminated when dynamic). */
function fieldBytes(f: FieldFormat, v: FieldValue | undefined, le: boolean): Uint8Array {
  if (v === undefined || v === null) return new Uint8Array(0);
  if (typeof v === "string") {
    const b = TE.encode(v);
    if (f.kind === "array") {
      const out = new Uint8Array(f.size);
      out.set(b.subarray(0, f.size));
      return out;
    }
    const out = new Uint8Array(b.length + 1);
    out.set(b);
    return out;
  }
  const out: number[] = [];
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") {
    putInt(out, toBig(v) ?? 0n, Math.max(1, f.size), le);
    return new Uint8Array(out);
  }
  if (!Array.isArray(v)) return new Uint8Array(0);
  const es = f.elemSize > 0 ? f.elemSize : 1;
  for (const x of v as readonly FieldValue[]) putInt(out, toBig(x) ?? 0n, es, le);
  return new Uint8Array(out);
}

function toBig(v: FieldValue | undefined): bigint | null {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
  if (typeof v === "boolean") return v ? 1n : 0n;
  return null;
}

/** C type -> width and signedness, for kernel-flavor casts. Null when unknown (value unchanged). */
function cType(type: string, longSize: number): { bits: number; signed: boolean } | null {
  const t = type.replace(/\b(const|volatile|__force|__user|__iomem|__percpu|__rcu)\b/g, "")
    .replace(/\s+/g, " ").trim();
  if (t.endsWith("*")) return { bits: longSize * 8, signed: false };
  const L = longSize * 8;
  switch (t) {
    case "char":
    case "signed char":
    case "s8":
    case "__s8":
      return { bits: 8, signed: true };
    case "unsigned char":
    case "u8":
    case "__u8":
      return { bits: 8, signed: false };
    case "short":
    case "short int":
    case "signed short":
    case "s16":
    case "__s16":
      return { bits: 16, signed: true };
    case "unsigned short":
    case "unsigned short int":
    case "u16":
    case "__u16":
    case "__le16":
    case "__be16":
      return { bits: 16, signed: false };
    case "int":
    case "signed":
    case "signed int":
    case "s32":
    case "__s32":
    case "pid_t":
      return { bits: 32, signed: true };
    case "unsigned":
    case "unsigned int":
    case "u32":
    case "__u32":
    case "gfp_t":
    case "__le32":
    case "__be32":
      return { bits: 32, signed: false };
    case "long":
    case "long int":
    case "signed long":
    case "ssize_t":
    case "intptr_t":
      return { bits: L, signed: true };
    case "unsigned long":
    case "unsigned long int":
    case "size_t":
    case "uintptr_t":
      return { bits: L, signed: false };
    case "long long":
    case "long long int":
    case "signed long long":
    case "s64":
    case "__s64":
    case "loff_t":
    case "ktime_t":
      return { bits: 64, signed: true };
    case "unsigned long long":
    case "unsigned long long int":
    case "u64":
    case "__u64":
    case "dma_addr_t":
    case "phys_addr_t":
    case "__le64":
    case "__be64":
      return { bits: 64, signed: false };
    case "bool":
    case "_Bool":
      return { bits: 1, signed: false };
  }
  if (t.startsWith("enum ")) return { bits: 32, signed: true };
  return null;
}

/** libtraceevent's eval_type_str: casts only mask, never sign-extend. */
function tepCast(v: bigint, type: string): bigint {
  if (type.length < 2) return v;
  if (type.endsWith("*") || type.startsWith("struct")) return v;
  switch (type) {
    case "u8":
    case "s8":
      return v & 0xffn;
    case "u16":
    case "s16":
      return v & 0xffffn;
    case "u32":
    case "s32":
      return v & 0xffffffffn;
  }
  const t = type.startsWith("unsigned ") ? type.slice(9) : type;
  if (t === "char") return v & 0xffn;
  if (t === "short") return v & 0xffffn;
  if (t === "int") return v & 0xffffffffn;
  return v;
}

function sizeofType(type: string, longSize: number): bigint {
  const c = cType(type, longSize);
  if (c) return BigInt(c.bits === 1 ? 1 : c.bits / 8);
  return 0n;
}

// ---------------------------------------------------------------------------------------------
// printf

/**
 * Formats an integer like C printf would for `%[flags][width][.prec](d|i|u|x|X|o)`.
 *
 * @param v the value, already converted to the argument's C type (negative only for d/i)
 * @param ch conversion character
 * @param flags printf flags among `-+ #0`
 * @param width field width or null
 * @param precision precision or null
 * @returns the text
 * @example
 * ```ts
 * import { formatCInt } from "./print_render.ts";
 * if (!(formatCInt(0x8c5fn, "x", "0", 8, null) === "00008c5f")) throw new Error("example failed");
 * if (!(formatCInt(-5n, "d", "", 4, null) === "  -5")) throw new Error("example failed");
 * ```
 */
export function formatCInt(
  v: bigint,
  ch: string,
  flags: string,
  width: number | null,
  precision: number | null,
): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  let digits: string;
  switch (ch) {
    case "x":
      digits = a.toString(16);
      break;
    case "X":
      digits = a.toString(16).toUpperCase();
      break;
    case "o":
      digits = a.toString(8);
      break;
    default:
      digits = a.toString(10);
  }
  if (precision !== null) {
    if (precision === 0 && a === 0n) digits = "";
    else if (digits.length < precision) digits = "0".repeat(precision - digits.length) + digits;
  }
  let prefix = "";
  if (ch === "d" || ch === "i") {
    if (neg) prefix = "-";
    else if (flags.includes("+")) prefix = "+";
    else if (flags.includes(" ")) prefix = " ";
  } else if (flags.includes("#")) {
    if ((ch === "x" || ch === "X") && a !== 0n) prefix = ch === "x" ? "0x" : "0X";
    else if (ch === "o" && !digits.startsWith("0")) digits = "0" + digits;
  }
  return pad(prefix, digits, flags, width, precision === null);
}

function pad(
  prefix: string,
  body: string,
  flags: string,
  width: number | null,
  zeroOk: boolean,
): string {
  const len = prefix.length + body.length;
  if (width === null || len >= width) return prefix + body;
  const fill = width - len;
  if (flags.includes("-")) return prefix + body + " ".repeat(fill);
  if (flags.includes("0") && zeroOk) return prefix + "0".repeat(fill) + body;
  return " ".repeat(fill) + prefix + body;
}

/**
 * Formats a string like C printf `%[-][width][.prec]s`.
 *
 * @param s the string
 * @param flags printf flags (`-` left-justifies)
 * @param width field width or null
 * @param precision maximum length or null
 * @returns the text
 * @example
 * ```ts
 * import { formatCString } from "./print_render.ts";
 * if (!(formatCString("abcdef", "-", 5, 3) === "abc  ")) throw new Error("example failed");
 * ```
 */
export function formatCString(
  s: string,
  flags: string,
  width: number | null,
  precision: number | null,
): string {
  if (precision !== null && precision >= 0 && s.length > precision) s = s.slice(0, precision);
  if (width === null || s.length >= width) return s;
  return flags.includes("-") ? s + " ".repeat(width - s.length) : " ".repeat(width - s.length) + s;
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
}

function isPrintableTep(b: Uint8Array): boolean {
  for (const c of b) {
    if (c === 0) break;
    if (!((c >= 0x20 && c < 0x7f) || (c >= 9 && c <= 13))) return false;
  }
  return true;
}

function cString(b: Uint8Array): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return new TextDecoder().decode(b.subarray(0, end));
}

// ---------------------------------------------------------------------------------------------
// Compiled renderer

type Conv = Extract<Segment, { kind: "conv" }>;

interface Env {
  readonly fields: Readonly<Record<string, FieldValue>>;
  locals: Map<string, bigint> | null;
}

/** A renderer compiled for one event format and context. */
export interface CompiledRenderer {
  /** The parsed print format. */
  readonly printFmt: PrintFmt;
  /** Non-null when this renders as `[FAILED TO PARSE]`: the reason. */
  readonly failure: string | null;
  /** The payload text (as `trace-cmd report -N` or the kernel prints it). */
  render(fields: Readonly<Record<string, FieldValue>>): string;
  /** The `trace-cmd report -R` payload: ` name=value` for every own field. */
  renderRaw(fields: Readonly<Record<string, FieldValue>>): string;
}

const HELPERS_KERNEL = new Set(["__print_ns_to_secs", "__print_ns_without_secs"]);

/** Whether an expression uses something neither flavor can evaluate. */
function unsupported(e: Expr): string | null {
  switch (e.k) {
    case "call":
      if (HELPERS_KERNEL.has(e.name) && e.args.length === 1) return unsupported(e.args[0]!);
      return `function ${e.name} not supported`;
    case "cast":
    case "unary":
      return unsupported(e.e);
    case "binary":
      return unsupported(e.l) ?? unsupported(e.r);
    case "cond":
      return unsupported(e.c) ?? unsupported(e.t) ?? unsupported(e.f);
    case "index":
      return unsupported(e.e) ?? unsupported(e.i);
    case "symbolic":
    case "flags":
      return unsupported(e.e);
    case "hex":
      return unsupported(e.buf) ?? unsupported(e.len);
    case "array":
      return unsupported(e.buf) ?? unsupported(e.count) ?? unsupported(e.elSize);
    case "stmt":
      for (const d of e.decls) {
        const u = unsupported(d.init);
        if (u) return u;
      }
      return unsupported(e.result);
    case "list":
      return "brace list outside a helper";
    default:
      return null;
  }
}

class Engine {
  readonly tep: boolean;
  readonly longSize: number;
  readonly le: boolean;
  readonly byName = new Map<string, FieldInfo>();
  /** String fields libtraceevent has printed as `ARRAY[..]` once (it then keeps doing so). */
  readonly demoted = new Set<string>();
  private readonly tables = new Map<readonly TableEntry[], { v: bigint; name: string | null }[]>();

  constructor(readonly fmt: EventFormat, readonly ctx: RenderContext) {
    this.tep = (ctx.flavor ?? "trace-cmd") === "trace-cmd";
    this.longSize = ctx.longSize ?? 8;
    this.le = !ctx.bigEndian;
    // libtraceevent searches the common fields first
    for (const f of fmt.fields) {
      if (f.common && !this.byName.has(f.name)) this.byName.set(f.name, fieldInfo(f));
    }
    for (const f of fmt.fields) if (!this.byName.has(f.name)) this.byName.set(f.name, fieldInfo(f));
  }

  value(env: Env, name: string): FieldValue | undefined {
    return env.fields[name];
  }

  // ---- numbers --------------------------------------------------------------------------

  fieldNum(env: Env, name: string): bigint {
    const fi = this.byName.get(name);
    if (!fi) return 0n;
    const v = this.value(env, name);
    const f = fi.f;
    if (f.kind !== "int") {
      if (!this.tep || ![1, 2, 4, 8].includes(f.size)) return 0n;
      const b = fieldBytes(f, v, this.le);
      let x = 0n;
      for (let i = 0; i < f.size; i++) {
        x |= BigInt(b[i] ?? 0) << BigInt(8 * (this.le ? i : f.size - 1 - i));
      }
      return x;
    }
    const n = toBig(v);
    if (n === null) return 0n;
    const bits = Math.max(1, f.size) * 8;
    if (this.tep || !f.signed) return BigInt.asUintN(bits, n);
    return U64(BigInt.asIntN(bits, n));
  }

  /** Static signedness (kernel flavor comparisons, division, right shift). */
  signedOf(e: Expr): boolean {
    switch (e.k) {
      case "num":
        return !/[uU]/.test(e.text) && e.value < 0x8000000000000000n;
      case "field": {
        const fi = this.byName.get(e.name);
        return fi ? fi.f.signed && fi.f.kind === "int" : false;
      }
      case "cast": {
        const c = cType(e.type, this.longSize);
        return c ? c.signed : this.signedOf(e.e);
      }
      case "unary":
        return e.op === "!" ? true : this.signedOf(e.e);
      case "binary":
        if (["==", "!=", "<", ">", "<=", ">=", "&&", "||"].includes(e.op)) return true;
        if (e.op === "<<" || e.op === ">>") return this.signedOf(e.l);
        return this.signedOf(e.l) && this.signedOf(e.r);
      case "cond":
        return this.signedOf(e.t) && this.signedOf(e.f);
      case "var":
        return true;
      case "stmt":
        return this.signedOf(e.result);
      default:
        return false;
    }
  }

  num(env: Env, e: Expr): bigint {
    switch (e.k) {
      case "num":
        return e.value;
      case "str":
        return 0n;
      case "ident":
        return this.ctx.symbols?.address(e.name) ?? 0n;
      case "field":
        return this.fieldNum(env, e.name);
      case "var":
        return env.locals?.get(e.name) ?? 0n;
      case "cast": {
        const v = this.num(env, e.e);
        if (this.tep) return tepCast(v, e.type);
        const c = cType(e.type, this.longSize);
        if (!c) return v;
        if (c.bits === 1) return v !== 0n ? 1n : 0n;
        return c.signed ? U64(BigInt.asIntN(c.bits, v)) : BigInt.asUintN(c.bits, v);
      }
      case "unary": {
        const v = this.num(env, e.e);
        switch (e.op) {
          case "-":
            return U64(-v);
          case "+":
            return v;
          case "!":
            return v === 0n ? 1n : 0n;
          case "~":
            return U64(~v);
          default:
            return 0n;
        }
      }
      case "binary":
        return this.binary(env, e.op, e.l, e.r);
      case "cond":
        return this.num(env, e.c) !== 0n ? this.num(env, e.t) : this.num(env, e.f);
      case "index": {
        const i = Number(BigInt.asIntN(32, this.num(env, e.i)));
        const arr = this.arrayOf(env, e.e);
        if (!arr) return 0n;
        const x = arr.values[i];
        if (x === undefined) return 0n;
        const bits = arr.elemSize * 8;
        return this.tep || !arr.signed
          ? BigInt.asUintN(bits, toBig(x) ?? 0n)
          : U64(BigInt.asIntN(bits, toBig(x) ?? 0n));
      }
      case "sizeof": {
        if (e.field !== null) return BigInt(this.byName.get(e.field)?.f.size ?? 0);
        return sizeofType(e.type, this.longSize);
      }
      case "dyn_array_len": {
        const fi = this.byName.get(e.field);
        if (!fi) return 0n;
        return BigInt(fieldBytes(fi.f, this.value(env, e.field), this.le).length);
      }
      case "stmt": {
        const saved = env.locals;
        env.locals = new Map(saved ?? []);
        try {
          for (const d of e.decls) {
            let v = this.num(env, d.init);
            const c = cType(d.type, this.longSize);
            if (c && c.bits > 1) {
              v = c.signed ? U64(BigInt.asIntN(c.bits, v)) : BigInt.asUintN(c.bits, v);
            }
            env.locals.set(d.name, v);
          }
          return this.num(env, e.result);
        } finally {
          env.locals = saved;
        }
      }
      case "call": {
        const v = e.args[0] ? this.num(env, e.args[0]) : 0n;
        if (e.name === "__print_ns_to_secs") return v / 1000000000n;
        if (e.name === "__print_ns_without_secs") return v % 1000000000n;
        return 0n;
      }
      default:
        return 0n;
    }
  }

  binary(env: Env, op: string, le: Expr, re: Expr): bigint {
    if (op === "&&") return this.num(env, le) !== 0n && this.num(env, re) !== 0n ? 1n : 0n;
    if (op === "||") return this.num(env, le) !== 0n || this.num(env, re) !== 0n ? 1n : 0n;
    let l = this.num(env, le);
    let r = this.num(env, re);
    const signed = !this.tep && this.signedOf(le) && this.signedOf(re);
    if (signed && ["<", ">", "<=", ">=", "/", "%"].includes(op)) {
      l = BigInt.asIntN(64, l);
      r = BigInt.asIntN(64, r);
    }
    switch (op) {
      case "+":
        return U64(l + r);
      case "-":
        return U64(l - r);
      case "*":
        return U64(l * r);
      case "/":
        return r === 0n ? 0n : U64(l / r);
      case "%":
        return r === 0n ? 0n : U64(l % r);
      case "<<":
        return U64(l << (r & 63n));
      case ">>":
        if (!this.tep && this.signedOf(le)) return U64(BigInt.asIntN(64, l) >> (r & 63n));
        return l >> (r & 63n);
      case "&":
        return l & r;
      case "|":
        return l | r;
      case "^":
        return this.tep ? 0n : l ^ r; // libtraceevent 1.7 does not evaluate '^'

      case "<":
        return l < r ? 1n : 0n;
      case ">":
        return l > r ? 1n : 0n;
      case "<=":
        return l <= r ? 1n : 0n;
      case ">=":
        return l >= r ? 1n : 0n;
      case "==":
        return l === r ? 1n : 0n;
      case "!=":
        return l !== r ? 1n : 0n;
      default:
        return 0n;
    }
  }

  /** Elements of an array-valued expression (a field or a dynamic array). */
  arrayOf(
    env: Env,
    e: Expr,
  ): { values: readonly (number | bigint)[]; elemSize: number; signed: boolean } | null {
    while (e.k === "cast") e = e.e;
    const name = e.k === "field" ? e.name : e.k === "dyn_array" ? e.field : null;
    if (name === null) return null;
    const fi = this.byName.get(name);
    if (!fi) return null;
    const v = this.value(env, name);
    const es = fi.f.elemSize > 0 ? fi.f.elemSize : 1;
    if (Array.isArray(v)) {
      return { values: v as readonly (number | bigint)[], elemSize: es, signed: fi.f.signed };
    }
    if (typeof v === "string") {
      return { values: [...fieldBytes(fi.f, v, this.le)], elemSize: 1, signed: false };
    }
    return null;
  }

  /** The bytes an array-valued expression points at. */
  bytesOf(env: Env, e: Expr): Uint8Array | null {
    while (e.k === "cast") e = e.e;
    const name = e.k === "field" ? e.name : e.k === "dyn_array" ? e.field : null;
    if (name === null) return null;
    const fi = this.byName.get(name);
    if (!fi) return null;
    return fieldBytes(fi.f, this.value(env, name), this.le);
  }

  // ---- tables ---------------------------------------------------------------------------

  tableOf(entries: readonly TableEntry[]): { v: bigint; name: string | null }[] {
    let t = this.tables.get(entries);
    if (t) return t;
    t = entries.map((en) => ({
      v: this.tep && en.tepValue !== undefined
        ? en.tepValue
        : this.num({ fields: {}, locals: null }, en.value),
      name: en.name === null ? null : this.tep ? en.name : unescapeC(en.name),
    }));
    this.tables.set(entries, t);
    return t;
  }

  symbolic(env: Env, e: Extract<Expr, { k: "symbolic" }>, each: (s: string) => string): string {
    const v = this.num(env, e.e);
    for (const t of this.tableOf(e.table)) {
      if (t.name === null) {
        if (!this.tep) break;
        continue;
      }
      if (t.v === v) return each(t.name);
    }
    return `0x${v.toString(16)}`;
  }

  flags(env: Env, e: Extract<Expr, { k: "flags" }>, each: (s: string) => string): string {
    let v = this.num(env, e.e);
    const sep = this.tep ? e.sep : unescapeC(e.sep);
    let out = "";
    let printed = false;
    for (const t of this.tableOf(e.table)) {
      if (this.tep) {
        if (t.name === null) continue;
        const fv = BigInt.asIntN(64, t.v);
        if (v === 0n && fv < 0n) {
          // libtraceevent: a zero value prints the first entry it could not evaluate
          out += each(t.name);
          break;
        }
        if (fv > 0n && (v & t.v) === t.v) {
          if (printed && sep) out += sep;
          out += each(t.name);
          printed = true;
          v &= ~t.v;
        }
      } else {
        if (t.name === null || v === 0n) break;
        if ((v & t.v) !== t.v) continue;
        v &= ~t.v;
        if (printed && sep) out += sep;
        out += each(t.name);
        printed = true;
      }
    }
    if (v !== 0n) {
      if (printed && sep) out += sep;
      out += `0x${v.toString(16)}`;
    }
    return out;
  }

  // ---- strings (%s) ---------------------------------------------------------------------

  /** Text of an argument printed with `%s`; `each` formats the pieces libtraceevent formats. */
  str(env: Env, e: Expr, each: (s: string) => string): string {
    switch (e.k) {
      case "num":
        return each(this.tep ? e.text : BigInt.asIntN(64, e.value).toString());
      case "str":
        return each(this.tep ? e.raw : e.value);
      case "ident":
        return each(e.name);
      case "field": {
        const fi = this.byName.get(e.name);
        if (!fi) return "";
        const v = this.value(env, e.name);
        if (!fi.isArray && fi.f.size === this.longSize) {
          const addr = this.fieldNum(env, e.name);
          const p = this.ctx.printk?.get(addr);
          if (p !== undefined) return this.tep ? p : unescapeC(p);
          return this.tep ? addr.toString(16) : each("(efault)");
        }
        if (typeof v === "string") return each(v);
        return each(cString(fieldBytes(fi.f, v, this.le)));
      }
      case "symbolic":
        return this.symbolic(env, e, each);
      case "flags":
        return this.flags(env, e, each);
      case "hex": {
        const b = this.bytesOf(env, e.buf) ?? new Uint8Array(0);
        const n = Number(BigInt.asIntN(32, this.num(env, e.len)));
        const parts: string[] = [];
        for (let i = 0; i < n; i++) parts.push(hex2(b[i] ?? 0));
        return parts.join(e.str ? "" : " ");
      }
      case "array": {
        const b = this.bytesOf(env, e.buf) ?? new Uint8Array(0);
        const count = Number(BigInt.asIntN(32, this.num(env, e.count)));
        const es = Number(this.num(env, e.elSize));
        const parts: string[] = [];
        const size = [1, 2, 4, 8].includes(es) ? es : 1;
        for (let i = 0; i < count; i++) {
          let x = 0n;
          for (let j = 0; j < size; j++) {
            const byte = BigInt(b[i * size + j] ?? 0);
            x |= byte << BigInt(8 * (this.le ? j : size - 1 - j));
          }
          parts.push(this.tep ? x.toString(10) : `0x${x.toString(16)}`);
        }
        return this.tep ? parts.join(" ") : `{${parts.join(",")}}`;
      }
      case "get_str": {
        const fi = this.byName.get(e.field);
        if (!fi) return "";
        const v = this.value(env, e.field);
        if (typeof v === "string") return each(v);
        const b = fieldBytes(fi.f, v, this.le);
        if (b.length === 0) return this.tep ? "" : each("");
        return each(cString(b));
      }
      case "bitmask": {
        const b = this.bytesOf(env, { k: "dyn_array", field: e.field }) ?? new Uint8Array(0);
        return each(e.cpumask ? cpumaskText(b, this.le) : bitmaskText(b, this.le));
      }
      case "cond":
        return this.num(env, e.c) !== 0n ? this.str(env, e.t, each) : this.str(env, e.f, each);
      case "call":
        if (!this.tep && HELPERS_KERNEL.has(e.name)) return each(this.num(env, e).toString());
        return "";
      case "cast":
        if (this.tep) return "";
        return this.str(env, e.e, each);
      case "binary":
        // libtraceevent folds constant operations into a number when it parses them
        if (this.tep) return isConst(e) ? each(BigInt.asIntN(64, this.num(env, e)).toString()) : "";
        return each(BigInt.asIntN(64, this.num(env, e)).toString());
      case "stmt":
      case "unary":
        if (this.tep) return "";
        return each(BigInt.asIntN(64, this.num(env, e)).toString());
      default:
        return "";
    }
  }

  // ---- pointers (%p) --------------------------------------------------------------------

  pointer(env: Env, c: Conv, starLen: number | null): string {
    const arg = c.arg!;
    const ext = c.ext;
    const first = ext[0] ?? "";
    if ("FfSsB".includes(first) && first !== "") {
      if (this.tep && first === "B") return this.plainPointer(env, arg);
      const v = this.num(env, arg);
      const sym = this.ctx.symbols?.lookup(v) ?? null;
      if (!sym) return `0x${v.toString(16)}`;
      if (first === "s" || first === "f") return sym.name;
      const off = `+0x${(v - sym.addr).toString(16)}`;
      if (!this.tep && sym.size !== undefined) {
        return `${sym.name}${off}/0x${sym.size.toString(16)}`;
      }
      return sym.name + off;
    }
    if (first === "M" || first === "m") return this.mac(env, arg, ext);
    if (first === "I" || first === "i") return this.ip(env, arg, ext);
    if (first === "U") return this.uuid(env, arg, ext);
    if (first === "h") {
      const b = this.bytesOf(env, arg);
      if (!b || (this.tep && unwrap(arg).k !== "dyn_array")) {
        return this.tep ? `ARG TYPE NOT FIELD BUT ${tepArgType(arg)}` : "";
      }
      const delim = ext[1] === "C" ? ":" : ext[1] === "D" ? "-" : ext[1] === "N" ? "" : " ";
      const n = Math.min(b.length, starLen ?? 1);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(hex2(b[i]!));
      return parts.join(delim);
    }
    if (!this.tep && first === "b") {
      const b = this.bytesOf(env, arg) ?? new Uint8Array(0);
      return ext[1] === "l" ? cpumaskText(b, this.le) : bitmaskText(b, this.le);
    }
    return this.plainPointer(env, arg);
  }

  plainPointer(env: Env, arg: Expr): string {
    const v = this.num(env, arg);
    if (this.tep) return v === 0n ? "(nil)" : `0x${v.toString(16)}`;
    return BigInt.asUintN(this.longSize * 8, v).toString(16).padStart(this.longSize * 2, "0");
  }

  private fieldArg(arg: Expr): FieldInfo | null {
    const u = unwrap(arg);
    return u.k === "field" ? this.byName.get(u.name) ?? null : null;
  }

  mac(env: Env, arg: Expr, ext: string): string {
    const fi = this.fieldArg(arg);
    if (!fi) return `ARG TYPE NOT FIELD BUT ${tepArgType(arg)}`;
    if (fi.f.size !== 6) return "INVALIDMAC";
    let b = [...fieldBytes(fi.f, this.value(env, fi.f.name), this.le)].slice(0, 6);
    if (ext.includes("R")) b = b.reverse();
    const sep = ext[0] === "m" ? "" : ext[1] === "F" ? "-" : ":";
    return b.map(hex2).join(sep);
  }

  ip(env: Env, arg: Expr, ext: string): string {
    const kind = ext[1];
    const lead = ext[0] === "i";
    const fi = this.fieldArg(arg);
    if (kind === "4" || kind === "6") {
      if (!fi) return `ARG TYPE NOT FIELD BUT ${tepArgType(arg)}`;
      const b = fieldBytes(fi.f, this.value(env, fi.f.name), this.le);
      if (kind === "4") {
        if (fi.f.size !== 4) return "INVALIDIPv4";
        const flag = ext[2];
        const rev = flag === "l" || (flag === "h" && this.le);
        return ip4([...b].slice(0, 4), lead, rev);
      }
      if (fi.f.size !== 16) return "INVALIDIPv6";
      return ext[0] === "I" && ext[2] === "c" ? ip6c(b) : ip6(b, ext[0] === "I");
    }
    if (kind === "S") {
      const u = unwrap(arg);
      const b = u.k === "field" || u.k === "dyn_array" ? this.bytesOf(env, u) : null;
      if (!b) return `ARG NOT FIELD NOR DYNAMIC ARRAY BUT TYPE ${tepArgType(arg)}`;
      const rest = ext.slice(2);
      const port = rest.includes("p");
      const compact = rest.includes("c");
      const family = this.le ? (b[0] ?? 0) | ((b[1] ?? 0) << 8) : ((b[0] ?? 0) << 8) | (b[1] ?? 0);
      const portNum = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
      if (family === 2) {
        if (b.length < 16) return "INVALIDIPv4";
        const flag = rest.replace(/[pcsf]/g, "")[0];
        const rev = flag === "l" || (flag === "h" && this.le);
        return ip4([...b.subarray(4, 8)], lead, rev) + (port ? `:${portNum}` : "");
      }
      if (family === 10) {
        if (b.length < 28) return "INVALIDIPv6";
        const a = b.subarray(8, 24);
        const s = compact ? ip6c(a) : ip6(a, ext[0] === "I");
        return port ? `[${s}]:${portNum}` : s;
      }
      return "";
    }
    return "";
  }

  uuid(env: Env, arg: Expr, ext: string): string {
    const fi = this.fieldArg(arg);
    if (!fi) return `ARG TYPE NOT FIELD BUT ${tepArgType(arg)}`;
    if (fi.f.size !== 16) return "INVALIDUUID";
    const b = fieldBytes(fi.f, this.value(env, fi.f.name), this.le);
    const guid = ext[1] === "L" || ext[1] === "l";
    const upper = ext[1] === "L" || ext[1] === "B";
    const idx = guid
      ? [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]
      : [...Array(16).keys()];
    let s = "";
    for (let i = 0; i < 16; i++) {
      const h = hex2(b[idx[i]!] ?? 0);
      s += upper ? h.toUpperCase() : h;
      if (i === 3 || i === 5 || i === 7 || i === 9) s += "-";
    }
    return s;
  }

  // ---- conversions ----------------------------------------------------------------------

  conv(env: Env, c: Conv): string {
    if (c.arg === null) return "";
    let width = c.width;
    let precision = c.precision;
    let flags = c.flags;
    let starLen: number | null = null;
    if (c.starArg !== null) {
      starLen = Number(BigInt.asIntN(32, this.num(env, c.starArg)));
      if (c.spec.includes(".*")) precision = starLen < 0 ? null : starLen;
      else if (starLen < 0) {
        flags += "-";
        width = -starLen;
      } else width = starLen;
    }
    switch (c.conv) {
      case "int": {
        let v = this.num(env, c.arg);
        const bits = c.length === -2
          ? 8
          : c.length === -1
          ? 16
          : c.length === 0
          ? 32
          : c.length === 1
          ? (this.tep ? 64 : this.longSize * 8)
          : 64;
        v = c.ch === "d" || c.ch === "i" ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
        return formatCInt(v, c.ch, flags, width, precision);
      }
      case "char": {
        const v = Number(this.num(env, c.arg) & 0xffn);
        return formatCString(String.fromCharCode(v), flags, width, null);
      }
      case "string": {
        if (this.tep) {
          // glibc, handed libtraceevent's mismatched varargs, prints the conversion as is
          if (starLen !== null && starLen < 0) return c.spec;
          return this.str(env, c.arg, (s) => formatCString(s, flags, width, precision));
        }
        return formatCString(this.str(env, c.arg, (s) => s), flags, width, precision);
      }
      case "pointer":
        return this.pointer(env, c, starLen);
    }
  }
}

function isConst(e: Expr): boolean {
  if (e.k === "num") return true;
  return e.k === "binary" && isConst(e.l) && isConst(e.r);
}

function unwrap(e: Expr): Expr {
  while (e.k === "cast") e = e.e;
  return e;
}

/** libtraceevent's enum tep_print_arg_type number for an argument (its error messages show it). */
function tepArgType(e: Expr): number {
  const order: Record<string, number> = {
    num: 1,
    str: 1,
    ident: 1,
    field: 2,
    flags: 3,
    symbolic: 4,
    hex: 5,
    array: 6,
    cast: 7,
    get_str: 8,
    bitmask: 10,
    dyn_array: 11,
    unary: 12,
    binary: 12,
    cond: 12,
    index: 12,
    call: 13,
    dyn_array_len: 15,
  };
  return order[e.k] ?? 0;
}

function ip4(b: number[], lead: boolean, rev: boolean): string {
  const x = rev ? [...b].reverse() : b;
  return x.map((n) => (lead ? String(n).padStart(3, "0") : String(n))).join(".");
}

function ip6(b: Uint8Array, colons: boolean): string {
  const parts: string[] = [];
  for (let j = 0; j < 16; j += 2) parts.push(hex2(b[j] ?? 0) + hex2(b[j + 1] ?? 0));
  return parts.join(colons ? ":" : "");
}

function ip6c(b: Uint8Array): string {
  const w = (i: number) => ((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0);
  const v4mapped = w(0) === 0 && w(1) === 0 && w(2) === 0 && w(3) === 0 && w(4) === 0 &&
    w(5) === 0xffff;
  const isatap = (w(4) | 0x0200) === 0x0200 && w(5) === 0x5efe;
  const useV4 = v4mapped || isatap;
  const range = useV4 ? 6 : 8;
  let longest = 1;
  let colonpos = -1;
  for (let i = 0; i < range; i++) {
    let z = 0;
    for (let j = i; j < range && w(j) === 0; j++) z++;
    if (z > longest) {
      longest = z;
      colonpos = i;
    }
  }
  let s = "";
  let needcolon = false;
  for (let i = 0; i < range; i++) {
    if (i === colonpos) {
      if (needcolon || i === 0) s += ":";
      s += ":";
      needcolon = false;
      i += longest - 1;
      continue;
    }
    if (needcolon) s += ":";
    s += w(i).toString(16);
    needcolon = true;
  }
  if (useV4) {
    if (needcolon) s += ":";
    s += [...b.subarray(12, 16)].join(".");
  }
  return s;
}

/** `%*pb`-style hex bitmap: 32-bit chunks, most significant first, comma separated. */
function bitmaskText(b: Uint8Array, le: boolean): string {
  const size = b.length;
  const nrBits = size * 8;
  const strSize = ((nrBits + 3) >> 2) + (nrBits > 0 ? Math.floor((nrBits - 1) / 32) : 0);
  const out: string[] = new Array(strSize).fill("");
  let len = 0;
  for (let i = strSize - 2; i >= 0; i -= 2) {
    const index = le ? len : size - (len + 1);
    const h = hex2(b[index] ?? 0);
    out[i] = h[0]!;
    out[i + 1] = h[1]!;
    len++;
    if (!(len & 3) && i > 0) {
      i--;
      out[i] = ",";
    }
  }
  return out.join("");
}

/** `%*pbl`-style CPU list: `0,3-5`. */
function cpumaskText(b: Uint8Array, le: boolean): string {
  const n = b.length * 8;
  const bit = (i: number) => {
    const byteIdx = Math.floor(i / 8);
    const idx = le ? byteIdx : b.length - 1 - byteIdx;
    return ((b[idx] ?? 0) >> (i % 8)) & 1;
  };
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (!bit(i)) continue;
    let j = i;
    while (j + 1 < n && bit(j + 1)) j++;
    parts.push(j > i ? `${i}-${j}` : `${i}`);
    i = j;
  }
  return parts.join(",");
}

// ---------------------------------------------------------------------------------------------
// Raw field printing

function rawField(eng: Engine, fi: FieldInfo, v: FieldValue | undefined): string {
  const f = fi.f;
  if (fi.isArray) {
    const b = f.kind === "flex" && !fi.isString ? new Uint8Array(0) : fieldBytes(f, v, eng.le);
    if (fi.isString && !eng.demoted.has(f.name) && isPrintableTep(b)) {
      return typeof v === "string" ? v : cString(b);
    }
    // libtraceevent never prints this field as text again once it printed it as an array
    if (fi.isString) eng.demoted.add(f.name);
    return `ARRAY[${[...b].map(hex2).join(", ")}]`;
  }
  const n = toBig(v) ?? 0n;
  const size = [1, 2, 4, 8].includes(f.size) ? f.size : 0;
  const u = size ? BigInt.asUintN(size * 8, n) : 0n;
  if (fi.isPointer) return `0x${u.toString(16)}`;
  if (f.signed) {
    switch (size) {
      case 4:
        if (fi.isLong) return `0x${BigInt.asUintN(32, u).toString(16)}`;
        return BigInt.asIntN(32, u).toString();
      case 2:
        return formatCInt(BigInt.asIntN(16, u), "d", "", 2, null);
      case 1:
        return BigInt.asIntN(8, u).toString();
      default:
        return BigInt.asIntN(64, u).toString();
    }
  }
  return fi.isLong ? `0x${u.toString(16)}` : u.toString();
}

function isBprint(fmt: EventFormat): boolean {
  return fmt.system === "ftrace" && fmt.name === "bprint";
}

function stripNewline(s: string): string {
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/**
 * Compiles the renderer of one event format: parse the print fmt once, render many records.
 *
 * @param fmt the event format
 * @param ctx flavor, long size, byte order, kallsyms and printk formats
 * @returns the compiled renderer
 * @example
 * ```ts
 * import { compileRenderer } from "./print_render.ts";
 * import type { EventFormat } from "./types.ts";
 * const fmt: EventFormat = {
 *   id: 1, system: "demo", name: "x", printFmt: '"v=%d", REC->v',
 *   fields: [{ name: "v", type: "int", elemType: "int", offset: 8, size: 4, signed: true,
 *     kind: "int", elemSize: 4, count: 0, isString: false, common: false }],
 *   ownFields: [],
 * };
 * if (!(compileRenderer(fmt).render({ v: -3 }) === "v=-3")) throw new Error("example failed");
 * ```
 */
export function compileRenderer(fmt: EventFormat, ctx: RenderContext = {}): CompiledRenderer {
  const eng = new Engine(fmt, ctx);
  const flavor: Flavor = eng.tep ? "tep" : "kernel";
  const printFmt = parsePrintFmt(fmt.printFmt);
  const args = eng.tep ? printFmt.tepArgs : printFmt.args;
  const segments = splitFormat(printFmt.format, args ?? [], flavor);
  let failure: string | null = eng.tep ? printFmt.tepFailure : printFmt.error;
  if (failure === null && !eng.tep) {
    for (const a of printFmt.args) {
      const u = unsupported(a);
      if (u) {
        failure = u;
        break;
      }
    }
  }
  if (failure === null && segments.some((s) => s.kind === "conv" && s.arg === null)) {
    failure = "no argument match";
  }
  if (fmt.printFmt === "") failure = "no print fmt";
  const own = fmt.fields.filter((f) => !f.common).map((f) =>
    eng.byName.get(f.name) ?? fieldInfo(f)
  );

  const rawAll = (fields: Readonly<Record<string, FieldValue>>): string => {
    let s = "";
    for (const fi of own) s += ` ${fi.f.name}=${rawField(eng, fi, fields[fi.f.name])}`;
    return s;
  };

  const renderSegments = (segs: readonly Segment[], env: Env): string => {
    let s = "";
    for (const seg of segs) s += seg.kind === "text" ? seg.text : eng.conv(env, seg);
    return s;
  };

  const render = (fields: Readonly<Record<string, FieldValue>>): string => {
    if (isBprint(fmt)) return stripNewline(renderBprint(eng, fields));
    if (failure !== null) return "[FAILED TO PARSE]" + rawAll(fields);
    return stripNewline(renderSegments(segments, { fields, locals: null }));
  };

  const renderRaw = (fields: Readonly<Record<string, FieldValue>>): string => {
    if (failure !== null || isBprint(fmt)) return stripNewline(rawAll(fields));
    const env: Env = { fields, locals: null };
    let s = "";
    let at = 0;
    for (const fi of own) {
      s += ` ${fi.f.name}=`;
      if (fi.isArray || fi.isString || at >= segments.length) {
        s += rawField(eng, fi, fields[fi.f.name]);
        continue;
      }
      let found = -1;
      let has0x = false;
      for (let k = 0; k < segments.length; k++) {
        const idx = (at + k) % segments.length;
        const seg = segments[idx]!;
        if (seg.kind === "text") {
          has0x = seg.text.length > 1 && seg.text.endsWith("0x");
          continue;
        }
        const u = seg.arg ? unwrap(seg.arg) : null;
        if (u && u.k === "field" && u.name === fi.f.name) {
          found = idx;
          break;
        }
        has0x = false;
      }
      if (found < 0) {
        s += rawField(eng, fi, fields[fi.f.name]);
        continue;
      }
      if (has0x) s += "0x";
      s += eng.conv(env, segments[found] as Conv);
      // past the last segment libtraceevent stops looking: later fields print raw
      at = found + 1;
    }
    return stripNewline(s);
  };

  return { printFmt, failure, render, renderRaw };
}

/** ftrace:bprint: the format comes from the printk table, the arguments from the binary buffer. */
function renderBprint(eng: Engine, fields: Readonly<Record<string, FieldValue>>): string {
  const ip = toBig(fields["ip"]) ?? 0n;
  const fmtAddr = BigInt.asUintN(eng.longSize * 8, toBig(fields["fmt"]) ?? 0n);
  const printk = eng.ctx.printk?.get(fmtAddr);
  const bufField = eng.byName.get("buf")?.f;
  const buf = bufField ? fieldBytes(bufField, fields["buf"], eng.le) : new Uint8Array(0);
  let format: string;
  let args: Expr[];
  if (printk === undefined) {
    format = `%ps: (NO FORMAT FOUND at ${fmtAddr.toString(16)})\n`;
    args = [];
  } else {
    format = `%ps: ${printk}`;
    args = decodeBprintArgs(printk, buf, { longSize: eng.longSize, bigEndian: !eng.le }).map((a) =>
      typeof a === "string"
        ? { k: "str", raw: a, value: a }
        : { k: "num", value: U64(a), text: BigInt.asIntN(64, a).toString() }
    );
  }
  const ipArg: Expr = { k: "num", value: U64(ip), text: BigInt.asIntN(64, ip).toString() };
  const segs = splitFormat(format, [ipArg, ...args], eng.tep ? "tep" : "kernel");
  const env: Env = { fields: {}, locals: null };
  let s = "";
  for (const seg of segs) {
    if (seg.kind === "text") s += seg.text;
    else if (seg.conv === "pointer" && seg.arg?.k === "str") s += seg.arg.raw;
    else s += eng.conv(env, seg);
  }
  return s;
}

function usesRecord(e: Expr): boolean {
  switch (e.k) {
    case "num":
    case "str":
    case "ident":
    case "sizeof":
      return e.k === "sizeof" && e.field !== null;
    case "cast":
    case "unary":
      return usesRecord(e.e);
    case "binary":
      return usesRecord(e.l) || usesRecord(e.r);
    case "cond":
      return usesRecord(e.c) || usesRecord(e.t) || usesRecord(e.f);
    default:
      return true;
  }
}

const EMPTY_FORMAT: EventFormat = {
  id: 0,
  system: "",
  name: "",
  fields: [],
  ownFields: [],
  printFmt: "",
};

/**
 * Evaluates a constant expression (a symbolic/flags table value) with C semantics, as the
 * kernel computed it.
 *
 * @param e the expression
 * @param longSize the kernel's `sizeof(long)`
 * @returns the value as an unsigned 64-bit bigint, or null when it reads the record
 * @example
 * ```ts
 * import { evaluateConstant } from "./print_render.ts";
 * import { parsePrintFmt } from "./print_fmt.ts";
 * const e = parsePrintFmt('"%d", (1UL << 10) | 3').args[0]!;
 * if (!(evaluateConstant(e) === 1027n)) throw new Error("example failed");
 * ```
 */
export function evaluateConstant(e: Expr, longSize = 8): bigint | null {
  if (usesRecord(e)) return null;
  const eng = new Engine(EMPTY_FORMAT, { flavor: "kernel", longSize });
  return eng.num({ fields: {}, locals: null }, e);
}

const DEFAULT_CTX: RenderContext = {};
const cache = new WeakMap<EventFormat, WeakMap<RenderContext, CompiledRenderer>>();
const rawCtx = new WeakMap<RenderContext, RenderContext>();

function cached(fmt: EventFormat, ctx: RenderContext): CompiledRenderer {
  let byCtx = cache.get(fmt);
  if (!byCtx) {
    byCtx = new WeakMap();
    cache.set(fmt, byCtx);
  }
  let r = byCtx.get(ctx);
  if (!r) {
    r = compileRenderer(fmt, ctx);
    byCtx.set(ctx, r);
  }
  return r;
}

/**
 * Renders an event's payload exactly as `trace-cmd report -N` (default) or the kernel prints it,
 * without the trailing newline.
 *
 * @param fmt the event format (its `printFmt` drives the output)
 * @param fields the decoded own fields (`FieldValue`s from the format's types)
 * @param ctx flavor, long size, byte order, kallsyms, printk formats
 * @returns the payload text
 * @example
 * ```ts
 * import { renderPayload } from "./print_render.ts";
 * import type { EventFormat } from "./types.ts";
 * const fmt: EventFormat = {
 *   id: 1, system: "demo", name: "x",
 *   printFmt: '"len: 0x%08lx", ((unsigned long)(REC->len))',
 *   fields: [{ name: "len", type: "size_t", elemType: "size_t", offset: 8, size: 8,
 *     signed: false, kind: "int", elemSize: 8, count: 0, isString: false, common: false }],
 *   ownFields: [],
 * };
 * if (!(renderPayload(fmt, { len: 0x8c5fn }) === "len: 0x00008c5f")) throw new Error("example failed");
 * ```
 */
export function renderPayload(
  fmt: EventFormat,
  fields: Readonly<Record<string, FieldValue>>,
  ctx: RenderContext = DEFAULT_CTX,
): string {
  return cached(fmt, ctx).render(fields);
}

/**
 * Renders an event's payload as `trace-cmd report -R` prints it: ` name=value` for every own
 * field (with the leading space), each value printed with the conversion the print fmt uses for
 * that field when it uses one, else libtraceevent's raw style (`%d`/`%llu`, `0x%llx` for longs and
 * pointers, `ARRAY[..]` for non-text arrays).
 *
 * @param fmt the event format
 * @param fields the decoded own fields
 * @param ctx long size, byte order, kallsyms, printk formats (flavor is ignored)
 * @returns the raw payload text
 * @example
 * ```ts
 * import { renderRaw } from "./print_render.ts";
 * import type { EventFormat } from "./types.ts";
 * const fmt: EventFormat = {
 *   id: 1, system: "demo", name: "x", printFmt: '"n=%d", REC->n',
 *   fields: [{ name: "n", type: "int", elemType: "int", offset: 8, size: 4, signed: true,
 *     kind: "int", elemSize: 4, count: 0, isString: false, common: false }],
 *   ownFields: [],
 * };
 * if (!(renderRaw(fmt, { n: 7 }) === " n=7")) throw new Error("example failed");
 * ```
 */
export function renderRaw(
  fmt: EventFormat,
  fields: Readonly<Record<string, FieldValue>>,
  ctx: RenderContext = DEFAULT_CTX,
): string {
  let c = ctx.flavor === "kernel" ? rawCtx.get(ctx) : ctx;
  if (!c) {
    c = { ...ctx, flavor: "trace-cmd" };
    rawCtx.set(ctx, c);
  }
  return cached(fmt, c).renderRaw(fields);
}
