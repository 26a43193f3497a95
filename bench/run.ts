/**
 * `deno task bench`: one benchmark table, printed and written to bench/out/bench.json.
 *
 * Rows: trace.dat ingest vs `trace-cmd report > /dev/null`, perf.data ingest vs `perf script >
 * /dev/null` (same file, same run), trace-cmd report text ingest, replay throughput (request-policy
 * evaluations/s), end-to-end `replay` of 1M- and 10M-event IOMMU traces, and DuckDB query latency on
 * the result tables. Every measurement runs in its own process (peak RSS = that process's VmHWM).
 *
 * Inputs are made on this machine the first time (bench/out/): bench/record_large.sh (a real
 * trace-cmd recording, >= 5M events), bench/perf_record.sh (a real perf recording), and
 * bench/make_e2e_trace.ts (the example's 6.12 VT-d workload as a series of jobs).
 *
 *   deno task bench [--only tracedat,perf,text,replay,e2e,query] [--quick]
 */
import { parseArgs } from "node:util";

interface Row {
  name: string;
  input: string;
  events: number | null;
  seconds: number;
  events_per_s: number | null;
  mb_per_s: number | null;
  peak_rss_mb: number | null;
  reference: string;
  reference_seconds: number | null;
  speedup: number | null;
  target: string;
}

const root = new URL("../", import.meta.url).pathname;
const out = `${root}bench/out`;
Deno.mkdirSync(out, { recursive: true });
const deno = Deno.execPath();

const args = parseArgs({
  args: Deno.args,
  options: { only: { type: "string" }, quick: { type: "boolean" } },
  strict: true,
});
const only = args.values.only?.split(",");
const want = (k: string) => !only || only.includes(k);
const quick = args.values.quick === true;

async function run(cmd: string, argv: string[], stdout: "piped" | "null" = "piped") {
  const t0 = performance.now();
  const r = await new Deno.Command(cmd, { args: argv, stdout, stderr: "piped" }).output();
  const seconds = (performance.now() - t0) / 1000;
  if (!r.success) {
    throw new Error(
      `${cmd} ${argv.join(" ")} failed (${r.code}): ${
        new TextDecoder().decode(r.stderr).slice(-800)
      }`,
    );
  }
  return { seconds, stdout: stdout === "null" ? "" : new TextDecoder().decode(r.stdout) };
}

const sh = (line: string) => run("bash", ["-c", line], "null");
const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};
const size = (p: string) => Deno.statSync(p).size;

function lastJson(text: string): Record<string, number> {
  const line = text.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`no JSON in output: ${text.slice(-300)}`);
  return JSON.parse(line);
}

async function ensure(path: string, make: string[]): Promise<void> {
  if (exists(path)) return;
  console.error(`making ${path} ...`);
  await run(make[0]!, make.slice(1), "null");
}

const rows: Row[] = [];
const row = (r: Row) => {
  rows.push(r);
  const what = r.seconds > 0
    ? `${r.seconds.toFixed(2)} s`
    : `${((r.events_per_s ?? 0) / 1e6).toFixed(2)} M/s`;
  console.error(`  ${r.name}: ${what}${r.speedup ? `, ${r.speedup.toFixed(2)}x` : ""}`);
};

/** `ingestToDir` of `path` in its own process (bench/ingest_once.ts), into a removed temp dir. */
async function ingestOnce(path: string): Promise<Record<string, number>> {
  const tmp = await Deno.makeTempDir({ prefix: "ir-bench-" });
  try {
    return lastJson(
      (await run(deno, ["run", "-A", `${root}bench/ingest_once.ts`, path, tmp])).stdout,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** The row of an `ingestOnce` measurement. */
function ingestRow(
  name: string,
  input: string,
  m: Record<string, number>,
  ref: { reference: string; seconds: number | null; target: string },
): Row {
  return {
    name,
    input,
    events: m.events!,
    seconds: m.seconds!,
    events_per_s: m.events! / m.seconds!,
    mb_per_s: m.input_bytes! / 1e6 / m.seconds!,
    peak_rss_mb: m.peak_rss_bytes! / 1e6,
    reference: ref.reference,
    reference_seconds: ref.seconds,
    speedup: ref.seconds === null ? null : ref.seconds / m.seconds!,
    target: ref.target,
  };
}

// 1. trace.dat ingest vs trace-cmd report.
if (want("tracedat")) {
  const trace = `${out}/large.dat`;
  await ensure(trace, ["bash", `${root}bench/record_large.sh`, trace]);
  const m = await ingestOnce(trace);
  const ref = await sh(`trace-cmd report '${trace}' > /dev/null 2>&1`);
  row(ingestRow(
    "trace.dat ingest",
    `large.dat (real recording, v7 zstd, ${(size(trace) / 1e6).toFixed(0)} MB)`,
    m,
    { reference: "trace-cmd report > /dev/null", seconds: ref.seconds, target: ">= 5x" },
  ));
}

// 2. perf.data ingest vs perf script (bench/perf_bench.ts measures both, best of N).
if (want("perf")) {
  const r = lastJson(
    (await run(deno, [
      "run",
      "-A",
      `${root}bench/perf_bench.ts`,
      "--json",
      "--runs",
      quick ? "1" : "3",
    ])).stdout,
  ) as unknown as {
    input_bytes: number;
    events: number;
    ours: { seconds: number; events_per_s: number; mb_per_s: number; peak_rss_mb: number };
    perf_script: { seconds: number };
    ratio_wall: number;
  };
  row({
    name: "perf.data ingest",
    input: `large_perf.data (real recording, ${(r.input_bytes / 1e6).toFixed(0)} MB)`,
    events: r.events,
    seconds: r.ours.seconds,
    events_per_s: r.ours.events_per_s,
    mb_per_s: r.ours.mb_per_s,
    peak_rss_mb: r.ours.peak_rss_mb,
    reference: "perf script > /dev/null",
    reference_seconds: r.perf_script.seconds,
    speedup: r.ratio_wall,
    target: ">= 5x",
  });
}

// 3. e2e traces (also the inputs of the text and query rows).
const e2e1 = `${out}/e2e_1m.dat`;
const e2e10 = `${out}/e2e_10m.dat`;
if (want("e2e") || want("text") || want("query")) {
  await ensure(e2e1, [deno, "run", "-A", `${root}bench/make_e2e_trace.ts`, e2e1, "1000000"]);
}

// 4. Text ingest: trace-cmd report text of the 1M-event trace, the kernel's own `trace` text
// (synthetic, in the recorded fixtures' proportions), perf script text of the perf.data recording.
/** Runs bench/text_bench.ts with `args` and adds its row (it reports MiB; the table has MB). */
async function textBenchRow(name: string, input: string, args: string[]): Promise<void> {
  const r = lastJson(
    (await run(deno, ["run", "-A", `${root}bench/text_bench.ts`, ...args, "--json"])).stdout,
  );
  row({
    name,
    input,
    events: r.events!,
    seconds: r.seconds!,
    events_per_s: r.events_per_s!,
    mb_per_s: r.mb_per_s! * 1.048576,
    peak_rss_mb: r.peak_rss_mb! * 1.048576,
    reference: "(no tool reads this text)",
    reference_seconds: null,
    speedup: null,
    target: "-",
  });
}
if (want("text")) {
  const txt = `${out}/e2e_1m_report.txt`;
  if (!exists(txt)) await sh(`trace-cmd report '${e2e1}' > '${txt}' 2>/dev/null`);
  await textBenchRow(
    "trace-cmd report text ingest",
    `trace-cmd report of e2e_1m.dat (${(size(txt) / 1e6).toFixed(0)} MB)`,
    ["--input", txt, "--flavor", "report"],
  );
  const mib = quick ? 32 : 128;
  await textBenchRow("kernel trace text ingest", `synthetic kernel trace text (${mib} MiB)`, [
    "--flavor",
    "kernel",
    "--mb",
    String(mib),
  ]);
  // `perf script` text of the perf.data benchmark's recording, through the full ingest.
  const pd = `${out}/large_perf.data`, ps = `${out}/large_perf_script.txt`;
  if (exists(pd)) {
    if (!exists(ps)) await sh(`perf script -i '${pd}' > '${ps}' 2>/dev/null`);
    row(ingestRow(
      "perf script text ingest",
      `perf script of large_perf.data (${(size(ps) / 1e6).toFixed(0)} MB)`,
      await ingestOnce(ps),
      { reference: "(no tool reads this text)", seconds: null, target: "-" },
    ));
  }
}

// 5. Replay throughput: request-policy evaluations per second (bench/replay_bench.ts).
if (want("replay")) {
  const r = await run(deno, ["run", "-A", `${root}bench/replay_bench.ts`]);
  for (const line of r.stdout.split("\n")) {
    const m = /^(.+?)\s+([\d.]+) M\/s best round, ([\d.]+) M\/s wall, ([\d.]+) M\/s CPU/.exec(
      line,
    );
    if (!m) continue;
    row({
      name: `replay: ${m[1]!.trim()}`,
      input: "synthetic requests (2 IOMMUs, 5 devices; 90% SVA, 10% DMA-API unmaps)",
      events: null,
      seconds: 0,
      events_per_s: Number(m[2]) * 1e6,
      mb_per_s: null,
      peak_rss_mb: null,
      reference: `(evaluations/s, fastest of 10 rounds of 200k requests; all rounds ${
        m[3]
      } M/s wall, ${m[4]} M/s CPU of all threads)`,
      reference_seconds: null,
      speedup: null,
      // the target is the default replay: every built-in policy, default threads
      target: m[1]!.trim() === "all built-ins (10)" ? ">= 5M/s" : "-",
    });
  }
}

async function replayOnce(trace: string, outDir?: string) {
  const argv = ["run", "-A", `${root}cli/main.ts`, "replay", trace, "-q", "--json"];
  if (outDir) argv.push("--out", outDir);
  const t0 = performance.now();
  const child = new Deno.Command(deno, {
    args: argv,
    stdout: "null",
    stderr: "piped",
    env: { IOMMU_REPLAY_PRINT_HWM: "1" },
  }).spawn();
  // Sample the child's VmHWM while it runs (Linux), in case it does not report it itself.
  let hwm = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${child.pid}/status`));
      if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
    } catch { /* exited */ }
  }, 50);
  const st = await child.output();
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  if (!st.success) {
    throw new Error(`replay ${trace} failed: ${new TextDecoder().decode(st.stderr).slice(-500)}`);
  }
  const reported = /peak_rss_bytes[=: ]+(\d+)/.exec(new TextDecoder().decode(st.stderr));
  if (reported) hwm = Math.max(hwm, Number(reported[1]));
  return { seconds, hwm };
}

// 6. End-to-end replay of 1M and 10M events (ingest + normalize + 10 policies + checks + fidelity).
if (want("e2e")) {
  const sizes: [string, number][] = [[e2e1, 1_000_000]];
  if (!quick) {
    await ensure(e2e10, [deno, "run", "-A", `${root}bench/make_e2e_trace.ts`, e2e10, "10000000"]);
    sizes.push([e2e10, 10_000_000]);
  }
  for (const [trace] of sizes) {
    const ev = (await ingestOnce(trace)).events!;
    const r = await replayOnce(trace);
    row({
      name: `end-to-end replay (${(ev / 1e6).toFixed(1)}M events)`,
      input: `${trace.split("/").pop()} (6.12 VT-d SVA jobs, ${(size(trace) / 1e6).toFixed(0)} MB)`,
      events: ev,
      seconds: r.seconds,
      events_per_s: ev / r.seconds,
      mb_per_s: size(trace) / 1e6 / r.seconds,
      peak_rss_mb: r.hwm ? r.hwm / 1e6 : null,
      reference: "(no other tool replays IOMMU invalidations)",
      reference_seconds: null,
      speedup: null,
      target: "-",
    });
  }
}

// 7. DuckDB (duckdb-wasm) query latency on the result tables of the 1M-event replay.
if (want("query")) {
  const dir = `${out}/e2e_1m_replay`;
  if (!exists(`${dir}/manifest.json`)) await replayOnce(e2e1, dir);
  const r = lastJson((await run(deno, ["run", "-A", `${root}bench/query_once.ts`, dir])).stdout);
  for (const [name, ms] of Object.entries(r)) {
    row({
      name: `query: ${name}`,
      input: "result tables of e2e_1m.dat (duckdb-wasm)",
      events: null,
      seconds: ms / 1000,
      events_per_s: null,
      mb_per_s: null,
      peak_rss_mb: null,
      reference: name.endsWith("(load)")
        ? "(fresh engine, loading only the tables the query names)"
        : "(median of 3, after load)",
      reference_seconds: null,
      speedup: null,
      target: "-",
    });
  }
}

const fmt = (n: number | null, d = 1) =>
  n === null
    ? "-"
    : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
let cpu = "unknown CPU";
try {
  cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.+)/)?.[1] ?? cpu;
} catch {
  // not Linux, or not permitted: the table still says how many CPUs
}
const machine = `${cpu}, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}, ` +
  `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`;
console.log(`machine: ${machine}\n`);
console.log(
  "| benchmark | input | events | seconds | events/s | MB/s | peak RSS MB | reference | ref s | speedup | target |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.input} | ${r.events === null ? "-" : r.events.toLocaleString("en-US")} | ` +
      `${r.seconds ? fmt(r.seconds, 3) : "-"} | ${fmt(r.events_per_s, 0)} | ${fmt(r.mb_per_s)} | ` +
      `${fmt(r.peak_rss_mb, 0)} | ${r.reference} | ${fmt(r.reference_seconds, 2)} | ` +
      `${r.speedup === null ? "-" : fmt(r.speedup, 2) + "x"} | ${r.target} |`,
  );
}
Deno.writeTextFileSync(
  `${out}/bench.json`,
  JSON.stringify({ date: new Date().toISOString(), machine, rows }, null, 2) + "\n",
);
console.log(`\nwritten ${out}/bench.json`);
