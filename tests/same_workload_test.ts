/**
 * One workload recorded at once by ftrace and perf (tests/fixtures/same_workload/record.sh) and
 * kept in every form the project reads: trace.dat, the kernel `trace` file and `trace-cmd report`
 * (µs and -t ns) of the same ftrace buffer, perf.data, and `perf script` (µs and --ns). Each is
 * ingested through the library entry point ({@linkcode ingestToMemory}) and all must give equal
 * rows per event type: cpu, pid, comm, every field value, and the timestamp at each form's
 * precision.
 *
 * How rows are matched: per event type and CPU, in order (one CPU's events come in the same order
 * in every form). Timestamps:
 * - a text against its own binary: kernel `trace` and `trace-cmd report` round ns to µs
 *   (`(ns + 500) / 1000`), `perf script` truncates, `report -t` and `perf script --ns` are exact;
 * - trace.dat against perf.data: both read CLOCK_MONOTONIC, but each probe reads it on its own, so
 *   the two stamps of one tracepoint hit differ by the time between the probes (µs): they must
 *   agree within {@linkcode CROSS_TS_TOLERANCE_NS}.
 *
 * comm: ftrace forms take it from saved_cmdlines (`<...>` when the pid is not there, `<idle>` for
 * pid 0), perf from its COMM records (`swapper` for pid 0, `:<tid>` when unnamed); both hold at
 * most TASK_COMM_LEN - 1 = 15 characters. Text forms do not print `__syscall_nr` (null there).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import type { FieldValue, TraceEvent } from "../core/event.ts";
import { forEachEvent } from "../ingest/arrow/read_events.ts";
import { eventTablesOfMemory, ingestToMemory } from "../ingest/ingest.ts";

const DIR = new URL("./fixtures/same_workload/", import.meta.url).pathname;

/** Largest difference between the ftrace and the perf timestamp of one tracepoint hit. */
export const CROSS_TS_TOLERANCE_NS = 1_000_000n;

/** Fields a text form does not print: they read as null there. */
const NOT_IN_TEXT = new Set(["__syscall_nr"]);

/** The event types the recording enabled (both sides). */
const TYPES = [
  "sched:sched_process_exit",
  "sched:sched_process_fork",
  "syscalls:sys_enter_mprotect",
  "syscalls:sys_enter_munmap",
  "syscalls:sys_exit_munmap",
  "tlb:tlb_flush",
];

type Precision = "ns" | "us_round" | "us_trunc";

interface Form {
  file: string;
  format: string;
  family: "ftrace" | "perf";
  text: boolean;
  precision: Precision;
}

const FORMS: Record<string, Form> = {
  dat: { file: "same.dat", format: "tracedat", family: "ftrace", text: false, precision: "ns" },
  kernel: {
    file: "kernel_trace.txt.gz",
    format: "ftrace_text",
    family: "ftrace",
    text: true,
    precision: "us_round",
  },
  report: {
    file: "report.txt.gz",
    format: "tracecmd_report",
    family: "ftrace",
    text: true,
    precision: "us_round",
  },
  report_ns: {
    file: "report_ns.txt.gz",
    format: "tracecmd_report",
    family: "ftrace",
    text: true,
    precision: "ns",
  },
  perf: { file: "same.data.gz", format: "perf_data", family: "perf", text: false, precision: "ns" },
  perf_script: {
    file: "perf_script.txt.gz",
    format: "perf_script",
    family: "perf",
    text: true,
    precision: "us_trunc",
  },
  perf_script_ns: {
    file: "perf_script_ns.txt.gz",
    format: "perf_script",
    family: "perf",
    text: true,
    precision: "ns",
  },
};

const tmp = Deno.makeTempDirSync({ prefix: "iommu_replay_same_workload_" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(tmp, { recursive: true });
  } catch { /* already gone */ }
});

/** The fixture as a plain file (gzipped ones are unpacked to a temporary directory). */
function plainPath(file: string): string {
  if (!file.endsWith(".gz")) return `${DIR}${file}`;
  const out = `${tmp}/${file.slice(0, -3)}`;
  Deno.writeFileSync(out, gunzipSync(Deno.readFileSync(`${DIR}${file}`)));
  return out;
}

interface Ingested {
  format: string;
  events: TraceEvent[];
}

async function ingest(path: string): Promise<Ingested> {
  const mem = await ingestToMemory(path);
  const { index, tables } = eventTablesOfMemory(mem);
  const events: TraceEvent[] = [];
  await forEachEvent(index!, tables, () => true, (e) => {
    events.push(e);
  }, { reuse: false });
  return { format: String(mem.manifest.info["format"]), events };
}

/** Events per `system:event`, then per CPU, in file order. */
function byTypeAndCpu(events: readonly TraceEvent[]): Map<string, Map<number, TraceEvent[]>> {
  const out = new Map<string, Map<number, TraceEvent[]>>();
  for (const e of events) {
    const k = `${e.system}:${e.event}`;
    let m = out.get(k);
    if (!m) out.set(k, m = new Map());
    const l = m.get(e.cpu);
    if (l) l.push(e);
    else m.set(e.cpu, [e]);
  }
  return out;
}

/** A binary timestamp as a text of `p` precision prints it. */
function atPrecision(ns: bigint, p: Precision): bigint {
  if (p === "us_round") return (ns + 500n) / 1000n * 1000n;
  if (p === "us_trunc") return ns / 1000n * 1000n;
  return ns;
}

const COMM_LEN = 15;

/** Whether an ftrace comm and a perf comm name the same task (rules in the module doc). */
export function sameTask(ftraceComm: string, perfComm: string, pid: number): boolean {
  if (ftraceComm === "<...>" || /^:\d+$/.test(perfComm)) return true;
  if (pid === 0) return ftraceComm === "<idle>" && /^swapper(\/\d+)?$/.test(perfComm);
  return ftraceComm.slice(0, COMM_LEN) === perfComm.slice(0, COMM_LEN);
}

function valueText(v: FieldValue | undefined): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    return `[${Array.from(v as ArrayLike<unknown>, (x) => String(x)).join(",")}]`;
  }
  return String(v);
}

/** How to compare one form (`theirs`) against a reference (`ref`). */
export interface PairRule {
  /** `theirs`' timestamp precision when it is a text of the same family; else null. */
  precision: Precision | null;
  /** Timestamps may differ by this much (ftrace against perf); 0 = exact at the precision. */
  tolerance: bigint;
  /** Fields `theirs` does not carry (null there). */
  missing: ReadonlySet<string>;
  /** ftrace against perf: comm by {@linkcode sameTask}; else equal. */
  crossComm: boolean;
}

/**
 * Compares two forms' rows per event type and CPU.
 *
 * @param ref reference events (a binary)
 * @param theirs the other form's events
 * @param rule how
 * @returns mismatches (at most 30) and the number of rows and fields compared
 */
export function compareRows(
  ref: readonly TraceEvent[],
  theirs: readonly TraceEvent[],
  rule: PairRule,
): { mismatches: string[]; rows: number; fields: number } {
  const out: string[] = [];
  const bad = (m: string) => {
    if (out.length < 30) out.push(m);
  };
  let rows = 0;
  let fields = 0;
  const a = byTypeAndCpu(ref);
  const b = byTypeAndCpu(theirs);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const k of keys) {
    const ca = a.get(k) ?? new Map<number, TraceEvent[]>();
    const cb = b.get(k) ?? new Map<number, TraceEvent[]>();
    for (const cpu of [...new Set([...ca.keys(), ...cb.keys()])].sort()) {
      const la = ca.get(cpu) ?? [];
      const lb = cb.get(cpu) ?? [];
      if (la.length !== lb.length) bad(`${k} cpu ${cpu}: ${la.length} rows != ${lb.length}`);
      const n = Math.min(la.length, lb.length);
      for (let i = 0; i < n; i++) {
        const x = la[i]!;
        const y = lb[i]!;
        const where = `${k} cpu ${cpu} #${i} (ts ${x.ts})`;
        rows++;
        if (x.cpu !== y.cpu) bad(`${where}: cpu ${x.cpu} != ${y.cpu}`);
        if (x.pid !== y.pid) bad(`${where}: pid ${x.pid} != ${y.pid}`);
        if (rule.crossComm ? !sameTask(x.comm, y.comm, x.pid) : x.comm !== y.comm) {
          bad(`${where}: comm '${x.comm}' != '${y.comm}'`);
        }
        const want = rule.precision ? atPrecision(x.ts, rule.precision) : x.ts;
        const d = y.ts - want;
        if ((d < 0n ? -d : d) > rule.tolerance) {
          bad(`${where}: ts ${y.ts} != ${want} (tolerance ${rule.tolerance} ns)`);
        }
        const names = new Set([...Object.keys(x.fields), ...Object.keys(y.fields)]);
        for (const f of names) {
          fields++;
          const vy = y.fields[f];
          if (rule.missing.has(f) && vy === null) continue;
          const sx = valueText(x.fields[f]);
          const sy = valueText(vy);
          if (sx !== sy) bad(`${where}: ${f} ${sx} != ${sy}`);
        }
      }
    }
  }
  return { mismatches: out, rows, fields };
}

/** The rule for comparing `form` against the binary of `refFamily`. */
function ruleFor(form: Form, refFamily: "ftrace" | "perf"): PairRule {
  const cross = form.family !== refFamily;
  return {
    precision: cross ? null : form.precision,
    tolerance: cross ? CROSS_TS_TOLERANCE_NS : 0n,
    missing: form.text ? NOT_IN_TEXT : new Set(),
    crossComm: cross,
  };
}

const read = new Map<string, Ingested>();
for (const [name, f] of Object.entries(FORMS)) read.set(name, await ingest(plainPath(f.file)));
const dat = read.get("dat")!.events;
const perf = read.get("perf")!.events;

Deno.test("same workload: every form is read by its reader and holds every recorded event type", () => {
  for (const [name, f] of Object.entries(FORMS)) {
    const r = read.get(name)!;
    assertEquals(r.format, f.format, name);
    assertEquals([...new Set(r.events.map((e) => `${e.system}:${e.event}`))].sort(), TYPES, name);
    assert(r.events.every((e) => e.comm === "swload"), `${name}: a comm is not swload`);
  }
  assert(dat.length >= 300, `only ${dat.length} events`);
  const count = (es: readonly TraceEvent[]) => {
    const m: Record<string, number> = {};
    for (const e of es) m[`${e.system}:${e.event}`] = (m[`${e.system}:${e.event}`] ?? 0) + 1;
    return m;
  };
  for (const name of read.keys()) assertEquals(count(read.get(name)!.events), count(dat), name);
  // The process tree: three forks, four exits (the parent and its three children).
  assertEquals(count(dat)["sched:sched_process_fork"], 3);
  assertEquals(count(dat)["sched:sched_process_exit"], 4);
});

for (const [name, f] of Object.entries(FORMS)) {
  if (name === "dat" || name === "perf") continue;
  const refName = f.family === "ftrace" ? "dat" : "perf";
  Deno.test(`same workload: ${f.file} equals ${FORMS[refName]!.file} (${f.precision})`, () => {
    const r = compareRows(read.get(refName)!.events, read.get(name)!.events, ruleFor(f, f.family));
    assertEquals(r.mismatches, []);
    assertEquals(r.rows, dat.length);
    assert(r.fields >= 2 * dat.length, `only ${r.fields} fields compared`);
    // The precision matters: read at another precision, the same text does not match.
    const other: Precision = f.precision === "us_round" ? "us_trunc" : "us_round";
    const wrong = compareRows(read.get(refName)!.events, read.get(name)!.events, {
      ...ruleFor(f, f.family),
      precision: other,
    });
    assert(wrong.mismatches.length > 0, `${f.file} also matches at ${other}`);
  });
}

Deno.test("same workload: trace.dat equals perf.data (one capture, two probes)", () => {
  const r = compareRows(dat, perf, ruleFor(FORMS["perf"]!, "ftrace"));
  assertEquals(r.mismatches, []);
  assertEquals(r.rows, dat.length);
  // Both binaries carry every field, __syscall_nr included.
  assert(perf.every((e) => Object.values(e.fields).every((v) => v !== null)));
  // The two stamps of a hit really are close: the match is not off by a row.
  let worst = 0n;
  const pa = byTypeAndCpu(dat);
  const pb = byTypeAndCpu(perf);
  for (const [k, m] of pa) {
    for (const [cpu, l] of m) {
      l.forEach((e, i) => {
        const d = pb.get(k)!.get(cpu)![i]!.ts - e.ts;
        if ((d < 0n ? -d : d) > worst) worst = d < 0n ? -d : d;
      });
    }
  }
  assert(worst < CROSS_TS_TOLERANCE_NS, `worst ${worst} ns`);
});

Deno.test("same workload: each text form equals the other family's binary", () => {
  // Cross-family through the texts too: each text against the other family's binary.
  for (const name of ["kernel", "report", "report_ns"]) {
    const r = compareRows(perf, read.get(name)!.events, {
      ...ruleFor(FORMS[name]!, "perf"),
      tolerance: CROSS_TS_TOLERANCE_NS + 1000n,
    });
    assertEquals(r.mismatches, [], name);
  }
  for (const name of ["perf_script", "perf_script_ns"]) {
    const r = compareRows(dat, read.get(name)!.events, {
      ...ruleFor(FORMS[name]!, "ftrace"),
      tolerance: CROSS_TS_TOLERANCE_NS + 1000n,
    });
    assertEquals(r.mismatches, [], name);
  }
});

Deno.test("same workload: the comparison detects a changed value, timestamp, pid, comm or row", () => {
  const kernel = read.get("kernel")!.events;
  const rule = ruleFor(FORMS["kernel"]!, "ftrace");
  assertEquals(compareRows(dat, kernel, rule).mismatches, []);
  const clone = (es: readonly TraceEvent[]) => es.map((e) => ({ ...e }));
  const withField = (e: TraceEvent, name: string, v: FieldValue): TraceEvent => ({
    ...e,
    fields: { ...e.fields, [name]: v },
  });
  const num = (v: FieldValue | undefined) => BigInt(String(v));
  const i = kernel.findIndex((e) => e.event === "tlb_flush");
  const j = kernel.findIndex((e) => e.event === "sys_enter_munmap");
  const mutations: [string, (es: TraceEvent[]) => void][] = [
    ["field", (es) => void (es[i] = withField(es[i]!, "pages", num(es[i]!.fields["pages"]) + 1n))],
    ["address", (es) => void (es[j] = withField(es[j]!, "addr", num(es[j]!.fields["addr"]) ^ 1n))],
    ["ts by 1 µs", (es) => void (es[i]!.ts += 1000n)],
    ["pid", (es) => void (es[i]!.pid += 1)],
    ["comm", (es) => void (es[i]!.comm = "swloae")],
    ["row dropped", (es) => void es.splice(i, 1)],
  ];
  for (const [what, mutate] of mutations) {
    const m = clone(kernel);
    mutate(m);
    assert(compareRows(dat, m, rule).mismatches.length > 0, `${what} not detected`);
  }
  // Against perf.data: a changed field or a row moved to another CPU.
  const crossRule = ruleFor(FORMS["perf"]!, "ftrace");
  const p = clone(perf);
  p[i] = withField(p[i]!, "reason", 99);
  assert(compareRows(dat, p, crossRule).mismatches.length > 0, "perf field not detected");
  const q = clone(perf);
  q[j]!.cpu = q[j]!.cpu === 0 ? 1 : 0;
  assert(compareRows(dat, q, crossRule).mismatches.length > 0, "perf cpu not detected");
});

Deno.test("same workload: one changed character in a text file is found through its reader", async () => {
  const path = plainPath("report.txt.gz");
  const lines = Deno.readTextFileSync(path).split("\n");
  const k = lines.findIndex((l) => /tlb_flush:\s+pages=1 /.test(l));
  assert(k >= 0);
  lines[k] = lines[k]!.replace("pages=1 ", "pages=2 ");
  const mutated = `${tmp}/report_mutated.txt`;
  Deno.writeFileSync(mutated, new TextEncoder().encode(lines.join("\n")));
  const r = compareRows(dat, (await ingest(mutated)).events, ruleFor(FORMS["report"]!, "ftrace"));
  assertEquals(r.mismatches.length, 1, r.mismatches.join("\n"));
  assert(/tlb:tlb_flush .* pages 1 != 2/.test(r.mismatches[0]!), r.mismatches[0]);
});
