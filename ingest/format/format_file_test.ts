import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  cTypeSize,
  FormatParseError,
  parseFieldDecl,
  parseFormatFile,
  parseHeaderPage,
} from "./format_file.ts";

const TLB = `name: tlb_flush
ID: 188
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned long pages;\toffset:16;\tsize:8;\tsigned:0;

print fmt: "pages:%ld reason:%s", REC->pages, __print_symbolic(REC->reason, { 0, "flush on task switch" })
`;

Deno.test("parses a 6.18 format file: id, common and own fields, print fmt", () => {
  const f = parseFormatFile(TLB, "tlb");
  strictEqual(f.id, 188);
  strictEqual(f.name, "tlb_flush");
  strictEqual(f.fields.length, 6);
  deepStrictEqual(f.ownFields.map((x) => [x.name, x.offset, x.size, x.signed, x.kind]), [
    ["reason", 8, 4, true, "int"],
    ["pages", 16, 8, false, "int"],
  ]);
  strictEqual(f.printFmt.startsWith('"pages:%ld reason:%s", REC->pages'), true);
});

Deno.test("field declarations: arrays trust size:, __data_loc, __rel_loc, flexible, pointers", () => {
  const comm = parseFieldDecl("char prev_comm[32]", 8, 16, 0, 4);
  deepStrictEqual([comm.kind, comm.count, comm.elemSize, comm.isString], ["array", 16, 1, true]);
  const dl = parseFieldDecl("__data_loc char[] device", 8, 4, 0, 8);
  deepStrictEqual([dl.kind, dl.isString, dl.name, dl.elemType], [
    "data_loc",
    true,
    "device",
    "char",
  ]);
  const arr = parseFieldDecl("__data_loc u64[] phys_addrs", 8, 4, 0, 8);
  deepStrictEqual([arr.kind, arr.elemSize, arr.isString], ["data_loc", 8, false]);
  const rl = parseFieldDecl("__rel_loc char[] msg", 12, 4, 0, 8);
  strictEqual(rl.kind, "rel_loc");
  const flex = parseFieldDecl("char buf[]", 16, 0, 0, 8);
  deepStrictEqual([flex.kind, flex.isString], ["flex", true]);
  const oldFlex = parseFieldDecl("char buf", 16, 0, 0, 8);
  deepStrictEqual([oldFlex.kind, oldFlex.isString], ["flex", true]);
  const args = parseFieldDecl("unsigned long args[6]", 16, 24, 0, 4);
  deepStrictEqual([args.kind, args.elemSize, args.count], ["array", 4, 6]);
  const ptr = parseFieldDecl("const char * name", 8, 8, 0, 8);
  deepStrictEqual([ptr.kind, ptr.name, ptr.signed], ["int", "name", false]);
  // No signed: column (old kernels): inferred from the type.
  strictEqual(parseFieldDecl("int x", 8, 4, undefined, 8).signed, true);
  strictEqual(parseFieldDecl("unsigned int x", 8, 4, undefined, 8).signed, false);
  strictEqual(cTypeSize("unsigned long", 4), 4);
  strictEqual(cTypeSize("struct foo", 8), 0);
});

Deno.test("format errors are typed", () => {
  throws(() => parseFormatFile("ID: 3\nformat:\n", "x"), FormatParseError);
  throws(() => parseFormatFile("name: a\nformat:\n", "x"), FormatParseError);
  throws(() => parseFormatFile("name: a\nID: zz\n", "x"), FormatParseError);
  throws(
    () => parseFormatFile("name: a\nID: 1\n\tfield:int a;\toffset:x;\n", "x"),
    FormatParseError,
  );
});

Deno.test("header_page: 64-bit and 32-bit layouts", () => {
  const h64 = parseHeaderPage(
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" +
      "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n",
  );
  deepStrictEqual(h64, { timestampSize: 8, commitSize: 8, dataOffset: 16, dataSize: 4080 });
  throws(
    () => parseHeaderPage("\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"),
    FormatParseError,
  );
});
