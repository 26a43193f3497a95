/**
 * perf.data ingest benchmark: the user path (`ingestToDir`, what `deno task ingest` runs: raw
 * Arrow tables written to a temporary directory with their manifest, in a fresh process) against
 * `perf script > /dev/null` on the same file, in the same run, alternating, best of N. Prints
 * events/s, MB/s, wall and CPU seconds and the speed ratio (target >= 5x), and writes
 * bench/out/perf_bench.json.
 *
 *   deno run -A bench/perf_bench.ts [--input FILE] [--runs 3] [--json]
 *
 * Without --input it uses bench/out/large_perf.data, recording it first with
 * bench/perf_record.sh (at least 1.2M tracepoint samples) when it is missing. CPU seconds count
 * user + system time of the process doing the work, so a busy machine disturbs them less than
 * wall time; both ratios are printed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { ingestToDir } from "../ingest/ingest.ts";

const root = new URL("../", import.meta.url).pathname;

/** One measurement. */
interface Run {
  seconds: number;
  cpu_seconds: number;
  events: number;
  peak_rss_bytes: number | null;
}

function vmHwmBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * `--once FILE DIR`: ingest in this process exactly as `deno task ingest FILE --out DIR` does
 * (`ingestToDir`: the Arrow writer worker, the files and the manifest) and print one JSON line.
 */
async function once(input: string, dir: string): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const m = await ingestToDir(input, dir);
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const run: Run = {
    seconds,
    cpu_seconds: (c.user + c.system) / 1e6,
    events: Number(m.info.events),
    peak_rss_bytes: vmHwmBytes(),
  };
  console.log(JSON.stringify(run));
}

async function ours(input: string): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "ir-perf-bench-" });
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${root}bench/perf_bench.ts`, "--once", input, dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr).slice(0, 800));
    return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `perf script > /dev/null`, timed by bash (wall, user, system). */
async function perfScript(input: string): Promise<Run> {
  const r = await new Deno.Command("bash", {
    args: [
      "-c",
      `TIMEFORMAT='%R %U %S'; time (perf script -i '${input}' > /dev/null 2>/dev/null)`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const t = new TextDecoder().decode(r.stderr).trim().split("\n").pop()!.split(" ").map(Number);
  if (!r.success || t.length !== 3 || t.some((x) => !Number.isFinite(x))) {
    throw new Error(`perf script failed on ${input}`);
  }
  return { seconds: t[0]!, cpu_seconds: t[1]! + t[2]!, events: -1, peak_rss_bytes: null };
}

function best(runs: Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

async function main(): Promise<void> {
  const args = parseArgs({
    args: Deno.args,
    options: {
      input: { type: "string" },
      runs: { type: "string", default: "3" },
      json: { type: "boolean", default: false },
      once: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (args.values.help) {
    console.log("usage: deno run -A bench/perf_bench.ts [--input FILE] [--runs N] [--json]");
    return;
  }
  if (args.values.once) {
    const [input, dir] = args.positionals;
    if (!input || !dir) throw new Error("--once needs FILE and DIR");
    return await once(input, dir);
  }
  const runs = Number(args.values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  let input = args.values.input;
  if (!input) {
    input = `${root}bench/out/large_perf.data`;
    try {
      Deno.statSync(input);
    } catch {
      console.error(`recording ${input} with bench/perf_record.sh (needs perf) ...`);
      const r = await new Deno.Command("bash", { args: [`${root}bench/perf_record.sh`, input] })
        .output();
      if (!r.success) throw new Error("bench/perf_record.sh failed");
    }
  }
  const bytes = Deno.statSync(input).size;
  const a: Run[] = [], b: Run[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await ours(input));
    b.push(await perfScript(input));
  }
  const o = best(a), p = best(b);
  const oCpu = Math.min(...a.map((r) => r.cpu_seconds));
  const pCpu = Math.min(...b.map((r) => r.cpu_seconds));
  const result = {
    date: new Date().toISOString(),
    input,
    input_bytes: bytes,
    events: o.events,
    runs,
    ours: {
      seconds: o.seconds,
      cpu_seconds: oCpu,
      events_per_s: o.events / o.seconds,
      mb_per_s: bytes / 1e6 / o.seconds,
      peak_rss_mb: o.peak_rss_bytes === null ? null : o.peak_rss_bytes / 1e6,
    },
    perf_script: {
      seconds: p.seconds,
      cpu_seconds: pCpu,
      events_per_s: o.events / p.seconds,
      mb_per_s: bytes / 1e6 / p.seconds,
    },
    ratio_wall: p.seconds / o.seconds,
    ratio_cpu: pCpu / oCpu,
    target: ">= 5x",
  };
  Deno.mkdirSync(`${root}bench/out`, { recursive: true });
  Deno.writeTextFileSync(
    `${root}bench/out/perf_bench.json`,
    JSON.stringify(result, null, 2) + "\n",
  );
  if (args.values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const f = (x: number, d = 2) => x.toLocaleString("en-US", { maximumFractionDigits: d });
  console.log(
    `input: ${input} (${f(bytes / 1e6, 1)} MB, ${o.events.toLocaleString("en-US")} samples)`,
  );
  console.log("| tool | wall s | CPU s | events/s | MB/s | peak RSS MB |");
  console.log("|---|---:|---:|---:|---:|---:|");
  console.log(
    `| perf.data ingest (Arrow IPC) | ${f(o.seconds)} | ${f(oCpu)} | ${
      f(result.ours.events_per_s, 0)
    } | ` +
      `${f(result.ours.mb_per_s, 1)} | ${
        result.ours.peak_rss_mb === null ? "-" : f(result.ours.peak_rss_mb, 0)
      } |`,
  );
  console.log(
    `| perf script > /dev/null | ${f(p.seconds)} | ${f(pCpu)} | ${
      f(result.perf_script.events_per_s, 0)
    } | ` +
      `${f(result.perf_script.mb_per_s, 1)} | - |`,
  );
  console.log(
    `ratio: ${f(result.ratio_wall)}x wall, ${
      f(result.ratio_cpu)
    }x CPU (target ${result.target}); ` +
      `best of ${runs}`,
  );
}

await main();
