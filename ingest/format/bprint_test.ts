/**
 * bprint tests. Rendered strings are what libtraceevent 1.7.1 printed for the same record bytes
 * (one fresh session per record: it marks bprint failed for good after a record whose
 * arguments ran out).
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { decodeBprintArgs, parsePrintkFormats } from "./bprint.ts";
import { makeSymbolizer, renderPayload, renderRaw } from "./print_render.ts";
import { Bytes, makeFormat } from "./testdata/fmt_helpers.ts";

Deno.test("parsePrintkFormats: quotes and one trailing \\n go, other escapes stay", () => {
  const m = parsePrintkFormats(
    [
      '0xffffffff82000000 : "hello\\t%d %s\\n"',
      '0xc0891100 : "cpu_cooling_set_state: frequency=%d cpu=%u\\n"',
      'ffffffff82000040 : "no prefix, colon: inside"',
      "not a line",
      "",
      '0xzz : "bad address"',
    ].join("\n"),
  );
  assertEquals([...m], [
    [0xffffffff82000000n, "hello\\t%d %s"],
    [0xc0891100n, "cpu_cooling_set_state: frequency=%d cpu=%u"],
    [0xffffffff82000040n, "no prefix, colon: inside"],
  ]);
});

Deno.test("decodeBprintArgs: 4-byte aligned integers, inline strings, 8-byte ll and long", () => {
  const buf = new Bytes().int(-3, 8).int(4, 4).raw("ab\0\0").int(5, 8)
    .int(0xffffffff81000104n, 8).raw("AB\0\0").done();
  assertEquals(
    decodeBprintArgs("a=%lld b=%d s=%s c=%lu p=%pS k=%pK", buf),
    [0xfffffffffffffffdn, 4n, "ab", 5n, 0xffffffff81000104n, "AB"],
  );
  // a 32-bit kernel: %lu is 4 bytes, %llu 8
  const b32 = new Bytes().int(7, 4).int(8, 8).int(0xc0000104, 4).done();
  assertEquals(decodeBprintArgs("c=%lu d=%llu e=%ps", b32, { longSize: 4 }), [7n, 8n, 0xc0000104n]);
  // the string is not aligned, the integer after it is
  const b = new Bytes().raw("xyz\0").raw("q\0").raw([0, 0]).int(9, 4).done();
  assertEquals(decodeBprintArgs("%s %s %u", b), ["xyz", "q", 9n]);
});

Deno.test("decodeBprintArgs: what libtraceevent does not consume (%h, %c, '-'), %%, %*d, end of buffer", () => {
  const buf = new Bytes().int(1, 4).int(2, 4).int(3, 4).done();
  assertEquals(decodeBprintArgs("%% %hd %c %-5d %d %d", buf), [1n, 2n]);
  assertEquals(decodeBprintArgs("%*d", buf), [1n, 2n]);
  assertEquals(decodeBprintArgs("%d %d %d %d %d", buf), [1n, 2n, 3n]);
  assertEquals(decodeBprintArgs("%d", new Uint8Array(0)), []);
});

const BPRINT = makeFormat('"%ps: %s", (void *)REC->ip, REC->fmt', [
  "unsigned long ip;8;8;0",
  "const char * fmt;16;8;0",
  "u32 buf[];24;0;0",
], { system: "ftrace", name: "bprint", id: 6 });

const CTX = {
  symbols: makeSymbolizer([
    [0xc0000000n, "g0"],
    [0xc0000100n, "g1"],
    [0xffffffff81000000n, "f0"],
    [0xffffffff81000100n, "f1"],
  ]),
  printk: parsePrintkFormats(
    [
      '0xffffffff82000000 : "hello\\t%d %s\\n"',
      '0xffffffff82000040 : "a=%lld b=%d s=%s c=%lu p=%pS k=%pK"',
      '0xffffffff82000080 : "a=%-5d|b=%d|c=%d"',
      '0xffffffff820000c0 : "a=%+d|b=%d|c=%d"',
      '0xffffffff82000100 : "a=%d %.3s"',
    ].join("\n"),
  ),
};

function bprint(fmt: bigint, buf: Uint8Array): string {
  const words: number[] = [];
  const padded = new Uint8Array(Math.ceil(buf.length / 4) * 4);
  padded.set(buf);
  const dv = new DataView(padded.buffer);
  for (let i = 0; i < padded.length; i += 4) words.push(dv.getUint32(i, true));
  return renderPayload(BPRINT, { ip: 0xffffffff81000004n, fmt, buf: words }, CTX);
}

Deno.test("bprint: rendered like trace-cmd, from the printk table and the binary buffer", () => {
  const b = (f: (x: Bytes) => Bytes) => f(new Bytes()).done();
  assertEquals(
    bprint(0xffffffff82000000n, b((x) => x.int(-5, 4).raw("str\0"))),
    "f0: hello\t-5 str",
  );
  assertEquals(
    bprint(
      0xffffffff82000040n,
      b((x) =>
        x.int(-3, 8).int(4, 4).raw("ab\0\0").int(5, 8).int(0xffffffff81000104n, 8).raw("AB\0\0")
      ),
    ),
    // f1 is the last symbol: only its exact address matches, so %pS prints the address
    "f0: a=-3 b=4 s=ab c=5 p=0xffffffff81000104 k=ABK",
  );
  const three = b((x) => x.int(1, 4).int(2, 4).int(3, 4));
  // '-' stops the argument walk, so the arguments shift and the last %d prints its letter
  assertEquals(bprint(0xffffffff82000080n, three), "f0: a=1    |b=2|c=d");
  // %+d is not a conversion for libtraceevent but its argument is read
  assertEquals(bprint(0xffffffff820000c0n, three), "f0: a=>+<d|b=1|c=2");
  assertEquals(bprint(0xffffffff82000100n, b((x) => x.int(7, 4).raw("abcdef\0"))), "f0: a=7 abc");
  assertEquals(bprint(0xffffffff82000008n, three), "f0: (NO FORMAT FOUND at ffffffff82000008)");
  assertEquals(
    renderRaw(BPRINT, { ip: 0xffffffff81000004n, fmt: 0xffffffff82000000n, buf: [1] }, CTX),
    " ip=0xffffffff81000004 fmt=0xffffffff82000000 buf=ARRAY[]",
  );
});

Deno.test("bprint: a 32-bit trace", () => {
  const fmt32 = makeFormat('"%ps: %s", (void *)REC->ip, REC->fmt', [
    "unsigned long ip;8;4;0",
    "const char * fmt;12;4;0",
    "u32 buf[];16;0;0",
  ], { system: "ftrace", name: "bprint", id: 6, longSize: 4 });
  const printk = parsePrintkFormats('0xc2000000 : "c=%lu d=%llu e=%ps"');
  const buf = [7, 8, 0, 0xc0000104];
  assertEquals(
    renderPayload(fmt32, { ip: 0xc0000004, fmt: 0xc2000000, buf }, { ...CTX, printk, longSize: 4 }),
    "g0: c=7 d=8 e=g1",
  );
});
