/**
 * Text ingest throughput: MB/s and events/s of the kernel `trace` text reader and the
 * `trace-cmd report` reader, into raw Arrow tables (IPC streams built, then dropped), and the
 * process's peak RSS, which must stay flat as the input grows (the reader streams).
 *
 *   deno run -A bench/text_bench.ts [--mb 64] [--flavor kernel|report] [--input FILE] [--json]
 *
 * Without --flavor, both synthetic flavors; with --input, the flavor of that file (default kernel).
 *
 * Without --input it writes a synthetic file of about --mb MB per flavor to a temporary
 * directory: tlb_flush, munmap (kernel syscall form), fork and an event without a bundled format,
 * in the proportions of the recorded fixtures.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { RawTables } from "../ingest/arrow/raw_tables.ts";
import { openFileSource } from "../ingest/file_source.ts";
import { defaultPayloadParser } from "../ingest/ftrace_text/register.ts";
import { ingestText } from "../ingest/ftrace_text/text_ingest.ts";
import type { TextFlavor } from "../ingest/ftrace_text/text_reader.ts";

function vmHwmBytes(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return Deno.memoryUsage().rss;
}

function usec(ns: number): string {
  const s = Math.floor(ns / 1e9);
  const us = Math.round((ns % 1e9) / 1000);
  return `${String(s).padStart(5)}.${String(us).padStart(6, "0")}`;
}

/** Writes a synthetic trace of about `mb` megabytes; returns its path. */
function generate(flavor: TextFlavor, mb: number, dir: string): string {
  const path = `${dir}/bench_${flavor}.txt`;
  const f = Deno.openSync(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  const comms = ["gen.sh", "python3", "kworker/u8:0", "Web Content", "<idle>"];
  let ts = 383_000_000_000;
  let written = 0;
  const target = mb * 1024 * 1024;
  const head = flavor === "kernel"
    ? "# tracer: nop\n#\n#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
    : "cpus=2\n";
  f.writeSync(enc.encode(head));
  let i = 0;
  while (written < target) {
    const lines: string[] = [];
    for (let k = 0; k < 4096; k++, i++) {
      ts += 1234 + (i % 7) * 100;
      const comm = comms[i % comms.length]!;
      const pid = comm === "<idle>" ? 0 : 9000 + (i % 50);
      const cpu = i & 1;
      const r = i % 10;
      let body: string;
      if (flavor === "kernel") {
        body = r < 8
          ? `tlb_flush: pages:${(i % 3) - 1} reason:local MM shootdown (3)`
          : r === 8
          ? `sys_munmap(addr: 0x7f5f${(i & 0xffff).toString(16).padStart(8, "0")}, len: 0x8c5f)`
          : `mm_page_alloc: page=0x${(0x16a000 + i).toString(16)} order=0 migratetype=1`;
        lines.push(
          `${(comm + "-" + pid).padStart(24)} [${String(cpu).padStart(3, "0")}] d..1. ${
            usec(ts)
          }: ${body}`,
        );
      } else {
        const ev = r < 8 ? "tlb_flush:" : r === 8 ? "sys_enter_munmap:" : "mm_page_alloc:";
        const payload = r < 8
          ? `pages=${(i % 3) - 1} reason=local mm shootdown (3)`
          : r === 8
          ? `addr: 0x7f5f${(i & 0xffff).toString(16).padStart(8, "0")}, len: 0x00008c5f`
          : `page=0x${(0x16a000 + i).toString(16)} order=0 migratetype=1`;
        lines.push(
          `${comm.padStart(16)}-${String(pid).padEnd(5)} [${String(cpu).padStart(3, "0")}] ${
            usec(ts)
          }: ${ev.padEnd(20)} ${payload}`,
        );
      }
    }
    const b = enc.encode(lines.join("\n") + "\n");
    let off = 0;
    while (off < b.length) off += f.writeSync(b.subarray(off));
    written += b.length;
  }
  f.close();
  return path;
}

function run(path: string, flavor: TextFlavor) {
  const bytes = Deno.statSync(path).size;
  let ipcBytes = 0;
  const rt = new RawTables({ write: (_s, _t, ipc) => void (ipcBytes += ipc.length) });
  const src = openFileSource(path);
  const t0 = performance.now();
  let info;
  try {
    info = ingestText(src, rt, { flavor, payloadParser: defaultPayloadParser(flavor) }).info;
    rt.finish();
  } finally {
    src.close();
  }
  const secs = (performance.now() - t0) / 1000;
  const events = Number(info.events);
  return {
    flavor,
    file: path,
    mb: +(bytes / 1048576).toFixed(1),
    events,
    seconds: +secs.toFixed(3),
    mb_per_s: +(bytes / 1048576 / secs).toFixed(1),
    events_per_s: Math.round(events / secs),
    unparsed_lines: Number(info.unparsed_lines),
    arrow_mb: +(ipcBytes / 1048576).toFixed(1),
    peak_rss_mb: +(vmHwmBytes() / 1048576).toFixed(0),
  };
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    mb: { type: "string", default: "64" },
    input: { type: "string" },
    flavor: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(
    "usage: text_bench.ts [--mb N] [--input FILE --flavor kernel|report] [--json]",
  );
  Deno.exit(0);
}
const results = [];
if (values.flavor !== undefined && values.flavor !== "kernel" && values.flavor !== "report") {
  console.error("--flavor must be kernel or report");
  Deno.exit(2);
}
if (values.input) {
  results.push(run(values.input, (values.flavor ?? "kernel") as TextFlavor));
} else {
  const mb = Number(values.mb);
  if (!(mb > 0)) {
    console.error("--mb must be a positive number");
    Deno.exit(2);
  }
  const dir = Deno.makeTempDirSync({ prefix: "text_bench_" });
  try {
    const flavors = values.flavor ? [values.flavor as TextFlavor] : (["kernel", "report"] as const);
    for (const flavor of flavors) {
      results.push(run(generate(flavor, mb, dir), flavor));
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
for (const r of results) {
  if (values.json) console.log(JSON.stringify(r));
  else {
    console.log(
      `${r.flavor.padEnd(6)} ${r.mb} MB, ${r.events} events in ${r.seconds} s: ` +
        `${r.mb_per_s} MB/s, ${r.events_per_s} events/s, unparsed ${r.unparsed_lines}, ` +
        `Arrow ${r.arrow_mb} MB, peak RSS ${r.peak_rss_mb} MB`,
    );
  }
}
