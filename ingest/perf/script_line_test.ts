import { equal } from "node:assert/strict";
import { emptyScriptLine, parseScriptLine, type ScriptLine } from "./script_line.ts";

function parse(line: string): [string, ScriptLine] {
  const l = emptyScriptLine();
  return [parseScriptLine(line, l), l];
}

Deno.test("parseScriptLine: default, --ns and -F layouts", () => {
  let [k, l] = parse(
    "         swapper     0 [000]   425.889396974:             tlb:tlb_flush: pages:0 reason:flush on task switch (0)",
  );
  equal(k, "sample");
  equal(l.comm, "swapper");
  equal(l.tid, 0);
  equal(l.pid, null);
  equal(l.cpu, 0);
  equal(l.ts, 425889396974n);
  equal(l.precision, 9);
  equal(l.event, "tlb:tlb_flush");
  equal(l.payload, "pages:0 reason:flush on task switch (0)");
  [k, l] = parse("       perf-exec 10663/10664 [001]   425.889785:             tlb:tlb_flush: x");
  equal(l.pid, 10663);
  equal(l.tid, 10664);
  equal(l.ts, 425889785000n);
  [k, l] = parse("10663/10663   425.890850: syscalls:sys_enter_munmap: addr: 0x7f31a6373000");
  equal(l.comm, null);
  equal(l.cpu, null);
  equal(l.tid, 10663);
  [k, l] = parse("    0 [000]             tlb:tlb_flush: pages:0");
  equal(l.ts, null);
  equal(l.cpu, 0);
  equal(l.tid, 0);
  [k, l] = parse("  425.889396:             tlb:tlb_flush: pages:0");
  equal(k, "sample");
  equal(l.tid, null);
  equal(l.ts, 425889396000n);
});

Deno.test("parseScriptLine: comm with spaces, empty payload, period", () => {
  let [k, l] = parse("    Web Content 2 4242 [001]     1.000001:  sched:sched_process_exec: ");
  equal(k, "sample");
  equal(l.comm, "Web Content 2");
  equal(l.tid, 4242);
  equal(l.payload, "");
  [k, l] = parse("         swapper     0 [000]   425.889396:             tlb:tlb_flush:");
  equal(l.payload, "");
  [k, l] = parse(
    "            perf  1234 [000]   100.000100:          1 cycles:P:  ffffffff81000000 x",
  );
  equal(l.period, 1n);
  equal(l.event, "cycles:P");
  equal(l.tid, 1234);
});

Deno.test("parseScriptLine: other kinds", () => {
  equal(parse("# ========")[0], "comment");
  equal(parse("   ")[0], "blank");
  equal(parse("\t           20ce7 munmap+0x7 (/usr/lib/ld.so)")[0], "callchain");
  equal(parse("no event here at all")[0], "unparsed");
  equal(parse("only: ")[0], "unparsed");
});
