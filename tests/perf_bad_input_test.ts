/**
 * Bad perf.data input: every failure is a TraceError naming the file, the section and a byte
 * offset inside the file, or (for a damaged record stream) a result with a damaged_tail warning
 * and what came before; never another exception, a hang or a huge allocation.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { TraceError } from "../core/errors.ts";
import { memorySource } from "../ingest/file_source.ts";
import { type PerfReadResult, readPerfData } from "../ingest/perf/perf_reader.ts";
import {
  synthLayout,
  synthPerfData,
  type SynthRecord,
} from "../ingest/perf/testdata/synth_perf.ts";

const dir = new URL("./fixtures/perf/", import.meta.url).pathname;
const TPS = ["tlb:tlb_flush", "syscalls:sys_enter_munmap"];
const RECORDS: SynthRecord[] = [
  { kind: "comm", pid: 5, tid: 5, comm: "bash", time: 1n },
  ...Array.from({ length: 6 }, (_, i): SynthRecord => ({
    kind: "sample",
    event: "tlb:tlb_flush",
    time: BigInt(100 + i),
    pid: 5,
    tid: 5,
    cpu: i % 2,
    fields: { pages: BigInt(i), reason: 3 },
  })),
  { kind: "round" },
];

type Outcome = { error: TraceError } | { result: PerfReadResult };

async function read(bytes: Uint8Array, name = "bad.data"): Promise<Outcome> {
  try {
    return { result: await readPerfData(memorySource(bytes, name), () => {}) };
  } catch (e) {
    if (e instanceof TraceError) return { error: e };
    throw e;
  }
}

async function expectError(bytes: Uint8Array, code: string, section: string, offset?: number) {
  const o = await read(bytes);
  ok("error" in o, "expected a TraceError");
  const e = (o as { error: TraceError }).error;
  equal(e.code, code, e.message);
  equal(e.location.file, "bad.data");
  equal(e.location.section, section, e.message);
  if (offset !== undefined) equal(e.location.offset, offset, e.message);
  ok(e.message.startsWith(`bad.data: ${section} at byte ${e.location.offset}: `));
  return e;
}

function u64At(b: Uint8Array, at: number, v: bigint): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setBigUint64(at, v, true);
  return c;
}

Deno.test("perf bad input: wrong magic, perf.data v1, too short", async () => {
  const good = synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes;
  const bad = good.slice();
  bad.set(new TextEncoder().encode("PERFXXXX"));
  await expectError(bad, "bad_magic", "file header", 0);
  bad.set(new TextEncoder().encode("PERFFILE"));
  const e = await expectError(bad, "bad_magic", "file header", 0);
  ok(e.message.includes("version 1"));
  await expectError(good.slice(0, 12), "truncated", "file header", 0);
  await expectError(new Uint8Array(0), "truncated", "file header", 0);
});

Deno.test("perf bad input: attr_size 0, header size and section sizes that lie", async () => {
  const good = synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes;
  await expectError(u64At(good, 16, 0n), "bad_value", "file header", 16);
  await expectError(u64At(good, 8, 4096n), "bad_size", "file header", 8);
  // attrs {offset, size} at 24, data at 40
  await expectError(u64At(good, 32, 1n << 40n), "bad_size", "file header", 24);
  await expectError(u64At(good, 48, BigInt(good.length)), "bad_size", "file header", 40);
  await expectError(u64At(good, 40, 1n << 62n), "bad_size", "file header", 40);
  // attrs size not a multiple of attr_size
  await expectError(u64At(good, 32, 144n * 2n + 8n), "bad_size", "attrs", 104);
});

Deno.test("perf bad input: attr ids, feature table and tracing data that lie", async () => {
  const good = synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes;
  const L = synthLayout(good);
  // attr 0's ids {offset, size} sit after its 128-byte perf_event_attr
  await expectError(u64At(good, L.attrs + 128 + 8, 1n << 40n), "bad_size", "attrs", L.attrs + 128);
  await expectError(u64At(good, L.attrs + 128 + 8, 12n), "bad_size", "attrs", L.attrs + 128);
  // feature table: the first entry is the tracing data
  await expectError(
    u64At(good, L.features + 8, 1n << 50n),
    "bad_size",
    "feature table",
    L.features,
  );
  const tdAt = Number(new DataView(good.buffer).getBigUint64(L.features, true));
  // a tracing data that does not start with its magic
  const noMagic = good.slice();
  noMagic[tdAt] = 0;
  await expectError(noMagic, "bad_value", "tracing data", tdAt);
  // header_page's u64 size (after magic 10, "0.6\0" 4, endian, long size, page size 4, tag 12)
  const hp = tdAt + 10 + 4 + 1 + 1 + 4 + 12;
  await expectError(u64At(good, hp, 1n << 40n), "bad_size", "header_page", hp);
});

Deno.test("perf bad input: huge counts in tracing data and attr records", async () => {
  const good = synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes;
  const L = synthLayout(good);
  const tdAt = Number(new DataView(good.buffer).getBigUint64(L.features, true));
  const v = new DataView(good.buffer);
  // Walk to the ftrace formats count: after header_page and header_event.
  let p = tdAt + 10 + 4 + 1 + 1 + 4 + 12;
  p += 8 + Number(v.getBigUint64(p, true)) + 13;
  p += 8 + Number(v.getBigUint64(p, true));
  const huge = good.slice();
  new DataView(huge.buffer).setUint32(p, 0xffffffff, true);
  await expectError(huge, "bad_size", "ftrace formats", p);
  const sys = good.slice();
  new DataView(sys.buffer).setUint32(p + 4, 0x7fffffff, true);
  await expectError(sys, "bad_size", "event formats", p + 4);
  // A pipe HEADER_ATTR record whose attr.size exceeds the record.
  const pipe = synthPerfData({ tracepoints: TPS, records: RECORDS, pipe: true }).bytes;
  const bad = pipe.slice();
  new DataView(bad.buffer).setUint32(16 + 8 + 4, 4000, true);
  await expectError(bad, "bad_size", "attr record", 16 + 12);
});

Deno.test("perf bad input: truncated anywhere, file mode is a located TraceError", async () => {
  const files = [
    synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes,
    synthPerfData({ tracepoints: TPS, records: RECORDS, littleEndian: false }).bytes,
    synthPerfData({ tracepoints: TPS, records: RECORDS, compress: "zstd", pieceSize: 9 }).bytes,
    Deno.readFileSync(`${dir}small.data`),
  ];
  let cuts = 0;
  for (const f of files) {
    const step = Math.max(1, Math.floor(f.length / 400));
    for (let n = 0; n < f.length; n += step) {
      const o = await read(f.subarray(0, n));
      ok("error" in o, `a file cut at ${n} of ${f.length} was read`);
      const e = (o as { error: TraceError }).error;
      equal(e.location.file, "bad.data");
      ok(e.location.section.length > 0);
      ok(e.location.offset >= 0 && e.location.offset <= n, `${e.message} (cut at ${n})`);
      cuts++;
    }
  }
  ok(cuts > 1200);
});

Deno.test("perf bad input: a truncated pipe keeps what came before, with a warning", async () => {
  const f = Deno.readFileSync(`${dir}small_pipe.data`);
  let errors = 0, partial = 0, warned = 0;
  let last = -1;
  for (let n = 0; n < f.length; n += Math.floor(f.length / 300)) {
    const o = await read(f.subarray(0, n));
    if ("error" in o) {
      errors++;
      ok(o.error.location.offset <= n);
      continue;
    }
    partial++;
    const r = o.result;
    ok(r.stats.samples >= last, "more bytes never give fewer samples");
    last = r.stats.samples;
    ok(r.stats.samples <= 448);
    // A cut between two records looks like a complete pipe; any other cut is reported.
    const d = r.warnings.find((w) => w.code === "damaged_tail");
    if (d) {
      warned++;
      ok(r.stats.lostBytes > 0 && d.location!.offset <= n);
    }
  }
  ok(warned > partial * 0.8, `${warned} of ${partial} cuts reported`);
  ok(errors <= 2, `${errors} errors`); // only cuts inside the 16-byte header
  ok(partial > 250);
  equal(last > 400, true);
});

Deno.test("perf bad input: damaged records inside the data section", async () => {
  const good = synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes;
  const L = synthLayout(good);
  // The first record (COMM) gets size 0: nothing after it can be read.
  const zero = good.slice();
  new DataView(zero.buffer).setUint16(L.data + 6, 0, true);
  const o = await read(zero);
  ok("result" in o);
  const r = (o as { result: PerfReadResult }).result;
  equal(r.stats.samples, 0);
  equal(r.stats.lostBytes, L.dataEnd - L.data);
  deepStrictEqual(r.warnings.map((w) => [w.code, w.location?.offset]), [["damaged_tail", L.data]]);
  // A record claiming more bytes than the data section has left.
  const long = good.slice();
  new DataView(long.buffer).setUint16(L.data + 6, 0xfff8, true);
  const o2 = await read(long);
  ok("result" in o2);
  ok((o2 as { result: PerfReadResult }).result.warnings[0]!.message.includes("truncated"));
});

Deno.test("perf bad input: corrupt zstd data and lying COMPRESSED2 sizes stop with a warning", async () => {
  const z = synthPerfData({ tracepoints: TPS, records: RECORDS, compress: "zstd", pieceSize: 40 })
    .bytes;
  const L = synthLayout(z);
  const bad = z.slice();
  for (let i = L.data + 8; i < L.data + 40; i++) bad[i] = 0xa5; // the zstd frame header
  const o = await read(bad);
  ok("result" in o);
  const r = (o as { result: PerfReadResult }).result;
  equal(r.stats.samples, 0);
  ok(r.warnings.some((w) => w.code === "damaged_tail" && w.location?.offset === L.data));
  const z2 = synthPerfData({ tracepoints: TPS, records: RECORDS, compress: "zstd2", pieceSize: 40 })
    .bytes;
  const L2 = synthLayout(z2);
  const lie = u64At(z2, L2.data + 8, 1n << 40n);
  const o2 = await read(lie);
  ok("result" in o2);
  ok(
    (o2 as { result: PerfReadResult }).result.warnings.some((w) => w.message.includes("data_size")),
  );
});

Deno.test("perf bad input: a sample whose RAW size lies is skipped and counted", async () => {
  // A sample whose RAW size points past the record is skipped and counted.
  const good = synthPerfData({ tracepoints: TPS, records: RECORDS }).bytes;
  const L = synthLayout(good);
  const v = new DataView(good.buffer);
  const commSize = v.getUint16(L.data + 6, true);
  const s0 = L.data + commSize; // first sample: header 8 + 48 fixed bytes, then u32 RAW size
  const bad = good.slice();
  new DataView(bad.buffer).setUint32(s0 + 56, 0xfffffff0, true);
  const o = await read(bad);
  ok("result" in o);
  const r = (o as { result: PerfReadResult }).result;
  equal(r.stats.samples, 5);
  equal(r.stats.badSamples, 1);
  ok(r.warnings.some((w) => w.code === "bad_samples"));
});
