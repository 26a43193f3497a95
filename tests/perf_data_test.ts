/**
 * perf.data reader on the project's own fixtures (tests/fixtures/perf, recorded by record.sh):
 * every sample against what `perf script` printed for the same file when it was recorded, at
 * both time precisions, and the raw tables the ingester builds from them.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { RawTables } from "../ingest/arrow/raw_tables.ts";
import { openFileSource } from "../ingest/file_source.ts";
import { ingestToMemory, registerIngester } from "../ingest/ingest.ts";
import { ingestPerfData } from "../ingest/perf/perf_data_ingest.ts";
import { registerPerfIngesters } from "../ingest/perf/register.ts";
import { binaryRows, compareRows, textRows } from "../ingest/perf/testdata/script_compare.ts";

const dir = new URL("./fixtures/perf/", import.meta.url).pathname;

const FIXTURES: { data: string; samples: number; mode: string }[] = [
  { data: "small", samples: 118, mode: "file" },
  { data: "small_pipe", samples: 448, mode: "pipe" },
  { data: "small_zstd", samples: 389, mode: "zstd" },
];

for (const f of FIXTURES) {
  for (const suffix of ["script", "script_ns"]) {
    Deno.test(`perf.data ${f.mode}: ${f.data}.data equals ${f.data}_${suffix}.txt`, async () => {
      const { rows } = await binaryRows(`${dir}${f.data}.data`);
      const text = textRows(Deno.readTextFileSync(`${dir}${f.data}_${suffix}.txt`));
      equal(text.precision, suffix === "script" ? 6 : 9);
      equal(rows.length, f.samples);
      const { mismatches, compared } = compareRows(rows, text.rows, text.precision);
      deepStrictEqual(mismatches, []);
      equal(compared, f.samples * 6);
    });
  }
}

Deno.test("perf.data: -F comm,pid,tid,... output matches pid and tid", async () => {
  const { rows } = await binaryRows(`${dir}small.data`);
  const text = textRows(Deno.readTextFileSync(`${dir}small_script_pid_tid.txt`));
  ok(text.rows.every((r) => r.pid !== null));
  const { mismatches, compared } = compareRows(rows, text.rows, 9);
  deepStrictEqual(mismatches, []);
  equal(compared, 118 * 7);
});

Deno.test("perf.data: comm follows exec (sh -> true) and fork, as perf script prints it", async () => {
  const { rows } = await binaryRows(`${dir}small.data`);
  // perf script: "true 29592 [001] 1727.714739781: sched:sched_process_exec: filename=/bin/true ..."
  const exec = rows.find((r) => r.event === "sched:sched_process_exec" && r.tid === 29592)!;
  equal(exec.comm, "true");
  equal(exec.ts, 1727714739781n);
  equal(exec.payload, "filename=/bin/true pid=29592 old_pid=29592");
  // The child 29592 ran as "sh" (inherited at fork) until the COMM record of its exec, which
  // comes just before the exec tracepoint: "sh 29592 1727.714667313" then "true 29592 1727.714680513".
  const child = rows.filter((r) => r.tid === 29592);
  deepStrictEqual(child.slice(0, 3).map((r) => `${r.comm} ${r.ts}`), [
    "sh 1727714667313",
    "true 1727714680513",
    "true 1727714682566",
  ]);
  ok(child.slice(1).every((r) => r.comm === "true"));
});

interface Tables {
  [key: string]: Record<string, unknown>[];
}

async function ingest(path: string, batchRows = 65536) {
  const streams = new Map<string, Uint8Array[]>();
  const rt = new RawTables({
    write(s, t, ipc) {
      const k = `${s}.${t}`;
      const l = streams.get(k) ?? [];
      l.push(ipc);
      streams.set(k, l);
    },
  }, { batchRows });
  const src = openFileSource(path);
  const r = await ingestPerfData(src, rt);
  src.close();
  rt.finish();
  const tables: Tables = {};
  for (const [k, list] of streams) {
    tables[k] = list.flatMap((ipc) => tableFromIPC(ipc).toArray().map((row) => row.toJSON()));
  }
  return { ...r, tables };
}

Deno.test("perf.data ingest: raw tables hold the samples with typed fields", async () => {
  const { info, warnings, tables } = await ingest(`${dir}small.data`);
  deepStrictEqual(warnings, []);
  equal(info.format, "perf_data");
  equal(info.version, "2");
  equal(info.kernel, "6.18.44-fc-v595");
  equal(info.tracer_version, "perf 6.1.192");
  equal(info.cpus, 2);
  equal(info.events, 118n);
  equal(info.event_types, 4);
  equal(info.compression, "none");
  equal(info.clock, "perf");
  equal(tables["tlb.tlb_flush"]!.length, 103);
  equal(tables["syscalls.sys_enter_munmap"]!.length, 6);
  equal(tables["sched.sched_process_fork"]!.length, 4);
  equal(tables["sched.sched_process_exec"]!.length, 5);
  equal(tables["main.events"]!.length, 118);
  // "sh 29590 [001] 1727.711052023: tlb:tlb_flush: pages:1 reason:local MM shootdown (3)"
  const t0 = tables["tlb.tlb_flush"]![0]!;
  equal(t0.ts, 1727711052023n);
  equal(t0.cpu, 1);
  equal(t0.pid, 29590);
  equal(t0.comm, "sh");
  equal(t0.pages, 1n);
  equal(t0.reason, 3);
  // "pages:-1": an unsigned long of all ones
  equal(tables["tlb.tlb_flush"]![1]!.pages, 18446744073709551615n);
  // "sh 29590 [001] 1727.711578016: syscalls:sys_enter_munmap: addr: 0x7ff0a57fa000, len: 0x00009c97"
  const m0 = tables["syscalls.sys_enter_munmap"]![0]!;
  equal(m0.ts, 1727711578016n);
  equal(m0.addr, 0x7ff0a57fa000n);
  equal(m0.len, 0x9c97n);
  equal(m0.__syscall_nr, 11);
  // "sh 29590 [001] 1727.711844493: sched:sched_process_fork: comm=sh pid=29590 child_comm=sh child_pid=29592"
  const f0 = tables["sched.sched_process_fork"]![0]!;
  equal(f0.parent_comm, "sh");
  equal(f0.child_pid, 29592);
  // main.events is in time order and names each row's table
  const ev = tables["main.events"]!;
  for (let i = 1; i < ev.length; i++) ok((ev[i]!.ts as bigint) >= (ev[i - 1]!.ts as bigint));
  equal(ev[0]!.system, "tlb");
  equal(ev[0]!.event, "tlb_flush");
});

Deno.test("perf.data ingest: small batches keep comm changes (per-batch comm cache)", async () => {
  const a = await ingest(`${dir}small.data`, 7);
  const b = await ingest(`${dir}small.data`);
  deepStrictEqual(a.tables["main.events"], b.tables["main.events"]);
  const comms = new Set(a.tables["main.events"]!.filter((r) => r.pid === 29592).map((r) => r.comm));
  deepStrictEqual([...comms].sort(), ["sh", "true"]);
});

Deno.test("perf.data ingest: pipe and zstd files report their mode", async () => {
  const p = await ingest(`${dir}small_pipe.data`);
  equal(p.info.version, "2-pipe");
  ok(p.info.options.startsWith("pipe,tracing_data"));
  equal(p.info.events, 448n);
  equal(p.info.kernel, "6.18.44-fc-v595");
  const z = await ingest(`${dir}small_zstd.data`);
  equal(z.info.compression, "zstd");
  equal(z.info.events, 389n);
  // recorded with 1-page buffers: PERF_RECORD_LOST 8 + 3, LOST_SAMPLES 9 + 1 + 1 (perf report -D)
  equal(z.info.lost_events, 22n);
  deepStrictEqual(z.warnings.map((w) => w.code), ["lost_events"]);
});

Deno.test("perf readers through the ingest entry point (sniffed, registered)", async () => {
  registerPerfIngesters(registerIngester);
  for (
    const [file, format, events] of [
      ["small.data", "perf_data", 118n],
      ["small_pipe.data", "perf_data", 448n],
      ["small_script.txt", "perf_script", 118n],
    ] as const
  ) {
    const { manifest, streams } = await ingestToMemory(`${dir}${file}`);
    equal(manifest.info.format, format);
    equal(manifest.info.events, Number(events));
    const ev = streams.get("main.events")!.flatMap((ipc) => tableFromIPC(ipc).toArray());
    equal(ev.length, Number(events));
    equal(
      manifest.tables.find((t) => t.name === "tlb_flush")!.rows,
      file === "small_pipe.data" ? 433 : 103,
    );
  }
});
