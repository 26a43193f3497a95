/** Content sniffing of the text formats the ftrace_text readers take. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { sniffFormat } from "../ingest/sniff.ts";

const sniff = (s: string) => sniffFormat(new TextEncoder().encode(s));

Deno.test("sniff: kernel trace text in every shape", () => {
  assertEquals(sniff("# tracer: nop\n#\n"), "ftrace_text");
  // trace_pipe: no header, flags present.
  assertEquals(
    sniff("          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1\n"),
    "ftrace_text",
  );
  // latency-format without its header, raw and hex options without theirs.
  assertEquals(sniff("  gen.sh-9484      0d..2. 17611us : tlb_flush: pages:1\n"), "ftrace_text");
  assertEquals(sniff("9697 0 385174334039 type: 188\n"), "ftrace_text");
  assertEquals(sniff("0000260d 00000001 00000059b9db9985 type: 188\n\n"), "ftrace_text");
});

Deno.test("sniff: trace-cmd report text in every shape", () => {
  assertEquals(sniff("cpus=2\n"), "tracecmd_report");
  assertEquals(sniff("version = 6\nCPU 0 is empty\ncpus=6\n"), "tracecmd_report");
  assertEquals(
    sniff("  VideoDecMsgThr-32342 [007] 85636.208531: clock_set_rate:       x state=2\n"),
    "tracecmd_report",
  );
  assertEquals(
    sniff("trace-cm-7373    0d..2.   250.672888: tlb_flush:            pages=1\n"),
    "tracecmd_report",
  );
});

Deno.test("sniff: other text is not taken for ftrace text", () => {
  assertEquals(sniff("hello world\nthis is a README\n"), "unknown");
  assertEquals(sniff("a,b,c\n1,2,3\n"), "unknown");
});
