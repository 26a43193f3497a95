import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseEventBody } from "./event_body.ts";

Deno.test("event body: events, kernel syscall forms, function tracer", () => {
  assertEquals(parseEventBody("tlb_flush: pages:1"), {
    kind: "event",
    name: "tlb_flush",
    payload: "pages:1",
  });
  assertEquals(parseEventBody("sys_enter_munmap:     addr: 0x1")?.payload, "addr: 0x1");
  assertEquals(parseEventBody("kernel_stack:"), {
    kind: "event",
    name: "kernel_stack",
    payload: "",
  });
  assertEquals(parseEventBody("sys_munmap(addr: 0x7f, len: 0x8c5f)"), {
    kind: "syscall_enter",
    name: "sys_enter_munmap",
    payload: "addr: 0x7f, len: 0x8c5f",
  });
  assertEquals(parseEventBody("sys_sync()")?.name, "sys_enter_sync");
  assertEquals(parseEventBody("sys_recvmsg -> 0xfffffffffffffff5"), {
    kind: "syscall_exit",
    name: "sys_exit_recvmsg",
    payload: "0xfffffffffffffff5",
  });
  assertEquals(parseEventBody("do_sys_open <-SyS_open")?.kind, "function");
  assertEquals(parseEventBody("no event here"), null);
  assertEquals(parseEventBody(""), null);
});
