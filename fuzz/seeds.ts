/**
 * The fuzzer's seed corpus: the repository's own fixtures (so CI and users have them), small
 * synthetic traces built by the repository's writers (fast to mutate and read, and covering
 * options the recorded fixtures lack: big endian, 32-bit, v6, zlib, instances, lost events,
 * TSC2NSEC, TIME_SHIFT, GUEST, pipe-mode and compressed perf data), and, when present and asked
 * for, the files of `../shared/fixtures`.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import type { TraceEvent } from "../core/event.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";
import { synthPerfData, type SynthRecord } from "../ingest/perf/testdata/synth_perf.ts";
import { sniffFormat } from "../ingest/sniff.ts";
import { randomEvents } from "../synth/_random_events.ts";
import { writeTraceDat } from "../synth/tracedat_writer.ts";
import type { InputKind } from "./mutators.ts";

/** What a fuzz target is fed. */
export type TargetName =
  | "tracedat"
  | "tracedat_events"
  | "perf_data"
  | "ftrace_text"
  | "report_text"
  | "perf_script"
  | "topology"
  | "probes";

/** Every target, in a stable order. */
export const TARGET_NAMES: readonly TargetName[] = Object.freeze([
  "tracedat",
  "tracedat_events",
  "perf_data",
  "ftrace_text",
  "report_text",
  "perf_script",
  "topology",
  "probes",
]);

/** The input kind of each target (which mutators apply). */
export const TARGET_KIND: Readonly<Record<TargetName, InputKind>> = Object.freeze({
  tracedat: "binary",
  tracedat_events: "binary",
  perf_data: "binary",
  ftrace_text: "text",
  report_text: "text",
  perf_script: "text",
  topology: "json",
  probes: "json",
});

/** One seed. */
export interface Seed {
  /** Where it came from (a repository path, `synth:<name>` or a `../shared` path). */
  name: string;
  /** Its bytes. */
  bytes: Uint8Array;
}

/** Text seeds are cut (at a line end) to this size so that every input reads quickly. */
export const MAX_TEXT_SEED = 48 << 10;

const ROOT = new URL("../", import.meta.url);
const ENC = new TextEncoder();

function repoFile(path: string): Uint8Array | null {
  try {
    const b = Deno.readFileSync(new URL(path, ROOT));
    return path.endsWith(".gz") ? new Uint8Array(gunzipSync(b)) : b;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function listDir(path: string, re: RegExp): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(new URL(path, ROOT))) {
      if (e.isFile && re.test(e.name)) out.push(`${path}${e.name}`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

function cutText(b: Uint8Array, max = MAX_TEXT_SEED): Uint8Array {
  if (b.length <= max) return b;
  const nl = b.lastIndexOf(0x0a, max);
  return b.slice(0, nl > 0 ? nl + 1 : max);
}

function parsedFormats(systems: string[], abi?: { longSize: 4 }): Map<string, EventFormat> {
  const list = knownFormats("6.18", { systems, ...(abi ? { abi } : {}) });
  return new Map(
    list.map((
      f,
    ) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system, abi?.longSize ?? 8)]),
  );
}

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

/** A TIME_SHIFT option payload (peer id, flags, per CPU: count, times, offsets, scalings, fractions). */
function timeShiftOption(cpus: number): Uint8Array {
  const parts: Uint8Array[] = [le64(0x1234n), le32(1), le32(cpus)];
  const frac: Uint8Array[] = [];
  for (let c = 0; c < cpus; c++) {
    parts.push(le32(2));
    parts.push(le64(1_000_000_000n), le64(9_000_000_000n));
    parts.push(le64(500n), le64(900n));
    parts.push(le64(1n), le64(1n));
    frac.push(le64(0n), le64(0n));
  }
  return cat(...parts, ...frac);
}

/** A GUEST option payload (name, trace id, vCPU count, vcpu/pid pairs). */
function guestOption(): Uint8Array {
  return cat(
    ENC.encode("guest0\0"),
    le64(0x1234n),
    le32(2),
    le32(0),
    le32(4001),
    le32(1),
    le32(4002),
  );
}

/**
 * Small synthetic trace.dat files (v6 and v7; none, zstd, zlib; little and big endian; 64- and
 * 32-bit; an instance buffer; lost events; DATE/OFFSET/TSC2NSEC/TIME_SHIFT/GUEST options).
 *
 * @returns the seeds
 */
export function synthTraceDatSeeds(): Seed[] {
  const systems = ["tlb", "iommu", "dma", "intel_iommu", "syscalls"];
  const f64 = parsedFormats(systems);
  const f32 = parsedFormats(systems, { longSize: 4 });
  const formats = knownFormats("6.18", { systems });
  const formats32 = knownFormats("6.18", { systems, abi: { longSize: 4 } });
  const ev = (seed: number, count: number, fm: Map<string, EventFormat>, buffers?: string[]) =>
    randomEvents(fm, { seed, count, cpus: 2, ...(buffers ? { buffers } : {}) });
  const out: Seed[] = [];
  const add = (name: string, f: () => Uint8Array) =>
    out.push({ name: `synth:${name}`, bytes: f() });
  add("v7_zstd", () => writeTraceDat({ cpus: 2, formats, events: ev(1, 40, f64) }));
  add("v7_none_be32", () =>
    writeTraceDat({
      cpus: 2,
      compression: "none",
      bigEndian: true,
      longSize: 4,
      formats: formats32,
      events: ev(2, 40, f32),
    }));
  add("v6_options", () =>
    writeTraceDat({
      version: 6,
      cpus: 2,
      clock: "x86-tsc",
      formats,
      events: ev(3, 40, f64),
      options: {
        date: "0x5f5e100",
        offset: 1000n,
        tsc2nsec: { mult: 3, shift: 2, offset: 7n },
        traceId: 99n,
      },
    }));
  add("v7_zlib_instance_lost", () =>
    writeTraceDat({
      cpus: 2,
      compression: "zlib",
      formats,
      instances: ["inst"],
      events: ev(4, 50, f64, ["", "inst"]),
      lost: [{ cpu: 0, ts: 1_000_000_000n, count: 5 }, { cpu: 1, ts: 0n, count: null }],
    }));
  add("v7_timeshift_guest", () =>
    writeTraceDat({
      cpus: 2,
      compression: "none",
      formats,
      events: ev(5, 30, f64),
      options: {
        extra: [{ id: 12, data: timeShiftOption(2) }, { id: 13, data: guestOption() }],
      },
    }));
  add("v6_be32", () =>
    writeTraceDat({
      version: 6,
      cpus: 1,
      bigEndian: true,
      longSize: 4,
      formats: formats32,
      events: randomEvents(f32, { seed: 6, count: 30, cpus: 1 }),
    }));
  return out;
}

function perfRecords(seed: number, fm: Map<string, EventFormat>, n: number): SynthRecord[] {
  const evs: TraceEvent[] = randomEvents(fm, { seed, count: n, cpus: 2 });
  const recs: SynthRecord[] = [
    { kind: "comm", pid: 100, tid: 100, comm: "a.out", time: 1n },
    { kind: "fork", pid: 101, ppid: 100, tid: 101, ptid: 100, time: 2n },
  ];
  evs.forEach((e, i) => {
    recs.push({
      kind: "sample",
      event: `${e.system}:${e.event}`,
      time: e.ts,
      pid: e.pid,
      tid: e.pid,
      cpu: e.cpu,
      fields: e.fields,
    });
    if (i % 10 === 9) recs.push({ kind: "round" });
  });
  recs.push({ kind: "lost", lost: 3n, time: 5n }, {
    kind: "exit",
    pid: 101,
    ppid: 100,
    tid: 101,
    ptid: 100,
    time: 9n,
  });
  return recs;
}

/**
 * Small synthetic perf.data files (file and pipe mode, both byte orders, attr sizes, zstd).
 *
 * @returns the seeds
 */
export function synthPerfSeeds(): Seed[] {
  const tps = ["tlb:tlb_flush", "syscalls:sys_enter_munmap", "iommu:map", "intel_iommu:qi_submit"];
  const fm = new Map<string, EventFormat>(
    [...parsedFormats(["tlb", "syscalls", "iommu", "intel_iommu"])].filter(([k]) =>
      tps.includes(k)
    ),
  );
  const out: Seed[] = [];
  const add = (name: string, o: Partial<Parameters<typeof synthPerfData>[0]>, seed: number) =>
    out.push({
      name: `synth:${name}`,
      bytes: synthPerfData({ tracepoints: tps, records: perfRecords(seed, fm, 25), ...o }).bytes,
    });
  add("perf_le", {}, 1);
  add("perf_be_attr64", { littleEndian: false, attrSize: 64 }, 2);
  add("perf_pipe", { pipe: true, softwareAttr: true }, 3);
  add("perf_zstd", { compress: "zstd", pieceSize: 48 }, 4);
  add("perf_pipe_zstd2_attr0", { pipe: true, compress: "zstd2", attrSizeZero: true }, 5);
  add("perf_no_tracing_data", { noTracingData: true, attrSize: 136 }, 6);
  return out;
}

/** Topology seeds shipped with the fuzzer. */
function topologySeeds(): Seed[] {
  return listDir("fuzz/seeds/", /^topology_.*\.json$/).flatMap((p) => {
    const b = repoFile(p);
    return b ? [{ name: p, bytes: b }] : [];
  });
}

/** Options of {@linkcode loadSeeds}. */
export interface SeedOptions {
  /** Also use `../shared/fixtures` when it exists (default false). */
  shared?: boolean;
  /** Use the large recorded trace.dat fixtures too (default true). */
  large?: boolean;
}

function sharedSeeds(into: Map<TargetName, Seed[]>): void {
  const base = new URL("../shared/fixtures/", ROOT);
  const walk = (dir: URL, rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) walk(u, `${rel}${e.name}/`);
      else if (e.isFile) {
        const b = Deno.readFileSync(u);
        if (b.length > 16 << 20) continue;
        const name = `../shared/fixtures/${rel}${e.name}`;
        switch (sniffFormat(b.subarray(0, 8192))) {
          case "tracedat":
            into.get("tracedat")!.push({ name, bytes: b });
            break;
          case "perf_data":
          case "perf_data_pipe":
            into.get("perf_data")!.push({ name, bytes: b });
            break;
          case "ftrace_text":
            into.get("ftrace_text")!.push({ name, bytes: cutText(b) });
            break;
          case "tracecmd_report":
            into.get("report_text")!.push({ name, bytes: cutText(b) });
            break;
          case "perf_script":
            into.get("perf_script")!.push({ name, bytes: cutText(b) });
            break;
          default:
        }
      }
    }
  };
  walk(base, "");
}

/**
 * Loads the seeds of every target.
 *
 * @param opts which optional seed sets to add
 * @returns target -> seeds (never empty for a target with fixtures in the repository)
 */
export function loadSeeds(opts: SeedOptions = {}): Map<TargetName, Seed[]> {
  const m = new Map<TargetName, Seed[]>(TARGET_NAMES.map((t) => [t, []]));
  const add = (t: TargetName, path: string, text = false) => {
    const b = repoFile(path);
    if (b) m.get(t)!.push({ name: path, bytes: text ? cutText(b) : b });
  };
  const dat = synthTraceDatSeeds();
  m.get("tracedat")!.push(...dat);
  m.get("tracedat_events")!.push(...dat);
  if (opts.large ?? true) {
    for (const p of listDir("tests/fixtures/", /\.dat(\.gz)?$/)) {
      add("tracedat", p);
      add("tracedat_events", p);
    }
    add("tracedat", "tests/fixtures/text/small_text.dat");
  }
  m.get("perf_data")!.push(...synthPerfSeeds());
  for (const p of listDir("tests/fixtures/perf/", /\.data$/)) add("perf_data", p);
  for (const p of listDir("tests/fixtures/text/", /^kernel_.*\.txt$/)) add("ftrace_text", p, true);
  for (const p of listDir("tests/fixtures/text/", /^report_.*\.txt$/)) {
    add("report_text", p, true);
  }
  for (const p of listDir("tests/fixtures/", /\.report_raw\.txt\.gz$/)) add("report_text", p, true);
  for (const p of listDir("tests/fixtures/perf/", /\.txt$/)) add("perf_script", p, true);
  m.get("topology")!.push(...topologySeeds());
  for (const p of listDir("core/probes/", /\.json$/)) add("probes", p);
  if (opts.shared) sharedSeeds(m);
  return m;
}
