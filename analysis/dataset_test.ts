import assert from "node:assert/strict";
import { SpecBatchWriter } from "../core/arrow.ts";
import { TraceError, UsageError } from "../core/errors.ts";
import { defineTable, type TableSpec } from "../core/schema.ts";
import { openDuckDBWasm } from "./duckdb_wasm.ts";
import {
  expandDatasetPaths,
  loadDataset,
  loadFleet,
  loadStreams,
  readManifest,
} from "./dataset.ts";
import { rowsToIPC } from "../core/arrow.ts";

const FLUSH_V1 = defineTable({
  schema: "tlb",
  name: "tlb_flush",
  doc: "d",
  columns: [
    { name: "ts", type: "i64", doc: "t" },
    { name: "reason", type: "utf8", doc: "r" },
    { name: "pages", type: "u64", doc: "p" },
  ],
});
// A newer kernel's format with one more field.
const FLUSH_V2 = defineTable({
  ...FLUSH_V1,
  columns: [...FLUSH_V1.columns, { name: "asid", type: "u32", doc: "a", nullable: true }],
});
const INFO = defineTable({
  schema: "main",
  name: "trace_info",
  doc: "d",
  columns: [{ name: "source", type: "utf8", doc: "s" }],
});

/** Writes an ingest directory: each table in batches of 2 rows (so files hold several streams). */
async function writeDir(
  dir: string,
  tables: [TableSpec, object[]][],
  source: string,
  tweak: (m: Record<string, unknown>) => void = () => {},
): Promise<void> {
  const entries = [];
  for (const [spec, rows] of tables) {
    await Deno.mkdir(`${dir}/${spec.schema}`, { recursive: true });
    const file = `${spec.schema}/${spec.name}.arrows`;
    const f = await Deno.open(`${dir}/${file}`, { write: true, create: true, truncate: true });
    const w = new SpecBatchWriter(spec, async (b) => {
      await f.write(b);
    }, { batchRows: 2 });
    await w.appendAll(rows);
    await w.close();
    f.close();
    entries.push({ schema: spec.schema, name: spec.name, file, rows: rows.length });
  }
  const m: Record<string, unknown> = {
    format: "iommu-replay-ingest",
    version: 1,
    source,
    tables: entries,
    info: { cpus: 4 },
  };
  tweak(m);
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify(m));
}

const flushes = (n: number, extra = false) =>
  Array.from({ length: n }, (_, i) => ({
    ts: BigInt(i),
    reason: i % 2 ? "remote shootdown" : "local mm",
    pages: BigInt(i + 1),
    ...(extra ? { asid: i === 0 ? null : 7 } : {}),
  }));

Deno.test("dataset loading", async (t) => {
  const root = await Deno.makeTempDir();
  const e = await openDuckDBWasm();
  try {
    await writeDir(
      `${root}/run-a`,
      [[FLUSH_V1, flushes(5)], [INFO, [{ source: "a.dat" }]]],
      "a.dat",
    );
    await writeDir(`${root}/run-b`, [[FLUSH_V2, flushes(3, true)]], "b.dat");
    await writeDir(`${root}/empty`, [[FLUSH_V1, []]], "e.dat");
    await Deno.mkdir(`${root}/run-c-not-ingest`);

    await t.step("readManifest keeps the contract fields and the rest", async () => {
      const m = await readManifest(`${root}/run-a/`);
      assert.equal(m.source, "a.dat");
      assert.deepEqual(m.tables[0], {
        schema: "tlb",
        name: "tlb_flush",
        file: "tlb/tlb_flush.arrows",
        rows: 5,
      });
      assert.deepEqual(m.extra, { info: { cpus: 4 } });
    });

    await t.step("readManifest accepts every key ingest and replay --out write", async () => {
      await writeDir(`${root}/nested/all-keys`, [[FLUSH_V1, flushes(2)]], "k.dat", (m) => {
        m.warnings = [{ code: "lost_events", message: "3 lost" }];
        m.replay = { what_if: false, kernel: null, statements: [] };
        Object.assign((m.tables as Record<string, unknown>[])[0]!, {
          columns: [{ name: "ts", field: null, type: "Int64" }],
          parquet: "tlb/tlb_flush.parquet",
          csv: "tlb/tlb_flush.csv",
        });
      });
      const m = await readManifest(`${root}/nested/all-keys`);
      assert.deepEqual(Object.keys(m.extra).sort(), ["info", "replay", "warnings"]);
      assert.equal(m.tables[0]!.parquet, "tlb/tlb_flush.parquet");
      assert.equal(m.tables[0]!.csv, "tlb/tlb_flush.csv");
    });

    await t.step("loadDataset loads every table, split per stream", async () => {
      const d = await loadDataset(e, `${root}/run-a`);
      assert.equal(d.name, "run-a");
      assert.deepEqual(d.tables, [
        { schema: "tlb", name: "tlb_flush", rows: 5, streams: 3 },
        { schema: "main", name: "trace_info", rows: 1, streams: 1 },
      ]);
      const r = await e.query(
        "SELECT reason, count(*) AS n, sum(pages)::BIGINT AS p FROM tlb.tlb_flush GROUP BY 1 ORDER BY 1",
      );
      assert.deepEqual(r.rows, [["local mm", 3n, 1n + 3n + 5n], ["remote shootdown", 2n, 2n + 4n]]);
      assert.deepEqual((await e.query("SELECT source FROM main.trace_info")).rows, [["a.dat"]]);
      const empty = await loadDataset(e, `${root}/empty`);
      assert.deepEqual(empty.tables, [{ schema: "tlb", name: "tlb_flush", rows: 0, streams: 1 }]);
    });

    await t.step("fleet mode tags rows with a dataset column and unions columns", async () => {
      const f = await openDuckDBWasm();
      try {
        const got = await loadFleet(f, [`${root}/run-a`, { name: "newer", dir: `${root}/run-b` }]);
        assert.deepEqual(got.map((d) => d.name), ["run-a", "newer"]);
        const cols = await f.query("DESCRIBE tlb.tlb_flush");
        assert.deepEqual(cols.rows.map((r) => `${r[0]} ${r[1]}`), [
          "dataset VARCHAR",
          "ts BIGINT",
          "reason VARCHAR",
          "pages UBIGINT",
          "asid UINTEGER",
        ]);
        const r = await f.query(
          "SELECT dataset, count(*) AS n, count(asid) AS with_asid, sum(pages)::BIGINT AS p FROM tlb.tlb_flush GROUP BY 1 ORDER BY 1",
        );
        assert.deepEqual(r.rows, [["newer", 3n, 2n, 6n], ["run-a", 5n, 0n, 15n]]);
        const ds = await f.query("SELECT dataset, source FROM main.datasets ORDER BY 1");
        assert.deepEqual(ds.rows, [["newer", "b.dat"], ["run-a", "a.dat"]]);
        assert.deepEqual(
          (await f.query("SELECT dataset, source FROM main.trace_info")).rows,
          [["run-a", "a.dat"]],
        );
        const stage = await f.query(
          "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '__fleet_stage'",
        );
        assert.deepEqual(stage.rows, [[0n]]);
        await assert.rejects(
          () => loadFleet(f, [`${root}/run-a`, `${root}/x/run-a`]),
          (x: unknown) =>
            x instanceof UsageError && /two datasets are named "run-a"/.test(x.message),
        );
        await assert.rejects(() => loadFleet(f, []), UsageError);
      } finally {
        await f.close();
      }
    });

    await t.step("expandDatasetPaths expands globs to ingest directories", async () => {
      assert.deepEqual(await expandDatasetPaths([`${root}/run-*`]), [
        `${root}/run-a`,
        `${root}/run-b`,
      ]);
      assert.deepEqual(await expandDatasetPaths([`${root}/run-[b],${root}/empty`, "plain/dir"]), [
        `${root}/run-b`,
        `${root}/empty`,
        "plain/dir",
      ]);
      assert.deepEqual(await expandDatasetPaths([`${root}/*/`]), [
        `${root}/empty`,
        `${root}/run-a`,
        `${root}/run-b`,
      ]);
      await assert.rejects(
        () => expandDatasetPaths([`${root}/nothing-*`]),
        /no ingest directory matches/,
      );
    });

    await t.step("bad directories and manifests give typed errors", async () => {
      await assert.rejects(
        () => loadDataset(e, `${root}/run-c-not-ingest`),
        (x: unknown) => x instanceof UsageError && /not an ingest directory/.test(x.message),
      );
      const bad = async (
        name: string,
        tweak: (m: Record<string, unknown>) => void,
        re: RegExp,
        code = "bad_value",
      ) => {
        await writeDir(`${root}/${name}`, [[FLUSH_V1, flushes(2)]], "x.dat", tweak);
        await assert.rejects(
          () => loadDataset(e, `${root}/${name}`),
          (x: unknown) =>
            x instanceof TraceError && x.code === code && re.test(x.message) &&
            x.location.file.startsWith(`${root}/${name}/`),
          name,
        );
      };
      await bad("b1", (m) => (m.format = "other"), /format is "other"/);
      await bad("b2", (m) => (m.version = 2), /manifest version 2/, "unsupported_version");
      const table = (m: Record<string, unknown>) => (m.tables as Record<string, unknown>[])[0]!;
      await bad("b3", (m) => (table(m).file = "../../etc/passwd"), /not a plain relative path/);
      await bad("b4", (m) => (table(m).file = "/etc/passwd"), /not a plain relative path/);
      await bad("b5", (m) => (table(m).name = 'x"; DROP'), /not an identifier/);
      await bad("b6", (m) => (table(m).rows = 3), /manifest says 3 rows .* holds 2/);
      await bad("b7", (m) => (table(m).file = "tlb/missing.arrows"), /missing table file/);
      await bad("b8", (m) => (m.tables = [table(m), table(m)]), /listed twice/);
      await bad("b10", (m) => (m.sourc = "typo"), /: \$\.sourc: unknown key \(allowed: format, /);
      await bad(
        "b11",
        (m) => (table(m).colums = []),
        /: \$\.tables\[0\]\.colums: unknown key \(allowed: schema, name, file, rows, columns,/,
      );
      await bad("b12", (m) => (table(m).csv = "../x.csv"), /tables\[0\]\.csv .* plain relative/);
      await bad("b13", (m) => (table(m).columns = "ts"), /tables\[0\]\.columns is not a list/);
      await Deno.writeTextFile(`${root}/b1/manifest.json`, "{ nope");
      await assert.rejects(
        () => loadDataset(e, `${root}/b1`),
        (x: unknown) => x instanceof TraceError && x.code === "parse_error",
      );
      // A damaged table file names the file and the byte offset.
      await writeDir(`${root}/b9`, [[FLUSH_V1, flushes(4)]], "x.dat");
      const path = `${root}/b9/tlb/tlb_flush.arrows`;
      const bytes = await Deno.readFile(path);
      await Deno.writeFile(path, bytes.subarray(0, bytes.length - 30));
      await assert.rejects(
        () => loadDataset(e, `${root}/b9`),
        (x: unknown) =>
          x instanceof TraceError && x.code === "truncated" && x.location.file === path &&
          x.location.offset > 0,
      );
    });

    await t.step("loadStreams loads in-memory ingest results", async () => {
      await loadStreams(
        e,
        new Map([["mem.t", [
          rowsToIPC(INFO, [{ source: "x" }]),
          rowsToIPC(INFO, [{ source: "y" }]),
        ]]]),
      );
      assert.deepEqual((await e.query("SELECT count(*) FROM mem.t")).rows, [[2n]]);
      await assert.rejects(() => loadStreams(e, new Map([["nodot", []]])), UsageError);
    });
  } finally {
    await e.close();
    await Deno.remove(root, { recursive: true });
  }
});
