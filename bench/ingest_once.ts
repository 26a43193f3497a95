/**
 * Ingests one trace into a directory and prints one JSON line: events, seconds, input bytes,
 * output bytes and this process's peak RSS (VmHWM). Run in a fresh process by bench/run.ts so
 * the peak belongs to the ingest alone.
 *
 *   deno run -A bench/ingest_once.ts <trace> <outdir>
 */
import { ingestToDir } from "../ingest/ingest.ts";

function vmHwmBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) * 1024 : Deno.memoryUsage().rss;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    n += e.isDirectory ? dirBytes(p) : Deno.statSync(p).size;
  }
  return n;
}

const [input, out] = Deno.args;
if (!input || !out) {
  console.error("usage: ingest_once.ts <trace> <outdir>");
  Deno.exit(2);
}
const t0 = performance.now();
const m = await ingestToDir(input, out);
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  events: Number(m.info.events),
  seconds: secs,
  input_bytes: Deno.statSync(input).size,
  output_bytes: dirBytes(out),
  peak_rss_bytes: vmHwmBytes(),
}));
