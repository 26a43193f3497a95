import assert from "node:assert/strict";
import { parseRawReport, printedValueMatches, tepLatencyFlags } from "./trace_cmd_check.ts";
import type { FieldFormat } from "../ingest/format/types.ts";

const INT8: FieldFormat = {
  name: "pages",
  type: "unsigned long",
  elemType: "unsigned long",
  offset: 16,
  size: 8,
  signed: false,
  kind: "int",
  elemSize: 8,
  count: 0,
  isString: false,
  common: false,
};

Deno.test("parses trace-cmd -R -t lines, instance prefixes and drop markers", () => {
  const r = parseRawReport(
    "cpus=2\n" +
      "       trace-cmd-7373  [000]   250.672887703: tlb_flush:             reason=3 pages=1\n" +
      "CPU:1 [42 EVENTS DROPPED]\n" +
      "inst2:        <idle>-0     [001]   362.000000001: dma_map_sg:  device=0000:01:00.0 phys_addrs=ARRAY[00, 10] dir=1\n" +
      "CPU:0 [EVENTS DROPPED]\n",
  );
  assert.equal(r.cpus, 2);
  assert.deepEqual(r.dropped, [{ cpu: 1, count: 42 }, { cpu: 0, count: null }]);
  assert.equal(r.lines.length, 2);
  assert.deepEqual(
    { ...r.lines[0]!, fields: [...r.lines[0]!.fields] },
    {
      buffer: "",
      comm: "trace-cmd",
      pid: 7373,
      cpu: 0,
      ts: 250672887703n,
      event: "tlb_flush",
      fields: [["reason", "3"], ["pages", "1"]],
    },
  );
  assert.equal(r.lines[1]!.buffer, "inst2");
  assert.equal(r.lines[1]!.comm, "<idle>");
  assert.equal(r.lines[1]!.fields.get("phys_addrs"), "ARRAY[00, 10]");
  assert.throws(() => parseRawReport("garbage line\n"), /unexpected trace-cmd report line/);
});

Deno.test("printed numbers match in decimal, signed, or hex with and without 0x", () => {
  assert.ok(printedValueMatches("-1", -1n, INT8));
  assert.ok(printedValueMatches("18446744073709551615", -1n, INT8));
  assert.ok(printedValueMatches("0x00008c5f", 0x8c5fn, INT8));
  assert.ok(printedValueMatches("ffffffff81000000", 0xffffffff81000000n, INT8));
  assert.ok(!printedValueMatches("12", 13n, INT8));
  const arr: FieldFormat = { ...INT8, kind: "data_loc", elemSize: 2 };
  assert.ok(printedValueMatches("ARRAY[01, 02]", [0x0201], arr));
  assert.ok(printedValueMatches("ARRAY[02, 01]", [0x0201], arr, false));
});

Deno.test("TEP latency column", () => {
  assert.equal(tepLatencyFlags(0, 0), ".....");
  assert.equal(tepLatencyFlags(0x1d, 0x21), "dNH12");
  assert.equal(tepLatencyFlags(0x02, 0), "X....");
});
