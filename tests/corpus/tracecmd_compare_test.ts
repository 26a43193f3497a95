/**
 * The trace-cmd comparison's field rules: how `trace-cmd report -R` prints each integer field is
 * decided from the print format and the field's type, so bare hex (`%llx`) compares as a number
 * and a decimal-looking hex value is not misread.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { makeFormat } from "../../ingest/format/testdata/fmt_helpers.ts";
import { parseKallsyms } from "../../ingest/tracedat/kallsyms.ts";
import { type CompareContext, compareField, fieldRenderings } from "./tracecmd_compare.ts";

// dma:dma_map_phys as 6.18 prints it in tracefs (flags table shortened)
const PHYS_FIELDS = [
  "__data_loc char[] device;8;4;0",
  "u64 phys_addr;16;8;0",
  "u64 dma_addr;24;8;0",
  "size_t size;32;8;0",
  "enum dma_data_direction dir;40;4;0",
  "unsigned long attrs;48;8;0",
];
const PHYS_FMT = `"%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s", __get_str(device), ` +
  `__print_symbolic(REC->dir, { 0, "BIDIRECTIONAL" }, { 1, "TO_DEVICE" }), REC->dma_addr, ` +
  `REC->size, REC->phys_addr, __print_flags(REC->attrs, "|", { (1UL << 1), "WEAK_ORDERING" })`;

// A made-up event exercising the other conversions.
const MIXED_FIELDS = [
  "unsigned long ip;8;8;0",
  "u64 iova;16;8;0",
  "int ret;24;4;1",
  "void * ptr;32;8;0",
  "unsigned int alt;40;4;0",
  "u64 wide;48;8;0",
  "u64 arr[2];56;16;0",
];
const MIXED_FMT = `"%pS iova=0x%llx ret=%d p=%p alt=%#x wide=%x", REC->ip, REC->iova, REC->ret, ` +
  `REC->ptr, REC->alt, REC->wide`;

const ksyms = parseKallsyms(
  "ffffffff81000000 T _stext\nffffffff81234500 T iommu_map\nffffffff81234600 T iommu_unmap\n",
);
const LE: CompareContext = { ksyms, littleEndian: true };
const BE: CompareContext = { ksyms, littleEndian: false };

const phys = makeFormat(PHYS_FMT, PHYS_FIELDS, { system: "dma", name: "dma_map_phys", id: 440 });
const physR = fieldRenderings(phys);
const mixed = makeFormat(MIXED_FMT, MIXED_FIELDS, { system: "test", name: "mixed", id: 9 });
const pf = (name: string) => phys.ownFields.find((f) => f.name === name)!;

Deno.test("fieldRenderings: decided from the print format, else by type", () => {
  const got = Object.fromEntries(
    [...physR].map(([k, r]) => [k, `${r.style}/${r.prefix}/${r.bits}/${r.from}`]),
  );
  assertEquals(got, {
    device: "dec/none/32/type", // a string: compared as text, the rendering is unused
    phys_addr: "hex/none/64/%llx",
    dma_addr: "hex/none/64/%llx",
    size: "dec/none/64/%zu",
    dir: "dec/none/32/type", // only inside __print_symbolic: printed raw, %llu
    attrs: "hex/0x/64/type", // only inside __print_flags: an unsigned long prints 0x%llx
  });
  const mixedR = fieldRenderings(mixed);
  const m = Object.fromEntries(
    [...mixedR].map(([k, r]) => [k, `${r.style}/${r.prefix}/${r.bits}/${r.from}`]),
  );
  assertEquals(m, {
    ip: "symbol/none/64/%pS",
    iova: "hex/0x/64/0x%llx",
    ret: "dec/none/32/%d",
    ptr: "pointer/none/64/%p",
    alt: "hex/alt/32/%#x",
    wide: "hex/none/32/%x", // %x prints the low 32 bits of a u64
    arr: "dec/none/64/type",
  });
});

Deno.test("compareField: bare hex printed by %llx compares as a number", () => {
  const f = pf("phys_addr");
  const r = physR.get("phys_addr")!;
  assertEquals(compareField(f, r, 0x4b4c46c6cdc2575fn, "4b4c46c6cdc2575f", LE), null);
  assertEquals(compareField(f, r, 0xec39e077acb42a10n, "ec39e077acb42a10", LE), null);
  // A bare-hex field whose digits are all decimal is still hex: "10" is 16.
  assertEquals(compareField(f, r, 16n, "10", LE), null);
  assert(compareField(f, r, 10n, "10", LE) !== null);
  // A different value, and a 0x that %llx never prints, are mismatches.
  assert(compareField(f, r, 0x4b4c46c6cdc2575en, "4b4c46c6cdc2575f", LE) !== null);
  assert(compareField(f, r, 0x4b4c46c6cdc2575fn, "0x4b4c46c6cdc2575f", LE) !== null);
});

Deno.test("compareField: decimal, 0x-prefixed, %#x, %p and type-decided fields", () => {
  const r = fieldRenderings(mixed);
  const cmp = (name: string, ours: bigint | number, theirs: string, ctx = LE) =>
    compareField(mixed.ownFields.find((f) => f.name === name)!, r.get(name)!, ours, theirs, ctx);
  assertEquals(cmp("iova", 0xfee00000n, "0xfee00000"), null);
  assert(cmp("iova", 0xfee00000n, "fee00000") !== null, "0x%llx always prints 0x");
  assertEquals(cmp("ret", -22, "-22"), null);
  assertEquals(cmp("ret", 0xffffffea, "-22"), null, "compared modulo 32 bits");
  assert(cmp("ret", -21, "-22") !== null);
  assert(cmp("ret", 16, "0x10") !== null, "%d never prints hex");
  assertEquals(cmp("ptr", 0n, "(nil)"), null);
  assertEquals(cmp("ptr", 0xffff8880001000n, "0xffff8880001000"), null);
  assertEquals(cmp("alt", 0, "0"), null);
  assertEquals(cmp("alt", 255, "0xff"), null);
  assert(cmp("alt", 255, "ff") !== null);
  assertEquals(cmp("wide", 0x1_0000_00ffn, "ff"), null, "%x prints the low 32 bits");
  assertEquals(cmp("ip", 0xffffffff81234510n, "iommu_map+0x10"), null);
  assertEquals(cmp("ip", 0xffffffff81234510n, "iommu_map+0x10 (0xffffffff81234510)"), null);
  assert(cmp("ip", 0xffffffff81234610n, "iommu_map+0x10") !== null);
  assert(cmp("ip", 0xffffffff81234520n, "iommu_map+0x10") !== null);
  assertEquals(cmp("ip", 0x7f0000001000n, "0x7f0000001000"), null);
  // attrs of dma_map_phys: unsigned long outside a direct conversion prints 0x%llx
  assertEquals(compareField(pf("attrs"), physR.get("attrs")!, 3n, "0x3", LE), null);
  assert(compareField(pf("attrs"), physR.get("attrs")!, 3n, "3", LE) !== null);
});

Deno.test("compareField: non-string arrays print as bytes in the file's byte order", () => {
  const f = mixed.ownFields.find((x) => x.name === "arr")!;
  const r = fieldRenderings(mixed).get("arr")!;
  const v = [0x0102030405060708n, 0x1112131415161718n];
  const le = "ARRAY[08, 07, 06, 05, 04, 03, 02, 01, 18, 17, 16, 15, 14, 13, 12, 11]";
  const be = "ARRAY[01, 02, 03, 04, 05, 06, 07, 08, 11, 12, 13, 14, 15, 16, 17, 18]";
  assertEquals(compareField(f, r, v, le, LE), null);
  assertEquals(compareField(f, r, v, be, BE), null);
  assert(compareField(f, r, v, be, LE) !== null);
});
