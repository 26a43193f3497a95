/**
 * The project's own text fixtures (tests/fixtures/text, written by its record.sh): one recording
 * printed by the kernel under several options and by trace-cmd report in several modes, and the
 * trace.dat of the same buffer. Every text form must give the trace.dat's events.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { type Table, tableFromIPC } from "apache-arrow";
import type { TraceEvent } from "../core/event.ts";
import { RawTables } from "../ingest/arrow/raw_tables.ts";
import { openFileSource } from "../ingest/file_source.ts";
import { type CompareOptions, compareTextWithDat } from "../ingest/ftrace_text/_compare_events.ts";
import { defaultPayloadParser } from "../ingest/ftrace_text/register.ts";
import { ingestText } from "../ingest/ftrace_text/text_ingest.ts";
import {
  FtraceTextReader,
  type TextEvent,
  type TextFlavor,
} from "../ingest/ftrace_text/text_reader.ts";
import { traceDatEvents } from "../ingest/tracedat/tracedat_events.ts";
import { openTraceDat } from "../ingest/tracedat/tracedat_file.ts";
import { ingestTraceDat } from "../ingest/tracedat/tracedat_ingest.ts";

const dir = new URL("./fixtures/text/", import.meta.url).pathname;
const BUFFER = "iommu_replay_text_fixture";

function datEvents(): TraceEvent[] {
  const src = openFileSource(`${dir}small_text.dat`);
  try {
    return [...traceDatEvents(openTraceDat(src)).events];
  } finally {
    src.close();
  }
}

function readText(name: string, flavor: TextFlavor) {
  const src = openFileSource(`${dir}${name}`);
  try {
    const r = new FtraceTextReader(src, {
      flavor,
      buffer: flavor === "kernel" ? BUFFER : "",
      payloadParser: defaultPayloadParser(flavor),
    });
    const events: TextEvent[] = [...r.events()];
    const warnings = r.warnings();
    return { events, warnings, info: r.info(warnings.length), stats: r.stats };
  } finally {
    src.close();
  }
}

function eventIds(): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of Deno.readTextFileSync(`${dir}event_ids.txt`).trim().split("\n")) {
    const [id, key] = l.split(" ");
    m.set(key!, Number(id));
  }
  return m;
}

const dat = datEvents();

Deno.test("text fixtures: the trace.dat holds the recording", () => {
  assert(dat.length > 100, `only ${dat.length} events`);
  assert(dat.every((e) => e.buffer === BUFFER));
  const kinds = new Set(dat.map((e) => `${e.system}:${e.event}`));
  for (const k of ["tlb:tlb_flush", "syscalls:sys_enter_munmap", "sched:sched_process_fork"]) {
    assert(kinds.has(k), k);
  }
});

const cases: { file: string; flavor: TextFlavor; cmp: CompareOptions; decoded: boolean }[] = [
  { file: "kernel_default.txt", flavor: "kernel", cmp: { ts: "us", flags: true }, decoded: true },
  { file: "kernel_notgid.txt", flavor: "kernel", cmp: { ts: "us", flags: true }, decoded: true },
  { file: "kernel_noirqinfo.txt", flavor: "kernel", cmp: { ts: "us" }, decoded: true },
  {
    file: "kernel_latency.txt",
    flavor: "kernel",
    cmp: { ts: "relative_us", flags: true, commWidth: 8 },
    decoded: true,
  },
  {
    file: "kernel_verbose.txt",
    flavor: "kernel",
    cmp: { ts: "us", flags: true, preemptMask: 0xf },
    decoded: true,
  },
  { file: "kernel_fields.txt", flavor: "kernel", cmp: { ts: "us", flags: true }, decoded: true },
  { file: "kernel_nocontext.txt", flavor: "kernel", cmp: { ts: "none" }, decoded: true },
  { file: "kernel_raw.txt", flavor: "kernel", cmp: { ts: "ns", fields: false }, decoded: false },
  { file: "report_default.txt", flavor: "report", cmp: { ts: "us" }, decoded: true },
  { file: "report_nsec.txt", flavor: "report", cmp: { ts: "ns" }, decoded: true },
  { file: "report_raw.txt", flavor: "report", cmp: { ts: "us" }, decoded: true },
  {
    file: "report_latency.txt",
    flavor: "report",
    cmp: { ts: "us", flags: true, flagsMask: 0xdf, commWidth: 8 },
    decoded: true,
  },
  { file: "report_noplugins.txt", flavor: "report", cmp: { ts: "us" }, decoded: true },
];

for (const c of cases) {
  Deno.test(`text fixtures: ${c.file} equals the trace.dat`, () => {
    const r = readText(c.file, c.flavor);
    assertEquals(r.stats.unparsed, 0);
    assertEquals(r.events.length, dat.length);
    const cmp: CompareOptions = c.file === "kernel_raw.txt" ? { ...c.cmp, ids: eventIds() } : c.cmp;
    const res = compareTextWithDat(r.events, dat, cmp);
    assertEquals(res.mismatches, []);
    assertEquals(res.compared, dat.length);
    if (c.decoded) {
      // Every event has a bundled format and every field of it was read from the text.
      const how = r.stats.how;
      assertEquals(how.none, 0, JSON.stringify(how));
      assertEquals(how.partial, 0, JSON.stringify(how));
      assertEquals(how.text, 0, JSON.stringify(how));
      assert(res.fieldsCompared >= dat.length, `${res.fieldsCompared} fields compared`);
    }
    if (c.flavor === "report") assertEquals(r.info.buffers, BUFFER);
    // Without context the CPU count is unknown (no header line gives it either).
    assertEquals(r.info.cpus, c.cmp.ts === "none" ? 0 : 2);
    assertEquals(r.info.events, BigInt(dat.length));
  });
}

Deno.test("text fixtures: kernel header facts and tgid column", () => {
  const r = readText("kernel_default.txt", "kernel");
  assertEquals(r.info.format, "ftrace_text");
  assert(r.info.options.includes("record-tgid"));
  assert(r.events.every((e) => e.tgid !== null && e.tgid > 0));
  // The header counts exactly the events read: no entries_mismatch warning.
  assertEquals(r.warnings.filter((w) => w.code === "entries_mismatch"), []);
  const lat = readText("kernel_latency.txt", "kernel");
  assertEquals(lat.info.kernel, "6.18.44-fc-v595");
  assert(lat.warnings.some((w) => w.code === "relative_timestamps"));
});

async function ingestAll(run: (rt: RawTables) => void | Promise<unknown>) {
  const streams = new Map<string, Uint8Array[]>();
  const rt = new RawTables({
    write(s, t, ipc) {
      const k = `${s}.${t}`;
      const l = streams.get(k);
      if (l) l.push(ipc);
      else streams.set(k, [ipc]);
    },
  });
  await run(rt);
  rt.finish();
  const tables = new Map<string, Table>();
  for (const [k, l] of streams) {
    assertEquals(l.length, 1);
    tables.set(k, tableFromIPC(l[0]!) as Table);
  }
  return tables;
}

Deno.test("text fixtures: text rows land in the same typed columns as trace.dat rows", async () => {
  const fromDat = await ingestAll(async (rt) => {
    const src = openFileSource(`${dir}small_text.dat`);
    try {
      await ingestTraceDat(src, rt);
    } finally {
      src.close();
    }
  });
  const fromText = await ingestAll((rt) => {
    const src = openFileSource(`${dir}report_nsec.txt`);
    try {
      ingestText(src, rt, { flavor: "report", payloadParser: defaultPayloadParser("report") });
    } finally {
      src.close();
    }
  });
  assertEquals([...fromText.keys()].sort(), [...fromDat.keys()].sort());
  for (const [k, td] of fromDat) {
    const tt = fromText.get(k)!;
    assertEquals(
      tt.schema.fields.map((f) => `${f.name}:${f.type}`),
      td.schema.fields.map((f) => `${f.name}:${f.type}`),
      k,
    );
    assertEquals(tt.numRows, td.numRows, k);
    if (k === "main.events") continue;
    // Same rows in the same order, flags and preempt_count aside (report -t does not print them).
    for (const f of td.schema.fields) {
      if (f.name === "flags" || f.name === "preempt_count") continue;
      if (f.name === "__syscall_nr") {
        // Not in the payload text: null, never a made-up number.
        const col = tt.getChild(f.name)!;
        assertEquals(col.nullCount, tt.numRows, `${k}.${f.name}`);
        continue;
      }
      const a = tt.getChild(f.name)!.toArray();
      const b = td.getChild(f.name)!.toArray();
      assertEquals(
        Array.from(a, String),
        Array.from(b, String),
        `${k}.${f.name}`,
      );
    }
  }
});
