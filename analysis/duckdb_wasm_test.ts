import assert from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { rowsToIPC, SpecBatchWriter } from "../core/arrow.ts";
import { UsageError } from "../core/errors.ts";
import { defineTable } from "../core/schema.ts";
import { openDuckDBWasm, resultToJSON } from "./duckdb_wasm.ts";
import { parquetToIPC } from "./parquet.ts";

const FLUSH = defineTable({
  schema: "tlb",
  name: "tlb_flush",
  doc: "tlb:tlb_flush events",
  columns: [
    { name: "ts", type: "i64", doc: "time" },
    { name: "cpu", type: "u32", doc: "cpu" },
    { name: "comm", type: "utf8", doc: "task" },
    { name: "reason", type: "utf8", doc: "reason", nullable: true },
    { name: "pages", type: "u64", doc: "pages" },
    { name: "addrs", type: "list<u64>", doc: "addresses", nullable: true },
    { name: "ok", type: "bool", doc: "flag" },
    { name: "w", type: "f64", doc: "weight" },
  ],
});

function row(i: number) {
  return {
    ts: BigInt(i) * 1000n,
    cpu: i % 4,
    comm: i % 2 ? "kworker/0:1" : 'a "quoted", name',
    reason: i % 3 === 0 ? null : `r${i % 3}`,
    pages: i === 9 ? 18446744073709551615n : BigInt(i),
    addrs: i % 5 === 0 ? null : [BigInt(i) << 12n, 0xffff_ffff_ffff_f000n],
    ok: i % 2 === 0,
    w: i / 4,
  };
}

Deno.test("duckdb-wasm engine", async (t) => {
  const e = await openDuckDBWasm();
  try {
    await t.step("version is the bundled DuckDB", () => {
      assert.match(e.name, /^duckdb-wasm v1\.\d+\.\d+/);
    });

    await t.step("registerIPC creates tlb.tlb_flush from batches streamed in", async () => {
      const streams: Uint8Array[] = [];
      const w = new SpecBatchWriter(FLUSH, (b) => {
        streams.push(b);
      }, { batchRows: 4 });
      for (let i = 0; i < 10; i++) w.append(row(i));
      await w.close();
      assert.equal(streams.length, 3);
      async function* gen() {
        for (const s of streams) yield s;
      }
      await e.registerIPC("tlb", "tlb_flush", gen());
      const d = await e.query("DESCRIBE tlb.tlb_flush");
      assert.deepEqual(d.rows.map((r) => [r[0], r[1]]), [
        ["ts", "BIGINT"],
        ["cpu", "UINTEGER"],
        ["comm", "VARCHAR"],
        ["reason", "VARCHAR"],
        ["pages", "UBIGINT"],
        ["addrs", "UBIGINT[]"],
        ["ok", "BOOLEAN"],
        ["w", "DOUBLE"],
      ]);
      const n = await e.query("SELECT count(*) AS n, sum(cpu)::INTEGER AS c FROM tlb.tlb_flush");
      assert.deepEqual(n, {
        columns: ["n", "c"],
        rows: [[10n, 0 + 1 + 2 + 3 + 0 + 1 + 2 + 3 + 0 + 1]],
      });
    });

    await t.step("query keeps bigints, nulls, lists and structs", async () => {
      const r = await e.query(
        "SELECT ts, pages, reason, addrs, {'a': cpu, 'b': [w]} AS st FROM tlb.tlb_flush WHERE ts IN (0, 9000) ORDER BY ts",
      );
      assert.deepEqual(r.columns, ["ts", "pages", "reason", "addrs", "st"]);
      assert.deepEqual(r.rows, [
        [0n, 0n, null, null, { a: 0, b: [0] }],
        [9000n, 18446744073709551615n, null, [36864n, 0xffff_ffff_ffff_f000n], {
          a: 1,
          b: [2.25],
        }],
      ]);
      // HUGEINT sums stay exact; DECIMAL with a scale becomes a number.
      const s = await e.query(
        "SELECT sum(pages) AS s, 12.34::DECIMAL(6,2) AS d FROM tlb.tlb_flush",
      );
      assert.deepEqual(s.rows, [[18446744073709551615n + 36n, 12.34]]);
    });

    await t.step(
      "a second stream appends, a schema-only stream creates an empty table",
      async () => {
        await e.registerIPC("tlb", "tlb_flush", rowsToIPC(FLUSH, [row(20)]));
        assert.deepEqual((await e.query("SELECT count(*) FROM tlb.tlb_flush")).rows, [[11n]]);
        await e.registerIPC("main", "nothing", rowsToIPC(FLUSH, []));
        await e.registerIPC("main", "nothing", rowsToIPC(FLUSH, []));
        const d = await e.query("DESCRIBE main.nothing");
        assert.deepEqual(d.rows.map((r) => r[1]), [
          "BIGINT",
          "UINTEGER",
          "VARCHAR",
          "VARCHAR",
          "UBIGINT",
          "UBIGINT[]",
          "BOOLEAN",
          "DOUBLE",
        ]);
        assert.deepEqual((await e.query("SELECT count(*) FROM main.nothing")).rows, [[0n]]);
        // Rows can be appended after the empty creation.
        await e.registerIPC("main", "nothing", rowsToIPC(FLUSH, [row(1)]));
        assert.deepEqual((await e.query("SELECT count(*) FROM main.nothing")).rows, [[1n]]);
      },
    );

    await t.step("queryCSV is DuckDB's writer with a header", async () => {
      const csv = await e.queryCSV(
        "SELECT ts, comm, reason, pages, addrs FROM tlb.tlb_flush WHERE ts IN (1000, 5000, 9000) ORDER BY ts;",
      );
      assert.equal(
        csv,
        "ts,comm,reason,pages,addrs\n" +
          '1000,kworker/0:1,r1,1,"[4096, 18446744073709547520]"\n' +
          "5000,kworker/0:1,r2,5,\n" +
          '9000,kworker/0:1,,18446744073709551615,"[36864, 18446744073709547520]"\n',
      );
      const q = await e.queryCSV("SELECT comm FROM tlb.tlb_flush WHERE ts = 0");
      assert.equal(q, 'comm\n"a ""quoted"", name"\n');
      assert.equal(await e.queryCSV("SELECT 1 AS a WHERE false"), "a\n");
      assert.equal(
        await e.queryCSV("main.nothing"),
        await e.queryCSV("SELECT * FROM main.nothing"),
      );
    });

    await t.step("queryJSON is an array of row objects with exact integers", async () => {
      const j = await e.queryJSON(
        "SELECT ts, comm, reason, pages, addrs, ok FROM tlb.tlb_flush WHERE ts IN (0, 9000) ORDER BY ts",
      );
      assert.equal(
        j,
        "[\n" +
          '\t{"ts":0,"comm":"a \\"quoted\\", name","reason":null,"pages":0,"addrs":null,"ok":true},\n' +
          '\t{"ts":9000,"comm":"kworker/0:1","reason":null,"pages":18446744073709551615,' +
          '"addrs":[36864,18446744073709547520],"ok":false}\n' +
          "]\n",
      );
      assert.equal(await e.queryJSON("SELECT 1 AS a WHERE false"), "[\n]\n");
      const parsed = JSON.parse(await e.queryJSON("SELECT 'x\u0001y' AS s, 'NaN'::DOUBLE AS n"));
      assert.deepEqual(parsed, [{ s: "x\u0001y", n: null }]);
    });

    await t.step("exportTable writes csv, json and parquet files", async () => {
      const dir = await Deno.makeTempDir();
      try {
        await e.exportTable("tlb.tlb_flush", `${dir}/a.csv`, "csv");
        const csv = await Deno.readTextFile(`${dir}/a.csv`);
        assert.equal(csv.split("\n")[0], "ts,cpu,comm,reason,pages,addrs,ok,w");
        assert.equal(csv.trimEnd().split("\n").length, 12);
        await e.exportTable("SELECT 7::UBIGINT AS x", `${dir}/a.json`, "json");
        assert.equal(await Deno.readTextFile(`${dir}/a.json`), '[\n\t{"x":7}\n]\n');
        await e.exportTable(
          "SELECT ts, comm, pages, addrs FROM tlb.tlb_flush ORDER BY ts",
          `${dir}/a.parquet`,
          "parquet",
        );
        const pq = await Deno.readFile(`${dir}/a.parquet`);
        assert.equal(new TextDecoder().decode(pq.subarray(0, 4)), "PAR1");
        const back = tableFromIPC(await parquetToIPC(pq));
        assert.equal(back.numRows, 11);
        assert.equal(String(back.schema.fields[2]!.type), "Uint64");
        assert.equal(back.getChild("pages")!.get(9), 18446744073709551615n);
        assert.deepEqual([...back.getChild("addrs")!.get(1)!], [4096n, 18446744073709547520n]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });

    await t.step("SQL errors and bad names are UsageErrors with one-line reasons", async () => {
      await assert.rejects(
        () => e.query("SELECT * FROM nope"),
        (x: unknown) =>
          x instanceof UsageError && /^SQL error: Catalog Error: .*nope/.test(x.message) &&
          !x.message.includes("\n"),
      );
      await assert.rejects(() => e.queryCSV("SELEC 1"), UsageError);
      await assert.rejects(
        () => e.registerIPC("tlb", 'x"; DROP TABLE tlb.tlb_flush; --', rowsToIPC(FLUSH, [])),
        /bad table name/,
      );
      const other = defineTable({
        schema: "tlb",
        name: "tlb_flush",
        doc: "d",
        columns: [{ name: "zzz", type: "utf8", doc: "z" }],
      });
      await assert.rejects(
        () => e.registerIPC("tlb", "tlb_flush", rowsToIPC(other, [{ zzz: "a" }])),
        (x: unknown) => x instanceof UsageError && /^cannot load tlb\.tlb_flush: /.test(x.message),
      );
    });

    await t.step("extensions are never fetched: a json/parquet read fails at once", async () => {
      const t0 = performance.now();
      await assert.rejects(() => e.query("SELECT * FROM read_parquet('x.parquet')"), UsageError);
      assert.ok(performance.now() - t0 < 5000);
    });

    await t.step("exec runs statements", async () => {
      await e.exec("CREATE TABLE main.k AS SELECT 1 AS a; INSERT INTO main.k VALUES (2);");
      assert.deepEqual((await e.query("SELECT sum(a)::INTEGER FROM main.k")).rows, [[3]]);
    });
  } finally {
    await e.close();
  }
  await assert.rejects(() => e.query("SELECT 1"), /engine is closed/);
});

Deno.test("resultToJSON renders nested values and odd keys", () => {
  assert.equal(
    resultToJSON({
      columns: ['a"b', "l"],
      rows: [[1n, [{ x: null, y: 2.5 }]], [null, new Float64Array([1, Infinity])]],
    }),
    '[\n\t{"a\\"b":1,"l":[{"x":null,"y":2.5}]},\n\t{"a\\"b":null,"l":[1,null]}\n]\n',
  );
});

Deno.test("query converts a many-batch result with nulls column by column", async () => {
  const e = await openDuckDBWasm();
  try {
    const r = await e.query(
      `SELECT i::BIGINT AS a, (i / 2)::DOUBLE AS b, i::UINTEGER AS u, 'x' || (i % 7) AS s,
              CASE WHEN i % 5 = 0 THEN NULL ELSE i::INTEGER END AS n,
              CASE WHEN i % 3 = 0 THEN NULL ELSE 'y' || i END AS ns, i % 2 = 0 AS f,
              CASE WHEN i % 4 = 0 THEN NULL ELSE [i, i + 1] END AS l
       FROM range(10000) t(i) ORDER BY i`,
    );
    assert.deepEqual(r.columns, ["a", "b", "u", "s", "n", "ns", "f", "l"]);
    assert.equal(r.rows.length, 10000);
    for (const i of [0, 1, 2047, 2048, 3333, 9999]) {
      assert.deepEqual(r.rows[i], [
        BigInt(i),
        i / 2,
        i,
        `x${i % 7}`,
        i % 5 === 0 ? null : i,
        i % 3 === 0 ? null : `y${i}`,
        i % 2 === 0,
        i % 4 === 0 ? null : [BigInt(i), BigInt(i + 1)],
      ], `row ${i}`);
    }
  } finally {
    await e.close();
  }
});
