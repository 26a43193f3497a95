/**
 * `perf script` text reader: the text fixtures read to the same rows as the perf.data files they
 * were printed from; typed fields when a payload parser and a format are at hand; payload and
 * key=value columns otherwise; unparsed lines counted and reported.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import type { TraceWarning } from "../core/errors.ts";
import type { FieldValue } from "../core/event.ts";
import type { TraceInfoRow } from "../core/trace_info.ts";
import { RawTables } from "../ingest/arrow/raw_tables.ts";
import { type FileSource, memorySource, openFileSource } from "../ingest/file_source.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { ingestPerfData } from "../ingest/perf/perf_data_ingest.ts";
import {
  ingestPerfScript,
  type PayloadParserFactory,
  type PerfScriptOptions,
} from "../ingest/perf/perf_script_ingest.ts";
import { SCRIPT_OPTIONS } from "../ingest/perf/register.ts";
import { binaryRows } from "../ingest/perf/testdata/script_compare.ts";

const dir = new URL("./fixtures/perf/", import.meta.url).pathname;

type Row = Record<string, unknown>;

async function tablesOf(
  read: (rt: RawTables) => Promise<{ info: TraceInfoRow; warnings: TraceWarning[] }>,
) {
  const tables = new Map<string, Row[]>();
  const rt = new RawTables({
    write(s, t, ipc) {
      const k = `${s}.${t}`;
      tables.set(k, [
        ...(tables.get(k) ?? []),
        ...tableFromIPC(ipc).toArray().map((r) => r.toJSON()),
      ]);
    },
  });
  const r = await read(rt);
  rt.finish();
  return { ...r, tables };
}

function text(src: FileSource | string, opts: PerfScriptOptions = {}) {
  const s = typeof src === "string" ? openFileSource(src) : src;
  return tablesOf((rt) => Promise.resolve(ingestPerfScript(s, rt, undefined, opts)));
}

function mem(t: string): FileSource {
  return memorySource(new TextEncoder().encode(t), "script.txt");
}

const PAIRS = [
  ["small", "small_script", 6],
  ["small", "small_script_ns", 9],
  ["small", "small_script_pid_tid", 9],
  ["small_pipe", "small_pipe_script", 6],
  ["small_pipe", "small_pipe_script_ns", 9],
  ["small_zstd", "small_zstd_script", 6],
  ["small_zstd", "small_zstd_script_ns", 9],
  ["small", "small_script_header", 6],
] as const;

for (const [data, txt, precision] of PAIRS) {
  Deno.test(`perf script text: ${txt}.txt reads to the rows of ${data}.data`, async () => {
    const { rows } = await binaryRows(`${dir}${data}.data`);
    const { info, warnings, tables } = await text(`${dir}${txt}.txt`);
    deepStrictEqual(warnings, []);
    equal(info.format, "perf_script");
    equal(info.events, BigInt(rows.length));
    equal(info.unparsed_lines, 0n);
    equal(info.options.split(",")[0], `precision=${precision === 9 ? "ns" : "us"}`);
    const unit = 10n ** BigInt(9 - precision);
    const events = tables.get("main.events")!;
    equal(events.length, rows.length);
    const next = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const b = rows[i]!, t = events[i]!;
      deepStrictEqual(
        [t.ts, t.cpu, t.pid, t.comm, `${t.system}:${t.event}`],
        [b.ts - b.ts % unit, b.cpu, b.tid, b.comm, b.event],
        `row ${i}`,
      );
      // the event's own table: same order, payload as printed
      const key = `${t.system}.${t.event}`;
      const k = next.get(key) ?? 0;
      next.set(key, k + 1);
      equal(tables.get(key)![k]!.payload, b.payload, `row ${i}`);
    }
  });
}

Deno.test("perf script text: the --header lines give kernel, perf version and CPUs", async () => {
  const { info } = await text(`${dir}small_script_header.txt`);
  equal(info.kernel, "6.18.44-fc-v595");
  equal(info.tracer_version, "perf 6.1.192");
  equal(info.cpus, 2);
  const plain = await text(`${dir}small_script.txt`);
  equal(plain.info.kernel, null);
  equal(plain.info.cpus, 2); // highest CPU seen + 1
});

Deno.test("perf script text: key=value payloads become string columns, payload kept", async () => {
  const t = [
    "            perf 14982 [001]   768.772507:         kmem:mm_page_alloc: page=0x173f53 pfn=0x173f53 order=0 migratetype=0 gfp_flags=GFP_HIGHUSER|__GFP_ACCOUNT",
    "            perf 14982 [001]   768.772545:         kmem:mm_page_alloc: page=0x173834 pfn=0x173834 order=1 migratetype=0",
    "     workload.sh 10663 [001]   425.890850: syscalls:sys_enter_munmap: addr: 0x7f31a6373000, len: 0x00008c5f",
  ].join("\n");
  const { tables, info } = await text(mem(t));
  equal(info.events, 3n);
  const a = tables.get("kmem.mm_page_alloc")!;
  deepStrictEqual(a[0], {
    ts: 768772507000n,
    cpu: 1,
    pid: 14982,
    comm: "perf",
    flags: null,
    preempt_count: null,
    buffer: "",
    payload:
      "page=0x173f53 pfn=0x173f53 order=0 migratetype=0 gfp_flags=GFP_HIGHUSER|__GFP_ACCOUNT",
    page: "0x173f53",
    pfn: "0x173f53",
    order: "0",
    migratetype: "0",
    gfp_flags: "GFP_HIGHUSER|__GFP_ACCOUNT",
  });
  equal(a[1]!.order, "1");
  equal(a[1]!.gfp_flags, null);
  const m = tables.get("syscalls.sys_enter_munmap")![0]!;
  equal(m.addr, "0x7f31a6373000");
  equal(m.len, "0x00008c5f");
});

Deno.test("perf script text: unparsed lines are counted and reported, call chains skipped", async () => {
  const t = [
    "# a comment",
    "         python3 26181 [000]  1635.641648: syscalls:sys_enter_munmap: addr: 0x7f2cdb55b000, len: 0x00009c97",
    "\t           20ce7 munmap+0x7 (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)",
    "\t           1a34f _dl_sysdep_start+0x7f (/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)",
    "",
    "this line is not perf script output",
    "bash 26181 [000]  1635.642848: syscalls:sys_enter_munmap: addr: 0x7fb69566f000, len: 0x00009c97",
    "garbage again",
  ].join("\n");
  const { info, warnings, tables } = await text(mem(t));
  equal(info.events, 2n);
  equal(info.unparsed_lines, 2n);
  ok(info.options.includes("callchains"));
  deepStrictEqual(warnings.map((w) => w.code), ["unparsed_lines"]);
  ok(warnings[0]!.message.includes("lines 6, 8"));
  equal(tables.get("main.events")![1]!.comm, "bash");
  equal(tables.get("main.events")![1]!.ts, 1635642848000n);
});

Deno.test("perf script text: a file of one overlong line is unparsed, not read whole", async () => {
  const long = "x".repeat(5000);
  const { info } = await text(mem(long + "\n" + long), { maxLineBytes: 1000 });
  equal(info.unparsed_lines, 2n);
  equal(info.events, 0n);
});

/**
 * A payload parser double for two print fmts (`pages:%ld reason:%s (%d)` and the syscall
 * `addr: 0x%08lx, len: 0x%08lx`): enough to check that typed values land in the format's columns.
 */
const testParser: PayloadParserFactory = (fmt: EventFormat) => {
  if (fmt.name === "tlb_flush") {
    return (p) => {
      const m = /^pages:(-?\d+) reason:.* \((\d+)\)$/.exec(p);
      return m ? { pages: BigInt.asUintN(64, BigInt(m[1]!)), reason: Number(m[2]) } : null;
    };
  }
  if (fmt.name === "sys_enter_munmap") {
    return (p) => {
      const m = /^addr: (0x[0-9a-f]+), len: (0x[0-9a-f]+)$/.exec(p);
      return m ? { __syscall_nr: null, addr: BigInt(m[1]!), len: BigInt(m[2]!) } : null;
    };
  }
  return null;
};

Deno.test("perf script text: with a payload parser, fields are typed like the binary's", async () => {
  const bin = await tablesOf((rt) => ingestPerfData(openFileSource(`${dir}small.data`), rt));
  const txt = await text(`${dir}small_script_ns.txt`, {
    payloadParser: testParser,
    kernel: "6.18",
  });
  ok(txt.info.options.includes("typed_events=2/4"));
  const pick = (rows: Row[], cols: string[]) => rows.map((r) => cols.map((c) => r[c]));
  const tl = ["ts", "cpu", "pid", "comm", "reason", "pages"];
  deepStrictEqual(
    pick(txt.tables.get("tlb.tlb_flush")!, tl),
    pick(bin.tables.get("tlb.tlb_flush")!, tl),
  );
  const mu = ["ts", "pid", "addr", "len"];
  deepStrictEqual(
    pick(txt.tables.get("syscalls.sys_enter_munmap")!, mu),
    pick(bin.tables.get("syscalls.sys_enter_munmap")!, mu),
  );
  // typed tables have the format's columns (no payload column); the others keep the text
  ok(!("payload" in txt.tables.get("tlb.tlb_flush")![0]!));
  equal(txt.tables.get("tlb.tlb_flush")![0]!.pages, 1n);
  ok("payload" in txt.tables.get("sched.sched_process_exec")![0]!);
});

Deno.test("perf script text: supplied formats are tried first; a misfit payload gives nulls", async () => {
  const seen: string[] = [];
  const spy: PayloadParserFactory = (fmt) => {
    seen.push(`${fmt.system}:${fmt.name}:${fmt.id}`);
    return testParser(fmt);
  };
  const fmt = (await binaryRows(`${dir}small.data`)).result.session.tracing!.formats;
  const t = [
    "   sh 29590 [001]  1727.711052023: tlb:tlb_flush: pages:1 reason:local MM shootdown (3)",
    "   sh 29590 [001]  1727.711052024: tlb:tlb_flush: pages=1 reason=3",
  ].join("\n");
  const { tables, warnings } = await text(mem(t), { payloadParser: spy, formats: fmt });
  // the perf.data's own tlb_flush format (id 188 on the recording machine) was tried first
  equal(seen[0], "tlb:tlb_flush:188");
  const rows = tables.get("tlb.tlb_flush")!;
  equal(rows[0]!.reason, 3);
  equal(rows[1]!.reason, null);
  deepStrictEqual(warnings.map((w) => w.code), ["payload_unparsed"]);
  const values: FieldValue[] = [rows[1]!.pages as FieldValue];
  deepStrictEqual(values, [null]);
});

Deno.test("perf script text: the registered reader types fields like the binary file", async () => {
  const bin = await tablesOf((rt) => ingestPerfData(openFileSource(`${dir}small.data`), rt));
  // no header and no formats: the bundled formats (newest first) are tried
  const txt = await text(`${dir}small_script_ns.txt`, SCRIPT_OPTIONS);
  deepStrictEqual(txt.warnings, []);
  ok(txt.info.options.includes("typed_events=4/4"));
  for (const [name, rows] of bin.tables) {
    if (name.startsWith("main.")) continue;
    const trows = txt.tables.get(name)!;
    equal(trows.length, rows.length, name);
    for (let i = 0; i < rows.length; i++) {
      for (const [col, v] of Object.entries(rows[i]!)) {
        if (col === "flags" || col === "preempt_count") {
          equal(trows[i]![col], null); // perf script does not print them
        } else if (col === "__syscall_nr") {
          equal(trows[i]![col], null); // nor the syscall number
        } else if (col === "ts") {
          equal(trows[i]![col], v, `${name} row ${i}`);
        } else deepStrictEqual(trows[i]![col], v, `${name} row ${i} ${col}`);
      }
    }
  }
});
