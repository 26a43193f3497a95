import assert from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { rowsToIPC } from "../core/arrow.ts";
import { TraceError } from "../core/errors.ts";
import { defineTable } from "../core/schema.ts";
import {
  IPCStreamSplitter,
  ipcStreamStats,
  readIPCStreams,
  splitIPCStreams,
} from "./ipc_streams.ts";

const SPEC = defineTable({
  schema: "main",
  name: "t",
  doc: "d",
  columns: [
    { name: "x", type: "u64", doc: "x" },
    { name: "s", type: "utf8", doc: "s" },
  ],
});

const A = rowsToIPC(SPEC, [{ x: 1n, s: "a" }]);
const B = rowsToIPC(SPEC, [{ x: 2n, s: "b" }, { x: 3n, s: "c" }, { x: 4n, s: "b" }]);
const EMPTY = rowsToIPC(SPEC, []);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function xs(bytes: Uint8Array): bigint[] {
  return [...tableFromIPC(bytes).getChild("x")!] as bigint[];
}

Deno.test("splitIPCStreams cuts a concatenation into its streams", () => {
  const all = concat(A, EMPTY, B);
  const got = splitIPCStreams(all);
  assert.deepEqual(got.map((g) => [g.offset, g.batches, g.rows]), [
    [0, 1, 1],
    [A.length, 0, 0],
    [A.length + EMPTY.length, 1, 3],
  ]);
  assert.deepEqual(got[0]!.bytes, A);
  assert.deepEqual(got[2]!.bytes, B);
  assert.deepEqual(xs(got[2]!.bytes), [2n, 3n, 4n]);
});

Deno.test("the splitter gives the same streams whatever the chunk size", () => {
  const all = concat(B, A, B);
  for (const size of [1, 3, 7, 64, 1000, all.length]) {
    const s = new IPCStreamSplitter("x");
    const got = [];
    for (let o = 0; o < all.length; o += size) got.push(...s.push(all.subarray(o, o + size)));
    got.push(...s.end());
    assert.deepEqual(got.map((g) => g.rows), [3, 1, 3], `chunk ${size}`);
    assert.deepEqual(got[2]!.bytes, B);
  }
});

Deno.test("a last stream without its end marker gets one", () => {
  const cut = A.subarray(0, A.length - 8);
  const got = splitIPCStreams(concat(B, cut));
  assert.equal(got.length, 2);
  assert.deepEqual(got[1]!.bytes, A);
  assert.deepEqual(xs(got[1]!.bytes), [1n]);
});

Deno.test("a stream missing its end marker is cut at the next schema", () => {
  const got = splitIPCStreams(concat(A.subarray(0, A.length - 8), B));
  assert.deepEqual(got.map((g) => g.rows), [1, 3]);
  assert.deepEqual(xs(got[0]!.bytes), [1n]);
});

Deno.test("truncated and malformed input raise TraceErrors with offsets", () => {
  const all = concat(A, B);
  const cutAt = A.length + 100;
  assert.throws(
    () => splitIPCStreams(all.subarray(0, cutAt), "t.arrows"),
    (e: unknown) =>
      e instanceof TraceError && e.code === "truncated" && e.location.file === "t.arrows" &&
      e.location.offset === A.length,
  );
  // A record batch where a stream should start.
  const firstLen = 8 + new DataView(A.buffer).getUint32(4, true);
  const noSchema = A.subarray(firstLen);
  assert.throws(
    () => splitIPCStreams(noSchema),
    (e: unknown) => e instanceof TraceError && /not a schema/.test(e.message),
  );
  // Garbage length.
  assert.throws(
    () => splitIPCStreams(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])),
    (e: unknown) => e instanceof TraceError && e.code === "bad_size",
  );
  // Metadata whose root offset points outside it.
  assert.throws(
    () =>
      splitIPCStreams(
        new Uint8Array([0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0]),
      ),
    (e: unknown) => e instanceof TraceError && e.code === "bad_value" && e.location.offset === 0,
  );
  // An IPC file instead of streams.
  assert.throws(
    () => splitIPCStreams(new TextEncoder().encode("ARROW1\0\0xxxxxxxx")),
    (e: unknown) => e instanceof TraceError && e.code === "bad_magic",
  );
  // End marker with nothing before it.
  assert.throws(
    () => splitIPCStreams(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])),
    (e: unknown) => e instanceof TraceError && e.code === "bad_value",
  );
});

Deno.test("ipcStreamStats counts batches and rows without decoding", () => {
  assert.deepEqual(ipcStreamStats(B), { batches: 1, rows: 3 });
  assert.deepEqual(ipcStreamStats(EMPTY), { batches: 0, rows: 0 });
  assert.throws(() => ipcStreamStats(B.subarray(0, B.length - 20)), TraceError);
});

Deno.test("readIPCStreams reads a file in small chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/t.arrows`;
    await Deno.writeFile(path, concat(A, B, B));
    const got = [];
    for await (const p of readIPCStreams(path, 16)) got.push(p);
    assert.deepEqual(got.map((g) => [g.rows, g.offset]), [[1, 0], [3, A.length], [
      3,
      A.length + B.length,
    ]]);
    await Deno.writeFile(path, concat(A, B.subarray(0, 50)));
    await assert.rejects(async () => {
      for await (const _ of readIPCStreams(path, 16)) { /* drain */ }
    }, (e: unknown) => e instanceof TraceError && e.location.file === path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
