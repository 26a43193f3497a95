import assert from "node:assert/strict";
import { makeExample, writeExample } from "./make_example.ts";
import { runTraceCmd } from "./trace_cmd_check.ts";

Deno.test("the example trace is read back event for event by trace-cmd", async () => {
  const path = await Deno.makeTempFile({ suffix: ".dat" });
  try {
    assert.equal(await writeExample(path), 6);
    const text = await runTraceCmd(["report", path]);
    assert.match(
      text,
      /workload\.sh-7374\s+\[001\]\s+250\.672898: tlb_flush:\s+pages=1 reason=local mm shootdown \(3\)/,
    );
    assert.match(text, /<idle>-0\s+\[000\]\s+251\.014656: tlb_flush:\s+pages=-1/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("the example is deterministic", () => {
  assert.deepEqual(makeExample().bytes, makeExample().bytes);
});
