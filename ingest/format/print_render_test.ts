/**
 * Renderer tests. Expected strings come from libtraceevent 1.7.1 (what trace-cmd 3.1.6 prints)
 * run on the same record bytes (`testdata/tep_oracle.c`), or from the kernel's rules where the
 * kernel flavor is tested; the corpus part compares with the stored `trace-cmd report` output
 * of ../shared/fixtures.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { openFileSource } from "../file_source.ts";
import { traceDatEvents } from "../tracedat/tracedat_events.ts";
import { openTraceDat } from "../tracedat/tracedat_file.ts";
import { parsePrintkFormats } from "./bprint.ts";
import { parseFormatFile } from "./format_file.ts";
import {
  compileRenderer,
  evaluateConstant,
  formatCInt,
  formatCString,
  makeSymbolizer,
  renderPayload,
  renderRaw,
} from "./print_render.ts";
import { parsePrintFmt } from "./print_fmt.ts";
import type { EventFormat } from "./types.ts";
import { Bytes, decodeBody, makeFormat } from "./testdata/fmt_helpers.ts";
import { loadFormatSnapshot, loadTepVectors } from "./testdata/snapshot.ts";

const SYMS = makeSymbolizer([
  [0xffffffff81000000n, "do_thing"],
  [0xffffffff81000100n, "other"],
  [0xffffffff81000200n, "third"],
]);

const snapshot = await loadFormatSnapshot();
function real(system: string, name: string): EventFormat {
  const s = snapshot.find((x) => x.system === system && x.text.startsWith(`name: ${name}\n`));
  if (!s) throw new Error(`no ${system}:${name} in the snapshot`);
  return parseFormatFile(s.text, system);
}

Deno.test("tlb_flush: symbolic names, an unknown reason, raw field list", () => {
  const fmt = real("tlb", "tlb_flush");
  assertEquals(
    renderPayload(fmt, { reason: 3, pages: 0xffffffffffffffffn }),
    "pages:-1 reason:local MM shootdown (3)",
  );
  assertEquals(renderPayload(fmt, { reason: 9, pages: 256n }), "pages:256 reason:0x9 (9)");
  assertEquals(renderRaw(fmt, { reason: 3, pages: 0xffffffffffffffffn }), " reason=3 pages=-1");
  // the kernel prints the same text for this format
  assertEquals(
    renderPayload(fmt, { reason: 0, pages: 0n }, { flavor: "kernel" }),
    "pages:0 reason:flush on task switch (0)",
  );
});

Deno.test("sys_enter_munmap: casts, %08lx, and -R's 0x prefix taken from the text before", () => {
  const fmt = real("syscalls", "sys_enter_munmap");
  const f = { __syscall_nr: 11, addr: 0x7fb193413000n, len: 0x8c5fn };
  assertEquals(renderPayload(fmt, f), "addr: 0x7fb193413000, len: 0x00008c5f");
  assertEquals(renderRaw(fmt, f), " __syscall_nr=11 addr=0x7fb193413000 len=0x00008c5f");
});

Deno.test("libtraceevent quirks: unknown conversions, %p extensions, length casts", () => {
  const fmt = makeFormat(
    '"a=%ld b=%d fl=%s sym=%s p=%p pK=%pK pB=%pB c=%c hd=%hd hhx=%hhx sp=% d j=%jd pc=%5.3s|%-6s|", REC->a, REC->b, __print_flags(REC->a, "|", {0, "NONE"}, {1, "ONE"}, {2, "TWO"}), __print_symbolic(REC->a, {-1, "MINUS"}, {-2, "M2"}, {3, "THREE"}), REC->b, REC->b, REC->b, REC->a, REC->a, REC->a, REC->a, REC->a, "abcdef", "xy"',
    ["int a;8;4;1", "unsigned long b;16;8;0"],
  );
  // %c, "% d" and %jd consume no argument, so %hd.. take the ones meant for them, and the %s
  // conversions print the 4 bytes of the int field a as text
  assertEquals(
    renderPayload(fmt, { a: 3, b: 0x41n }),
    "a=3 b=65 fl=ONE|TWO sym=THREE p=0x41 pK=0x41K pB=0x41B c=>c< hd=3 hhx=3 sp=> <d j=>j<d pc=    \x03|\x03     |",
  );
  const r = renderPayload(fmt, { a: -2, b: 0n });
  // fields are read zero-extended: %ld of an int -2 is 4294967294; -1/-2 in a table never match
  assert(
    r.startsWith(
      "a=4294967294 b=0 fl=TWO|0xfffffffc sym=0xfffffffe p=(nil) pK=(nil)K pB=(nil)B c=>c< hd=-2 hhx=fe",
    ),
  );
  assertEquals(renderRaw(fmt, { a: -2, b: 0n }), " a=4294967294 b=0");
});

Deno.test("helpers: flags, hex, arrays, ternaries, symbols, printf flags; -R uses the first match", () => {
  const fmt = makeFormat(
    '"fl=%s|%s s=%s h=%s hs=%s arr=%s t=%s cs=%s f=%pS g=%ps x=%#x o=%#o w=%-5d|%05d %.3d %x %lu %llu", __print_flags(REC->a, "|", {0, "NONE"}, {1, "ONE"}), __print_flags(REC->a, "", {1, "A"}, {2, "B"}), __get_str(s), __print_hex(__get_dynamic_array(h), __get_dynamic_array_len(h)), __print_hex_str(__get_dynamic_array(h), 3), __print_array(__get_dynamic_array(h), __get_dynamic_array_len(h), 1), REC->a ? "yes" : "no", (char *)REC->b, REC->b, REC->b, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a, REC->a',
    [
      "int a;8;4;1",
      "unsigned long b;16;8;0",
      "__data_loc char[] s;24;4;0",
      "__data_loc u8[] h;28;4;0",
    ],
  );
  const body = (a: number, b: bigint) =>
    new Bytes().int(a, 4).int(0, 4).int(b, 8).int((4 << 16) | 32, 4).int((3 << 16) | 36, 4)
      .raw("abc\0").raw([1, 2, 0xff, 0]).done();
  const f1 = decodeBody(fmt, body(3, 0xffffffff81000110n));
  const ctx = { symbols: SYMS };
  assertEquals(
    renderPayload(fmt, f1, ctx),
    "fl=ONE|0x2|AB s=abc h=01 02 ff hs=0102ff arr=1 2 255 t=yes cs= f=other+0x10 g=other x=0x3 o=03 w=3    |00003 003 3 3 3",
  );
  assertEquals(renderRaw(fmt, f1, ctx), " a=0x3 b= s=abc h=ARRAY[01, 02, ff]");
  const f0 = decodeBody(fmt, body(0, 0n));
  assertEquals(
    renderPayload(fmt, f0, ctx),
    "fl=| s=abc h=01 02 ff hs=0102ff arr=1 2 255 t=no cs= f=0x0 g=0x0 x=0 o=0 w=0    |00000 000 0 0 0",
  );
});

Deno.test("libtraceevent arithmetic: its precedence, no '^', char constants, unsigned compares", () => {
  const fmt = makeFormat(
    "\"%d %d %d %d %d %s %u %d\", REC->a - REC->b - REC->c, REC->a * (REC->b + REC->c), REC->a * -REC->b, REC->a ^ 3, sizeof(int) + 1, 1 + 2, 'F', REC->a < 0",
    ["int a;8;4;1", "int b;12;4;1", "int c;16;4;1"],
  );
  assertEquals(renderPayload(fmt, { a: 10, b: 3, c: 2 }), "9 32 -3 0 5 3 0 0");
  assertEquals(renderPayload(fmt, { a: -1, b: 3, c: 2 }), "-2 -1 -3 0 5 3 0 0");
  // the kernel computes C: 5, 50, -30, 9, 5, 3, 'F' = 70, 0
  assertEquals(
    renderPayload(fmt, { a: 10, b: 3, c: 2 }, { flavor: "kernel" }),
    "5 50 -30 9 5 3 70 0",
  );
  assertEquals(
    renderPayload(fmt, { a: -1, b: 3, c: 2 }, { flavor: "kernel" }).endsWith(" 1"),
    true,
  );
});

Deno.test("bitmask and cpumask", () => {
  const fmt = makeFormat('"%s %s", __get_bitmask(m), __get_cpumask(m)', [
    "__data_loc unsigned long[] m;8;4;0",
  ]);
  assertEquals(renderPayload(fmt, { m: [0xfffffffe00000001n] }), "fffffffe,00000001 0,33-63");
  assertEquals(
    renderRaw(fmt, { m: [0xfffffffe00000001n] }),
    " m=ARRAY[01, 00, 00, 00, fe, ff, ff, ff]",
  );
});

Deno.test("-R: the search for a field's conversion stops for good at the end of the format", () => {
  const fields = ["int a;8;4;1", "unsigned int flags;12;4;0"];
  // a is found last, so flags (after it in field order) prints raw, in decimal
  assertEquals(
    renderRaw(makeFormat('"flags %x a %d", REC->flags, REC->a', fields), { a: 4, flags: 16 }),
    " a=4 flags=16",
  );
  assertEquals(
    renderRaw(makeFormat('"a %d flags %x", REC->a, REC->flags', fields), { a: 4, flags: 16 }),
    " a=4 flags=10",
  );
});

Deno.test("__print_flags of 0 prints the first name libtraceevent could not evaluate", () => {
  const fmt = makeFormat(
    '"%s", __print_flags(REC->flags, "|", { FOO_FLAG, "FOO" }, { 2, "TWO" })',
    [
      "int a;8;4;1",
      "unsigned int flags;12;4;0",
    ],
  );
  assertEquals(renderPayload(fmt, { a: 4, flags: 0 }), "FOO");
  assertEquals(renderPayload(fmt, { a: 4, flags: 3 }), "TWO|0x1");
  // the kernel evaluates the enum it knew; we do not, so 0 prints nothing there
  assertEquals(renderPayload(fmt, { a: 4, flags: 0 }, { flavor: "kernel" }), "");
});

Deno.test("dma_map_sg: [FAILED TO PARSE] for trace-cmd, rendered for the kernel", () => {
  const fmt = real("dma", "dma_map_sg");
  const f = {
    device: "0000:00:02.0",
    full_nents: 200,
    full_ents: 3,
    truncated: 1,
    phys_addrs: [0x1000n, 0x2000n],
    dma_addrs: [0xfe000n, 0xff000n],
    lengths: [4096, 512],
    dir: 1,
    attrs: 0x22n,
  };
  const r = compileRenderer(fmt);
  assertEquals(r.failure, "bad op token {");
  assertEquals(
    r.render(f),
    "[FAILED TO PARSE] device=0000:00:02.0 full_nents=200 full_ents=3 truncated=1 phys_addrs=ARRAY[00, 10, 00, 00, 00, 00, 00, 00, 00, 20, 00, 00, 00, 00, 00, 00] dma_addrs=ARRAY[00, e0, 0f, 00, 00, 00, 00, 00, 00, f0, 0f, 00, 00, 00, 00, 00] lengths=ARRAY[00, 10, 00, 00, 00, 02, 00, 00] dir=1 attrs=0x22",
  );
  assertEquals(
    renderPayload(fmt, f, { flavor: "kernel" }),
    "0000:00:02.0 dir=TO_DEVICE nents=128/200 ents=3/3 [TRUNCATED] dma_addrs={0xfe000,0xff000} sizes={0x1000,0x200} phys_addrs={0x1000,0x2000} attrs=WEAK_ORDERING|SKIP_CPU_SYNC",
  );
});

Deno.test("kernel flavor: sign extension, pointers, %c, helpers, statement expressions", () => {
  const fmt = makeFormat(
    '"%ld %p %px %c %llu.%09llu %d", REC->a, REC->p, REC->p, REC->ch, __print_ns_to_secs(REC->ns), __print_ns_without_secs(REC->ns), ({ int x = (REC->a); int y = (5); x < y ? x : y; })',
    ["int a;8;4;1", "void * p;16;8;0", "char ch;24;1;1", "u64 ns;32;8;0"],
  );
  const f = { a: -7, p: 0x41n, ch: 65, ns: 12345678901n };
  assertEquals(
    renderPayload(fmt, f, { flavor: "kernel" }),
    "-7 0000000000000041 0000000000000041 A 12.345678901 -7",
  );
  assertEquals(compileRenderer(fmt).failure, "function __print_ns_to_secs not defined");
});

Deno.test("print: the trailing newline of the message is dropped, like trace-cmd does", () => {
  const fmt = real("ftrace", "print");
  const sym = makeSymbolizer([[0xffffffff81000000n, "tracing_mark_write"], [
    0xffffffff81001000n,
    "x",
  ]]);
  assertEquals(
    renderPayload(fmt, { ip: 0xffffffff81000004n, buf: "hello world\n" }, { symbols: sym }),
    "tracing_mark_write: hello world",
  );
  assertEquals(
    renderRaw(fmt, { ip: 0xffffffff81000004n, buf: "hello world\n" }, { symbols: sym }),
    " ip=tracing_mark_write buf=hello world",
  );
});

Deno.test("bputs: the string comes from the printk table, escapes kept", () => {
  const fmt = real("ftrace", "bputs");
  const printk = parsePrintkFormats('0xffffffff82000100 : "bputs \\ttext\\n"\n');
  const sym = makeSymbolizer([[0xffffffff81000000n, "tracing_mark_write"], [
    0xffffffff81001000n,
    "x",
  ]]);
  assertEquals(
    renderPayload(fmt, { ip: 0xffffffff81000004n, str: 0xffffffff82000100n }, {
      symbols: sym,
      printk,
    }),
    "tracing_mark_write: bputs \\ttext",
  );
});

Deno.test("formatCInt / formatCString follow C printf", () => {
  assertEquals(formatCInt(0x8c5fn, "x", "0", 8, null), "00008c5f");
  assertEquals(formatCInt(-5n, "d", "", 4, null), "  -5");
  assertEquals(formatCInt(5n, "d", "-", 4, null), "5   ");
  assertEquals(formatCInt(5n, "d", "+", null, null), "+5");
  assertEquals(formatCInt(0n, "x", "#", null, null), "0");
  assertEquals(formatCInt(255n, "X", "#", null, null), "0XFF");
  assertEquals(formatCInt(8n, "o", "#", null, null), "010");
  assertEquals(formatCInt(7n, "d", "0", 5, 3), "  007");
  assertEquals(formatCInt(0n, "d", "", null, 0), "");
  assertEquals(formatCString("abcdef", "-", 5, 3), "abc  ");
  assertEquals(formatCString("ab", "", 4, null), "  ab");
});

Deno.test("makeSymbolizer: past the last symbol only the exact address matches", () => {
  const s = makeSymbolizer([[0x200n, "b"], [0x100n, "a"]]);
  assertEquals(s.lookup(0x1ffn), { name: "a", addr: 0x100n, size: 0x100n });
  assertEquals(s.lookup(0x200n), { name: "b", addr: 0x200n });
  assertEquals(s.lookup(0x201n), null);
  assertEquals(s.lookup(0xffn), null);
  assertEquals(s.address("b"), 0x200n);
});

Deno.test("evaluateConstant: table values as the kernel computed them", () => {
  const gfp = parsePrintFmt(
    '"%d", ( unsigned long)((( gfp_t)(((((1UL))) << (10))|((((1UL))) << (11)))) | (( gfp_t)((((1UL))) << (6))) | (( gfp_t)((((1UL))) << (7))))',
  ).args[0]!;
  assertEquals(evaluateConstant(gfp), 0xcc0n); // GFP_KERNEL
  assertEquals(evaluateConstant({ k: "field", name: "x" }), null);
});

Deno.test("libtraceevent vectors: every snapshot format, random records, -N and -R", async () => {
  const v = await loadTepVectors();
  const ctx = {
    symbols: makeSymbolizer(v.funcs),
    printk: new Map(v.printk),
  };
  const formats = new Map<string, EventFormat>();
  for (const s of snapshot) {
    const f = parseFormatFile(s.text, s.system);
    formats.set(`${f.system}:${f.name}`, f);
  }
  const renderers = new Map<string, ReturnType<typeof compileRenderer>>();
  const bad: string[] = [];
  for (const t of v.vectors) {
    let r = renderers.get(t.event);
    if (!r) {
      const f = formats.get(t.event);
      if (!f) throw new Error(`no format for ${t.event}`);
      renderers.set(t.event, r = compileRenderer(f, ctx));
    }
    const p = r.render(t.fields);
    const raw = r.renderRaw(t.fields);
    if (p !== t.p || raw !== t.r) {
      bad.push(`${t.event}: ${JSON.stringify(p)} != ${JSON.stringify(t.p)}`);
    }
  }
  assertEquals(bad.slice(0, 5), []);
  assert(v.vectors.length > 4000);
  assert(new Set(v.vectors.map((x) => x.event)).size > 1900);
  assert(v.vectors.some((x) => x.event === "ftrace:bprint" && x.p.includes("hello")));
});

// ---- corpus: ../shared/fixtures -----------------------------------------------------------

const root = new URL("../../../shared/fixtures/", import.meta.url).pathname;
const ci = Deno.env.get("IOMMU_REPLAY_CI") === "1";
function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}
function hasTraceCmd(): boolean {
  try {
    new Deno.Command("trace-cmd", { args: ["--help"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

/** Payloads of `trace-cmd report` lines (the event name is padded to 20 columns). */
function payloads(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^.{16}-\d+\s+\[\d{3}\]\s+\d+\.\d+: (\S+):/.exec(line);
    if (!m) continue;
    const start = m.index + m[0].length - m[1]!.length - 1;
    out.push(line.slice(start + Math.max(m[1]!.length + 1, 21) + 1));
  }
  return out;
}

async function ourPayloads(path: string, raw: boolean): Promise<string[]> {
  const t = openTraceDat(openFileSource(path));
  const syms: [bigint, string][] = [];
  for (const l of new TextDecoder().decode(t.kallsyms).split("\n")) {
    const m = /^([0-9a-fA-F]+) \S (\S+)/.exec(l);
    if (m) syms.push([BigInt("0x" + m[1]), m[2]!]);
  }
  const ctx = {
    longSize: t.longSize,
    bigEndian: !t.littleEndian,
    symbols: makeSymbolizer(syms),
    printk: parsePrintkFormats(t.printk),
  };
  const fmts = new Map(t.formats.map((f) => [`${f.system}:${f.name}`, f] as const));
  const out: string[] = [];
  for (const e of traceDatEvents(t).events) {
    const f = fmts.get(`${e.system}:${e.event}`)!;
    out.push(raw ? renderRaw(f, e.fields, ctx) : renderPayload(f, e.fields, ctx));
  }
  await Promise.resolve();
  return out;
}

const stored: [string, string, boolean][] = [
  ["recorded/dat/t.dat", "recorded/report/t_noplugins.txt", false],
  ["recorded/dat/t.dat", "recorded/report/t_raw.txt", true],
];
const haveShared = stored.every(([d, r]) => exists(root + d) && exists(root + r));
if (!haveShared) {
  if (ci) {
    Deno.test("print_render corpus: ../shared/fixtures is present in CI", () => {
      throw new Error(`no fixtures under ${root}`);
    });
  } else {Deno.test({
      name: "print_render corpus: not run (no ../shared/fixtures)",
      ignore: true,
      fn() {},
    });}
}
for (const [dat, report, raw] of haveShared ? stored : []) {
  Deno.test(`print_render corpus: ${dat} equals ${report}`, async () => {
    const theirs = payloads(Deno.readTextFileSync(root + report));
    const ours = await ourPayloads(root + dat, raw);
    assertEquals(ours.length, theirs.length);
    const diff = ours.map((o, i) => [o, theirs[i]]).filter(([o, t]) => o !== t);
    assertEquals(diff.slice(0, 3), []);
  });
}

// third-party traces (bprint, 32-bit ARM) against trace-cmd run now
const live = ["third_party/lisa/example_rtapp_trace.dat", "third_party/trappy/tests_trace.dat"];
const tc = hasTraceCmd();
if (haveShared && !tc) {
  if (ci) {
    Deno.test("print_render corpus: trace-cmd is installed in CI", () => {
      throw new Error("trace-cmd not found");
    });
  } else {Deno.test({
      name: "print_render corpus: bprint not run (no trace-cmd)",
      ignore: true,
      fn() {},
    });}
}
for (const dat of haveShared && tc ? live.filter((d) => exists(root + d)) : []) {
  Deno.test(`print_render corpus: ${dat} equals trace-cmd report -N`, async () => {
    const o = await new Deno.Command("trace-cmd", {
      args: ["report", "-N", root + dat],
      stdout: "piped",
      stderr: "null",
    }).output();
    const theirs = payloads(new TextDecoder().decode(o.stdout));
    const ours = await ourPayloads(root + dat, false);
    assertEquals(ours.length, theirs.length);
    const diff = ours.map((x, i) => [x, theirs[i]]).filter(([x, t]) => x !== t);
    assertEquals(diff.slice(0, 3), []);
  });
}

Deno.test("missing or ill-typed field values render as zero/empty, never throw", () => {
  assertEquals(
    renderPayload(real("tlb", "tlb_flush"), {}),
    "pages:0 reason:flush on task switch (0)",
  );
  assertEquals(renderRaw(real("tlb", "tlb_flush"), { pages: NaN }), " reason=0 pages=0");
  let n = 0;
  for (const s of snapshot) {
    const f = parseFormatFile(s.text, s.system);
    for (const flavor of ["trace-cmd", "kernel"] as const) {
      const r = compileRenderer(f, { flavor });
      for (const w of [null, "x", NaN, [1, NaN], -1n, true]) {
        const fields = Object.fromEntries(f.ownFields.map((x) => [x.name, w]));
        r.render(fields);
        r.renderRaw(fields);
        n++;
      }
    }
  }
  assertEquals(n, snapshot.length * 12);
});
