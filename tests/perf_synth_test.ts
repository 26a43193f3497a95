/**
 * perf.data reader on files written by the synthetic writer: what this machine cannot record
 * (big-endian files, old attr sizes, COMPRESSED2, lost events, records out of order across rounds,
 * non-tracepoint samples) with expectations computed by hand.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { RawTables } from "../ingest/arrow/raw_tables.ts";
import { memorySource } from "../ingest/file_source.ts";
import { ingestPerfData } from "../ingest/perf/perf_data_ingest.ts";
import {
  binaryRows,
  compareRows,
  havePerf,
  runPerfScript,
  type ScriptRow,
  textRows,
} from "../ingest/perf/testdata/script_compare.ts";
import {
  synthPerfData,
  type SynthPerfOptions,
  type SynthRecord,
} from "../ingest/perf/testdata/synth_perf.ts";

const TPS = ["tlb:tlb_flush", "syscalls:sys_enter_munmap", "sched:sched_process_fork"];

function tlb(time: bigint, tid: number, cpu: number, pages: bigint, reason: number): SynthRecord {
  return {
    kind: "sample",
    event: "tlb:tlb_flush",
    time,
    pid: tid,
    tid,
    cpu,
    fields: { pages, reason },
  };
}

/** A small session: names, a fork, an exec, samples of every event type. */
const BASE: SynthRecord[] = [
  { kind: "comm", pid: 5, tid: 5, comm: "bash", time: 1n },
  { kind: "fork", pid: 6, ppid: 5, tid: 6, ptid: 5, time: 2n },
  tlb(1000n, 6, 1, 1n, 3),
  {
    kind: "sample",
    event: "syscalls:sys_enter_munmap",
    time: 1500n,
    pid: 6,
    tid: 6,
    cpu: 1,
    fields: { __syscall_nr: 11, addr: 0x7f31a6373000n, len: 0x8c5fn },
  },
  {
    kind: "sample",
    event: "sched:sched_process_fork",
    time: 1600n,
    pid: 5,
    tid: 5,
    cpu: 0,
    fields: { parent_comm: "bash", parent_pid: 5, child_comm: "bash", child_pid: 6 },
  },
  { kind: "round" },
  { kind: "comm", pid: 6, tid: 6, comm: "ls", time: 2000n, exec: true },
  tlb(2500n, 6, 1, 0xffffffffffffffffn, 0),
  tlb(2600n, 0, 0, 0n, 0),
  tlb(2700n, 7, 0, 2n, 3),
  { kind: "round" },
];

/** What perf script would print for BASE. */
const EXPECTED: ScriptRow[] = [
  {
    comm: "bash",
    pid: 6,
    tid: 6,
    cpu: 1,
    ts: 1000n,
    event: "tlb:tlb_flush",
    payload: "pages:1 reason:local MM shootdown (3)",
  },
  {
    comm: "bash",
    pid: 6,
    tid: 6,
    cpu: 1,
    ts: 1500n,
    event: "syscalls:sys_enter_munmap",
    payload: "addr: 0x7f31a6373000, len: 0x00008c5f",
  },
  {
    comm: "bash",
    pid: 5,
    tid: 5,
    cpu: 0,
    ts: 1600n,
    event: "sched:sched_process_fork",
    payload: "comm=bash pid=5 child_comm=bash child_pid=6",
  },
  {
    comm: "ls",
    pid: 6,
    tid: 6,
    cpu: 1,
    ts: 2500n,
    event: "tlb:tlb_flush",
    payload: "pages:-1 reason:flush on task switch (0)",
  },
  {
    comm: "swapper",
    pid: 0,
    tid: 0,
    cpu: 0,
    ts: 2600n,
    event: "tlb:tlb_flush",
    payload: "pages:0 reason:flush on task switch (0)",
  },
  {
    comm: ":7",
    pid: 7,
    tid: 7,
    cpu: 0,
    ts: 2700n,
    event: "tlb:tlb_flush",
    payload: "pages:2 reason:local MM shootdown (3)",
  },
];

async function rowsOf(o: Partial<SynthPerfOptions>, records = BASE) {
  const f = synthPerfData({ tracepoints: TPS, records, ...o });
  return await binaryRows(memorySource(f.bytes, "synth.data"));
}

Deno.test("synthetic perf.data: little-endian file reads as perf script would print it", async () => {
  const { rows, result } = await rowsOf({});
  deepStrictEqual(rows, EXPECTED);
  deepStrictEqual(result.warnings, []);
  equal(result.stats.samples, 6);
  equal(result.session.features.osRelease, "6.18.44-synth");
});

for (
  const [name, o] of [
    ["big-endian file", { littleEndian: false }],
    ["big-endian pipe", { littleEndian: false, pipe: true }],
    ["pipe mode", { pipe: true }],
    ["attr size 64 (version 0)", { attrSize: 64 }],
    ["attr size 136", { attrSize: 136 }],
    ["attr.size written as 0", { attrSize: 64, attrSizeZero: true }],
    ["COMPRESSED in 7-byte pieces", { compress: "zstd", pieceSize: 7 }],
    ["COMPRESSED2 in 5-byte pieces", { compress: "zstd2", pieceSize: 5 }],
    ["big-endian COMPRESSED pipe", { compress: "zstd", littleEndian: false, pipe: true }],
  ] as [string, Partial<SynthPerfOptions>][]
) {
  Deno.test(`synthetic perf.data: ${name} gives the same rows`, async () => {
    const { rows, result } = await rowsOf(o);
    deepStrictEqual(rows, EXPECTED);
    deepStrictEqual(result.warnings, []);
    equal(result.session.header.littleEndian, o.littleEndian ?? true);
    equal(result.session.header.pipe, o.pipe ?? false);
    equal(result.session.compressed, (o.compress ?? "none") !== "none");
  });
}

Deno.test("synthetic perf.data: big-endian ingest gives the same typed columns", async () => {
  const tables = async (le: boolean) => {
    const out = new Map<string, unknown[]>();
    const rt = new RawTables({
      write(s, t, ipc) {
        out.set(`${s}.${t}`, tableFromIPC(ipc).toArray().map((r) => r.toJSON()));
      },
    });
    const f = synthPerfData({ tracepoints: TPS, records: BASE, littleEndian: le });
    const { info } = await ingestPerfData(memorySource(f.bytes, "s.data"), rt);
    rt.finish();
    return { out, info };
  };
  const le = await tables(true);
  const be = await tables(false);
  equal(be.info.endian, "big");
  equal(le.info.endian, "little");
  deepStrictEqual(be.out, le.out);
  const tl = be.out.get("tlb.tlb_flush") as Record<string, unknown>[];
  equal(tl[1]!.pages, 0xffffffffffffffffn);
  equal(tl[1]!.comm, "ls");
  const fork = be.out.get("sched.sched_process_fork") as Record<string, unknown>[];
  equal(fork[0]!.child_comm, "bash");
  equal(fork[0]!.child_pid, 6);
});

Deno.test("synthetic perf.data: FINISHED_ROUND ordering, ties in arrival order", async () => {
  const recs: SynthRecord[] = [
    tlb(10n, 1, 0, 1n, 0),
    tlb(30n, 1, 0, 2n, 0),
    { kind: "round" }, // delivers nothing: the previous round's maximum is 0
    tlb(20n, 2, 1, 3n, 0),
    tlb(40n, 2, 1, 4n, 0),
    tlb(30n, 2, 1, 5n, 0), // same time as pages=2, arrived later
    { kind: "round" }, // delivers up to 30: 10, 20, 30 (pages 2), 30 (pages 5)
    tlb(35n, 1, 0, 6n, 0),
    { kind: "round" }, // delivers up to 40
    tlb(50n, 1, 0, 7n, 0),
  ];
  const { rows, result } = await rowsOf({}, recs);
  deepStrictEqual(rows.map((r) => `${r.ts}:${r.payload.split(" ")[0]}`), [
    "10:pages:1",
    "20:pages:3",
    "30:pages:2",
    "30:pages:5",
    "35:pages:6",
    "40:pages:4",
    "50:pages:7",
  ]);
  equal(result.stats.unordered, 0);
});

Deno.test("synthetic perf.data: a record older than what was delivered is counted", async () => {
  const recs: SynthRecord[] = [
    tlb(10n, 1, 0, 1n, 0),
    { kind: "round" },
    tlb(30n, 1, 0, 2n, 0),
    { kind: "round" }, // delivers 10 (the maximum at the previous round)
    { kind: "round" }, // delivers 30
    tlb(20n, 2, 1, 3n, 0), // older than 30, already delivered
  ];
  const { rows, result } = await rowsOf({}, recs);
  deepStrictEqual(rows.map((r) => r.ts), [10n, 30n, 20n]);
  equal(result.stats.unordered, 1);
  deepStrictEqual(result.warnings.map((w) => w.code), ["unordered_events"]);
});

Deno.test("synthetic perf.data: a COMM later in the file but earlier in time names the sample", async () => {
  const recs: SynthRecord[] = [
    tlb(10n, 8, 0, 1n, 0),
    { kind: "comm", pid: 8, tid: 8, comm: "late", time: 5n },
    { kind: "round" },
    { kind: "round" },
  ];
  const { rows } = await rowsOf({}, recs);
  equal(rows[0]!.comm, "late");
});

Deno.test("synthetic perf.data: a queue cap below a round delivers early and says so", async () => {
  const recs: SynthRecord[] = [];
  for (let i = 0; i < 50; i++) recs.push(tlb(BigInt(100 - i), 1, 0, BigInt(i), 0));
  const f = synthPerfData({ tracepoints: TPS, records: recs });
  const { rows, result } = await binaryRows(memorySource(f.bytes, "s.data"), { maxQueued: 10 });
  equal(rows.length, 50);
  ok(result.warnings.some((w) => w.code === "reorder_window"));
});

Deno.test("synthetic perf.data: lost events are counted from LOST and LOST_SAMPLES", async () => {
  const recs: SynthRecord[] = [
    tlb(10n, 1, 0, 1n, 0),
    { kind: "lost", lost: 5n, time: 11n },
    { kind: "lost_samples", lost: 2n, time: 12n },
    tlb(13n, 1, 0, 1n, 0),
  ];
  const f = synthPerfData({ tracepoints: TPS, records: recs });
  const rt = new RawTables({ write() {} });
  const { info, warnings } = await ingestPerfData(memorySource(f.bytes, "s.data"), rt);
  equal(info.lost_events, 7n);
  equal(info.events, 2n);
  deepStrictEqual(warnings.map((w) => w.message), ["perf reported 7 lost events"]);
});

Deno.test("synthetic perf.data: non-tracepoint samples are skipped and counted", async () => {
  const recs: SynthRecord[] = [
    tlb(10n, 1, 0, 1n, 0),
    { kind: "software_sample", time: 11n, pid: 1, tid: 1, cpu: 0 },
  ];
  const { rows, result } = await rowsOf({ softwareAttr: true }, recs);
  equal(rows.length, 1);
  equal(result.stats.otherSamples, 1);
  deepStrictEqual(result.warnings.map((w) => w.code), ["non_tracepoint_samples"]);
});

Deno.test("synthetic perf.data: without tracing data nothing is decoded, with a warning", async () => {
  const { rows, result } = await rowsOf({ noTracingData: true });
  equal(rows.length, 0);
  equal(result.stats.unknownFormat, 6);
  deepStrictEqual(result.warnings.map((w) => w.code), ["no_tracing_data"]);
});

// perf itself reads the synthetic files perf 6.1 supports (not COMPRESSED2, attrs over 128 bytes,
// big-endian pipes, or compressed records that decompress to nothing on their own): its output
// must equal ours. Skipped with a note where perf is not installed; a failure under CI.
const ci = Deno.env.get("IOMMU_REPLAY_CI") === "1";
const perfOk = havePerf();
const CROSS: [string, Partial<SynthPerfOptions>][] = [
  ["little-endian file", {}],
  ["big-endian file", { littleEndian: false }],
  ["pipe", { pipe: true }],
  ["attr size 64", { attrSize: 64 }],
  ["attr.size 0", { attrSize: 64, attrSizeZero: true }],
  ["zstd", { compress: "zstd", pieceSize: 60000 }],
  ["big-endian zstd", { compress: "zstd", pieceSize: 60000, littleEndian: false }],
];
const CROSS_RECORDS: SynthRecord[] = [
  ...BASE,
  tlb(3000n, 1, 0, 1n, 0),
  tlb(3200n, 1, 0, 2n, 0),
  { kind: "round" },
  tlb(3100n, 2, 1, 3n, 0),
  tlb(3300n, 2, 1, 4n, 0),
  { kind: "lost", lost: 5n, time: 3150n },
  { kind: "round" },
];
if (!perfOk) {
  const reason = "perf cross-check not run: perf is not installed";
  if (ci) {
    Deno.test("synthetic perf.data: perf is installed in CI", () => {
      throw new Error(reason);
    });
  } else Deno.test({ name: `synthetic perf.data: ${reason}`, ignore: true, fn() {} });
}
for (const [name, o] of perfOk ? CROSS : []) {
  Deno.test(`synthetic perf.data: perf script agrees on the ${name}`, async () => {
    const f = synthPerfData({ tracepoints: TPS, records: CROSS_RECORDS, ...o });
    const path = Deno.makeTempFileSync({ suffix: ".data" });
    try {
      Deno.writeFileSync(path, f.bytes);
      const { rows } = await binaryRows(memorySource(f.bytes, "synth.data"));
      const text = textRows(runPerfScript(path, ["--ns"]));
      equal(rows.length, 10);
      const { mismatches, compared } = compareRows(rows, text.rows, 9);
      deepStrictEqual(mismatches, []);
      equal(compared, 60);
    } finally {
      Deno.removeSync(path);
    }
  });
}

Deno.test("synthetic perf.data: ID_INDEX ids are checked against the attrs", async () => {
  // {header; u64 nr; {u64 id, idx, cpu, tid}[2]}: id 100 is attr 0's, id 7777 nobody's
  const b = new Uint8Array(8 + 8 + 64);
  const v = new DataView(b.buffer);
  v.setUint32(0, 69, true);
  v.setUint16(6, b.length, true);
  v.setBigUint64(8, 2n, true);
  v.setBigUint64(16, 100n, true);
  v.setBigUint64(48, 7777n, true);
  const { rows, result } = await rowsOf({}, [{ kind: "bytes", bytes: b }, ...BASE]);
  deepStrictEqual(rows, EXPECTED);
  equal(result.stats.unknownIndexIds, 1);
  deepStrictEqual(result.warnings.map((w) => w.code), ["unknown_ids"]);
});
