import assert from "node:assert/strict";
import { rowsToIPC } from "../core/arrow.ts";
import { CANONICAL_TABLES } from "../core/canonical.ts";
import { UsageError } from "../core/errors.ts";
import { REPLAY_TABLES } from "../core/replay/tables.ts";
import { openDuckDBWasm } from "./duckdb_wasm.ts";
import type { Engine } from "./engine.ts";
import { SAVED_QUERIES, savedQuery, savedQuerySQL } from "./queries.ts";
import { loadSynthetic } from "./testdata/synthetic.ts";

const DECLARED = new Set(
  [...CANONICAL_TABLES, ...REPLAY_TABLES].map((t) => `${t.schema}.${t.name}`),
);

async function rows(e: Engine, name: string, params: Record<string, number> = {}) {
  return (await e.query(savedQuerySQL(name, params))).rows;
}

Deno.test("saved queries are documented and read declared tables only", () => {
  const names = new Set<string>();
  for (const q of SAVED_QUERIES) {
    assert.match(q.name, /^[a-z][a-z0-9_]*$/);
    assert.ok(!names.has(q.name), q.name);
    names.add(q.name);
    assert.ok(q.doc.length > 20, q.name);
    assert.ok(q.reads.length > 0, q.name);
    for (const t of q.reads) assert.ok(DECLARED.has(t), `${q.name} reads undeclared ${t}`);
    // Every table the SQL names is listed in reads.
    for (const m of q.sql.matchAll(/\bmain\.([a-z_]+)/g)) {
      assert.ok(q.reads.includes(`main.${m[1]}`), `${q.name} reads main.${m[1]} unlisted`);
    }
    for (const m of q.sql.matchAll(/\{\{([a-z_]+)\}\}/g)) assert.ok(m[1]! in q.params, q.name);
  }
});

Deno.test("savedQuerySQL checks names and parameters", () => {
  assert.throws(
    () => savedQuery("nope"),
    (e: unknown) => e instanceof UsageError && /known: policy_comparison/.test(e.message),
  );
  assert.match(savedQuerySQL("anomalies"), /LIMIT 1000$/);
  assert.match(
    savedQuerySQL("invalidations_over_time", { bucket_ns: 5000 }),
    /WHEN 5000 > 0 THEN 5000::BIGINT/,
  );
  assert.throws(() => savedQuerySQL("anomalies", { limit: 0 }), /must be >= 1/);
  assert.throws(() => savedQuerySQL("anomalies", { limit: 1.5 }), /must be an integer/);
  assert.throws(() => savedQuerySQL("anomalies", { limit: NaN }), /finite number/);
  assert.throws(() => savedQuerySQL("anomalies", { bucket_ns: 1 }), /has no parameter bucket_ns/);
});

Deno.test("saved queries on synthetic replay tables", async (t) => {
  const e = await openDuckDBWasm();
  try {
    await t.step("every query runs on empty declared tables", async () => {
      for (const s of [...CANONICAL_TABLES, ...REPLAY_TABLES]) {
        await e.registerIPC("empty", s.name, rowsToIPC(s, []));
      }
      for (const q of SAVED_QUERIES) {
        const sql = savedQuerySQL(q.name).replaceAll("main.", "empty.");
        const r = await e.query(sql);
        assert.ok(r.columns.length > 0, q.name);
      }
    });
    await loadSynthetic(e);

    await t.step("policy_comparison", async () => {
      const r = await e.query(savedQuerySQL("policy_comparison"));
      assert.deepEqual(r.columns, [
        "policy",
        "submissions",
        "descriptors",
        "pages_requested",
        "pages_invalidated",
        "over_invalidation",
        "modeled_ns",
        "ratio_to_baseline",
        "anomalies",
      ]);
      assert.deepEqual(r.rows, [
        ["per-iommu", 3n, 6n, 7n, 14n, 2, 4500, 1, 0n],
        ["per-device", 3n, 7n, 7n, 30n, 30 / 7, 6500, 6500 / 4500, 2n],
      ]);
    });

    await t.step("invalidations_over_time (auto and fixed buckets)", async () => {
      // span 10000 ns -> width 10000 // 100 + 1 = 101; buckets 0, 909, 9999 after t0 = 1000.
      assert.deepEqual(await rows(e, "invalidations_over_time"), [
        ["per-device", 0n, 1n, 1n, 4n, 3000, 3000],
        ["per-device", 909n, 1n, 1n, 1n, 1000, 4000],
        ["per-device", 9999n, 1n, 1n, 2n, 2500, 6500],
        ["per-iommu", 0n, 1n, 1n, 3n, 2000, 2000],
        ["per-iommu", 909n, 1n, 1n, 1n, 1000, 3000],
        ["per-iommu", 9999n, 1n, 1n, 2n, 1500, 4500],
      ]);
      assert.deepEqual(await rows(e, "invalidations_over_time", { bucket_ns: 5000 }), [
        ["per-device", 0n, 2n, 2n, 5n, 4000, 4000],
        ["per-device", 10000n, 1n, 1n, 2n, 2500, 6500],
        ["per-iommu", 0n, 2n, 2n, 4n, 3000, 3000],
        ["per-iommu", 10000n, 1n, 1n, 2n, 1500, 4500],
      ]);
    });

    await t.step("request latency quantiles and histogram", async () => {
      const q = await rows(e, "request_latency_quantiles");
      assert.equal(q.length, 2);
      const [pd, pi] = q as number[][];
      assert.deepEqual(pd!.slice(0, 1), ["per-device"]);
      assert.equal(pd![1], 3n);
      assert.ok(Math.abs(pd![2]! - 6500 / 3) < 1e-9);
      assert.deepEqual(pd!.slice(3), [2500, 2900, 2990, 3000]);
      assert.deepEqual(pi, ["per-iommu", 3n, 1500, 1500, 1900, 1990, 2000]);
      assert.deepEqual(await rows(e, "request_latency_histogram"), [
        ["per-device", 512n, 1n],
        ["per-device", 2048n, 2n],
        ["per-iommu", 512n, 1n],
        ["per-iommu", 1024n, 2n],
      ]);
    });

    await t.step("per_iommu_device and per_iommu leave waits out", async () => {
      const A = "0000:00:01.0", B = "0000:00:02.0", C = "0000:80:01.0";
      assert.deepEqual(await rows(e, "per_iommu_device"), [
        ["per-device", "dmar0", A, 3n, 2n, 2n, 5n, 0n],
        ["per-device", "dmar0", B, 2n, 1n, 1n, 4n, 0n],
        ["per-device", "dmar1", C, 2n, 1n, 1n, 16n, 1n],
        ["per-iommu", "dmar0", "(none)", 2n, 2n, 2n, 3n, 0n],
        ["per-iommu", "dmar0", A, 1n, 1n, 1n, 2n, 0n],
        ["per-iommu", "dmar0", B, 1n, 1n, 1n, 2n, 0n],
        ["per-iommu", "dmar1", "(none)", 1n, 1n, 1n, 4n, 0n],
        ["per-iommu", "dmar1", C, 1n, 1n, 1n, 4n, 0n],
      ]);
      assert.deepEqual(await rows(e, "per_iommu"), [
        ["per-device", "dmar0", 5n, 2n, 2n, 2n],
        ["per-device", "dmar1", 2n, 1n, 1n, 1n],
        ["per-iommu", "dmar0", 4n, 2n, 2n, 2n],
        ["per-iommu", "dmar1", 2n, 1n, 1n, 1n],
      ]);
    });

    await t.step("over-invalidation per target cache and its histogram", async () => {
      const A = "atc 0000:00:01.0", B = "atc 0000:00:02.0", C = "atc 0000:80:01.0";
      assert.deepEqual(await rows(e, "over_invalidation_per_target"), [
        ["per-device", 1, A, 2n, 2n, false, 1],
        ["per-device", 1, B, 2n, 2n, false, 1],
        ["per-device", 1, "iotlb dmar0", 2n, 4n, false, 2],
        ["per-device", 2, "iotlb dmar0", 1n, 1n, false, 1],
        ["per-device", 3, C, 4n, 16n, false, 4],
        ["per-device", 3, "iotlb dmar1", 4n, null, true, null],
        ["per-iommu", 1, A, 2n, 2n, false, 1],
        ["per-iommu", 1, B, 2n, 2n, false, 1],
        ["per-iommu", 1, "iotlb dmar0", 2n, 2n, false, 1],
        ["per-iommu", 2, "iotlb dmar0", 1n, 1n, false, 1],
        ["per-iommu", 3, C, 4n, 4n, false, 1],
        ["per-iommu", 3, "iotlb dmar1", 4n, 4n, false, 1],
      ]);
      assert.deepEqual(await rows(e, "over_invalidation_histogram"), [
        ["per-device", 0, "exact", 3n],
        ["per-device", 1, "1-2x", 1n],
        ["per-device", 2, "2-4x", 1n],
        ["per-device", 6, "full", 1n],
        ["per-iommu", 0, "exact", 6n],
      ]);
    });

    await t.step("anomaly_counts and anomalies", async () => {
      assert.deepEqual(await rows(e, "anomaly_counts"), [
        ["uncovered_range", "per-device", 2n, 11000n, 12000n],
        ["pasid_reused_early", null, 1n, 500n, 500n],
      ]);
      const a = await rows(e, "anomalies", { limit: 2 });
      assert.deepEqual(a.map((r) => [r[0], r[1], r[7]]), [
        ["pasid_reused_early", 500n, "<script>alert(1)</script>"],
        ["uncovered_range", 11000n, "x"],
      ]);
    });
  } finally {
    await e.close();
  }
});
