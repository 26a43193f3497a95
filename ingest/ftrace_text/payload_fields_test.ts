import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseFormatFile } from "../format/format_file.ts";
import type { FieldFormat } from "../format/types.ts";
import {
  parseIntText,
  parseRawFields,
  parseTlbPlugin,
  splitKeyValues,
  splitSyscallArgs,
  valueForField,
} from "./payload_fields.ts";

function field(over: Partial<FieldFormat>): FieldFormat {
  return {
    name: "x",
    type: "int",
    elemType: "int",
    offset: 8,
    size: 4,
    signed: true,
    kind: "int",
    elemSize: 4,
    count: 0,
    isString: false,
    common: false,
    ...over,
  };
}

Deno.test("key=value: values with spaces and '=', leading text, repeated keys", () => {
  assertEquals(splitKeyValues("comm=a b pid=3 x=1=2 y="), {
    keys: ["comm", "pid", "x", "y"],
    values: ["a b", "3", "1=2", ""],
  });
  assertEquals(splitKeyValues("video_clk state=1 cpu_id=7  "), {
    keys: ["state", "cpu_id"],
    values: ["1", "7"],
  });
  assertEquals(splitKeyValues("a=1 a=2"), { keys: ["a"], values: ["1"] });
  assertEquals(splitKeyValues("dev 8,13 ino 5"), { keys: [], values: [] });
  assertEquals(splitKeyValues("cpumask=ARRAY[0f, 00] freq=0x1").values, ["ARRAY[0f, 00]", "0x1"]);
});

Deno.test("syscall arguments: plain, verbose types, bare hex", () => {
  assertEquals(splitSyscallArgs("fd: ff, cmd: 5410"), {
    keys: ["fd", "cmd"],
    values: ["ff", "5410"],
  });
  assertEquals(splitSyscallArgs("const char * filename: 0x1, int flags: 0x0"), {
    keys: ["filename", "flags"],
    values: ["0x1", "0x0"],
  });
  assertEquals(splitSyscallArgs(""), { keys: [], values: [] });
  assertEquals(splitSyscallArgs("no colon here"), null);
});

Deno.test("integers and typed values", () => {
  assertEquals(parseIntText("0x8c5f"), 0x8c5fn);
  assertEquals(parseIntText("-12"), -12n);
  assertEquals(parseIntText("0xb (11)"), 11n);
  assertEquals(parseIntText("ff"), null);
  assertEquals(parseIntText("ff", true), 255n);
  assertEquals(parseIntText(""), null);
  assertEquals(parseIntText("1".repeat(50)), null);
  const u64 = field({ name: "pages", size: 8, signed: false });
  assertEquals(valueForField(u64, "-1"), 0xffffffffffffffffn);
  const s16 = field({ size: 2 });
  assertEquals(valueForField(s16, "0xffff"), -1);
  assertEquals(valueForField(field({ isString: true, kind: "array" }), "x y"), "x y");
  const arr = field({ kind: "data_loc", elemSize: 8, signed: false });
  assertEquals(valueForField(arr, "{0x1,0x2}"), [1n, 2n]);
  assertEquals(valueForField(arr, "ARRAY[01, 00, 00, 00, 00, 00, 00, 00]"), [1n]);
  assertEquals(valueForField(field({ kind: "array", elemSize: 4 }), "1 2 3"), [1, 2, 3]);
  assertEquals(valueForField(u64, "S"), undefined);
});

Deno.test("raw fields (-R) and the tlb plugin", () => {
  const fmt = parseFormatFile(
    "name: e\nID: 1\nformat:\n\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;\n" +
      "\tfield:char name[16];\toffset:12;\tsize:16;\tsigned:0;\n" +
      '\tfield:u64 flags;\toffset:32;\tsize:8;\tsigned:0;\n\nprint fmt: ""\n',
    "demo",
  );
  assertEquals(parseRawFields(fmt, "reason=3 name=a b=c flags=0x10"), {
    reason: 3,
    name: "a b=c",
    flags: 16n,
  });
  assertEquals(parseRawFields(fmt, "reason=3 flags=1"), null);
  assertEquals(parseRawFields(fmt, "flags=1 reason=3 name=x"), null);
  assertEquals(parseRawFields(fmt, "reason=x name=a flags=1"), null);
  assertEquals(parseRawFields(fmt, "reason=3 name=a flags=10", new Set(["flags"]))?.flags, 16n);
  assertEquals(parseTlbPlugin("pages=1 reason=local mm shootdown (3)"), { pages: 1n, reason: 3n });
  assertEquals(parseTlbPlugin("pages:1 reason:local MM shootdown (3)"), null);
});
