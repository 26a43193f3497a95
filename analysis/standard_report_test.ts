import assert from "node:assert/strict";
import { rowsToIPC } from "../core/arrow.ts";
import { defineTable } from "../core/schema.ts";
import { openDuckDBWasm } from "./duckdb_wasm.ts";
import { STANDARD_CHARTS, standardReport } from "./standard_report.ts";
import { loadSynthetic } from "./testdata/synthetic.ts";

Deno.test("standard report of replay results has every chart and table", async () => {
  const e = await openDuckDBWasm();
  try {
    await loadSynthetic(e);
    const r = await standardReport(e, { title: "synthetic", notes: ["hello"] });
    assert.equal(r.title, "synthetic");
    assert.deepEqual(r.charts.map((c) => c.title), STANDARD_CHARTS.map((c) => c.title));
    assert.deepEqual(r.summaryTables.map((t) => t.title), [
      "Policy comparison",
      "Modeled time per request",
      "Per IOMMU",
      "Anomalies",
    ]);
    assert.deepEqual(r.notes, ["hello"]);
    // The chart data is the saved query's result.
    const pc = r.charts[0]!.spec as { data: { values: Record<string, unknown>[] } };
    assert.deepEqual(pc.data.values.map((v) => [v.policy, v.modeled_ns, v.ratio_label]), [
      ["per-iommu", 4500, "×1"],
      ["per-device", 6500, "×1.44"],
    ]);
    assert.deepEqual(r.summaryTables[3]!.rows[0], [
      "uncovered_range",
      "per-device",
      2n,
      11000n,
      12000n,
    ]);
  } finally {
    await e.close();
  }
});

Deno.test("standard report of an ingest-only directory explains what is missing", async () => {
  const e = await openDuckDBWasm();
  try {
    const events = defineTable({
      schema: "main",
      name: "events",
      doc: "d",
      columns: [
        { name: "ts", type: "i64", doc: "" },
        { name: "system", type: "utf8", doc: "" },
        { name: "event", type: "utf8", doc: "" },
      ],
    });
    const info = defineTable({
      schema: "main",
      name: "trace_info",
      doc: "d",
      columns: [{ name: "source", type: "utf8", doc: "" }, { name: "cpus", type: "u32", doc: "" }],
    });
    await e.registerIPC(
      "main",
      "events",
      rowsToIPC(events, [
        { ts: 5n, system: "tlb", event: "tlb_flush" },
        { ts: 9n, system: "tlb", event: "tlb_flush" },
        { ts: 7n, system: "sched", event: "sched_switch" },
      ]),
    );
    await e.registerIPC("main", "trace_info", rowsToIPC(info, [{ source: "t.dat", cpus: 4 }]));
    const r = await standardReport(e);
    assert.equal(r.charts.length, 0);
    assert.deepEqual(r.summaryTables.map((t) => [t.title, t.rows]), [
      ["Trace", [["source", "t.dat"], ["cpus", 4]]],
      ["Events by type", [["tlb", "tlb_flush", 2n, 5n, 9n], ["sched", "sched_switch", 1n, 7n, 7n]]],
    ]);
    assert.equal(r.notes!.length, 1);
    assert.match(
      r.notes![0]!,
      /main\.anomalies, main\.policy_summary, main\.replayed_commands, main\.request_costs, main\.requests/,
    );
  } finally {
    await e.close();
  }
});
