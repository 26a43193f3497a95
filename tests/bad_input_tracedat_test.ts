/**
 * Bad trace.dat input: every outcome is either a typed TraceError naming the file, the section and
 * a byte offset inside the file, or a read whose damaged tail is reported; never another exception,
 * a hang or a huge allocation.
 */
import { ok, strictEqual } from "node:assert/strict";
import { TraceError } from "../core/errors.ts";
import { memorySource } from "../ingest/file_source.ts";
import { readRecords } from "../ingest/tracedat/events.ts";
import { openTraceDat } from "../ingest/tracedat/tracedat_file.ts";
import { ingestToMemory } from "../ingest/ingest.ts";

const here = new URL("./fixtures/", import.meta.url).pathname;
const V7 = Deno.readFileSync(`${here}small_v7_zstd.dat`);

function readAll(bytes: Uint8Array, name: string) {
  const t = openTraceDat(memorySource(bytes, name));
  const r = readRecords(t);
  let n = 0;
  for (const _ of r.records()) n++;
  return { n, warnings: [...t.warnings, ...r.warnings], stats: r.stats };
}

function expectTyped(bytes: Uint8Array, name: string): TraceError | { n: number } {
  try {
    return readAll(bytes, name);
  } catch (e) {
    if (!(e instanceof TraceError)) throw new Error(`${name}: untyped error: ${e}`);
    strictEqual(e.location.file, name);
    ok(e.location.section.length > 0, "section named");
    ok(
      e.location.offset >= 0 && e.location.offset <= bytes.length,
      `offset ${e.location.offset} in file`,
    );
    ok(e.message.includes(name) && e.message.includes(e.location.section));
    return e;
  }
}

const FULL = readAll(V7, "full.dat").n;

Deno.test("not a trace: typed bad_magic error through ingest", async () => {
  const tmp = await Deno.makeTempFile();
  await Deno.writeFile(tmp, crypto.getRandomValues(new Uint8Array(5000)));
  try {
    await ingestToMemory(tmp);
    throw new Error("no error");
  } catch (e) {
    ok(e instanceof TraceError, String(e));
    strictEqual(e.code, "bad_magic");
  } finally {
    await Deno.remove(tmp);
  }
});

Deno.test("truncation at every byte of the metadata start and at sampled points after it", () => {
  const points: number[] = [];
  for (let i = 0; i < 3000; i++) points.push(i);
  for (let i = 3000; i < V7.length; i += 1009) points.push(i);
  for (let i = V7.length - 3000; i < V7.length; i += 7) points.push(i);
  let errors = 0;
  let partial = 0;
  for (const n of points) {
    const r = expectTyped(V7.subarray(0, n), `cut${n}.dat`);
    if (r instanceof TraceError) errors++;
    else {
      ok(r.n <= FULL);
      partial++;
    }
  }
  ok(errors > 3000, `errors ${errors}`);
  ok(partial >= 0);
});

Deno.test("a damaged data tail keeps the events before it, with a warning and a count", () => {
  const t = openTraceDat(memorySource(V7, "x"));
  const top = t.buffers[0]!;
  const lastCpu = top.cpus.reduce((a, b) => (a.offset > b.offset ? a : b));
  // v7 keeps its options after the data, so damage a chunk in place: the reader must keep the
  // events before it and stop that CPU with a warning.
  const bad = V7.slice();
  bad.fill(0xee, lastCpu.offset + 4 + 8, lastCpu.offset + 4 + 8 + 64);
  const d = readAll(bad, "corrupt.dat");
  ok(d.n > 0 && d.n < FULL, `kept ${d.n} of ${FULL}`);
  ok(d.warnings.some((w) => w.code === "damaged_tail"), "damaged_tail warning");
  ok(d.stats.lostBytes > 0, "lost bytes counted");
});

Deno.test("wrong version, unknown compression, lying sizes", () => {
  const v = V7.slice();
  v[10] = "8".charCodeAt(0);
  const e1 = expectTyped(v, "v8.dat");
  ok(e1 instanceof TraceError && e1.code === "unsupported_version");
  const c = V7.slice();
  const at = new TextDecoder().decode(c.subarray(0, 40)).indexOf("zstd");
  c.set(new TextEncoder().encode("lz4x"), at);
  const e2 = expectTyped(c, "lz4.dat");
  ok(e2 instanceof TraceError && e2.code === "unknown_compression", String(e2));
  // The first options offset points past the end.
  const o = V7.slice();
  const off = at + 5 + 6;
  new DataView(o.buffer).setBigUint64(off, 1n << 40n, true);
  const e3 = expectTyped(o, "opt.dat");
  ok(e3 instanceof TraceError && e3.code === "bad_size", String(e3));
  // Every 8-byte window of the first 2 KiB set to a huge value: typed errors or a normal read.
  for (let i = 0; i < 2048; i += 8) {
    const m = V7.slice();
    new DataView(m.buffer).setUint32(i, 0xfffffff0, true);
    expectTyped(m, `lie${i}.dat`);
  }
});

Deno.test("v6: a file cut inside its CPU data keeps the events before the cut", async () => {
  const gz = await Deno.open(`${here}small_v6.dat.gz`);
  const v6 = new Uint8Array(
    await new Response(gz.readable.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
  );
  const t = openTraceDat(memorySource(v6, "v6"));
  const last = t.buffers[0]!.cpus.reduce((a, b) => (a.offset > b.offset ? a : b));
  const cut = last.offset + Math.floor(last.size / 2) + 123;
  const d = readAll(v6.subarray(0, cut), "v6cut.dat");
  ok(d.n > 0 && d.n < FULL, `kept ${d.n} of ${FULL}`);
  const w = d.warnings.find((x) => x.code === "damaged_tail");
  ok(w, "damaged_tail warning");
  strictEqual(d.stats.lostBytes, last.offset + last.size - cut);
});
