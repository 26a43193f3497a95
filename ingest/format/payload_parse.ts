/**
 * Text back to fields: parses an event payload printed by the kernel (`trace` file), by
 * `trace-cmd report` or by `perf script` into typed field values, using the event's
 * `print fmt:` as the grammar.
 *
 * The print format is turned into one anchored regular expression (literal text escaped, one
 * group per conversion), built once per event type. A conversion gives a field its value when it
 * can be inverted exactly:
 * - `REC->x` printed as a number (`%d %u %x %lx %llu ...`) when the conversion is at least as wide
 *   as the field, possibly under casts that do not narrow it;
 * - `REC->x` (a char array) or `__get_str(x)` printed with `%s`;
 * - `__print_symbolic(REC->x, ...)` and `__print_flags(REC->x, ...)`, inverted from their tables
 *   (a `0x..` remainder is OR-ed in), also under `REC->x ? __print_flags(...) : "none"`;
 * - `REC->x ? "a" : "b"` for a one-byte (bool) field;
 * - `%p` printed as `0x...` or `(nil)` (trace-cmd, perf); the kernel's hashed pointers (bare hex)
 *   are accepted but not used; `%pS`/`%ps` through a {@linkcode Symbolizer} when one is given.
 *
 * Everything else (computed expressions, `%p` extensions, hex dumps) is matched but gives no
 * value. Kernel and libtraceevent spellings are both accepted (`%c` vs `>c<`, hashed vs `0x`
 * pointers, `{0x1,0x2}` vs `1 2` arrays). A payload that does not fit the format gives `null`,
 * so the caller keeps the text. `[FAILED TO PARSE] a=1 b=2` payloads and `trace-cmd report -R`
 * payloads are read as raw field lists ({@linkcode compileRawParser}). The outputs of trace-cmd's
 * default plugins for `tlb_flush`, `sched_switch` and `sched_wakeup(_new)` are also understood.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat, FieldFormat } from "./types.ts";
import {
  type Expr,
  type Flavor,
  parsePrintFmt,
  type Segment,
  splitFormat,
  type TableEntry,
  unescapeC,
} from "./print_fmt.ts";
import { evaluateConstant, type Symbolizer } from "./print_render.ts";

/** Options for the payload parsers. */
export interface PayloadParseOptions {
  /** The traced kernel's `sizeof(long)` (8 default). */
  readonly longSize?: number;
  /** Byte order of `ARRAY[..]` dumps in raw payloads (little endian default). */
  readonly bigEndian?: boolean;
  /** kallsyms, to turn `%pS` text back into addresses. */
  readonly symbols?: Symbolizer;
}

/** A compiled payload parser. */
export interface PayloadParser {
  /** Parses one payload; null when it does not fit the print format. */
  (payload: string): Record<string, FieldValue> | null;
  /** The own fields a matching payload gives values for. */
  readonly fields: readonly string[];
}

type Val = bigint | string;
type Assign = (text: string, out: Map<string, Val>) => boolean;

interface Piece {
  /** Regular-expression fragment without capturing groups. */
  readonly pattern: string;
  /** Turns the captured text into field values; false when the text contradicts the format. */
  readonly assign: Assign | null;
  /** Fields `assign` can set. */
  readonly sets: readonly string[];
  /** True for unbounded `.*?` captures (counted to keep backtracking bounded). */
  readonly wild: boolean;
}

const MAX_WILD = 12;
const MAX_PAYLOAD = 1 << 20;
const MAX_PAYLOAD_WILD = 8192;

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function bitsOf(c: { length: number }, longSize: number, flavor: Flavor): number {
  switch (c.length) {
    case -2:
      return 8;
    case -1:
      return 16;
    case 0:
      return 32;
    case 1:
      return flavor === "tep" ? 64 : longSize * 8;
    default:
      return 64;
  }
}

/** Width of a cast type in bits, null when unknown (treated as not narrowing). */
function castBits(type: string, longSize: number): number | null {
  const t = type.replace(/\b(const|volatile|__force)\b/g, "").replace(/\s+/g, " ").trim();
  if (t.endsWith("*")) return longSize * 8;
  if (/^(unsigned |signed )?char$|^[us]8$|^__[us]8$/.test(t)) return 8;
  if (/^(unsigned |signed )?short( int)?$|^[us]16$|^__[us]16$/.test(t)) return 16;
  if (/^(unsigned |signed )?int$|^unsigned$|^signed$|^[us]32$|^__[us]32$|^gfp_t$/.test(t)) {
    return 32;
  }
  if (/^(unsigned |signed )?long long( int)?$|^[us]64$|^__[us]64$/.test(t)) return 64;
  if (/^(unsigned |signed )?long( int)?$|^size_t$|^ssize_t$/.test(t)) return longSize * 8;
  if (t === "bool" || t === "_Bool") return 1;
  return null;
}

class Builder {
  readonly byName = new Map<string, FieldFormat>();
  private readonly tables = new Map<readonly TableEntry[], { v: bigint | null; name: string }[]>();

  constructor(
    fmt: EventFormat,
    readonly flavor: Flavor,
    readonly longSize: number,
    readonly symbols: Symbolizer | undefined,
  ) {
    for (const f of fmt.fields) if (!this.byName.has(f.name)) this.byName.set(f.name, f);
  }

  /** The field an expression reads unchanged (through non-narrowing casts), or null. */
  plainField(e: Expr): FieldFormat | null {
    let minBits = Infinity;
    while (e.k === "cast") {
      const b = castBits(e.type, this.longSize);
      if (b !== null) minBits = Math.min(minBits, b);
      e = e.e;
    }
    if (e.k !== "field") return null;
    const f = this.byName.get(e.name);
    if (!f || f.kind !== "int" || f.size === 0) return null;
    return minBits >= f.size * 8 ? f : null;
  }

  strField(e: Expr): FieldFormat | null {
    if (e.k === "get_str") return this.byName.get(e.field) ?? null;
    if (e.k === "field") {
      const f = this.byName.get(e.name);
      if (f && f.isString) return f;
    }
    return null;
  }

  table(entries: readonly TableEntry[]): { v: bigint | null; name: string }[] {
    let t = this.tables.get(entries);
    if (!t) {
      t = [];
      for (const en of entries) {
        if (en.name === null) continue;
        const v = this.flavor === "tep" && en.tepValue !== undefined
          ? (en.tepValue === 0xffffffffffffffffn ? null : en.tepValue)
          : evaluateConstant(en.value, this.longSize);
        t.push({ v, name: this.flavor === "tep" ? en.name : unescapeC(en.name) });
      }
      this.tables.set(entries, t);
    }
    return t;
  }

  static set(out: Map<string, Val>, f: FieldFormat, v: Val): boolean {
    const norm = typeof v === "bigint" ? BigInt.asUintN(Math.max(1, f.size) * 8, v) : v;
    const prev = out.get(f.name);
    if (prev !== undefined && prev !== norm) return false;
    out.set(f.name, norm);
    return true;
  }

  // ---- pieces --------------------------------------------------------------------------

  literal(text: string): Piece {
    return { pattern: esc(text), assign: null, sets: [], wild: false };
  }

  wild(): Piece {
    return { pattern: ".*?", assign: null, sets: [], wild: true };
  }

  conv(c: Extract<Segment, { kind: "conv" }>): Piece {
    const arg = c.arg;
    if (arg === null) return this.literal("");
    if (c.starArg !== null) return this.wild();
    switch (c.conv) {
      case "int":
        return this.intPiece(c, arg);
      case "char":
        return { pattern: "(?:>c<|[\\s\\S])", assign: null, sets: [], wild: false };
      case "string":
        return this.strPiece(arg);
      case "pointer":
        return this.ptrPiece(c.ext, arg);
    }
  }

  intPiece(c: Extract<Segment, { kind: "conv" }>, arg: Expr): Piece {
    let digits: string;
    let radix: number;
    switch (c.ch) {
      case "x":
      case "X":
        digits = "(?:0[xX])?[0-9a-fA-F]+";
        radix = 16;
        break;
      case "o":
        digits = "[0-7]+";
        radix = 8;
        break;
      case "u":
        digits = "\\d+";
        radix = 10;
        break;
      default:
        digits = "[-+ ]?\\d+";
        radix = 10;
    }
    const pattern = ` *${digits} *`;
    const parse = (text: string): bigint => {
      const t = text.trim();
      if (radix === 16) return BigInt("0x" + t.replace(/^0[xX]/, ""));
      if (radix === 8) return BigInt("0o" + t);
      return BigInt(t.replace(/^\+/, ""));
    };
    const convBits = bitsOf(c, this.longSize, this.flavor);
    if (arg.k === "cond") {
      // `cond ? REC->x : K` / `cond ? K : REC->x`: a value other than K is the field's
      const pick = (fe: Expr, ke: Expr) => {
        const f = this.plainField(fe);
        const k = evaluateConstant(ke, this.longSize);
        return f && k !== null && convBits >= f.size * 8 ? { f, k } : null;
      };
      const hit = pick(arg.t, arg.f) ?? pick(arg.f, arg.t);
      if (hit) {
        const { f, k } = hit;
        return {
          pattern,
          sets: [f.name],
          wild: false,
          assign: (text, out) => {
            const v = parse(text);
            if (BigInt.asUintN(convBits, v) === BigInt.asUintN(convBits, k)) return true;
            return Builder.set(out, f, v);
          },
        };
      }
    }
    const f = this.plainField(arg);
    if (!f || convBits < f.size * 8) {
      return { pattern, assign: null, sets: [], wild: false };
    }
    return {
      pattern,
      sets: [f.name],
      wild: false,
      assign: (text, out) => Builder.set(out, f, parse(text)),
    };
  }

  ptrPiece(ext: string, arg: Expr): Piece {
    const f = this.plainField(arg);
    const first = ext[0] ?? "";
    if ("SsFfB".includes(first) && first !== "") {
      const pattern =
        "(?:[A-Za-z_.$][\\w.$]*(?:\\+0x[0-9a-fA-F]+(?:/0x[0-9a-fA-F]+)?)?(?: \\[[^\\]]+\\])?|0x[0-9a-fA-F]+)";
      if (!f) return { pattern, assign: null, sets: [], wild: false };
      return {
        pattern,
        sets: [f.name],
        wild: false,
        assign: (text, out) => {
          if (text.startsWith("0x")) return Builder.set(out, f, BigInt(text));
          // only a symbol printed with its offset (%pS) gives the address back
          const m = /^([^+ ]+)\+0x([0-9a-fA-F]+)/.exec(text);
          const base = m ? this.symbols?.address(m[1]!) ?? null : null;
          if (base === null) return true;
          return Builder.set(out, f, base + BigInt("0x" + m![2]));
        },
      };
    }
    if (first === "") {
      const pattern =
        "(?:0x[0-9a-fA-F]+|[0-9a-fA-F]+|\\(nil\\)|\\(null\\)|\\(____ptrval____\\)|0+)";
      if (!f) return { pattern, assign: null, sets: [], wild: false };
      return {
        pattern,
        sets: [f.name],
        wild: false,
        assign: (text, out) => {
          if (text === "(nil)") return Builder.set(out, f, 0n);
          if (text.startsWith("0x")) return Builder.set(out, f, BigInt(text));
          return true; // the kernel's hashed pointer: no value
        },
      };
    }
    return this.wild();
  }

  /** Pattern of a symbolic value, with its inversion for field `f` (or none). */
  symbolic(e: Extract<Expr, { k: "symbolic" }>, f: FieldFormat | null): Piece {
    const t = this.table(e.table);
    const names = [...new Set(t.map((x) => x.name))].sort((a, b) => b.length - a.length);
    const pattern = `(?:${[...names.map(esc), "0x[0-9a-fA-F]+"].join("|")})`;
    if (!f) return { pattern, assign: null, sets: [], wild: false };
    return {
      pattern,
      sets: [f.name],
      wild: false,
      assign: (text, out) => {
        if (/^0x[0-9a-fA-F]+$/.test(text) && !names.includes(text)) {
          return Builder.set(out, f, BigInt(text));
        }
        const hit = t.find((x) => x.name === text);
        if (!hit || hit.v === null) return true;
        return Builder.set(out, f, hit.v);
      },
    };
  }

  flags(e: Extract<Expr, { k: "flags" }>, f: FieldFormat | null): Piece {
    const t = this.table(e.table);
    const sep = this.flavor === "tep" ? e.sep : unescapeC(e.sep);
    const names = [...new Set(t.map((x) => x.name))].sort((a, b) => b.length - a.length);
    const tok = `(?:${[...names.map(esc), "0x[0-9a-fA-F]+"].join("|")})`;
    const pattern = `(?:${tok}(?:${esc(sep)}${tok})*)?`;
    if (!f) return { pattern, assign: null, sets: [], wild: false };
    const tokRe = new RegExp(tok, "y");
    return {
      pattern,
      sets: [f.name],
      wild: false,
      assign: (text, out) => {
        let v = 0n;
        let i = 0;
        while (i < text.length) {
          tokRe.lastIndex = i;
          const m = tokRe.exec(text);
          if (!m) return false;
          const name = m[0];
          const hit = t.find((x) => x.name === name);
          if (hit) {
            if (hit.v === null) return true; // a name libtraceevent could not evaluate
            v |= hit.v;
          } else v |= BigInt(name);
          i += name.length;
          if (sep && text.startsWith(sep, i)) i += sep.length;
        }
        return Builder.set(out, f, v);
      },
    };
  }

  strPiece(arg: Expr): Piece {
    const sf = this.strField(arg);
    if (sf) {
      return {
        pattern: "[\\s\\S]*?",
        sets: [sf.name],
        wild: true,
        assign: (text, out) => Builder.set(out, sf, text),
      };
    }
    switch (arg.k) {
      case "symbolic":
        return this.symbolic(arg, this.plainField(arg.e));
      case "flags":
        return this.flags(arg, this.plainField(arg.e));
      case "str":
        return this.literal(this.flavor === "tep" ? arg.raw : arg.value);
      case "num":
        return this.literal(
          this.flavor === "tep" ? arg.text : BigInt.asIntN(64, arg.value).toString(),
        );
      case "cond":
        return this.condPiece(arg);
      default:
        return this.wild();
    }
  }

  condPiece(e: Extract<Expr, { k: "cond" }>): Piece {
    const cf = this.plainField(e.c);
    const a = this.strPiece(e.t);
    const b = this.strPiece(e.f);
    const pattern = `(?:${a.pattern}|${b.pattern})`;
    const wild = a.wild || b.wild;
    // `REC->x ? "yes" : "no"` for a bool-sized field
    if (cf && cf.size === 1 && e.t.k === "str" && e.f.k === "str" && e.t.raw !== e.f.raw) {
      const yes = this.flavor === "tep" ? e.t.raw : e.t.value;
      return {
        pattern,
        sets: [cf.name],
        wild,
        assign: (text, out) => Builder.set(out, cf, text === yes ? 1n : 0n),
      };
    }
    // `(REC->x) ? __print_flags(REC->x, ...) : "none"`
    if (cf && e.t.k === "flags" && this.plainField(e.t.e) === cf && e.f.k === "str") {
      const none = this.flavor === "tep" ? e.f.raw : e.f.value;
      return {
        pattern,
        sets: [cf.name],
        wild,
        assign: (text, out) => text === none ? Builder.set(out, cf, 0n) : a.assign!(text, out),
      };
    }
    return { pattern, assign: null, sets: [], wild };
  }
}

interface Matcher {
  re: RegExp;
  pieces: Piece[];
  wild: number;
}

function buildMatcher(segs: readonly Segment[], b: Builder): Matcher | null {
  const pieces: Piece[] = [];
  for (const s of segs) pieces.push(s.kind === "text" ? b.literal(s.text) : b.conv(s));
  const wild = pieces.filter((p) => p.wild).length;
  if (wild > MAX_WILD) return null;
  const src = "^" + pieces.map((p) => `(${p.pattern})`).join("") + "$";
  try {
    return { re: new RegExp(src, "s"), pieces, wild };
  } catch {
    return null;
  }
}

/** Converts a collected value to the field's FieldValue type. */
function typed(f: FieldFormat, v: Val): FieldValue {
  if (typeof v === "string") return v;
  const bits = Math.max(1, f.size) * 8;
  const x = f.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  return f.size >= 8 ? x : Number(x);
}

/**
 * What trace-cmd's default plugins print instead of the print fmt (libtraceevent 1.7 plugins),
 * written as print formats for this module to match. `__get_str(__plugin_text)` stands for text
 * that gives no value (the reason names, the task state letters).
 */
const PLUGIN_FORMATS: Record<string, string> = {
  "tlb:tlb_flush": '"pages=%ld reason=%s (%d)", REC->pages, __get_str(__plugin_text), REC->reason',
  "sched:sched_switch": '"%s:%d [%d] %s ==> %s:%d [%d]", REC->prev_comm, REC->prev_pid, ' +
    "REC->prev_prio, __get_str(__plugin_text), REC->next_comm, REC->next_pid, REC->next_prio",
  "sched:sched_wakeup": '"%s:%d [%d] CPU:%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu',
  "sched:sched_wakeup_new":
    '"%s:%d [%d] CPU:%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu',
};

/**
 * Compiles the parser of one event type's payload text.
 *
 * @param fmt the event format
 * @param opts long size, byte order and kallsyms
 * @returns the parser; its `fields` lists what a match recovers
 * @example
 * ```ts
 * import { compilePayloadParser } from "./payload_parse.ts";
 * import type { EventFormat } from "./types.ts";
 * const field = (name: string, offset: number, size: number, signed: boolean) => ({
 *   name, type: size === 8 ? "unsigned long" : "int", elemType: "int", offset, size, signed,
 *   kind: "int" as const, elemSize: size, count: 0, isString: false, common: false,
 * });
 * const fmt: EventFormat = {
 *   id: 188, system: "tlb", name: "tlb_flush",
 *   printFmt: '"pages:%ld reason:%s (%d)", REC->pages, ' +
 *     '__print_symbolic(REC->reason, { 0, "flush on task switch" }, { 3, "local MM shootdown" }), REC->reason',
 *   fields: [field("reason", 8, 4, true), field("pages", 16, 8, false)],
 *   ownFields: [],
 * };
 * const parse = compilePayloadParser(fmt);
 * const r = parse("pages:-1 reason:local MM shootdown (3)")!;
 * if (!(r.reason === 3 && r.pages === 0xffffffffffffffffn)) throw new Error("example failed");
 * ```
 */
export function compilePayloadParser(
  fmt: EventFormat,
  opts: PayloadParseOptions = {},
): PayloadParser {
  const longSize = opts.longSize ?? 8;
  const pf = parsePrintFmt(fmt.printFmt);
  const matchers: Matcher[] = [];
  const seen = new Set<string>();
  const add = (args: readonly Expr[] | null, flavor: Flavor) => {
    if (!args) return;
    const b = new Builder(fmt, flavor, longSize, opts.symbols);
    const m = buildMatcher(splitFormat(pf.format, args, flavor), b);
    if (m && !seen.has(m.re.source)) {
      seen.add(m.re.source);
      matchers.push(m);
    }
  };
  if (fmt.printFmt !== "") {
    if (pf.error === null) add(pf.args, "kernel");
    if (pf.tepFailure === null) add(pf.tepArgs, "tep");
  }
  const plugin = PLUGIN_FORMATS[`${fmt.system}:${fmt.name}`];
  if (plugin) {
    const pp = parsePrintFmt(plugin);
    const b = new Builder(fmt, "tep", longSize, opts.symbols);
    const m = buildMatcher(splitFormat(pp.format, pp.args, "tep"), b);
    if (m) matchers.push(m);
  }
  const raw = compileRawParser(fmt, opts);
  const fields = [...new Set(matchers.flatMap((m) => m.pieces.flatMap((p) => p.sets)))];
  const own = new Map(fmt.fields.filter((f) => !f.common).map((f) => [f.name, f] as const));
  const parse = (payload: string): Record<string, FieldValue> | null => {
    if (payload.length > MAX_PAYLOAD) return null;
    if (payload.startsWith("[FAILED TO PARSE]")) return raw(payload.slice(17));
    for (const m of matchers) {
      if (m.wild > 2 && payload.length > MAX_PAYLOAD_WILD) continue;
      const hit = m.re.exec(payload);
      if (!hit) continue;
      const vals = new Map<string, Val>();
      let ok = true;
      for (let i = 0; i < m.pieces.length && ok; i++) {
        const p = m.pieces[i]!;
        if (p.assign) ok = p.assign(hit[i + 1] ?? "", vals);
      }
      if (!ok) continue;
      const out: Record<string, FieldValue> = {};
      for (const [name, v] of vals) {
        const f = own.get(name);
        if (f) out[name] = typed(f, v);
      }
      return out;
    }
    return null;
  };
  return Object.assign(parse, { fields });
}

// ---------------------------------------------------------------------------------------------
// Raw field lists (`trace-cmd report -R`, `[FAILED TO PARSE]`)

type RawStyle =
  | { kind: "array"; f: FieldFormat; string: boolean }
  | { kind: "int"; f: FieldFormat; radix: 10 | 16 | 0 }
  | { kind: "string"; f: FieldFormat }
  | { kind: "skip"; f: FieldFormat };

function tepIsArray(f: FieldFormat): boolean {
  return f.kind === "data_loc" || f.kind === "rel_loc" || f.type.includes("[");
}

/**
 * Compiles a parser for raw field lists: the ` name=value` text `trace-cmd report -R` prints
 * (leading space included or not) and what follows `[FAILED TO PARSE]`.
 *
 * Each value is read the way libtraceevent printed it: with the conversion the print fmt uses for
 * that field when `-R` picks one (hex for `%x`, a `0x` prefix when the text before it ends in
 * `0x`), else decimal, `0x%llx` for longs and pointers, the text for strings and `ARRAY[..]`
 * byte dumps for arrays. Values that are not numbers (a symbol printed by `%pS`) are left out.
 *
 * @param fmt the event format
 * @param opts long size and byte order
 * @returns the parser (null when the text is not this event's field list)
 * @example
 * ```ts
 * import { compileRawParser } from "./payload_parse.ts";
 * import type { EventFormat } from "./types.ts";
 * const f = (name: string, offset: number, size: number, type: string) => ({
 *   name, type, elemType: type, offset, size, signed: type === "int", kind: "int" as const,
 *   elemSize: size, count: 0, isString: false, common: false,
 * });
 * const fmt: EventFormat = {
 *   id: 1, system: "tlb", name: "tlb_flush", printFmt: '"pages:%ld (%d)", REC->pages, REC->reason',
 *   fields: [f("reason", 8, 4, "int"), f("pages", 16, 8, "unsigned long")], ownFields: [],
 * };
 * const r = compileRawParser(fmt)(" reason=3 pages=1")!;
 * if (!(r.reason === 3 && r.pages === 1n)) throw new Error("example failed");
 * ```
 */
export function compileRawParser(
  fmt: EventFormat,
  opts: PayloadParseOptions = {},
): (payload: string) => Record<string, FieldValue> | null {
  const le = !opts.bigEndian;
  const own = fmt.fields.filter((f) => !f.common);
  const pf = parsePrintFmt(fmt.printFmt);
  // bprint has no parsed print fmt in libtraceevent: its -R output is always raw
  const failed = pf.tepFailure !== null || fmt.printFmt === "" ||
    (fmt.system === "ftrace" && fmt.name === "bprint");
  const segs = failed ? [] : splitFormat(pf.format, pf.tepArgs ?? [], "tep");
  const styles: RawStyle[] = [];
  let at = 0;
  for (const f of own) {
    if (tepIsArray(f)) {
      styles.push({ kind: "array", f, string: /char|u8|s8/.test(f.type) });
      continue;
    }
    if (f.kind !== "int" || f.size === 0) {
      // e.g. old kernels' `u32 buf;` of size 0: printed as 0, holds no value
      styles.push({ kind: "skip", f });
      continue;
    }
    let found = -1;
    for (let k = 0; k < segs.length && at < segs.length; k++) {
      const idx = (at + k) % segs.length;
      const s = segs[idx]!;
      if (s.kind !== "conv" || !s.arg) continue;
      let u = s.arg;
      while (u.k === "cast") u = u.e;
      if (u.k === "field" && u.name === f.name) {
        found = idx;
        break;
      }
    }
    const rawStyle = (): RawStyle => ({
      kind: "int",
      f,
      radix: f.type.includes("*") || (/long/.test(f.type) && !(f.signed && f.size !== 4)) ? 16 : 10,
    });
    if (found < 0) {
      styles.push(rawStyle());
      continue;
    }
    at = found + 1;
    const c = segs[found] as Extract<Segment, { kind: "conv" }>;
    if (c.conv === "int") {
      styles.push({ kind: "int", f, radix: "xX".includes(c.ch) ? 16 : c.ch === "o" ? 0 : 10 });
    } else if (c.conv === "string" && f.size === (opts.longSize ?? 8)) {
      styles.push({ kind: "skip", f });
    } else if (c.conv === "pointer" && c.ext === "") styles.push({ kind: "int", f, radix: 16 });
    else styles.push({ kind: "skip", f });
  }
  const parseValue = (st: RawStyle, text: string): FieldValue | undefined => {
    const f = st.f;
    if (st.kind === "skip") return undefined;
    if (st.kind === "array") {
      const m = /^ARRAY\[([0-9a-fA-F, ]*)\]$/.exec(text);
      if (!m) return f.isString ? text : undefined;
      const bytes = m[1]!.trim() === "" ? [] : m[1]!.split(",").map((h) => parseInt(h.trim(), 16));
      if (f.isString) {
        let end = bytes.indexOf(0);
        if (end < 0) end = bytes.length;
        return new TextDecoder().decode(new Uint8Array(bytes.slice(0, end)));
      }
      const es = f.elemSize > 0 ? f.elemSize : 1;
      const vals: bigint[] = [];
      for (let i = 0; i + es <= bytes.length; i += es) {
        let v = 0n;
        for (let j = 0; j < es; j++) {
          v |= BigInt(bytes[i + (le ? j : es - 1 - j)]!) << BigInt(8 * j);
        }
        vals.push(f.signed ? BigInt.asIntN(es * 8, v) : v);
      }
      return es === 8 ? vals : vals.map(Number);
    }
    if (st.kind === "string") return text;
    const t = text.trim();
    let v: bigint;
    if (/^0x[0-9a-fA-F]+$/.test(t)) v = BigInt(t);
    else if (st.radix === 16 && /^[0-9a-fA-F]+$/.test(t)) v = BigInt("0x" + t);
    else if (st.radix === 0 && /^[0-7]+$/.test(t)) v = BigInt("0o" + t);
    else if (/^-?\d+$/.test(t)) v = BigInt(t);
    else return undefined;
    return typed(f, v);
  };
  return (payload: string) => {
    let p = payload.startsWith(" ") ? payload : " " + payload;
    const out: Record<string, FieldValue> = {};
    for (let i = 0; i < styles.length; i++) {
      const st = styles[i]!;
      const key = ` ${st.f.name}=`;
      if (!p.startsWith(key)) return null;
      p = p.slice(key.length);
      let end = p.length;
      const next = styles[i + 1];
      if (next) {
        end = p.indexOf(` ${next.f.name}=`);
        if (end < 0) return null;
      }
      const v = parseValue(st, p.slice(0, end));
      if (v !== undefined) out[st.f.name] = v;
      p = p.slice(end);
    }
    return p === "" ? out : null;
  };
}
