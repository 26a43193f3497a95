import assert from "node:assert/strict";
import { renderFormat, renderHeaderPage } from "./render_format.ts";

const COMMON = "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
  "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
  "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
  "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n";

Deno.test("struct layout: natural alignment, data_loc slots, arrays", () => {
  const text = renderFormat("x", 7, {
    shape: "trace_event",
    fields: [
      { kind: "field", type: "bool", name: "b" },
      { kind: "field", type: "u64", name: "q" },
      { kind: "dynamic", type: "char", name: "s" },
      { kind: "field", type: "u16", name: "h" },
      { kind: "array", type: "u32", name: "a", len: 3 },
    ],
    printFmt: '""',
  });
  assert.equal(
    text,
    `name: x\nID: 7\nformat:\n${COMMON}\n` +
      "\tfield:bool b;\toffset:8;\tsize:1;\tsigned:0;\n" +
      "\tfield:u64 q;\toffset:16;\tsize:8;\tsigned:0;\n" +
      "\tfield:__data_loc char[] s;\toffset:24;\tsize:4;\tsigned:0;\n" +
      "\tfield:u16 h;\toffset:28;\tsize:2;\tsigned:0;\n" +
      "\tfield:u32 a[3];\toffset:32;\tsize:12;\tsigned:0;\n" +
      '\nprint fmt: ""\n',
  );
});

Deno.test("i386 alignment puts u64 on 4-byte boundaries", () => {
  const text = renderFormat("y", 1, {
    shape: "trace_event",
    fields: [{ kind: "field", type: "int", name: "i" }, { kind: "field", type: "u64", name: "q" }],
    printFmt: '""',
  }, { longSize: 4, int64Align: 4, charSigned: true });
  assert.match(text, /\tfield:u64 q;\toffset:12;\tsize:8;\tsigned:0;\n/);
});

Deno.test("syscall exit and kretprobe layouts", () => {
  const exit = renderFormat("sys_exit_munmap", 2, { shape: "syscall_exit" });
  assert.ok(exit.endsWith(
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n" +
      "\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n\n" +
      'print fmt: "0x%lx", REC->ret\n',
  ));
  const ret = renderFormat("r", 3, {
    shape: "kretprobe",
    args: [{ name: "v", type: "s32" }, { name: "p", type: "string" }],
  });
  assert.ok(ret.endsWith(
    "\tfield:unsigned long __probe_func;\toffset:8;\tsize:8;\tsigned:0;\n" +
      "\tfield:unsigned long __probe_ret_ip;\toffset:16;\tsize:8;\tsigned:0;\n" +
      "\tfield:s32 v;\toffset:24;\tsize:4;\tsigned:1;\n" +
      "\tfield:__data_loc char[] p;\toffset:28;\tsize:4;\tsigned:1;\n\n" +
      'print fmt: "(%lx <- %lx) v=%d p=\\"%s\\"", REC->__probe_func, REC->__probe_ret_ip, ' +
      "REC->v, __get_str(p)\n",
  ));
});

Deno.test("unknown C types are a programming error", () => {
  assert.throws(() =>
    renderFormat("z", 1, {
      shape: "trace_event",
      fields: [{ kind: "field", type: "struct foo", name: "f" }],
      printFmt: '""',
    })
  );
});

Deno.test("header_page follows the page size", () => {
  assert.match(renderHeaderPage(undefined, 16384), /char data;\toffset:16;\tsize:16368;/);
});
