import assert from "node:assert/strict";
import { rowsToIPC } from "../core/arrow.ts";
import { defineTable, type TableSpec } from "../core/schema.ts";
import type { Engine } from "../analysis/engine.ts";
import { openDataset } from "./dataset.ts";
import { queryCommand } from "./query_cmd.ts";

const spec = (schema: string, name: string): TableSpec =>
  defineTable({
    schema,
    name,
    doc: "d",
    columns: [{ name: "x", type: "i64", doc: "x" }],
  });

const TABLES: [string, string, number][] = [
  ["main", "policy_summary", 2],
  ["main", "replayed_commands", 5],
  ["main", "requests", 3],
  ["tlb", "tlb_flush", 4],
];

/** An ingest directory with {@linkcode TABLES} (x = 0..rows-1). */
async function writeDir(dir: string, source: string): Promise<void> {
  const tables = [];
  for (const [schema, name, rows] of TABLES) {
    await Deno.mkdir(`${dir}/${schema}`, { recursive: true });
    const file = `${schema}/${name}.arrows`;
    const data = Array.from({ length: rows }, (_, i) => ({ x: BigInt(i) }));
    await Deno.writeFile(`${dir}/${file}`, rowsToIPC(spec(schema, name), data));
    tables.push({ schema, name, file, rows });
  }
  await Deno.writeTextFile(
    `${dir}/manifest.json`,
    JSON.stringify({ format: "iommu-replay-ingest", version: 1, source, tables }),
  );
}

/** Tables in DuckDB's catalog, as sorted `schema.name` (main.datasets excluded). */
async function catalog(engine: Engine): Promise<string[]> {
  const r = await engine.query(
    "SELECT table_schema || '.' || table_name FROM information_schema.tables " +
      "WHERE table_schema <> '__fleet_stage' AND table_name <> 'datasets' ORDER BY 1",
  );
  return r.rows.map((x) => x[0] as string);
}

const ALL = TABLES.map(([s, n]) => `${s}.${n}`).sort();

Deno.test("openDataset with sql loads only the tables it reads", async (t) => {
  const root = await Deno.makeTempDir();
  try {
    await writeDir(`${root}/run-a`, "a.dat");
    await writeDir(`${root}/run-b`, "b.dat");

    await t.step("a directory: an unreferenced table is not in the catalog", async () => {
      const ds = await openDataset(`${root}/run-a`, {
        sql: "SELECT count(*) FROM main.policy_summary",
      });
      try {
        assert.deepEqual(await catalog(ds.engine), ["main.policy_summary"]);
        assert.deepEqual([...ds.loaded], ["main.policy_summary"]);
        assert.deepEqual([...ds.skipped].sort(), ALL.filter((x) => x !== "main.policy_summary"));
        assert.deepEqual(
          (await ds.engine.query("SELECT count(*) FROM main.policy_summary")).rows,
          [[2n]],
        );
        await assert.rejects(() => ds.engine.query("SELECT * FROM main.replayed_commands"));
        // The rest on demand.
        assert.equal(await ds.loadRest(), true);
        assert.deepEqual(await catalog(ds.engine), ALL);
        assert.deepEqual(ds.skipped.size, 0);
        assert.equal(await ds.loadRest(), false);
        assert.deepEqual(
          (await ds.engine.query("SELECT count(*) FROM main.replayed_commands")).rows,
          [[5n]],
        );
      } finally {
        await ds.close();
      }
    });

    await t.step("a catalog query loads everything", async () => {
      for (
        const sql of [
          "SELECT table_name FROM information_schema.tables",
          "SHOW ALL TABLES",
          "SELECT * FROM duckdb_tables()",
        ]
      ) {
        const ds = await openDataset(`${root}/run-a`, { sql });
        try {
          assert.deepEqual(await catalog(ds.engine), ALL, sql);
          assert.equal(ds.skipped.size, 0, sql);
        } finally {
          await ds.close();
        }
      }
    });

    await t.step("without sql, everything is loaded (report, notebooks)", async () => {
      const ds = await openDataset(`${root}/run-a`);
      try {
        assert.deepEqual(await catalog(ds.engine), ALL);
      } finally {
        await ds.close();
      }
    });

    await t.step("a fleet glob: only referenced tables, each dataset listed once", async () => {
      const ds = await openDataset(`${root}/run-*`, {
        sql: "SELECT dataset, count(*) FROM tlb.tlb_flush GROUP BY ALL",
      });
      try {
        assert.deepEqual(await catalog(ds.engine), ["tlb.tlb_flush"]);
        assert.deepEqual(
          (await ds.engine.query(
            "SELECT dataset, count(*) FROM tlb.tlb_flush GROUP BY ALL ORDER BY 1",
          )).rows,
          [["run-a", 4n], ["run-b", 4n]],
        );
        assert.equal(await ds.loadRest(), true);
        assert.deepEqual(await catalog(ds.engine), ALL);
        assert.deepEqual(
          (await ds.engine.query("SELECT dataset FROM main.datasets ORDER BY 1")).rows,
          [["run-a"], ["run-b"]],
        );
        assert.deepEqual(
          (await ds.engine.query("SELECT count(*) FROM main.requests")).rows,
          [[6n]],
        );
      } finally {
        await ds.close();
      }
    });

    await t.step("the query command answers from the tables it loads", async () => {
      const out = `${root}/out.csv`;
      assert.equal(
        await queryCommand([
          `${root}/run-a`,
          "SELECT sum(x) AS s FROM main.replayed_commands",
          "--out",
          out,
        ]),
        0,
      );
      assert.equal(await Deno.readTextFile(out), "s\n10\n");
      assert.equal(
        await queryCommand([
          `${root}/run-a`,
          "SELECT count(*) AS n FROM information_schema.tables",
          "--out",
          out,
        ]),
        0,
      );
      assert.equal(await Deno.readTextFile(out), "n\n4\n");
      // A misspelt name is still an error.
      await assert.rejects(
        () => queryCommand([`${root}/run-a`, "SELECT * FROM main.polcy_summary"]),
        /Catalog Error/,
      );
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("openDataset on a trace file registers only the streams the sql reads", async () => {
  const sql = "SELECT count(*) FROM main.trace_info";
  const ds = await openDataset("examples/sva_two_iommus.dat", { sql });
  try {
    assert.deepEqual(await catalog(ds.engine), ["main.trace_info"]);
    assert.ok(ds.skipped.has("main.events"));
    assert.deepEqual((await ds.engine.query(sql)).rows, [[1n]]);
    assert.equal(await ds.loadRest(), true);
    assert.ok((await catalog(ds.engine)).includes("main.events"));
  } finally {
    await ds.close();
  }
});
