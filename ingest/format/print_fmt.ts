/**
 * The `print fmt:` line of a tracefs format file, parsed into data: the quoted format string
 * and its argument expressions as a small AST. Nothing here ever evaluates trace text as code;
 * the renderer ({@link ./print_render.ts}) walks the AST.
 *
 * ```
 * print fmt: "pages:%ld reason:%s (%d)", REC->pages, __print_symbolic(REC->reason, { 0, "flush" }), REC->reason
 * ```
 *
 * Two readings of the format string exist because two programs print events:
 * - `"tep"`: what libtraceevent 1.7 (trace-cmd 3.1, perf) does. It knows the conversions
 *   `d i u x X o s p` with flags `# - 0`, width, precision, `*`, and length `h hh l ll L z Z`;
 *   any other conversion character (also `%c`, `%+d`, `% d`, `%jd`) becomes the literal text
 *   `>c<` and consumes no argument. Of the `%p` extensions it consumes only `S s F f`, `M m`
 *   (+`R F`), `I i` (`4 6 S` + flags), `U` (+`L l B b`) and `h` (+`C D N`); the letters after
 *   any other `%p` (`%pK`, `%pB`, ...) stay in the output as text.
 * - `"kernel"`: what the kernel's `vsnprintf` does: full C conversions, and every alphanumeric
 *   character after `%p` belongs to the conversion.
 *
 * Constructs libtraceevent 1.7 cannot parse (GCC statement expressions `({ ... })`, helpers it
 * does not know such as `__print_ns_to_secs`, `sizeof` of anything but `int`/`long`/`REC->x`,
 * table values needing `* / % ^ ?:` or unary `!`, unary `&` or `*`) still parse here; the reason
 * is kept in {@linkcode PrintFmt.tepFailure} so a renderer can print `[FAILED TO PARSE]` exactly
 * like trace-cmd. Text that does not parse at all gives {@linkcode PrintFmt.error}.
 *
 * @module
 */

/** An argument expression of a print format. */
export type Expr =
  /** integer constant (also character constants); `text` is the source spelling */
  | { readonly k: "num"; readonly value: bigint; readonly text: string }
  /** string literal: `raw` keeps the C escapes (libtraceevent prints it so), `value` is unescaped */
  | { readonly k: "str"; readonly raw: string; readonly value: string }
  /** a bare identifier (`vmemmap_base`, an unconverted enum name); evaluates to 0 or a symbol address */
  | { readonly k: "ident"; readonly name: string }
  /** `REC->name` */
  | { readonly k: "field"; readonly name: string }
  /** a local declared in a statement expression */
  | { readonly k: "var"; readonly name: string }
  /** `(type)expr` */
  | { readonly k: "cast"; readonly type: string; readonly e: Expr }
  /** unary `- + ! ~ & *` */
  | { readonly k: "unary"; readonly op: string; readonly e: Expr }
  /** binary operator */
  | { readonly k: "binary"; readonly op: string; readonly l: Expr; readonly r: Expr }
  /** `c ? t : f` */
  | { readonly k: "cond"; readonly c: Expr; readonly t: Expr; readonly f: Expr }
  /** `e[i]` */
  | { readonly k: "index"; readonly e: Expr; readonly i: Expr }
  /** `sizeof(...)`: `type` is the type text, or `REC->x` / an expression spelled out */
  | { readonly k: "sizeof"; readonly type: string; readonly field: string | null }
  /** `__print_symbolic(value, { v, "name" }, ...)` */
  | { readonly k: "symbolic"; readonly e: Expr; readonly table: readonly TableEntry[] }
  /** `__print_flags(value, "sep", { mask, "name" }, ...)` */
  | {
    readonly k: "flags";
    readonly e: Expr;
    readonly sep: string;
    readonly table: readonly TableEntry[];
  }
  /** `__print_hex(buf, len)` (`str: false`) and `__print_hex_str(buf, len)` (`str: true`) */
  | { readonly k: "hex"; readonly buf: Expr; readonly len: Expr; readonly str: boolean }
  /** `__print_array(array, count, el_size)` */
  | { readonly k: "array"; readonly buf: Expr; readonly count: Expr; readonly elSize: Expr }
  /** `__get_str(f)` / `__get_rel_str(f)` */
  | { readonly k: "get_str"; readonly field: string }
  /** `__get_dynamic_array(f)` (and `__get_sockaddr`, `__get_rel_*`) */
  | { readonly k: "dyn_array"; readonly field: string }
  /** `__get_dynamic_array_len(f)`: length in bytes */
  | { readonly k: "dyn_array_len"; readonly field: string }
  /** `__get_bitmask(f)` (`cpumask: false`) and `__get_cpumask(f)` (`cpumask: true`) */
  | { readonly k: "bitmask"; readonly field: string; readonly cpumask: boolean }
  /** GCC statement expression `({ T a = x; ...; result; })` */
  | { readonly k: "stmt"; readonly decls: readonly Decl[]; readonly result: Expr }
  /** brace initializer `{ a, b }` (only meaningful inside helper arguments) */
  | { readonly k: "list"; readonly items: readonly Expr[] }
  /** any other function-like helper, e.g. `__print_ns_to_secs(x)`, `jiffies_to_msecs(x)` */
  | { readonly k: "call"; readonly name: string; readonly args: readonly Expr[] };

/** One `{ value, "name" }` entry of a symbolic or flags table. */
export interface TableEntry {
  /** The value expression (usually a constant, possibly with casts and shifts). */
  readonly value: Expr;
  /** The name as written between the quotes (C escapes kept), or null for `((void *)0)`. */
  readonly name: string | null;
  /** In {@linkcode PrintFmt.tepArgs}: the value as libtraceevent computes it (`eval_flag`). */
  readonly tepValue?: bigint;
}

/** `type name = init;` inside a statement expression. */
export interface Decl {
  /** Declared type text (`int`, `unsigned long`). */
  readonly type: string;
  /** Local name. */
  readonly name: string;
  /** Initializer. */
  readonly init: Expr;
}

/** A parsed `print fmt:`. */
export interface PrintFmt {
  /** The format string as written between the quotes (concatenated, C escapes kept). */
  readonly format: string;
  /** The argument expressions, in order. */
  readonly args: readonly Expr[];
  /**
   * The arguments as libtraceevent 1.7 structures them. Its expression parser has its own
   * precedence rules (`a - b - c` is `a - (b - c)`, `a * (b + c)` is `(a * b) + c`, a `?:` binds
   * to everything after it), and trace-cmd's output follows them. Null when it fails.
   */
  readonly tepArgs: readonly Expr[] | null;
  /** Why libtraceevent 1.7 would mark this event `[FAILED TO PARSE]`, or null. */
  readonly tepFailure: string | null;
  /** Why the text could not be parsed at all (then `args` holds what came before), or null. */
  readonly error: string | null;
}

/** How a conversion reads its argument. */
export type ConvKind = "int" | "char" | "string" | "pointer";

/** One piece of a format string: literal text or a conversion with its argument. */
export type Segment =
  | { readonly kind: "text"; readonly text: string }
  | {
    readonly kind: "conv";
    /** The conversion's spelling as it would be handed to C printf, e.g. `%08lx`, `%pS`. */
    readonly spec: string;
    /** `int` (d i u x X o), `char` (c), `string` (s) or `pointer` (p). */
    readonly conv: ConvKind;
    /** The conversion character (`d`, `x`, `s`, `p`, ...). */
    readonly ch: string;
    /** printf flags among `-+ #0`. */
    readonly flags: string;
    /** Field width, or null. */
    readonly width: number | null;
    /** Precision, or null. */
    readonly precision: number | null;
    /** Length: -2 hh, -1 h, 0 none, 1 l/z/Z/t/j, 2 ll/L. */
    readonly length: number;
    /** For `%p`: the extension letters consumed (`S`, `s`, `MR`, `I4`, ...), else "". */
    readonly ext: string;
    /** The argument, or null when the arguments ran out. */
    readonly arg: Expr | null;
    /** The `*` width/precision argument, or null. */
    readonly starArg: Expr | null;
  };

/** Which program's reading of a format string. */
export type Flavor = "tep" | "kernel";

/** Nesting limit for expressions, so hostile input cannot overflow the stack. */
const MAX_DEPTH = 200;

// ---------------------------------------------------------------------------------------------
// Tokenizer

type TokKind = "num" | "str" | "char" | "ident" | "punct" | "end";

interface Tok {
  kind: TokKind;
  text: string;
  pos: number;
}

const PUNCT3 = ["<<=", ">>=", "..."];
const PUNCT2 = [
  "->",
  "++",
  "--",
  "<<",
  ">>",
  "<=",
  ">=",
  "==",
  "!=",
  "&&",
  "||",
  "+=",
  "-=",
  "*=",
  "/=",
  "|=",
  "&=",
  "^=",
];
const PUNCT1 = "()[]{},;?:+-*/%&|^~!<>=.#";

class ParseFail extends Error {
  constructor(message: string, readonly pos: number) {
    super(message);
  }
}

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      i++;
      while (i < n && s[i] !== c) {
        if (s[i] === "\\") i++;
        i++;
      }
      if (i >= n) throw new ParseFail(`unterminated ${c === '"' ? "string" : "character"}`, start);
      out.push({ kind: c === '"' ? "str" : "char", text: s.slice(start + 1, i), pos: start });
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[0-9A-Za-z_.]/.test(s[i]!)) i++;
      out.push({ kind: "num", text: s.slice(start, i), pos: start });
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      while (i < n && /[A-Za-z0-9_$]/.test(s[i]!)) i++;
      out.push({ kind: "ident", text: s.slice(start, i), pos: start });
      continue;
    }
    const three = s.slice(i, i + 3);
    const two = s.slice(i, i + 2);
    if (PUNCT3.includes(three)) {
      out.push({ kind: "punct", text: three, pos: start });
      i += 3;
    } else if (PUNCT2.includes(two)) {
      out.push({ kind: "punct", text: two, pos: start });
      i += 2;
    } else if (PUNCT1.includes(c)) {
      out.push({ kind: "punct", text: c, pos: start });
      i++;
    } else {
      throw new ParseFail(`unexpected character '${c}'`, start);
    }
  }
  out.push({ kind: "end", text: "", pos: n });
  return out;
}

// ---------------------------------------------------------------------------------------------
// C escapes and integer constants

/**
 * Replaces C escapes (`\n`, `\t`, `\\`, `\"`, octal, `\x..`) by the characters they stand for.
 *
 * @param raw text with escapes
 * @returns the unescaped text
 * @example
 * ```ts
 * import { unescapeC } from "./print_fmt.ts";
 * if (!(unescapeC("a\\tb\\n") === "a\tb\n")) throw new Error("example failed");
 * ```
 */
export function unescapeC(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\" || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const d = raw[++i]!;
    switch (d) {
      case "n":
        out += "\n";
        break;
      case "t":
        out += "\t";
        break;
      case "r":
        out += "\r";
        break;
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "v":
        out += "\v";
        break;
      case "e":
        out += "\x1b";
        break;
      case "x": {
        let j = i + 1;
        while (j < raw.length && j < i + 3 && /[0-9a-fA-F]/.test(raw[j]!)) j++;
        out += j > i + 1 ? String.fromCharCode(parseInt(raw.slice(i + 1, j), 16)) : "x";
        i = j - 1;
        break;
      }
      default:
        if (/[0-7]/.test(d)) {
          let j = i;
          while (j < raw.length && j < i + 3 && /[0-7]/.test(raw[j]!)) j++;
          out += String.fromCharCode(parseInt(raw.slice(i, j), 8));
          i = j - 1;
        } else {
          out += d;
        }
    }
  }
  return out;
}

/** libtraceevent's format-string literal unescaping: `\n \t \r \\`, any other `\c` is `c`. */
function unescapeTep(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const d = raw[++i];
    if (d === undefined) break;
    out += d === "n" ? "\n" : d === "t" ? "\t" : d === "r" ? "\r" : d;
  }
  return out;
}

/**
 * Parses a C integer constant like `strtoull(s, NULL, 0)`: `0x` hex, leading-0 octal, decimal,
 * stopping at the first character that does not belong (so `1UL` is 1). Wraps modulo 2^64.
 *
 * @param text the constant's spelling
 * @returns the value, 0 when no digits
 * @example
 * ```ts
 * import { parseCInt } from "./print_fmt.ts";
 * if (!(parseCInt("0x1fUL") === 31n && parseCInt("010") === 8n)) throw new Error("example failed");
 * ```
 */
export function parseCInt(text: string): bigint {
  let s = text.trim();
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  let m: RegExpExecArray | null;
  let v = 0n;
  if ((m = /^0[xX]([0-9a-fA-F]+)/.exec(s))) v = BigInt("0x" + m[1]);
  else if ((m = /^0([0-7]*)/.exec(s))) v = m[1] ? BigInt("0o" + m[1]) : 0n;
  else if ((m = /^[0-9]+/.exec(s))) v = BigInt(m[0]);
  v = BigInt.asUintN(64, v);
  return neg ? BigInt.asUintN(64, -v) : v;
}

// ---------------------------------------------------------------------------------------------
// Parser

const TYPE_WORDS = new Set([
  "unsigned",
  "signed",
  "const",
  "volatile",
  "struct",
  "union",
  "enum",
  "void",
  "char",
  "short",
  "int",
  "long",
  "bool",
  "_Bool",
  "float",
  "double",
  "__user",
  "__iomem",
  "__percpu",
  "__rcu",
  "__force",
  "__bitwise",
]);

/** Whether a single identifier looks like a typedef name. */
function isTypedefName(name: string): boolean {
  return /^(__)?[us](8|16|32|64|128)$/.test(name) || /^__(le|be)(16|32|64)$/.test(name) ||
    /_t$/.test(name) || TYPE_WORDS.has(name);
}

class Parser {
  private i = 0;
  private depth = 0;
  private locals: Set<string>[] = [];

  constructor(private readonly toks: Tok[]) {}

  private peek(o = 0): Tok {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  private next(): Tok {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private is(text: string, o = 0): boolean {
    const t = this.peek(o);
    return t.kind === "punct" && t.text === text;
  }
  private expect(text: string): void {
    const t = this.next();
    if (t.kind !== "punct" || t.text !== text) {
      throw new ParseFail(`expected '${text}' but found '${t.text || "end"}'`, t.pos);
    }
  }
  atEnd(): boolean {
    return this.peek().kind === "end";
  }
  pos(): number {
    return this.peek().pos;
  }

  /** The format string: one or more adjacent string literals. */
  formatString(): string {
    const t = this.next();
    if (t.kind !== "str") throw new ParseFail("print fmt does not start with a string", t.pos);
    let s = t.text;
    while (this.peek().kind === "str") s += this.next().text;
    return s;
  }

  /** Top-level arguments after the format string. */
  argList(out: Expr[]): void {
    while (this.is(",")) {
      this.next();
      out.push(this.assign());
    }
    if (!this.atEnd()) {
      throw new ParseFail(`unexpected '${this.peek().text}' after argument`, this.pos());
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new ParseFail("expression nested too deeply", this.pos());
  }

  /** assignment-expression: only a conditional (assignments never occur in print fmts). */
  assign(): Expr {
    this.enter();
    try {
      return this.cond();
    } finally {
      this.depth--;
    }
  }

  private cond(): Expr {
    const c = this.binary(0);
    if (!this.is("?")) return c;
    this.next();
    const t = this.commaExpr();
    this.expect(":");
    const f = this.assign();
    return { k: "cond", c, t, f };
  }

  /** expression with the comma operator (inside parentheses); value is the last one. */
  private commaExpr(): Expr {
    let e = this.assign();
    while (this.is(",")) {
      this.next();
      e = this.assign();
    }
    return e;
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ["||"],
    ["&&"],
    ["|"],
    ["^"],
    ["&"],
    ["==", "!="],
    ["<", ">", "<=", ">="],
    ["<<", ">>"],
    ["+", "-"],
    ["*", "/", "%"],
  ];

  private binary(level: number): Expr {
    if (level >= Parser.LEVELS.length) return this.unary();
    let l = this.binary(level + 1);
    const ops = Parser.LEVELS[level]!;
    for (;;) {
      const t = this.peek();
      if (t.kind !== "punct" || !ops.includes(t.text)) return l;
      this.next();
      const r = this.binary(level + 1);
      l = { k: "binary", op: t.text, l, r };
    }
  }

  private unary(): Expr {
    this.enter();
    try {
      const t = this.peek();
      if (t.kind === "punct" && ["-", "+", "!", "~", "&", "*"].includes(t.text)) {
        this.next();
        return { k: "unary", op: t.text, e: this.unary() };
      }
      if (t.kind === "punct" && (t.text === "++" || t.text === "--")) {
        throw new ParseFail(`'${t.text}' is not supported`, t.pos);
      }
      if (t.kind === "ident" && t.text === "sizeof") return this.postfix(this.sizeofExpr());
      if (this.is("(") && !this.is("{", 1)) {
        const type = this.tryCastType();
        if (type !== null) return { k: "cast", type, e: this.unary() };
      }
      return this.postfix(this.primary());
    } finally {
      this.depth--;
    }
  }

  /**
   * If `(` starts a cast, consumes `( type )` and returns the type text; otherwise consumes
   * nothing and returns null.
   */
  private tryCastType(): string | null {
    let j = 1;
    const words: string[] = [];
    for (;;) {
      const t = this.peek(j);
      if (t.kind === "ident") words.push(t.text);
      else if (t.kind === "punct" && t.text === "*") words.push("*");
      else break;
      j++;
    }
    if (words.length === 0 || !this.is(")", j)) return null;
    const after = this.peek(j + 1);
    const first = words[0]!;
    if (first === "REC") return null;
    const idents = words.filter((w) => w !== "*");
    if (idents.length === 0) return null;
    const typeLike = TYPE_WORDS.has(first) || words.includes("*") ||
      (idents.length === 1 && isTypedefName(first)) ||
      // libtraceevent: `(atom)` followed by an item or `(` is a cast
      (idents.length >= 1 &&
        (after.kind === "ident" || after.kind === "num" || after.kind === "str" ||
          (after.kind === "punct" && after.text === "(")));
    if (!typeLike) return null;
    // A lone identifier followed by a binary operator is an expression, not a cast.
    if (
      idents.length === 1 && !words.includes("*") && !TYPE_WORDS.has(first) &&
      !isTypedefName(first)
    ) {
      if (!(after.kind === "ident" || after.kind === "num" || after.kind === "str")) {
        if (!(after.kind === "punct" && after.text === "(")) return null;
      }
    }
    if (this.locals.some((s) => s.has(first)) && idents.length === 1) return null;
    this.i += j + 1;
    return words.join(" ");
  }

  private sizeofExpr(): Expr {
    this.next(); // sizeof
    const paren = this.is("(");
    if (!paren) {
      const e = this.unary();
      return { k: "sizeof", type: exprText(e), field: null };
    }
    this.next();
    if (this.peek().kind === "ident" && this.peek().text === "REC" && this.is("->", 1)) {
      this.next();
      this.next();
      const f = this.next();
      if (f.kind !== "ident") throw new ParseFail("field name expected after REC->", f.pos);
      this.expect(")");
      return { k: "sizeof", type: `REC->${f.text}`, field: f.text };
    }
    const words: string[] = [];
    while (!this.is(")")) {
      const t = this.next();
      if (t.kind === "end") throw new ParseFail("unterminated sizeof", t.pos);
      words.push(t.text);
      if (words.length > 64) throw new ParseFail("sizeof too long", t.pos);
    }
    this.next();
    const type = words.join(" ");
    return { k: "sizeof", type, field: null };
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.is("[")) {
        this.next();
        const i = this.commaExpr();
        this.expect("]");
        e = { k: "index", e, i };
      } else if (this.is("->") || this.is(".")) {
        const t = this.next();
        const f = this.next();
        if (f.kind !== "ident") throw new ParseFail(`member name expected after ${t.text}`, f.pos);
        e = { k: "call", name: `${t.text}${f.text}`, args: [e] };
      } else {
        return e;
      }
    }
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case "num":
        return { k: "num", value: parseCInt(t.text), text: t.text };
      case "char": {
        const v = unescapeC(t.text);
        return { k: "num", value: BigInt(v.length ? v.charCodeAt(0) : 0), text: `'${t.text}'` };
      }
      case "str": {
        let raw = t.text;
        while (this.peek().kind === "str") raw += this.next().text;
        return { k: "str", raw, value: unescapeC(raw) };
      }
      case "ident":
        return this.identifier(t);
      case "punct":
        if (t.text === "(") {
          if (this.is("{")) return this.statementExpr();
          const e = this.commaExpr();
          this.expect(")");
          // `(REC)->field`
          if (e.k === "ident" && e.name === "REC" && this.is("->")) return this.recField();
          return e;
        }
        if (t.text === "{") return this.braceList();
        throw new ParseFail(`unexpected '${t.text}'`, t.pos);
      default:
        throw new ParseFail("unexpected end of print fmt", t.pos);
    }
  }

  private recField(): Expr {
    this.expect("->");
    const f = this.next();
    if (f.kind !== "ident") throw new ParseFail("field name expected after REC->", f.pos);
    return { k: "field", name: f.text };
  }

  private identifier(t: Tok): Expr {
    if (t.text === "REC" && this.is("->")) return this.recField();
    if (this.locals.some((s) => s.has(t.text))) return { k: "var", name: t.text };
    if (!this.is("(")) return { k: "ident", name: t.text };
    this.next(); // (
    const args: Expr[] = [];
    if (!this.is(")")) {
      args.push(this.assign());
      while (this.is(",")) {
        this.next();
        args.push(this.assign());
      }
    }
    this.expect(")");
    return this.helper(t, args);
  }

  private braceList(): Expr {
    const items: Expr[] = [];
    while (!this.is("}")) {
      items.push(this.assign());
      if (this.is(",")) this.next();
      else if (!this.is("}")) {
        throw new ParseFail(`expected ',' or '}' but found '${this.peek().text}'`, this.pos());
      }
    }
    this.next();
    return { k: "list", items };
  }

  /** `({ T a = x; ...; result; })` after the opening `(`. */
  private statementExpr(): Expr {
    this.expect("{");
    const decls: Decl[] = [];
    const scope = new Set<string>();
    this.locals.push(scope);
    let result: Expr | null = null;
    try {
      while (!this.is("}")) {
        if (this.atEnd()) throw new ParseFail("unterminated statement expression", this.pos());
        if (this.is(";")) {
          this.next();
          continue;
        }
        const decl = this.tryDecl();
        if (decl) {
          decls.push(decl);
          scope.add(decl.name);
          continue;
        }
        result = this.commaExpr();
        this.expect(";");
      }
      this.next(); // }
      this.expect(")");
    } finally {
      this.locals.pop();
    }
    return { k: "stmt", decls, result: result ?? { k: "num", value: 0n, text: "0" } };
  }

  /** `type name = init;` or null (consumes nothing) when the statement is not a declaration. */
  private tryDecl(): Decl | null {
    let j = 0;
    const words: string[] = [];
    for (;;) {
      const t = this.peek(j);
      if (t.kind === "ident" && (t.text === "typeof" || t.text === "__typeof__")) {
        // typeof(expr): skip the balanced parentheses
        if (!this.is("(", j + 1)) return null;
        let depth = 0;
        let k = j + 1;
        const parts: string[] = [t.text];
        for (;;) {
          const u = this.peek(k);
          if (u.kind === "end") return null;
          parts.push(u.text);
          if (u.kind === "punct" && u.text === "(") depth++;
          if (u.kind === "punct" && u.text === ")" && --depth === 0) break;
          k++;
        }
        words.push(parts.join(""));
        j = k + 1;
        continue;
      }
      if (t.kind === "ident") words.push(t.text);
      else if (t.kind === "punct" && t.text === "*") words.push("*");
      else break;
      j++;
    }
    if (words.length < 2 || !this.is("=", j)) return null;
    const name = words[words.length - 1]!;
    if (name === "*") return null;
    const type = words.slice(0, -1).join(" ");
    this.i += j + 1;
    const init = this.assign();
    this.expect(";");
    return { type, name, init };
  }

  private helper(t: Tok, args: Expr[]): Expr {
    const name = t.text;
    const need = (n: number) => {
      if (args.length < n) throw new ParseFail(`${name}() needs ${n} arguments`, t.pos);
    };
    const fieldName = (e: Expr | undefined): string => {
      if (e && e.k === "ident") return e.name;
      if (e && e.k === "field") return e.name;
      throw new ParseFail(`${name}() needs a field name`, t.pos);
    };
    switch (name) {
      case "__print_symbolic":
        need(1);
        return { k: "symbolic", e: args[0]!, table: this.table(name, args.slice(1), t) };
      case "__print_flags": {
        need(2);
        const sepArg = args[1]!;
        let sep = "";
        if (sepArg.k === "str") sep = sepArg.raw;
        return { k: "flags", e: args[0]!, sep, table: this.table(name, args.slice(2), t) };
      }
      case "__print_hex":
      case "__print_hex_str":
        need(2);
        return { k: "hex", buf: args[0]!, len: args[1]!, str: name === "__print_hex_str" };
      case "__print_array":
        need(3);
        return { k: "array", buf: args[0]!, count: args[1]!, elSize: args[2]! };
      case "__get_str":
      case "__get_rel_str":
        need(1);
        return { k: "get_str", field: fieldName(args[0]) };
      case "__get_bitmask":
      case "__get_rel_bitmask":
        need(1);
        return { k: "bitmask", field: fieldName(args[0]), cpumask: false };
      case "__get_cpumask":
      case "__get_rel_cpumask":
        need(1);
        return { k: "bitmask", field: fieldName(args[0]), cpumask: true };
      case "__get_dynamic_array":
      case "__get_rel_dynamic_array":
      case "__get_sockaddr":
      case "__get_sockaddr_rel":
        need(1);
        return { k: "dyn_array", field: fieldName(args[0]) };
      case "__get_dynamic_array_len":
      case "__get_rel_dynamic_array_len":
        need(1);
        return { k: "dyn_array_len", field: fieldName(args[0]) };
      case "__builtin_expect":
        need(1);
        return args[0]!;
      default:
        return { k: "call", name, args };
    }
  }

  private table(helper: string, items: Expr[], t: Tok): TableEntry[] {
    const out: TableEntry[] = [];
    for (const it of items) {
      if (it.k !== "list" || it.items.length !== 2) {
        throw new ParseFail(`${helper}() table entries must be {value, "name"}`, t.pos);
      }
      const [v, s] = it.items as [Expr, Expr];
      let name: string | null;
      if (s.k === "str") name = s.raw;
      else if (isNullPointer(s)) name = null;
      else {
        name = exprText(s);
      }
      out.push({ value: v, name });
    }
    return out;
  }
}

/** `((void *)0)` and friends. */
function isNullPointer(e: Expr): boolean {
  while (e.k === "cast") e = e.e;
  return e.k === "num" && e.value === 0n;
}

/**
 * Spells an expression back as C-like text (for messages and `sizeof` of expressions).
 *
 * @param e expression
 * @returns text
 * @example
 * ```ts
 * import { exprText } from "./print_fmt.ts";
 * if (!(exprText({ k: "field", name: "pfn" }) === "REC->pfn")) throw new Error("example failed");
 * ```
 */
export function exprText(e: Expr): string {
  switch (e.k) {
    case "num":
      return e.text;
    case "str":
      return `"${e.raw}"`;
    case "ident":
    case "var":
      return e.name;
    case "field":
      return `REC->${e.name}`;
    case "cast":
      return `(${e.type})${exprText(e.e)}`;
    case "unary":
      return `${e.op}${exprText(e.e)}`;
    case "binary":
      return `(${exprText(e.l)} ${e.op} ${exprText(e.r)})`;
    case "cond":
      return `(${exprText(e.c)} ? ${exprText(e.t)} : ${exprText(e.f)})`;
    case "index":
      return `${exprText(e.e)}[${exprText(e.i)}]`;
    case "sizeof":
      return `sizeof(${e.type})`;
    case "symbolic":
      return `__print_symbolic(${exprText(e.e)}, ...)`;
    case "flags":
      return `__print_flags(${exprText(e.e)}, "${e.sep}", ...)`;
    case "hex":
      return `${e.str ? "__print_hex_str" : "__print_hex"}(${exprText(e.buf)}, ${exprText(e.len)})`;
    case "array":
      return `__print_array(${exprText(e.buf)}, ${exprText(e.count)}, ${exprText(e.elSize)})`;
    case "get_str":
      return `__get_str(${e.field})`;
    case "dyn_array":
      return `__get_dynamic_array(${e.field})`;
    case "dyn_array_len":
      return `__get_dynamic_array_len(${e.field})`;
    case "bitmask":
      return `${e.cpumask ? "__get_cpumask" : "__get_bitmask"}(${e.field})`;
    case "stmt":
      return `({ ${e.decls.map((d) => `${d.type} ${d.name} = ${exprText(d.init)}; `).join("")}${
        exprText(e.result)
      }; })`;
    case "list":
      return `{ ${e.items.map(exprText).join(", ")} }`;
    case "call":
      return `${e.name}(${e.args.map(exprText).join(", ")})`;
  }
}

/**
 * Parses the text after `print fmt:` into the format string and argument expressions.
 *
 * Never throws on bad input: a text that does not parse gives a result with `error` set (the
 * renderer then prints the fields raw, like trace-cmd's `[FAILED TO PARSE]`).
 *
 * @param text the print fmt text, starting with the quoted format string
 * @returns the parsed print format
 * @example
 * ```ts
 * import { parsePrintFmt } from "./print_fmt.ts";
 * const p = parsePrintFmt('"pages:%ld", REC->pages');
 * if (!(p.format === "pages:%ld" && p.args[0]!.k === "field" && p.error === null)) throw new Error("example failed");
 * ```
 */
export function parsePrintFmt(text: string): PrintFmt {
  const args: Expr[] = [];
  let format = "";
  let toks: Tok[];
  try {
    toks = tokenize(text);
  } catch (e) {
    if (!(e instanceof ParseFail)) throw e;
    const error = `${e.message} at character ${e.pos}`;
    return { format, args, tepArgs: null, tepFailure: error, error };
  }
  let error: string | null = null;
  try {
    const p = new Parser(toks);
    format = p.formatString();
    p.argList(args);
  } catch (e) {
    if (!(e instanceof ParseFail)) throw e;
    error = `${e.message} at character ${e.pos}`;
  }
  let tepArgs: Expr[] | null = null;
  let tepFailure: string | null = null;
  try {
    tepArgs = new TepParser(toks).parse();
  } catch (e) {
    if (!(e instanceof ParseFail)) throw e;
    tepFailure = e.message;
  }
  return { format, args, tepArgs, tepFailure, error };
}

// ---------------------------------------------------------------------------------------------
// libtraceevent-compatible parser

/** A node under construction, mutable like libtraceevent's `struct tep_print_arg`. */
interface TN {
  kind: "empty" | "null" | "atom" | "expr" | "type" | "op";
  text?: string;
  e?: Expr;
  type?: string;
  item?: TN;
  op?: string;
  left?: TN | null;
  right?: TN | null;
  prio?: number;
}

function tnCopy(n: TN): TN {
  return { ...n };
}
function tnSet(n: TN, v: TN): void {
  for (const k of Object.keys(n)) delete (n as unknown as Record<string, unknown>)[k];
  Object.assign(n, v);
}

function tepOpPrio(op: string): number {
  if (op.length === 1) {
    switch (op) {
      case "~":
      case "!":
        return 4;
      case "*":
      case "/":
      case "%":
        return 6;
      case "+":
      case "-":
        return 7;
      case "<":
      case ">":
        return 9;
      case "&":
        return 11;
      case "^":
        return 12;
      case "|":
        return 13;
      case "?":
        return 16;
      default:
        return -1;
    }
  }
  switch (op) {
    case "++":
    case "--":
      return 3;
    case ">>":
    case "<<":
      return 8;
    case ">=":
    case "<=":
      return 9;
    case "==":
    case "!=":
      return 10;
    case "&&":
      return 14;
    case "||":
      return 15;
    default:
      return -1;
  }
}

const TEP_BINOPS = new Set([
  ">>",
  "<<",
  "&",
  "|",
  "&&",
  "||",
  "-",
  "+",
  "*",
  "^",
  "/",
  "%",
  "<",
  ">",
  "<=",
  ">=",
  "==",
  "!=",
]);

/** C `strtoll(s, NULL, 0)`: like parseCInt but saturating to the signed 64-bit range. */
function strtoll(text: string): bigint {
  const s = text.trim();
  const neg = s.startsWith("-");
  const mag = parseCInt(neg || s.startsWith("+") ? s.slice(1) : s);
  // parseCInt wraps; detect overflow of the magnitude from the digits
  let m: RegExpExecArray | null;
  let big = 0n;
  const body = neg || s.startsWith("+") ? s.slice(1) : s;
  if ((m = /^0[xX]([0-9a-fA-F]+)/.exec(body))) big = BigInt("0x" + m[1]);
  else if ((m = /^0([0-7]+)/.exec(body))) big = BigInt("0o" + m[1]);
  else if ((m = /^[0-9]+/.exec(body))) big = BigInt(m[0]);
  else big = mag;
  if (neg) return big > 0x8000000000000000n ? -0x8000000000000000n : -big;
  return big > 0x7fffffffffffffffn ? 0x7fffffffffffffffn : big;
}

/**
 * A port of libtraceevent 1.7's `process_arg`/`process_op` family over this module's tokens.
 * It builds the same (sometimes surprising) trees so that trace-cmd's output can be reproduced.
 */
class TepParser {
  private i = 0;
  private depth = 0;
  private readonly toks: Tok[];

  constructor(toks: Tok[]) {
    // libtraceevent's tokenizer joins adjacent string literals
    this.toks = [];
    for (const t of toks) {
      const last = this.toks[this.toks.length - 1];
      if (t.kind === "str" && last?.kind === "str") {
        this.toks[this.toks.length - 1] = { ...last, text: last.text + t.text };
      } else this.toks.push(t);
    }
  }

  private next(): Tok {
    const t = this.toks[Math.min(this.i, this.toks.length - 1)]!;
    if (this.i < this.toks.length) this.i++;
    return t;
  }
  private static type(t: Tok): "ITEM" | "DQUOTE" | "SQUOTE" | "DELIM" | "OP" | "NONE" {
    switch (t.kind) {
      case "num":
      case "ident":
        return "ITEM";
      case "str":
        return "DQUOTE";
      case "char":
        return "SQUOTE";
      case "end":
        return "NONE";
      default:
        return t.text === "(" || t.text === ")" || t.text === "," ? "DELIM" : "OP";
    }
  }
  private static isItem(t: Tok): boolean {
    const ty = TepParser.type(t);
    return ty === "ITEM" || ty === "DQUOTE" || ty === "SQUOTE";
  }
  private static is(t: Tok, ty: string, text: string): boolean {
    return TepParser.type(t) === ty && t.text === text;
  }
  private fail(msg: string, t?: Tok): never {
    throw new ParseFail(msg, t?.pos ?? 0);
  }
  private expect(t: Tok, ty: string, text: string): void {
    if (!TepParser.is(t, ty, text)) this.fail(`expected '${text}' but read '${t.text}'`, t);
  }

  parse(): Expr[] {
    const f = this.next();
    if (f.kind !== "str") this.fail("print fmt does not start with a string", f);
    // libtraceevent 1.7 fails on a literal tab inside the format string
    if (f.text.includes("\t")) this.fail("tab character in the format string", f);
    const out: Expr[] = [];
    let t = this.next();
    if (TepParser.type(t) === "NONE") return out;
    this.expect(t, "DELIM", ",");
    for (;;) {
      const n: TN = { kind: "empty" };
      t = this.processArg(n);
      if (TepParser.type(t) === "OP") t = this.processOp(n, t);
      out.push(this.toExpr(n));
      if (TepParser.is(t, "DELIM", ",")) continue;
      if (TepParser.type(t) === "NONE") return out;
      this.fail(`unexpected '${t.text}' after argument`, t);
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail("expression nested too deeply");
  }

  processArg(n: TN): Tok {
    return this.processArgToken(n, this.next());
  }

  processArgToken(n: TN, t: Tok): Tok {
    this.enter();
    try {
      switch (TepParser.type(t)) {
        case "ITEM": {
          if (t.text === "REC") return this.processEntry(n);
          let atom = t.text;
          let nt = this.next();
          if (TepParser.is(nt, "DELIM", "(")) return this.processFunction(n, atom, t);
          while (TepParser.type(nt) === "ITEM") {
            atom += " " + nt.text;
            nt = this.next();
          }
          tnSet(n, { kind: "atom", text: atom });
          return nt;
        }
        case "SQUOTE":
          // libtraceevent 1.7 keeps the character itself as the atom (so 'F' evaluates to 0)
          tnSet(n, { kind: "atom", text: t.text });
          return this.next();
        case "DQUOTE":
          tnSet(n, { kind: "expr", e: { k: "str", raw: t.text, value: unescapeC(t.text) } });
          return this.next();
        case "DELIM":
          if (t.text === "(") return this.processParen(n);
          tnSet(n, { kind: "op", op: t.text, left: null, right: null, prio: 0 });
          return this.processOp(n, t);
        case "OP":
          tnSet(n, { kind: "op", op: t.text, left: null, right: null, prio: 0 });
          return this.processOp(n, t);
        default:
          return this.fail("unexpected end of print fmt", t);
      }
    } finally {
      this.depth--;
    }
  }

  processOp(n: TN, opTok: Tok): Tok {
    this.enter();
    try {
      const op = opTok.text;
      let right: TN | null = null;
      let t: Tok;
      if (n.kind === "op" && !n.left) {
        if (!["~", "!", "+", "-"].includes(op)) this.fail(`bad op token ${op}`, opTok);
        n.left = { kind: "null" };
        right = { kind: "empty" };
        n.right = right;
        t = this.processArg(right);
      } else if (op === "?") {
        const left = tnCopy(n);
        tnSet(n, { kind: "op", op: "?", left, right: null, prio: 0 });
        t = this.processCond(n);
      } else if (TEP_BINOPS.has(op)) {
        const left = tnCopy(n);
        const prio = left.kind === "null" ? 0 : tepOpPrio(op);
        tnSet(n, { kind: "op", op, left, right: null, prio });
        t = this.next();
        if (op === "*" && TepParser.is(t, "DELIM", ")")) {
          // `(type *)`: a pointer type
          if (left.kind !== "atom") this.fail("bad pointer type", t);
          tnSet(n, { ...left, text: `${left.text} *` });
          return t;
        }
        right = { kind: "empty" };
        t = this.processArgToken(right, t);
        if (right.kind === "op" && tepOpPrio(op) < tepOpPrio(right.op!)) {
          // libtraceevent rotates by priority even when the right side was parenthesized
          n.right = right.left ?? null;
          const tmp = tnCopy(n);
          tnSet(n, tnCopy(right));
          tnSet(right, tmp);
          n.left = right;
        } else {
          n.right = right;
        }
      } else if (op === "[") {
        const left = tnCopy(n);
        tnSet(n, { kind: "op", op: "[", left, right: null, prio: 0 });
        const idx: TN = { kind: "empty" };
        const u = this.processArg(idx);
        if (!TepParser.is(u, "OP", "]")) this.fail("expected ']'", u);
        n.right = idx;
        t = this.next();
      } else {
        return this.fail(`unknown op '${op}'`, opTok);
      }
      if (TepParser.type(t) === "OP" && t.text !== ":") {
        const prio = tepOpPrio(t.text);
        if (prio < 0) this.fail(`unknown op '${t.text}'`, t);
        if (prio > (n.prio ?? 0)) return this.processOp(n, t);
        if (!right) this.fail(`misplaced '${t.text}'`, t);
        return this.processOp(right, t);
      }
      return t;
    } finally {
      this.depth--;
    }
  }

  private processCond(top: TN): Tok {
    const arg: TN = {
      kind: "op",
      op: ":",
      left: { kind: "empty" },
      right: { kind: "empty" },
      prio: 0,
    };
    let t = this.processArg(arg.left!);
    while (TepParser.type(t) === "OP" && t.text !== ":") t = this.processOp(arg.left!, t);
    this.expect(t, "OP", ":");
    t = this.processArg(arg.right!);
    top.right = arg;
    return t;
  }

  private processEntry(n: TN): Tok {
    const t = this.next();
    if (TepParser.is(t, "DELIM", ")")) {
      // `(REC)->field`
      tnSet(n, { kind: "atom", text: "REC)" });
      return t;
    }
    this.expect(t, "OP", "->");
    const f = this.next();
    if (TepParser.type(f) !== "ITEM") this.fail("field name expected after REC->", f);
    tnSet(n, { kind: "expr", e: { k: "field", name: f.text } });
    return this.next();
  }

  private processParen(n: TN): Tok {
    let t = this.processArg(n);
    if (TepParser.type(t) === "OP") t = this.processOp(n, t);
    if (n.kind === "atom" && n.text === "REC)" && TepParser.is(t, "DELIM", ")")) {
      return this.processEntryAfterParen(n);
    }
    this.expect(t, "DELIM", ")");
    const nt = this.next();
    if (TepParser.isItem(nt) || TepParser.is(nt, "DELIM", "(")) {
      if (n.kind !== "atom") this.fail("previous needed to be an atom (cast)", nt);
      const item: TN = { kind: "empty" };
      const type = n.text!;
      tnSet(n, { kind: "type", type, item });
      return this.processArgToken(item, nt);
    }
    return nt;
  }

  private processEntryAfterParen(n: TN): Tok {
    const t = this.next();
    this.expect(t, "OP", "->");
    const f = this.next();
    if (TepParser.type(f) !== "ITEM") this.fail("field name expected after REC->", f);
    tnSet(n, { kind: "expr", e: { k: "field", name: f.text } });
    return this.next();
  }

  /** process_arg + process_op until a non-operator (process_field_arg). */
  private fullArg(n: TN): Tok {
    let t = this.processArg(n);
    while (TepParser.type(t) === "OP") t = this.processOp(n, t);
    return t;
  }

  /** alloc_and_process_delim: one argument (one process_op) followed by `delim`. */
  private delimArg(delim: string): Expr {
    const n: TN = { kind: "empty" };
    let t = this.processArg(n);
    if (TepParser.type(t) === "OP") t = this.processOp(n, t);
    this.expect(t, "DELIM", delim);
    return this.toExpr(n);
  }

  private fieldName(): string {
    const t = this.next();
    if (TepParser.type(t) !== "ITEM") this.fail("field name expected", t);
    return t.text;
  }

  private processFunction(n: TN, name: string, at: Tok): Tok {
    switch (name) {
      case "__print_flags":
      case "__print_symbolic": {
        const v: TN = { kind: "empty" };
        let t = this.fullArg(v);
        this.expect(t, "DELIM", ",");
        let sep = "";
        if (name === "__print_flags") {
          t = this.next();
          if (TepParser.isItem(t)) {
            sep = t.text;
            t = this.next();
          }
          this.expect(t, "DELIM", ",");
        }
        const [table, end] = this.processFields();
        this.expect(end, "DELIM", ")");
        const e = this.toExpr(v);
        tnSet(n, {
          kind: "expr",
          e: name === "__print_flags" ? { k: "flags", e, sep, table } : { k: "symbolic", e, table },
        });
        return this.next();
      }
      case "__print_hex":
      case "__print_hex_str": {
        const buf = this.delimArg(",");
        const len = this.delimArg(")");
        tnSet(n, { kind: "expr", e: { k: "hex", buf, len, str: name === "__print_hex_str" } });
        return this.next();
      }
      case "__print_array": {
        const buf = this.delimArg(",");
        const count = this.delimArg(",");
        const elSize = this.delimArg(")");
        tnSet(n, { kind: "expr", e: { k: "array", buf, count, elSize } });
        return this.next();
      }
      case "__get_str":
      case "__get_rel_str":
      case "__get_bitmask":
      case "__get_rel_bitmask":
      case "__get_cpumask":
      case "__get_rel_cpumask":
      case "__get_dynamic_array":
      case "__get_rel_dynamic_array":
      case "__get_sockaddr":
      case "__get_sockaddr_rel":
      case "__get_dynamic_array_len":
      case "__get_rel_dynamic_array_len": {
        const field = this.fieldName();
        this.expect(this.next(), "DELIM", ")");
        let e: Expr;
        if (name.includes("_str")) e = { k: "get_str", field };
        else if (name.includes("bitmask")) e = { k: "bitmask", field, cpumask: false };
        else if (name.includes("cpumask")) e = { k: "bitmask", field, cpumask: true };
        else if (name.endsWith("_len")) e = { k: "dyn_array_len", field };
        else e = { k: "dyn_array", field };
        tnSet(n, { kind: "expr", e });
        const t = this.next();
        if (e.k === "dyn_array" && TepParser.is(t, "OP", "[")) {
          this.fail("index into __get_dynamic_array()", t);
        }
        return t;
      }
      case "__builtin_expect": {
        const t = this.processArg(n);
        this.expect(t, "DELIM", ",");
        if (TepParser.type(this.next()) !== "ITEM") this.fail("__builtin_expect()", at);
        this.expect(this.next(), "DELIM", ")");
        return this.next();
      }
      case "sizeof":
        return this.processSizeof(n, at);
      default:
        return this.fail(`function ${name} not defined`, at);
    }
  }

  private processSizeof(n: TN, at: Tok): Tok {
    let t = this.next();
    let text: string;
    if (t.text === "unsigned") {
      t = this.next();
      if (TepParser.type(t) !== "ITEM") {
        tnSet(n, { kind: "expr", e: { k: "sizeof", type: "unsigned", field: null } });
        this.expect(t, "DELIM", ")");
        return this.next();
      }
    }
    if (t.text === "int") text = "int";
    else if (t.text === "long") {
      t = this.next();
      if (t.text === "long") text = "long long";
      else {
        tnSet(n, { kind: "expr", e: { k: "sizeof", type: "long", field: null } });
        this.expect(t, "DELIM", ")");
        return this.next();
      }
    } else if (t.text === "REC") {
      this.expect(this.next(), "OP", "->");
      const f = this.fieldName();
      tnSet(n, { kind: "expr", e: { k: "sizeof", type: `REC->${f}`, field: f } });
      this.expect(this.next(), "DELIM", ")");
      return this.next();
    } else {
      return this.fail(`sizeof(${t.text}) not supported`, at);
    }
    tnSet(n, { kind: "expr", e: { k: "sizeof", type: text, field: null } });
    this.expect(this.next(), "DELIM", ")");
    return this.next();
  }

  /** process_fields: `{ value, "name" }, ...`; returns the entries and the token after them. */
  private processFields(): [TableEntry[], Tok] {
    const out: TableEntry[] = [];
    let t: Tok;
    do {
      t = this.next();
      if (!TepParser.is(t, "OP", "{")) break;
      const v: TN = { kind: "empty" };
      t = this.processArg(v);
      if (TepParser.type(t) === "OP") t = this.processOp(v, t);
      this.expect(t, "DELIM", ",");
      const vText = this.argEval(v);
      if (vText === null) this.fail("table value cannot be evaluated", t);
      const s: TN = { kind: "empty" };
      t = this.processArg(s);
      this.expect(t, "OP", "}");
      const sText = this.argEval(s);
      if (sText === null) this.fail("table name cannot be evaluated", t);
      out.push({ value: this.toExpr(v), name: sText, tepValue: evalFlag(vText) });
      t = this.next();
    } while (TepParser.is(t, "DELIM", ","));
    return [out, t];
  }

  /** arg_eval: a table entry part as text, or null when libtraceevent cannot evaluate it. */
  private argEval(n: TN): string | null {
    switch (n.kind) {
      case "atom":
        return n.text!;
      case "expr":
        return n.e!.k === "str" ? n.e!.raw : null;
      case "type":
        return this.argEval(n.item!);
      case "op": {
        const v = this.argNumEval(n);
        return v === null ? null : v.toString();
      }
      default:
        return null;
    }
  }

  /** arg_num_eval: signed 64-bit constant evaluation with libtraceevent's operator subset. */
  private argNumEval(n: TN): bigint | null {
    const S = (v: bigint) => BigInt.asIntN(64, v);
    switch (n.kind) {
      case "atom":
        return strtoll(n.text!);
      case "type": {
        const v = this.argNumEval(n.item!);
        return v === null ? null : S(tepCastValue(BigInt.asUintN(64, v), n.type!));
      }
      case "op": {
        const op = n.op!;
        const unaryLeft = n.left?.kind === "null";
        if (op === "~") {
          const r = n.right ? this.argNumEval(n.right) : null;
          return r === null ? null : S(~r);
        }
        if ((op === "-" || op === "+") && unaryLeft) {
          const r = n.right ? this.argNumEval(n.right) : null;
          return r === null ? null : S(op === "-" ? -r : r);
        }
        const l = n.left ? this.argNumEval(n.left) : null;
        const r = n.right ? this.argNumEval(n.right) : null;
        if (l === null || r === null) return null;
        switch (op) {
          case "|":
            return S(l | r);
          case "||":
            return l !== 0n || r !== 0n ? 1n : 0n;
          case "&":
            return S(l & r);
          case "&&":
            return l !== 0n && r !== 0n ? 1n : 0n;
          case "<":
            return l < r ? 1n : 0n;
          case "<<":
            return S(l << (r & 63n));
          case "<=":
            return l <= r ? 1n : 0n;
          case ">":
            return l > r ? 1n : 0n;
          case ">>":
            return l >> (r & 63n);
          case ">=":
            return l >= r ? 1n : 0n;
          case "==":
            return l === r ? 1n : 0n;
          case "!=":
            return l !== r ? 1n : 0n;
          case "-":
            return S(l - r);
          case "+":
            return S(l + r);
          default:
            return null;
        }
      }
      default:
        return null;
    }
  }

  toExpr(n: TN): Expr {
    switch (n.kind) {
      case "null":
      case "empty":
        return { k: "num", value: 0n, text: "0" };
      case "atom": {
        const text = n.text!;
        if (/^[0-9]/.test(text)) return { k: "num", value: parseCInt(text), text };
        return { k: "ident", name: text };
      }
      case "expr":
        return n.e!;
      case "type":
        return { k: "cast", type: n.type!, e: this.toExpr(n.item!) };
      case "op": {
        const op = n.op!;
        if (op === "?") {
          const r = n.right;
          if (!r || r.kind !== "op" || r.op !== ":") return this.fail("malformed '?:'");
          return {
            k: "cond",
            c: this.toExpr(n.left!),
            t: this.toExpr(r.left!),
            f: this.toExpr(r.right!),
          };
        }
        if (op === "[") return { k: "index", e: this.toExpr(n.left!), i: this.toExpr(n.right!) };
        if (n.left?.kind === "null" && ["-", "+", "!", "~"].includes(op)) {
          return { k: "unary", op, e: this.toExpr(n.right ?? { kind: "null" }) };
        }
        return {
          k: "binary",
          op,
          l: this.toExpr(n.left ?? { kind: "null" }),
          r: this.toExpr(n.right ?? { kind: "null" }),
        };
      }
    }
  }
}

/** libtraceevent's eval_type_str: casts only mask, never sign-extend. */
function tepCastValue(v: bigint, type: string): bigint {
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

/** libtraceevent's eval_flag: digits parse, a few known names, anything else is -1. */
function evalFlag(text: string): bigint {
  if (/^[0-9]/.test(text)) return parseCInt(text);
  const known: Record<string, bigint> = {
    HI_SOFTIRQ: 0n,
    TIMER_SOFTIRQ: 1n,
    NET_TX_SOFTIRQ: 2n,
    NET_RX_SOFTIRQ: 3n,
    BLOCK_SOFTIRQ: 4n,
    IRQ_POLL_SOFTIRQ: 5n,
    TASKLET_SOFTIRQ: 6n,
    SCHED_SOFTIRQ: 7n,
    HRTIMER_SOFTIRQ: 8n,
    RCU_SOFTIRQ: 9n,
    HRTIMER_NORESTART: 0n,
    HRTIMER_RESTART: 1n,
  };
  return known[text] ?? 0xffffffffffffffffn;
}

// ---------------------------------------------------------------------------------------------
// Format string -> segments

/** The `%p` extension letters libtraceevent 1.7 consumes after `p` (parse_arg_format_pointer). */
function tepPointerExt(s: string, at: number): number {
  const c = s[at];
  const c1 = s[at + 1];
  switch (c) {
    case "F":
    case "S":
    case "f":
    case "s":
      return 1;
    case "M":
    case "m":
      return c1 === "R" || c1 === "F" ? 2 : 1;
    case "I":
    case "i": {
      // mirrors libtraceevent's switch with its fall-throughs
      let ret = 0;
      let idx = 2;
      if (c1 === "S") {
        while ("pfs".includes(s[at + idx] ?? "-")) {
          ret++;
          idx++;
        }
      }
      if (c1 === "S" || c1 === "4") {
        if ("hnlb".includes(s[at + idx] ?? "-")) {
          ret++;
          idx++;
        }
        if (c1 === "4") return ret + 2;
      }
      if (c1 === "S" || c1 === "6") {
        if (s[at + idx] === "c") ret++;
        ret++;
      }
      return ret + 1;
    }
    case "U":
      return "LlBb".includes(c1 ?? "-") ? 2 : 1;
    case "h":
      return "CDN".includes(c1 ?? "-") ? 2 : 1;
    default:
      return 0;
  }
}

/**
 * Splits a format string into literal text and conversions, pairing each conversion with its
 * argument the way the chosen program does (see the module doc for the two readings).
 *
 * Literal text is unescaped (`\n`, `\t`, ...). Literal runs are split exactly where
 * libtraceevent splits them (this matters for `trace-cmd report -R`).
 *
 * @param format the format string as written (C escapes kept)
 * @param args the argument expressions
 * @param flavor `"tep"` (trace-cmd, perf) or `"kernel"`
 * @returns the segments; `arg` is null where the arguments ran out
 * @example
 * ```ts
 * import { splitFormat } from "./print_fmt.ts";
 * const one = { k: "num", value: 1n, text: "1" } as const;
 * const segs = splitFormat("a=%08lx %pK", [one, one], "tep");
 * // libtraceevent leaves the K of %pK in the text
 * const last = segs[segs.length - 1]!;
 * if (!(segs.length === 5 && last.kind === "text" && last.text === "K")) {
 *   throw new Error("example failed");
 * }
 * ```
 */
export function splitFormat(format: string, args: readonly Expr[], flavor: Flavor): Segment[] {
  const out: Segment[] = [];
  let ai = 0;
  let i = 0;
  const n = format.length;
  const unescape = flavor === "tep" ? unescapeTep : unescapeC;
  while (i < n) {
    if (format[i] !== "%" || format[i + 1] === "%") {
      // literal run up to the next real conversion; %% becomes %
      let j = i;
      let raw = "";
      while (j < n) {
        if (format[j] === "%") {
          if (format[j + 1] === "%") {
            raw += "%";
            j += 2;
            continue;
          }
          break;
        }
        if (format[j] === "\\" && j + 1 < n) {
          raw += format.slice(j, j + 2);
          j += 2;
          continue;
        }
        raw += format[j];
        j++;
      }
      out.push({ kind: "text", text: unescape(raw.replaceAll("%%", "%")) });
      i = j;
      continue;
    }
    // a conversion
    const start = i;
    i++;
    let flags = "";
    let width: number | null = null;
    let precision: number | null = null;
    let length = 0;
    let starArg: Expr | null = null;
    let inPrecision = false;
    let done = false;
    while (i < n && !done) {
      const c = format[i]!;
      if (c === "#" || c === "-" || c === "0" && width === null && !inPrecision) {
        flags += c;
        i++;
      } else if ((c === "+" || c === " ") && flavor === "kernel") {
        flags += c;
        i++;
      } else if (c >= "0" && c <= "9") {
        let j = i;
        while (j < n && format[j]! >= "0" && format[j]! <= "9") j++;
        const v = Number(format.slice(i, j));
        if (inPrecision) precision = v;
        else width = v;
        i = j;
      } else if (c === ".") {
        inPrecision = true;
        precision = 0;
        i++;
      } else if (c === "*") {
        starArg = args[ai++] ?? null;
        i++;
      } else if (c === "h") {
        length--;
        i++;
      } else if (c === "l") {
        length++;
        i++;
      } else if (c === "L" || (c === "q" && flavor === "kernel")) {
        length = 2;
        i++;
      } else if (c === "z" || c === "Z" || ((c === "j" || c === "t") && flavor === "kernel")) {
        length = c === "j" ? 2 : 1;
        i++;
      } else {
        done = true;
      }
    }
    const ch = format[i];
    if (ch === undefined) break; // a lone % at the end prints nothing
    i++;
    let conv: ConvKind | null = null;
    if ("diuxXo".includes(ch)) conv = "int";
    else if (ch === "c" && flavor === "kernel") conv = "char";
    else if (ch === "s") conv = "string";
    else if (ch === "p") conv = "pointer";
    if (conv === null) {
      // libtraceevent prints the unknown character as >c<; the kernel prints it as is
      out.push({ kind: "text", text: flavor === "tep" ? `>${ch}<` : format.slice(start, i) });
      continue;
    }
    if (flavor === "tep" && ai >= args.length) {
      // libtraceevent: no argument left ("no argument match"); the '%' and flags are dropped
      // and the conversion character is printed as text
      out.push({
        kind: "conv",
        spec: format.slice(start, i - 1),
        conv,
        ch,
        flags,
        width,
        precision,
        length: Math.max(-2, Math.min(2, length)),
        ext: "",
        arg: null,
        starArg,
      });
      i--;
      continue;
    }
    let ext = "";
    if (conv === "pointer") {
      if (flavor === "tep") {
        const k = tepPointerExt(format, i);
        ext = format.slice(i, i + k);
      } else {
        let j = i;
        while (j < n && /[A-Za-z0-9]/.test(format[j]!)) j++;
        ext = format.slice(i, j);
      }
      i += ext.length;
    }
    out.push({
      kind: "conv",
      spec: format.slice(start, i),
      conv,
      ch,
      flags,
      width,
      precision,
      length: Math.max(-2, Math.min(2, length)),
      ext,
      arg: args[ai++] ?? null,
      starArg,
    });
  }
  return out;
}
