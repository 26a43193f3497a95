/**
 * `deno task bench`: the benchmark table. Each entry runs our tool and the reference tool on the same
 * file in the same run and prints events/s, MB/s, peak RSS and the speed ratio; the table is also
 * written to bench/out/bench.json.
 *
 * The large trace is recorded on this machine by bench/record_large.sh (at least 5M events) the first
 * time; pass a path to use another trace.dat:  deno task bench [trace.dat]
 */

interface Row {
  name: string;
  input: string;
  events: number;
  seconds: number;
  events_per_s: number;
  mb_per_s: number;
  peak_rss_mb: number | null;
  reference: string;
  reference_seconds: number | null;
  speedup: number | null;
  target: string;
}

const root = new URL("../", import.meta.url).pathname;
const outDir = `${root}bench/out`;
Deno.mkdirSync(outDir, { recursive: true });

async function run(cmd: string, args: string[], opts: { stdout?: "piped" | "null" } = {}) {
  const t0 = performance.now();
  const r = await new Deno.Command(cmd, { args, stdout: opts.stdout ?? "piped", stderr: "piped" })
    .output();
  const seconds = (performance.now() - t0) / 1000;
  if (!r.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${r.code}): ${
        new TextDecoder().decode(r.stderr).slice(0, 500)
      }`,
    );
  }
  return { seconds, stdout: opts.stdout === "null" ? "" : new TextDecoder().decode(r.stdout) };
}

async function shell(line: string) {
  return await run("bash", ["-c", line], { stdout: "null" });
}

function fmt(n: number | null, d = 1): string {
  return n === null
    ? "-"
    : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
}

async function tracedatIngest(trace: string): Promise<Row> {
  const tmp = await Deno.makeTempDir({ prefix: "ir-bench-" });
  try {
    const r = await run(Deno.execPath(), ["run", "-A", `${root}bench/ingest_once.ts`, trace, tmp]);
    const m = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const ref = await shell(`trace-cmd report '${trace}' > /dev/null 2>&1`);
    return {
      name: "trace.dat ingest",
      input: trace,
      events: m.events,
      seconds: m.seconds,
      events_per_s: m.events / m.seconds,
      mb_per_s: m.input_bytes / 1e6 / m.seconds,
      peak_rss_mb: m.peak_rss_bytes / 1e6,
      reference: "trace-cmd report > /dev/null",
      reference_seconds: ref.seconds,
      speedup: ref.seconds / m.seconds,
      target: ">= 5x",
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

let trace = Deno.args[0];
if (!trace) {
  trace = `${outDir}/large.dat`;
  try {
    Deno.statSync(trace);
  } catch {
    console.error(
      `recording ${trace} with bench/record_large.sh (needs root, tracefs, trace-cmd) ...`,
    );
    await run("bash", [`${root}bench/record_large.sh`, trace]);
  }
}

const rows: Row[] = [];
rows.push(await tracedatIngest(trace));

console.log(
  "| benchmark | events | seconds | events/s | MB/s | peak RSS MB | reference | ref s | speedup | target |",
);
console.log("|---|---:|---:|---:|---:|---:|---|---:|---:|---|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.events.toLocaleString("en-US")} | ${fmt(r.seconds, 2)} | ${
      fmt(r.events_per_s, 0)
    } | ` +
      `${fmt(r.mb_per_s)} | ${fmt(r.peak_rss_mb, 0)} | ${r.reference} | ${
        fmt(r.reference_seconds, 2)
      } | ` +
      `${r.speedup === null ? "-" : fmt(r.speedup, 2) + "x"} | ${r.target} |`,
  );
}
Deno.writeTextFileSync(
  `${outDir}/bench.json`,
  JSON.stringify({ date: new Date().toISOString(), rows }, null, 2) + "\n",
);
console.log(`\nwritten ${outDir}/bench.json`);
