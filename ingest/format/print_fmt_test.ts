import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  type Expr,
  exprText,
  parseCInt,
  parsePrintFmt,
  type Segment,
  splitFormat,
  unescapeC,
} from "./print_fmt.ts";

const TLB =
  '"pages:%ld reason:%s (%d)", REC->pages, __print_symbolic(REC->reason, { 0, "flush on task switch" }, { 1, "remote shootdown" }, { 2, "local shootdown" }, { 3, "local MM shootdown" }, { 4, "remote IPI send" }, { 5, "remote wrong CPU" }), REC->reason';

// dma:dma_map_sg on Linux 6.18 (shortened to the interesting arguments)
const DMA_MAP_SG =
  '"%s nents=%d/%d sizes=%s", __get_str(device), ({ int __UNIQUE_ID_x_920 = (REC->full_nents); int __UNIQUE_ID_y_921 = (128); ((__UNIQUE_ID_x_920) < (__UNIQUE_ID_y_921) ? (__UNIQUE_ID_x_920) : (__UNIQUE_ID_y_921)); }), REC->full_nents, __print_array(__get_dynamic_array(lengths), __get_dynamic_array_len(lengths) / sizeof(unsigned int), sizeof(unsigned int))';

const field = (name: string): Expr => ({ k: "field", name });
const num = (v: bigint, text = v.toString()): Expr => ({ k: "num", value: v, text });

Deno.test("parsePrintFmt: tlb_flush gives the format, three arguments and the symbol table", () => {
  const p = parsePrintFmt(TLB);
  assertEquals(p.format, "pages:%ld reason:%s (%d)");
  assertEquals(p.error, null);
  assertEquals(p.tepFailure, null);
  assertEquals(p.args.length, 3);
  assertEquals(p.args[0], field("pages"));
  const sym = p.args[1]!;
  assert(sym.k === "symbolic");
  assertEquals(sym.e, field("reason"));
  assertEquals(sym.table.length, 6);
  assertEquals(sym.table[3]!.value, num(3n));
  assertEquals(sym.table[3]!.name, "local MM shootdown");
  // libtraceevent's reading of the same table carries the values it computes
  const tsym = p.tepArgs![1]!;
  assert(tsym.k === "symbolic");
  assertEquals(tsym.table.map((t) => t.tepValue), [0n, 1n, 2n, 3n, 4n, 5n]);
});

Deno.test("parsePrintFmt: casts, REC in parentheses and adjacent string literals", () => {
  const p = parsePrintFmt(
    '"a" "b=%lx %s %p", ((unsigned long)(REC->addr)), (REC)->name, (void *)REC->ip',
  );
  assertEquals(p.format, "ab=%lx %s %p");
  assertEquals(p.args[0], { k: "cast", type: "unsigned long", e: field("addr") });
  assertEquals(p.args[1], field("name"));
  assertEquals(p.args[2], { k: "cast", type: "void *", e: field("ip") });
  assertEquals(p.tepArgs, p.args);
});

Deno.test("parsePrintFmt: a GCC statement expression parses; libtraceevent 1.7 fails on it", () => {
  const p = parsePrintFmt(DMA_MAP_SG);
  assertEquals(p.error, null);
  // libtraceevent reads `(` then `{` as a unary operator it does not know
  assertEquals(p.tepFailure, "bad op token {");
  assertEquals(p.tepArgs, null);
  const st = p.args[1]!;
  assert(st.k === "stmt");
  assertEquals(st.decls.map((d) => [d.type, d.name]), [
    ["int", "__UNIQUE_ID_x_920"],
    ["int", "__UNIQUE_ID_y_921"],
  ]);
  assertEquals(st.decls[0]!.init, field("full_nents"));
  assert(st.result.k === "cond");
  assertEquals(st.result.t, { k: "var", name: "__UNIQUE_ID_x_920" });
  const arr = p.args[3]!;
  assert(arr.k === "array");
  assertEquals(arr.buf, { k: "dyn_array", field: "lengths" });
  assertEquals(exprText(arr.count), "(__get_dynamic_array_len(lengths) / sizeof(unsigned int))");
});

Deno.test("parsePrintFmt: libtraceevent precedence is reproduced in tepArgs, C in args", () => {
  const p = parsePrintFmt(
    '"%d %d %d", REC->a - REC->b - REC->c, REC->a * (REC->b + REC->c), REC->a * -REC->b',
  );
  // C: (a - b) - c
  assertEquals(exprText(p.args[0]!), "((REC->a - REC->b) - REC->c)");
  // libtraceevent: a - (b - c)
  assertEquals(exprText(p.tepArgs![0]!), "(REC->a - (REC->b - REC->c))");
  // libtraceevent rotates a parenthesized lower-precedence right operand: (a * b) + c
  assertEquals(exprText(p.tepArgs![1]!), "((REC->a * REC->b) + REC->c)");
  assertEquals(exprText(p.args[1]!), "(REC->a * (REC->b + REC->c))");
  // and a unary minus on the right of '*': (a * 0) - b
  assertEquals(exprText(p.tepArgs![2]!), "((REC->a * 0) - REC->b)");
});

Deno.test("parsePrintFmt: what makes libtraceevent 1.7 fail", () => {
  const fails = (t: string) => parsePrintFmt(t).tepFailure;
  assertEquals(
    fails('"%d", __print_ns_to_secs(REC->t)'),
    "function __print_ns_to_secs not defined",
  );
  assertEquals(fails('"%d", sizeof(u64)'), "sizeof(u64) not supported");
  assertEquals(fails('"%d", sizeof(long)'), null);
  assertEquals(fails('"a\tb %d", REC->x'), "tab character in the format string");
  assertEquals(fails('"%llx", __get_dynamic_array(h)[1]'), "index into __get_dynamic_array()");
  assertEquals(fails('"%d", REC->a, REC->b'), null);
  // the C reading accepts all of them
  assertEquals(parsePrintFmt('"%d", __print_ns_to_secs(REC->t)').error, null);
});

Deno.test("parsePrintFmt: table values libtraceevent cannot evaluate become -1", () => {
  const p = parsePrintFmt(
    '"%s", __print_flags(REC->f, "|", { FOO_FLAG, "FOO" }, { 1 << 2, "FOUR" }, { -2, "M2" })',
  );
  const t = p.tepArgs![0]!;
  assert(t.k === "flags");
  assertEquals(t.sep, "|");
  assertEquals(t.table.map((e) => e.tepValue), [0xffffffffffffffffn, 4n, 0xffffffffffffffffn]);
});

Deno.test("parsePrintFmt: bad input gives an error, never a throw or a hang", () => {
  assertEquals(parsePrintFmt('"unterminated').error, "unterminated string at character 0");
  assertEquals(
    parsePrintFmt('"%d", REC->').error,
    "field name expected after REC-> at character 11",
  );
  assertEquals(
    parsePrintFmt("no quotes").error,
    "print fmt does not start with a string at character 0",
  );
  assertEquals(parsePrintFmt('"%d", @').error, "unexpected character '@' at character 6");
  assert(parsePrintFmt('"%d", (1 +').error !== null);
  // 5000 nested parentheses: a typed error, not a stack overflow
  const deep = '"%d", ' + "(".repeat(5000) + "1" + ")".repeat(5000);
  const p = parsePrintFmt(deep);
  assertEquals(p.error, "expression nested too deeply at character 106");
  assertEquals(p.tepFailure, "expression nested too deeply");
});

Deno.test("splitFormat: libtraceevent's conversions and the kernel's differ", () => {
  const args: Expr[] = [field("a"), field("b"), field("c"), field("d")];
  const tep = splitFormat("%c|%+d|%pK|%pI4/%u", args, "tep");
  const text = (s: Segment[]) =>
    s.map((x) => x.kind === "text" ? `[${x.text}]` : `{${x.spec}}`).join("");
  assertEquals(text(tep), "[>c<][|][>+<][d|]{%p}[K|]{%pI4}[/]{%u}");
  const kernel = splitFormat("%c|%+d|%pK|%pI4/%u", args, "kernel");
  assertEquals(text(kernel), "{%c}[|]{%+d}[|]{%pK}[|]{%pI4}[/]{%u}");
  // arguments pair up differently
  const conv = (s: Segment[]) =>
    s.filter((x) => x.kind === "conv").map((x) =>
      x.kind === "conv" && x.arg ? exprText(x.arg) : null
    );
  assertEquals(conv(tep), ["REC->a", "REC->b", "REC->c"]);
  assertEquals(conv(kernel), ["REC->a", "REC->b", "REC->c", "REC->d", null]);
});

Deno.test("splitFormat: flags, width, precision, length, star and %%", () => {
  const segs = splitFormat("%08lx %-5d %.3s %*d %hhx %Lu %zu 100%%\\n", [
    num(1n),
    num(2n),
    num(3n),
    num(4n),
    num(5n),
    num(6n),
    num(7n),
    num(8n),
  ], "tep");
  const c = segs.filter((s) => s.kind === "conv");
  assertEquals(
    c.map((s) => s.kind === "conv" && [s.spec, s.flags, s.width, s.precision, s.length]),
    [
      ["%08lx", "0", 8, null, 1],
      ["%-5d", "-", 5, null, 0],
      ["%.3s", "", null, 3, 0],
      ["%*d", "", null, null, 0],
      ["%hhx", "", null, null, -2],
      ["%Lu", "", null, null, 2],
      ["%zu", "", null, null, 1],
    ],
  );
  const star = c[3]!;
  assert(star.kind === "conv");
  assertEquals(star.starArg, num(4n));
  assertEquals(star.arg, num(5n));
  assertEquals(segs[segs.length - 1], { kind: "text", text: " 100%\n" });
});

Deno.test("splitFormat: libtraceevent prints the conversion letter when arguments run out", () => {
  const segs = splitFormat("a=%d b=%.3s", [num(1n)], "tep");
  const t = segs.map((s) => s.kind === "text" ? s.text : s.arg ? "ARG" : "NONE");
  assertEquals(t, ["a=", "ARG", " b=", "NONE", "s"]);
});

Deno.test("unescapeC and parseCInt", () => {
  assertEquals(unescapeC("a\\tb\\n\\\\\\x41\\101\\q"), "a\tb\n\\AAq");
  assertEquals(parseCInt("0x1fUL"), 31n);
  assertEquals(parseCInt("010"), 8n);
  assertEquals(parseCInt("18446744073709551615"), 0xffffffffffffffffn);
  assertEquals(parseCInt("-1"), 0xffffffffffffffffn);
  assertEquals(parseCInt("abc"), 0n);
});
