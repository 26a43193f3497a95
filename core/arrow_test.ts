import assert from "node:assert/strict";
import { RecordBatchReader, tableFromIPC, Type } from "apache-arrow";
import {
  arrowSchemaFor,
  DOC_METADATA_KEY,
  rowsToIPC,
  SpecBatchWriter,
  TABLE_METADATA_KEY,
} from "./arrow.ts";
import { defineTable } from "./schema.ts";

const SPEC = defineTable({
  schema: "tlb",
  name: "demo",
  doc: "one row per demo event",
  columns: [
    { name: "ts", type: "i64", doc: "time" },
    { name: "addr", type: "u64", doc: "address", nullable: true },
    { name: "cpu", type: "u16", doc: "cpu" },
    { name: "delta", type: "i8", doc: "signed small" },
    { name: "sid", type: "u32", doc: "sid", nullable: true },
    { name: "dev", type: "utf8", doc: "device", nullable: true },
    { name: "ats", type: "bool", doc: "ats", nullable: true },
    { name: "ratio", type: "f64", doc: "ratio" },
    { name: "pfns", type: "list<u64>", doc: "pfns", nullable: true },
    { name: "ids", type: "list<i32>", doc: "ids" },
  ],
});

const ROWS = [
  {
    ts: -5n,
    addr: 0xffff_ffff_ffff_f000n,
    cpu: 65535,
    delta: -128,
    sid: 4294967295,
    dev: "0000:6a:01.0",
    ats: true,
    ratio: 0.5,
    pfns: [1n, 2n],
    ids: [-1, 7],
  },
  {
    ts: 10,
    addr: null,
    cpu: 0,
    delta: 127,
    sid: null,
    dev: null,
    ats: null,
    ratio: 2,
    pfns: null,
    ids: [],
  },
  {
    ts: 9007199254740993n,
    addr: 0n,
    cpu: 3,
    delta: 0,
    sid: 1,
    dev: "0000:6a:01.0",
    ats: false,
    ratio: -1.25,
    pfns: new BigUint64Array([18446744073709551615n]),
    ids: new Int32Array([2147483647]),
  },
];

Deno.test("arrowSchemaFor maps every logical type and carries docs", () => {
  const s = arrowSchemaFor(SPEC);
  assert.deepEqual(
    s.fields.map((f) => [f.name, String(f.type), f.nullable]),
    [
      ["ts", "Int64", false],
      ["addr", "Uint64", true],
      ["cpu", "Uint16", false],
      ["delta", "Int8", false],
      ["sid", "Uint32", true],
      ["dev", "Dictionary<Int32, Utf8>", true],
      ["ats", "Bool", true],
      ["ratio", "Float64", false],
      ["pfns", "List<Uint64>", true],
      ["ids", "List<Int32>", false],
    ],
  );
  assert.equal(s.metadata.get(TABLE_METADATA_KEY), "tlb.demo");
  assert.equal(s.metadata.get(DOC_METADATA_KEY), "one row per demo event");
  assert.equal(s.fields[1]!.metadata.get(DOC_METADATA_KEY), "address");
  assert.equal(s.fields[8]!.type.children[0]!.nullable, false);
});

Deno.test("rowsToIPC round-trips values, nulls and bigints", () => {
  const t = tableFromIPC(rowsToIPC(SPEC, ROWS));
  assert.equal(t.numRows, 3);
  const col = (n: string) => t.getChild(n)!;
  assert.deepEqual([...col("ts")], [-5n, 10n, 9007199254740993n]);
  assert.deepEqual([...col("addr")], [0xffff_ffff_ffff_f000n, null, 0n]);
  assert.deepEqual([...col("cpu")], [65535, 0, 3]);
  assert.deepEqual([...col("delta")], [-128, 127, 0]);
  assert.deepEqual([...col("sid")], [4294967295, null, 1]);
  assert.deepEqual([...col("dev")], ["0000:6a:01.0", null, "0000:6a:01.0"]);
  assert.deepEqual([...col("ats")], [true, null, false]);
  assert.deepEqual([...col("ratio")], [0.5, 2, -1.25]);
  assert.equal(col("addr").nullCount, 1);
  assert.equal(col("ts").nullCount, 0);
  const pf = col("pfns");
  assert.deepEqual([...pf.get(0)!], [1n, 2n]);
  assert.equal(pf.get(1), null);
  assert.deepEqual([...pf.get(2)!], [18446744073709551615n]);
  const ids = col("ids");
  assert.deepEqual([...ids.get(0)!], [-1, 7]);
  assert.deepEqual([...ids.get(1)!], []);
  assert.deepEqual([...ids.get(2)!], [2147483647]);
  // The dictionary holds each distinct string once, indices are Int32.
  const dev = col("dev");
  assert.equal(dev.type.typeId, Type.Dictionary);
  assert.equal(dev.data[0]!.dictionary!.length, 1);
  assert.ok(dev.data[0]!.values instanceof Int32Array);
});

Deno.test("rowsToIPC of no rows is a schema-only stream", () => {
  const bytes = rowsToIPC(SPEC, []);
  const t = tableFromIPC(bytes);
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields.length, 10);
  // Ends with the end-of-stream marker (continuation + zero length).
  assert.deepEqual([...bytes.subarray(bytes.length - 8)], [255, 255, 255, 255, 0, 0, 0, 0]);
});

Deno.test("bad values raise a TypeError naming table, column and row", () => {
  const ok = ROWS[1]!;
  assert.throws(
    () => rowsToIPC(SPEC, [ok, { ...ok, cpu: 65536 }]),
    /tlb\.demo\.cpu \(row 1\).*out of range for u16/,
  );
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, cpu: 1.5 }]), /expected an integer/);
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, addr: -1n }]), /addr.*out of range for u64/);
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, ts: 2n ** 63n }]), /out of range for i64/);
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, ts: 0.5 }]), /expected a bigint/);
  assert.throws(
    () => rowsToIPC(SPEC, [{ ...ok, ts: null }]),
    /tlb\.demo\.ts: null in a non-nullable/,
  );
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, dev: 5 }]), /dev.*expected a string/);
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, ats: 1 }]), /ats.*expected a boolean/);
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, ids: 3 }]), /ids.*expected an array/);
  assert.throws(() => rowsToIPC(SPEC, [{ ...ok, ids: [1, "x"] }]), /ids.*expected an integer/);
});

Deno.test("SpecBatchWriter emits one complete stream per batch", async () => {
  const spec = defineTable({
    schema: "main",
    name: "w",
    doc: "d",
    columns: [
      { name: "i", type: "u32", doc: "i" },
      { name: "s", type: "utf8", doc: "s" },
      { name: "l", type: "list<i64>", doc: "l", nullable: true },
    ],
  });
  const out: Uint8Array[] = [];
  const w = new SpecBatchWriter(spec, async (b) => {
    await Promise.resolve();
    out.push(b);
  }, { batchRows: 4 });
  await w.appendAll((function* () {
    for (let i = 0; i < 10; i++) {
      yield { i, s: `s${i % 3}`, l: i % 2 ? null : Array.from({ length: i }, (_, k) => BigInt(k)) };
    }
  })());
  assert.equal(out.length, 2);
  assert.equal(w.rowsWritten, 10);
  await w.close();
  assert.equal(out.length, 3);
  assert.equal(w.batchesWritten, 3);
  assert.throws(() => w.append({ i: 1, s: "x", l: null }), /append after close/);

  // Each stream stands alone with its own dictionary; together they hold the 10 rows in order.
  const sizes: number[] = [];
  const is: number[] = [];
  const ss: string[] = [];
  const ls: (bigint[] | null)[] = [];
  for (const bytes of out) {
    const t = tableFromIPC(bytes);
    sizes.push(t.numRows);
    is.push(...[...t.getChild("i")!] as number[]);
    ss.push(...[...t.getChild("s")!] as string[]);
    for (const v of t.getChild("l")!) ls.push(v === null ? null : [...v] as bigint[]);
  }
  assert.deepEqual(sizes, [4, 4, 2]);
  assert.deepEqual(is, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(ss, ["s0", "s1", "s2", "s0", "s1", "s2", "s0", "s1", "s2", "s0"]);
  assert.deepEqual(ls[4], [0n, 1n, 2n, 3n]);
  assert.equal(ls[5], null);
  assert.deepEqual(ls[0], []);

  // The concatenation reads back as three streams with arrow's multi-stream reader.
  const all = new Uint8Array(out.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of out) {
    all.set(b, off);
    off += b.length;
  }
  let streams = 0;
  for (const r of RecordBatchReader.readAll(all)) {
    streams++;
    for (const _ of r) { /* drain */ }
  }
  assert.equal(streams, 3);
});

Deno.test("SpecBatchWriter row numbers in errors count across batches", () => {
  const spec = defineTable({
    schema: "main",
    name: "w",
    doc: "d",
    columns: [{ name: "i", type: "u8", doc: "i" }],
  });
  const w = new SpecBatchWriter(spec, () => {}, { batchRows: 2 });
  w.append({ i: 1 });
  w.append({ i: 2 });
  w.append({ i: 3 });
  assert.throws(() => w.append({ i: 300 }), /main\.w\.i \(row 3\)/);
});

Deno.test("SpecBatchWriter with no rows emits a schema-only stream on close", async () => {
  const out: Uint8Array[] = [];
  const w = new SpecBatchWriter(SPEC, (b) => {
    out.push(b);
  });
  await w.close();
  await w.close();
  assert.equal(out.length, 1);
  const t = tableFromIPC(out[0]!);
  assert.equal(t.numRows, 0);
  assert.equal(t.schema.fields[0]!.name, "ts");
  assert.throws(() => new SpecBatchWriter(SPEC, () => {}, { batchRows: 0 }), /batchRows/);
});
