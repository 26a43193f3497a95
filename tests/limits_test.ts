/**
 * Resource limits of the readers: each cap on a size, count or length taken from an input is
 * proven with a crafted input. A cap ends in a typed error (`limit_exceeded` for a fixed cap,
 * `bad_size` / `bad_value` for a value the file itself contradicts) or, for damaged data
 * inside a readable file, a warning; never a huge allocation.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { TraceError } from "../core/errors.ts";
import { memorySource } from "../ingest/file_source.ts";
import { ingestToMemory } from "../ingest/ingest.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";
import { MAX_EVENT_TABLES, RawTables } from "../ingest/arrow/raw_tables.ts";
import { readPerfData } from "../ingest/perf/perf_reader.ts";
import { synthPerfData } from "../ingest/perf/testdata/synth_perf.ts";
import { MAX_UNCOMPRESSED_BLOCK } from "../ingest/tracedat/compression.ts";
import { MAX_CHUNK_PAGES, MAX_STREAM_MEMORY, readRecords } from "../ingest/tracedat/events.ts";
import { openTraceDat } from "../ingest/tracedat/tracedat_file.ts";
import { randomEvents } from "../synth/_random_events.ts";
import { writeTraceDat } from "../synth/tracedat_writer.ts";

const FORMATS = knownFormats("6.18", { systems: ["tlb", "iommu"] });
const PARSED = new Map<string, EventFormat>(
  FORMATS.map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system)]),
);
const EVENTS = randomEvents(PARSED, { seed: 9, count: 60, cpus: 2 });
const ENC = new TextEncoder();

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Offset of the first v7 section (after the file start, compression names and options offset). */
function v7AfterHeader(b: Uint8Array): number {
  let p = 10;
  p = b.indexOf(0, p) + 1; // version
  p += 1 + 1 + 4; // endian, long size, page size
  p = b.indexOf(0, p) + 1; // compression name
  p = b.indexOf(0, p) + 1; // compression version
  return p + 8;
}

/** v7 sections in file order: id, flags and where the header starts. */
function v7Sections(b: Uint8Array): { id: number; flags: number; at: number; size: number }[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = [];
  for (let at = v7AfterHeader(b); at + 16 <= b.length;) {
    const size = Number(v.getBigUint64(at + 8, true));
    out.push({ id: v.getUint16(at, true), flags: v.getUint16(at + 2, true), at, size });
    at += 16 + size;
  }
  return out;
}

function throwsTrace(f: () => unknown, code: string, re: RegExp): TraceError {
  try {
    f();
  } catch (e) {
    ok(e instanceof TraceError, String(e));
    equal(e.code, code, e.message);
    ok(re.test(e.message), e.message);
    ok(Number.isSafeInteger(e.location.offset) && e.location.offset >= 0, e.message);
    return e;
  }
  throw new Error("expected a TraceError");
}

async function ingestBytes(bytes: Uint8Array, name: string) {
  const tmp = await Deno.makeTempFile({ suffix: `-${name}` });
  try {
    await Deno.writeFile(tmp, bytes);
    return await ingestToMemory(tmp);
  } finally {
    await Deno.remove(tmp);
  }
}

Deno.test("limits: a compressed section claiming more than the block cap is refused before decompressing", () => {
  const good = writeTraceDat({ cpus: 2, compression: "zstd", formats: FORMATS, events: EVENTS });
  const hdr = v7Sections(good).find((s) => s.id === 16)!;
  ok(hdr.flags & 1, "header_info section is compressed");
  const bad = good.slice();
  // Payload: u32 compressed size, u32 uncompressed size, data.
  new DataView(bad.buffer).setUint32(hdr.at + 16 + 4, MAX_UNCOMPRESSED_BLOCK + 1, true);
  throwsTrace(() => openTraceDat(memorySource(bad, "big.dat")), "limit_exceeded", /cap of a block/);
  equal(MAX_UNCOMPRESSED_BLOCK, 256 << 20);
});

Deno.test("limits: a CPU data chunk claiming more than 64 pages is not decompressed (damaged tail)", () => {
  const good = writeTraceDat({ cpus: 2, compression: "zstd", formats: FORMATS, events: EVENTS });
  const t0 = openTraceDat(memorySource(good, "good.dat"));
  const cpu0 = t0.buffers[0]!.cpus.find((c) => c.cpu === 0)!;
  let all = 0;
  const r0 = readRecords(t0);
  while (r0.next()) all++;
  const bad = good.slice();
  // u32 chunk count, then per chunk u32 csize, u32 usize.
  new DataView(bad.buffer).setUint32(cpu0.offset + 8, MAX_CHUNK_PAGES * 4096 + 1, true);
  const t = openTraceDat(memorySource(bad, "chunk.dat"));
  const r = readRecords(t);
  let n = 0;
  while (r.next()) n++;
  const w = r.warnings.filter((x) => x.code === "damaged_tail");
  equal(w.length, 1);
  ok(/exceeds the 262144-byte cap of a block/.test(w[0]!.message), w[0]!.message);
  equal(n, all - EVENTS.filter((e) => e.cpu === 0).length, "CPU 1 is still read");
});

Deno.test("limits: CPU streams that would hold more than 512 MiB of pages at once are refused", () => {
  // An extra BUFFER option: 40 CPUs with 16 MiB pages over the same bytes.
  const build = (ncpu: number, at: number) =>
    writeTraceDat({
      cpus: 2,
      compression: "none",
      formats: FORMATS,
      events: EVENTS,
      options: {
        extra: [{
          id: 3,
          data: cat(
            le64(BigInt(at)),
            ENC.encode("many\0local\0"),
            le32(1 << 24),
            le32(ncpu),
            ...Array.from({ length: ncpu }, (_, i) => cat(le32(i), le64(64n), le64(4096n))),
          ),
        }],
      },
    });
  const first = build(40, 0);
  const bytes = build(40, v7AfterHeader(first));
  equal(40 * (1 << 24) > MAX_STREAM_MEMORY, true);
  const t = openTraceDat(memorySource(bytes, "many.dat"));
  throwsTrace(
    () => readRecords(t),
    "limit_exceeded",
    /would hold \d+ bytes of pages at once \(limit 536870912\)/,
  );
  // 8 such CPUs (128 MiB) are within the budget and read (nothing but damage in them).
  const few = build(8, v7AfterHeader(first));
  const r = readRecords(openTraceDat(memorySource(few, "few.dat")));
  while (r.next()) { /* reads */ }
});

Deno.test("limits: a buffer page size that is not a power of two in [64, 16M] is refused", () => {
  const build = (pageSize: number, at: number) =>
    writeTraceDat({
      cpus: 2,
      compression: "none",
      formats: FORMATS,
      events: EVENTS,
      options: {
        extra: [{
          id: 3,
          data: cat(le64(BigInt(at)), ENC.encode("odd\0local\0"), le32(pageSize), le32(0)),
        }],
      },
    });
  const at = v7AfterHeader(build(3, 0));
  for (const ps of [3, 32, 5000, 1 << 25, 0xffffffff]) {
    throwsTrace(
      () => openTraceDat(memorySource(build(ps, at), "ps.dat")),
      "bad_value",
      new RegExp(`page size ${ps} is not a power of two`),
    );
  }
});

Deno.test("limits: buffer and section offsets past the end are bad_size errors located inside the file", () => {
  for (const off of [1n << 40n, (1n << 63n) + 5n, 0xffffffffffffffffn]) {
    const bytes = writeTraceDat({
      cpus: 2,
      compression: "none",
      formats: FORMATS,
      events: EVENTS,
      options: {
        extra: [{
          id: 3,
          data: cat(le64(off), ENC.encode("far\0local\0"), le32(4096), le32(0)),
        }],
      },
    });
    const e = throwsTrace(
      () => openTraceDat(memorySource(bytes, "far.dat")),
      "bad_size",
      /leaves no room for a section header/,
    );
    ok(e.location.offset <= bytes.length);
  }
  // v6: an instance BUFFER option pointing past the end.
  const v6 = writeTraceDat({
    version: 6,
    cpus: 2,
    formats: FORMATS,
    events: EVENTS,
    options: { extra: [{ id: 3, data: cat(le64(1n << 62n), ENC.encode("far\0")) }] },
  });
  throwsTrace(() => openTraceDat(memorySource(v6, "far6.dat")), "bad_size", /past the end/);
});

Deno.test("limits: counts in TIME_SHIFT and GUEST options are bounded by the option's size", () => {
  const withOpt = (id: number, data: Uint8Array) =>
    writeTraceDat({
      cpus: 2,
      compression: "none",
      formats: FORMATS,
      events: EVENTS,
      options: { extra: [{ id, data }] },
    });
  throwsTrace(
    () =>
      openTraceDat(memorySource(withOpt(12, cat(le64(1n), le32(1), le32(0x7fffffff))), "ts.dat")),
    "bad_size",
    /time shift cpus 2147483647 exceeds/,
  );
  throwsTrace(
    () =>
      openTraceDat(
        memorySource(withOpt(12, cat(le64(1n), le32(1), le32(1), le32(0xfffffff0))), "ts2.dat"),
      ),
    "bad_size",
    /time shift samples 4294967280 exceeds/,
  );
  throwsTrace(
    () =>
      openTraceDat(
        memorySource(withOpt(13, cat(ENC.encode("g\0"), le64(1n), le32(0xffffffff))), "g.dat"),
      ),
    "bad_size",
    /guest vcpus 4294967295 exceeds/,
  );
});

Deno.test("limits: v6 CPU count and format counts above their caps are refused", () => {
  const v6 = writeTraceDat({ version: 6, cpus: 2, formats: FORMATS, events: EVENTS });
  // The u32 CPU count sits right before the "options  \0" tag.
  const tag = ENC.encode("options  \0");
  let at = -1;
  for (let i = 0; i + tag.length <= v6.length && at < 0; i++) {
    if (tag.every((c, k) => v6[i + k] === c)) at = i - 4;
  }
  ok(at > 0);
  const cpus = v6.slice();
  new DataView(cpus.buffer).setUint32(at, 70000, true);
  throwsTrace(
    () => openTraceDat(memorySource(cpus, "cpus.dat")),
    "bad_size",
    /cpu count 70000 exceeds 65536/,
  );
  // The ftrace format count follows header_page and header_event (u64 size + text each).
  const v = new DataView(v6.buffer);
  let p = 10 + 2 + 1 + 1 + 4 + 12;
  p += 8 + Number(v.getBigUint64(p, true)) + 13;
  p += 8 + Number(v.getBigUint64(p, true));
  const fmts = v6.slice();
  new DataView(fmts.buffer).setUint32(p, (1 << 20) + 1, true);
  throwsTrace(
    () => openTraceDat(memorySource(fmts, "fmts.dat")),
    "bad_size",
    /ftrace format count 1048577 exceeds 1048576/,
  );
});

Deno.test("limits: text header counts past any machine are ignored, lost-event sums saturate at u64", async () => {
  const line = (cpu: number, ts: string) =>
    `           bash-42      [${
      String(cpu).padStart(3, "0")
    }] .....  ${ts}: tlb_flush: pages:1 reason:flush on task switch (0)`;
  const kernel = [
    "# tracer: nop",
    "#",
    `# entries-in-buffer/entries-written: 2/${"9".repeat(40)}   #P:${"2".repeat(400)}`,
    "#",
    line(0, "100.000001"),
    "CPU:1 [LOST 18446744073709551615 EVENTS]",
    "CPU:1 [LOST 18446744073709551615 EVENTS]",
    line(3, "100.000002"),
    "",
  ].join("\n");
  const k = await ingestBytes(ENC.encode(kernel), "k.txt");
  equal(k.manifest.info.cpus, 4, "falls back to the highest CPU seen + 1");
  equal(k.manifest.info.lost_events, Number((1n << 64n) - 1n));
  const report = ["cpus=18446744073709551615", line(1, "5.000000100"), ""].join("\n");
  const r = await ingestBytes(ENC.encode(report), "r.txt");
  equal(r.manifest.info.cpus, 2);
  const script = [
    "# ========",
    "# nrcpus online : 99999999999999",
    "# ========",
    "            bash    42 [001]   100.000001: tlb:tlb_flush: pages=1 reason=0",
    "",
  ].join("\n");
  const s = await ingestBytes(ENC.encode(script), "s.txt");
  equal(s.manifest.info.format, "perf_script");
  equal(s.manifest.info.cpus, 2);
});

Deno.test("limits: text lines longer than 64 KiB are skipped and counted, not decoded", async () => {
  const body = "           bash-42      [000] .....  100.000001: tlb_flush: pages:1 reason:0";
  const text = [
    "# tracer: nop",
    "#",
    body,
    "x".repeat((64 << 10) + 1),
    body.replace("100.000001", "100.000002"),
    "",
  ]
    .join("\n");
  const m = await ingestBytes(ENC.encode(text), "long.txt");
  equal(m.manifest.info.events, 2);
  ok(
    m.manifest.warnings.some((w) => /64 KiB|65536|overlong|longer than/.test(w.message)),
    JSON.stringify(m.manifest.warnings),
  );
});

Deno.test("limits: perf tracing data and attrs sections above their caps are limit_exceeded", async () => {
  const TPS = ["tlb:tlb_flush"];
  const recs = [{ kind: "round" as const }];
  // A pipe file whose HEADER_TRACING_DATA record claims 512 MiB of tracing data.
  const pipe = synthPerfData({ tracepoints: TPS, records: recs, pipe: true }).bytes;
  const v = new DataView(pipe.buffer, pipe.byteOffset, pipe.byteLength);
  let p = 16;
  let td = -1;
  while (p + 8 <= pipe.length) {
    const type = v.getUint32(p, true);
    const size = v.getUint16(p + 6, true);
    if (type === 66) {
      td = p;
      break;
    }
    p += size;
  }
  ok(td > 0, "pipe file has a tracing data record");
  const big = pipe.slice();
  new DataView(big.buffer).setUint32(td + 8, 512 << 20, true);
  await rejectsTrace(
    readPerfData(memorySource(big, "td.data"), () => {}),
    "limit_exceeded",
    /tracing data exceeds/,
  );
  // A file whose attrs section is 65 MiB (a valid file otherwise: sizes fit the file).
  const huge = new Uint8Array((65 << 20) + 104);
  huge.set(ENC.encode("PERFILE2"));
  const hv = new DataView(huge.buffer);
  hv.setBigUint64(8, 104n, true);
  hv.setBigUint64(16, 136n, true); // attr_size: 120-byte attr + ids section
  hv.setBigUint64(24, 104n, true);
  hv.setBigUint64(32, BigInt(136 * Math.floor((65 << 20) / 136)), true);
  await rejectsTrace(
    readPerfData(memorySource(huge, "attrs.data"), () => {}),
    "limit_exceeded",
    /attrs section exceeds/,
  );
});

Deno.test("limits: perf script lines longer than 1 MiB are counted as unparsed, never decoded", async () => {
  const ok1 = "            bash    42 [001]   100.000001: tlb:tlb_flush: pages=1 reason=0";
  const text = [ok1, `${ok1} ${"x".repeat(3 << 20)}`, ok1.replace("100.000001", "100.000002"), ""]
    .join("\n");
  const m = await ingestBytes(ENC.encode(text), "long_script.txt");
  equal(m.manifest.info.format, "perf_script");
  equal(m.manifest.info.events, 2);
  equal(m.manifest.info.unparsed_lines, 1);
});

Deno.test("limits: a perf attr with more than 4M ids is limit_exceeded before they are read", async () => {
  const nIds = (1 << 22) + 1;
  const idsAt = 104 + 136;
  const file = new Uint8Array(idsAt + nIds * 8);
  file.set(ENC.encode("PERFILE2"));
  const v = new DataView(file.buffer);
  v.setBigUint64(8, 104n, true); // header size
  v.setBigUint64(16, 136n, true); // attr_size: a 120-byte attr + its ids section
  v.setBigUint64(24, 104n, true); // attrs section
  v.setBigUint64(32, 136n, true);
  v.setUint32(104 + 4, 120, true); // attr.size
  v.setBigUint64(104 + 120, BigInt(idsAt), true); // ids offset
  v.setBigUint64(104 + 128, BigInt(nIds * 8), true); // ids size
  await rejectsTrace(
    readPerfData(memorySource(file, "ids.data"), () => {}),
    "limit_exceeded",
    /4194305 ids exceed the limit of 4194304/,
  );
});

Deno.test("limits: perf LOST counts that sum past u64 saturate in trace_info", async () => {
  const bytes = synthPerfData({
    tracepoints: ["tlb:tlb_flush"],
    records: [
      { kind: "lost", lost: (1n << 64n) - 1n, time: 1n },
      { kind: "lost", lost: 5n, time: 2n },
      { kind: "round" },
    ],
  }).bytes;
  const m = await ingestBytes(bytes, "lost.data");
  equal(m.manifest.info.lost_events, Number((1n << 64n) - 1n));
});

async function rejectsTrace(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    ok(e instanceof TraceError, String(e));
    equal(e.code, code, e.message);
    ok(re.test(e.message), e.message);
    return;
  }
  throw new Error("expected a TraceError");
}

Deno.test("limits: more than 8192 event types (tables) is limit_exceeded; each table starts small", () => {
  const rt = new RawTables({ write() {} }, { file: "many.txt" });
  const before = Deno.memoryUsage();
  for (let i = 0; i < MAX_EVENT_TABLES; i++) {
    const t = rt.tableForFields("s", `e${i}`, [{ name: "a", value: 1 }, { name: "b", value: "x" }]);
    rt.addValues(t, 1n, 0, 1, "c", 0, 0, "", [1, "x"]);
  }
  const after = Deno.memoryUsage();
  const perTable = (after.heapUsed + after.external - before.heapUsed - before.external) /
    MAX_EVENT_TABLES;
  // Each column used to reserve 1024 rows up front: about 110 KB per table; now a few KB.
  ok(perTable < 48 << 10, `${perTable} bytes per table`);
  throwsTrace(
    () => rt.tableForFields("s", "one_more", [{ name: "a", value: 1 }]),
    "limit_exceeded",
    /^many\.txt: events at byte 0: more than 8192 event types \(tables\); the next is s:one_more$/,
  );
  equal(rt.all.length, MAX_EVENT_TABLES);
});

Deno.test("limits: the caps are what the docs say", () => {
  deepStrictEqual(
    {
      block: MAX_UNCOMPRESSED_BLOCK,
      chunkPages: MAX_CHUNK_PAGES,
      streams: MAX_STREAM_MEMORY,
      tables: MAX_EVENT_TABLES,
    },
    { block: 256 << 20, chunkPages: 64, streams: 512 << 20, tables: 8192 },
  );
});
