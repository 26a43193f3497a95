/**
 * Corpus test of the text readers over ../shared/fixtures:
 * - recorded/report/*.txt (trace-cmd report of recorded/dat/*.dat, in several modes) against the
 *   trace.dat they were printed from: same events, per CPU in the same order, timestamps at the
 *   text's precision (µs rounded like trace-cmd, ns under -t, raw counts), flags where printed,
 *   and the typed fields of every event with a bundled format;
 * - recorded/text/*.txt (the kernel's own trace file under different options): every line read,
 *   row counts equal to the header's entries, every known event fully decoded;
 * - third_party text (LISA, trappy, Trace Compass): every event line read, nothing unparsed.
 *
 * Without ../shared (a user's clone) the tests are reported as ignored with the reason; under CI
 * (IOMMU_REPLAY_CI=1) a missing corpus is a failure.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { TraceEvent } from "../core/event.ts";
import { openFileSource } from "../ingest/file_source.ts";
import { type CompareOptions, compareTextWithDat } from "../ingest/ftrace_text/_compare_events.ts";
import { defaultPayloadParser } from "../ingest/ftrace_text/register.ts";
import {
  FtraceTextReader,
  type TextEvent,
  type TextFlavor,
} from "../ingest/ftrace_text/text_reader.ts";
import { sniffFormat } from "../ingest/sniff.ts";
import { traceDatEvents } from "../ingest/tracedat/tracedat_events.ts";
import { openTraceDat } from "../ingest/tracedat/tracedat_file.ts";

const root = new URL("../../shared/fixtures/", import.meta.url).pathname;
const ci = Deno.env.get("IOMMU_REPLAY_CI") === "1";

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

const reason = exists(`${root}recorded/report/t_default.txt`)
  ? null
  : `text corpus not run: no ${root}recorded/report/t_default.txt`;
if (reason) {
  if (ci) {
    Deno.test("text corpus: ../shared fixtures are present in CI", () => {
      throw new Error(reason);
    });
  } else {
    console.error(`NOTE: ${reason}`);
    Deno.test({ name: `text corpus: ${reason}`, ignore: true, fn() {} });
  }
}

function flavorOf(path: string): TextFlavor {
  const src = openFileSource(path);
  try {
    const f = sniffFormat(src.readAt(0, Math.min(src.size, 8192), "sniff"));
    if (f !== "ftrace_text" && f !== "tracecmd_report") throw new Error(`${path}: sniffed ${f}`);
    return f === "ftrace_text" ? "kernel" : "report";
  } finally {
    src.close();
  }
}

function readText(path: string) {
  const flavor = flavorOf(path);
  const src = openFileSource(path);
  try {
    const r = new FtraceTextReader(src, { flavor, payloadParser: defaultPayloadParser(flavor) });
    const events: TextEvent[] = [...r.events()];
    const warnings = r.warnings();
    return { events, warnings, info: r.info(warnings.length), stats: r.stats, flavor };
  } finally {
    src.close();
  }
}

const datCache = new Map<string, TraceEvent[]>();
function datEvents(name: string): TraceEvent[] {
  let d = datCache.get(name);
  if (!d) {
    const src = openFileSource(`${root}recorded/dat/${name}`);
    try {
      d = [...traceDatEvents(openTraceDat(src)).events];
    } finally {
      src.close();
    }
    datCache.set(name, d);
  }
  return d;
}

const FULL = new Set(["print_fmt", "raw_fields", "plugin", "syscall"]);

/** Known-format events decoded fully; events without a format counted apart. */
function decodeCounts(evs: readonly TextEvent[]) {
  let full = 0;
  let other = 0;
  let text = 0;
  for (const e of evs) {
    if (e.how === "text") text++;
    else if (FULL.has(e.how)) full++;
    else other++;
  }
  return { full, other, text };
}

const reports: {
  file: string;
  dat: string;
  cmp: CompareOptions;
  cpu?: number;
}[] = [
  { file: "t_default.txt", dat: "t.dat", cmp: { ts: "us" } },
  { file: "t_nsec.txt", dat: "t.dat", cmp: { ts: "ns" } },
  { file: "t_raw.txt", dat: "t.dat", cmp: { ts: "us" } },
  {
    file: "t_latency.txt",
    dat: "t.dat",
    // libtraceevent prints need-resched as N with or without preempt-resched (0x20).
    cmp: { ts: "us", flags: true, flagsMask: 0xdf, commWidth: 8 },
  },
  { file: "t_noplugins.txt", dat: "t.dat", cmp: { ts: "us" } },
  { file: "t_tsdiff.txt", dat: "t.dat", cmp: { ts: "us" } },
  { file: "t_cpu1.txt", dat: "t.dat", cmp: { ts: "us" }, cpu: 1 },
  { file: "t2_instance_default.txt", dat: "t2_instance.dat", cmp: { ts: "us", buffer: true } },
  { file: "t3_v6_tsc_date_default.txt", dat: "t3_v6_tsc_date.dat", cmp: { ts: "raw" } },
  { file: "t6_mm_default.txt", dat: "t6_mm.dat", cmp: { ts: "us" } },
  { file: "t7_counter_clock_default.txt", dat: "t7_counter_clock.dat", cmp: { ts: "raw" } },
];

for (const c of reason ? [] : reports) {
  Deno.test(`text corpus: report/${c.file} equals dat/${c.dat}`, () => {
    const r = readText(`${root}recorded/report/${c.file}`);
    assertEquals(r.flavor, "report");
    assertEquals(r.stats.unparsed, 0);
    let dat = datEvents(c.dat);
    if (c.cpu !== undefined) dat = dat.filter((e) => e.cpu === c.cpu);
    assertEquals(r.events.length, dat.length);
    const res = compareTextWithDat(r.events, dat, c.cmp);
    assertEquals(res.mismatches, []);
    assertEquals(res.compared, dat.length);
    const d = decodeCounts(r.events);
    assertEquals(d.other, 0, `${d.other} known-format events not fully decoded`);
    assert(res.fieldsCompared >= d.full, `${res.fieldsCompared} fields for ${d.full} events`);
    assertEquals(r.info.format, "tracecmd_report");
    assertEquals(r.info.cpus, 2);
    assertEquals(r.info.clock_is_ns, c.cmp.ts !== "raw");
  });
}

if (!reason) {
  Deno.test("text corpus: report/t_stat.txt holds no events and says so", () => {
    const r = readText(`${root}recorded/report/t_stat.txt`);
    assertEquals(r.events.length, 0);
    assertEquals(r.stats.unparsed, 0);
    assertEquals(r.info.cpus, 2);
    assert(r.warnings.some((w) => w.code === "no_events"));
  });

  Deno.test("text corpus: report/t2_instance_default.txt names both buffers", () => {
    const r = readText(`${root}recorded/report/t2_instance_default.txt`);
    assertEquals(r.info.buffers.split(",").sort(), ["", "inst2"]);
    assertEquals(r.events.filter((e) => e.buffer === "inst2").length, 355);
  });
}

const kernelTexts: { file: string; ids?: boolean; ts: "ns" | "raw" | "relative" | "none" }[] = [
  { file: "default.txt", ts: "ns" },
  { file: "clock_mono.txt", ts: "ns" },
  { file: "clock_counter.txt", ts: "raw" },
  { file: "clock_x86_tsc.txt", ts: "raw" },
  { file: "record_tgid.txt", ts: "ns" },
  { file: "noirqinfo.txt", ts: "ns" },
  { file: "nocontext.txt", ts: "none" },
  { file: "latency_format.txt", ts: "relative" },
  { file: "verbose_latency.txt", ts: "ns" },
  { file: "raw.txt", ts: "ns", ids: true },
  { file: "hex.txt", ts: "ns", ids: true },
];

for (const c of reason ? [] : kernelTexts) {
  Deno.test(`text corpus: text/${c.file} is read completely`, () => {
    const path = `${root}recorded/text/${c.file}`;
    const r = readText(path);
    assertEquals(r.flavor, "kernel");
    assertEquals(r.stats.unparsed, 0);
    // Event lines counted independently: lines that are neither comments nor blank.
    const lines = Deno.readTextFileSync(path).split("\n");
    const expect = lines.filter((l) => l.trim() !== "" && !l.startsWith("#")).length;
    assertEquals(r.events.length, expect);
    if (r.info.options.includes("nocontext-info")) {
      assert(r.warnings.some((w) => w.code === "no_context"));
    } else {
      // The header's entries-in-buffer equals what was read.
      assertEquals(r.warnings.filter((w) => w.code === "entries_mismatch"), []);
      assertEquals(r.info.cpus, 2);
    }
    const d = decodeCounts(r.events);
    if (c.ids) {
      assertEquals(r.info.unknown_events, BigInt(r.events.length));
      assert(r.events.every((e) => e.system === "unknown" && /^id_\d+$/.test(e.event)));
    } else {
      assertEquals(d.other, 0, `${d.other} known-format events not fully decoded`);
      assertEquals(d.text, 0);
    }
    assertEquals(r.info.clock_is_ns, c.ts !== "raw");
    // Timestamps never go backwards in a kernel trace file (one merged stream).
    if (c.ts !== "none") {
      for (let i = 1; i < r.events.length; i++) {
        assert(r.events[i]!.ts >= r.events[i - 1]!.ts, `line ${r.events[i]!.line}`);
      }
    }
  });
}

if (!reason) {
  Deno.test("text corpus: hand-checked values of text/default.txt", () => {
    const r = readText(`${root}recorded/text/default.txt`);
    const e = r.events[0]!;
    // "gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1 reason:local MM shootdown (3)"
    assertEquals(
      [e.comm, e.pid, e.cpu, e.flags, e.preempt, e.ts, e.system, e.event],
      ["gen.sh", 9396, 1, 0x01, 0x01, 383902511000n, "tlb", "tlb_flush"],
    );
    assertEquals(e.values, { reason: 3, pages: 0xffffffffffffffffn });
    // "python3-9397 [000] .....   383.903320: sys_munmap(addr: 0x7f5f00038000, len: 0x8c5f)"
    const m = r.events.find((x) => x.line === 58)!;
    assertEquals([m.system, m.event, m.pid, m.flags], ["syscalls", "sys_enter_munmap", 9397, 0]);
    assertEquals(m.values, { addr: 0x7f5f00038000n, len: 0x8c5fn });
    // "sched_process_fork: comm=gen.sh pid=9396 child_comm=gen.sh child_pid=9397"
    const f = r.events[1]!;
    assertEquals(f.values, {
      parent_comm: "gen.sh",
      parent_pid: 9396,
      child_comm: "gen.sh",
      child_pid: 9397,
    });
  });

  Deno.test("text corpus: text/verbose_latency.txt takes ts, flags and preempt from numbers", () => {
    const r = readText(`${root}recorded/text/verbose_latency.txt`);
    // "gen.sh 9873 1 1 00000001 00000000 [170075ec] 17.568ms (+0.018ms): tlb_flush: ..."
    const e = r.events[0]!;
    assertEquals([e.pid, e.cpu, e.flags, e.preempt, e.ts], [9873, 1, 1, 1, 0x170075ecn * 1000n]);
  });
}

const thirdParty = [
  "lisa/trace_txt_trace.txt",
  "trappy/doc_trace.txt",
  "trappy/doc_trace_dynamic.txt",
  "trappy/tests_raw_trace.txt",
  "trappy/tests_trace_common_clk.txt",
  "trappy/tests_trace_empty.txt",
  "trappy/tests_trace_equals.txt",
  "trappy/tests_trace_failed_to_parse.txt",
  "trappy/tests_trace_filesystem.txt",
  "trappy/tests_trace_idle_unsorted.txt",
  "trappy/tests_trace_no_trailing_line.txt",
  "trappy/tests_trace_sched.txt",
  "tracecompass/ftrace_syscalls.txt",
  "tracecompass/trace-android-sched",
  "tracecompass/trace-android-sched-irq",
  "tracecompass/trace-android-sched-irq-syscall",
  "tracecompass/trace-critical-path",
  "tracecompass/trace-func-graph",
];

for (const f of reason ? [] : thirdParty) {
  const path = `${root}third_party/${f}`;
  Deno.test(`text corpus: third_party/${f} is read completely`, () => {
    const r = readText(path);
    assertEquals(r.stats.unparsed, 0);
    const lines = Deno.readTextFileSync(path).split("\n");
    const expect = lines.filter((l) => /-\d+\s+\[\d{3}\]/.test(l)).length;
    assertEquals(r.events.length, expect);
    assert(expect > 0);
  });
}

if (!reason) {
  Deno.test("text corpus: third-party details (4-char flags, comms with spaces, syscalls)", () => {
    const a = readText(`${root}third_party/tracecompass/trace-android-sched`).events[0]!;
    // "sh-12958 [002] d.H5 365761.623995: sched_wakeup: comm=rcu_preempt pid=8 ..."
    assertEquals([a.flags, a.preempt, a.system, a.values.comm], [0x19, 5, "sched", "rcu_preempt"]);
    const cp = readText(`${root}third_party/tracecompass/trace-critical-path`).events;
    assert(cp.some((e) => e.comm === "Web Content" && e.pid === 2711));
    const sc = readText(`${root}third_party/tracecompass/ftrace_syscalls.txt`).events;
    const ioctl = sc.find((e) => e.event === "sys_enter_ioctl")!;
    assertEquals([ioctl.system, ioctl.values.fd, ioctl.values.cmd], ["syscalls", "ff", "5410"]);
    const exit = sc.find((e) => e.event === "sys_exit_recvmsg")!;
    assertEquals(exit.values.ret, "0x24");
    const bin = readText(`${root}third_party/tracecompass/trace-android-sched-irq-syscall`).events;
    assert(bin.some((e) => e.comm === "Binder:2030_3" && e.pid === 2053));
    const ftp = readText(`${root}third_party/trappy/tests_trace_failed_to_parse.txt`).events;
    const p = ftp.find((e) => e.event === "thermal_power_cpu_get_power")!;
    assertEquals(p.values.freq, "0x82208");
    assert(String(p.values.cpumask).startsWith("ARRAY[0f, 00"));
    const eq = readText(`${root}third_party/trappy/tests_trace_equals.txt`).events;
    assertEquals(eq.map((e) => e.values.my_field), [
      "foo",
      "foo=bar",
      "foo=bar=baz",
      "1",
      "1=2",
      "1=foo",
      "1foo=2",
    ]);
  });
}
