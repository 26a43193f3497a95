import assert from "node:assert/strict";
import { RecordBatchReader } from "apache-arrow";
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import {
  forEachEvent,
  ipcStreamsOfFile,
  type ReadableTable,
  readEventsInOrder,
} from "./read_events.ts";
import { RawTables } from "./raw_tables.ts";
import { eventTablesOfMemory, ingestToMemory } from "../ingest.ts";

/** Three tables written in batches of 2 rows (index batches of 2 too), interleaved. */
function sample() {
  const streams = new Map<string, Uint8Array[]>();
  const rt = new RawTables({
    write: (s, t, b) => {
      const k = `${s}.${t}`;
      streams.set(k, [...(streams.get(k) ?? []), b]);
    },
  }, { batchRows: 2 });
  const a = rt.tableForFields("sys", "a", [
    { name: "n", value: 1 },
    { name: "big", value: 1n << 63n },
    { name: "s", value: "x" },
    { name: "pid", value: 5 }, // collides with the common column: stored as f_pid
  ]);
  const b = rt.tableForFields("sys", "b", [{ name: "arr", value: [1n, 2n] }]);
  const c = rt.tableForFields("other", "c", [{ name: "v", value: 1 }]);
  const rows: [number, bigint, ...unknown[]][] = [];
  const add = (
    t: typeof a,
    ts: bigint,
    cpu: number,
    comm: string,
    v: (FieldValue | undefined)[],
  ) => {
    rt.addValues(t, ts, cpu, 100 + cpu, comm, null, 1, cpu === 3 ? "inst" : "", v);
    rows.push([t.ordinal, ts]);
  };
  add(a, 10n, 0, "p0", [1, 5n, "one", 7]);
  add(c, 11n, 1, "p1", [9]);
  add(b, 12n, 2, "p2", [[3n, 4n]]);
  add(a, 13n, 3, "p3", [null, (1n << 64n) - 1n, null, 8]);
  add(b, 14n, 0, "p0", [null]);
  add(a, 15n, 1, "p1", [-2, 0n, "one", 9]);
  add(c, 16n, 2, "p2", [10]);
  add(a, 17n, 2, "p2", [3, 6n, "two", 10]);
  rt.finish();
  const table = (schema: string, name: string, t: typeof a): ReadableTable => ({
    schema,
    name,
    source: streams.get(`${schema}.${name}`)!,
    columns: t.builder.info,
  });
  return {
    index: streams.get("main.events")!,
    tables: [table("sys", "a", a), table("sys", "b", b), table("other", "c", c)],
  };
}

const brief = (e: TraceEvent) =>
  `${e.ts} ${e.system}:${e.event} cpu${e.cpu} pid${e.pid} ${e.comm} [${e.buffer}] ${e.flags}/${e.preempt_count} ` +
  JSON.stringify(e.fields, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));

// text-sourced integer columns are int64: they read back as bigints
const WANT_SYS = [
  '10 sys:a cpu0 pid100 p0 [] 0/1 {"n":"1n","big":"5n","s":"one","pid":"7n"}',
  '12 sys:b cpu2 pid102 p2 [] 0/1 {"arr":["3n","4n"]}',
  '13 sys:a cpu3 pid103 p3 [inst] 0/1 {"n":null,"big":"18446744073709551615n","s":null,"pid":"8n"}',
  '14 sys:b cpu0 pid100 p0 [] 0/1 {"arr":null}',
  '15 sys:a cpu1 pid101 p1 [] 0/1 {"n":"-2n","big":"0n","s":"one","pid":"9n"}',
  '17 sys:a cpu2 pid102 p2 [] 0/1 {"n":"3n","big":"6n","s":"two","pid":"10n"}',
];

Deno.test("forEachEvent: wanted tables in index order, typed values, nulls, renamed columns", async () => {
  const { index, tables } = sample();
  const seen: string[] = [];
  const n = await forEachEvent(index, tables, (k) => k.startsWith("sys:"), (e) => {
    seen.push(brief(e));
  });
  assert.equal(n, 6);
  assert.deepEqual(seen, WANT_SYS);
});

Deno.test("forEachEvent: one reused object per table by default, fresh ones on request", async () => {
  const { index, tables } = sample();
  const reused = new Set<TraceEvent>();
  await forEachEvent(index, tables, () => true, (e) => void reused.add(e));
  assert.equal(reused.size, 3);
  const fresh: TraceEvent[] = [];
  await forEachEvent(index, tables, () => true, (e) => void fresh.push(e), { reuse: false });
  assert.equal(new Set(fresh).size, 8);
  assert.deepEqual(fresh.filter((e) => e.system === "sys").map(brief), WANT_SYS);
  assert.deepEqual(fresh.filter((e) => e.system === "other").map((e) => e.fields["v"]), [9n, 10n]);
});

Deno.test("readEventsInOrder: the same events as fresh objects; nothing wanted reads nothing", async () => {
  const { index, tables } = sample();
  const got: string[] = [];
  for await (const e of readEventsInOrder(index, tables, (k) => k !== "other:c")) {
    got.push(brief(e));
  }
  assert.deepEqual(got, WANT_SYS);
  let none = 0;
  for await (const _ of readEventsInOrder(index, tables, () => false)) none++;
  assert.equal(none, 0);
  assert.equal(await forEachEvent(index, tables, () => false, () => {}), 0);
});

Deno.test("forEachEvent: a trace.dat's events match Arrow's own row access, table by table", async () => {
  const path = new URL("../../examples/sva_two_iommus.dat", import.meta.url).pathname;
  const mem = await ingestToMemory(path);
  const { manifest } = mem;
  const { index, tables } = eventTablesOfMemory(mem);
  const got = new Map<string, string[]>();
  const n = await forEachEvent(index!, tables, () => true, (e) => {
    const k = `${e.system}.${e.event}`;
    got.set(k, [...(got.get(k) ?? []), brief(e)]);
  });
  assert.equal(n, manifest.info.events);
  for (const t of tables) {
    const fieldOf = new Map((t.columns ?? []).map((c) => [c.name, c.field]));
    const want: string[] = [];
    for (const bytes of t.source as Uint8Array[]) {
      for (const batch of RecordBatchReader.readAll(bytes)) {
        for (const b of batch) {
          for (let i = 0; i < b.numRows; i++) {
            const fields: Record<string, FieldValue> = {};
            for (const f of b.schema.fields) {
              if (
                ["ts", "cpu", "pid", "comm", "flags", "preempt_count", "buffer"].includes(f.name)
              ) {
                continue;
              }
              const v = b.getChild(f.name)!.get(i);
              fields[fieldOf.get(f.name) ?? f.name] = v !== null && typeof v === "object"
                ? Array.from((v as { toArray(): ArrayLike<number> }).toArray())
                : v;
            }
            want.push(brief({
              ts: b.getChild("ts")!.get(i),
              cpu: b.getChild("cpu")!.get(i),
              pid: b.getChild("pid")!.get(i),
              comm: b.getChild("comm")!.get(i),
              system: t.schema,
              event: t.name,
              buffer: b.getChild("buffer")!.get(i),
              flags: b.getChild("flags")!.get(i),
              preempt_count: b.getChild("preempt_count")!.get(i),
              fields,
            }));
          }
        }
      }
    }
    assert(want.length > 0);
    assert.deepEqual(got.get(`${t.schema}.${t.name}`), want, `${t.schema}.${t.name}`);
  }
});

Deno.test("ipcStreamsOfFile: whole streams through a buffer smaller than one; a cut file throws", async () => {
  const { index } = sample();
  const path = await Deno.makeTempFile();
  try {
    const all = new Uint8Array(index.reduce((n, b) => n + b.length, 0));
    let off = 0;
    for (const b of index) {
      all.set(b, off);
      off += b.length;
    }
    await Deno.writeFile(path, all);
    for (const block of [16, 100, 1000, 1 << 20]) {
      const got = [...ipcStreamsOfFile(path, block)];
      assert.deepEqual(got, index, `block ${block}`);
    }
    await Deno.writeFile(path, all.subarray(0, all.length - 5));
    assert.throws(() => [...ipcStreamsOfFile(path, 64)], /ends inside an Arrow IPC stream/);
    await Deno.writeFile(path, new Uint8Array(0));
    assert.deepEqual([...ipcStreamsOfFile(path)], []);
  } finally {
    await Deno.remove(path);
  }
});
