/**
 * `deno task ingest <trace> --out DIR`
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { ingestToDir } from "../ingest/ingest.ts";
import { checkOutDir, checkTraceFile, parse, Progress } from "./common.ts";
import { parseFormats } from "./table_formats.ts";

/** Help text. */
export const INGEST_HELP = `Usage: deno task ingest <trace> --out DIR [options]

Reads a trace (trace.dat v6/v7, perf.data, kernel ftrace text, trace-cmd report or perf script
text; the format is detected from the content) into Arrow IPC tables:

  DIR/<system>/<event>.arrows   one table per event type, typed from the kernel's format files
  DIR/main/events.arrows        ts, cpu, pid, comm, system, event, buffer for every event
  DIR/main/trace_info.arrows    file facts: version, clock, kernel, cpus, options, lost events
  DIR/manifest.json             the tables, their columns and row counts, and the warnings

Options:
  -o, --out DIR        output directory (required; created, or an existing directory)
  -f, --format LIST    arrow (default), parquet, csv, comma separated: also write every table as
                       DIR/<system>/<event>.parquet and/or .csv beside its .arrows file (listed in
                       the manifest; the Arrow files are always written, query reads them)
      --batch-rows N   rows per Arrow record batch (default 65536)
  -q, --quiet          no progress and no warnings on stderr
  -h, --help           this help

Examples:
  deno task ingest trace.dat --out trace.arrow
  deno task query trace.arrow "SELECT count(*) FROM tlb.tlb_flush"
  deno task ingest trace.dat --out trace.arrow --format arrow,parquet,csv
`;

/**
 * Runs the ingest command.
 *
 * @param args arguments after `ingest`
 * @returns exit code
 */
export async function ingestCommand(args: string[]): Promise<number> {
  const p = parse(args, {
    out: { type: "string", short: "o" },
    format: { type: "string", short: "f" },
    "batch-rows": { type: "string" },
    quiet: { type: "boolean", short: "q" },
  });
  if (p.values.help) {
    console.log(INGEST_HELP);
    return 0;
  }
  if (p.positionals.length !== 1) throw new UsageError("expected exactly one trace file");
  const out = p.values.out;
  if (typeof out !== "string") throw new UsageError("--out DIR is required");
  const formats = parseFormats(p.values.format as string | undefined);
  let batchRows: number | undefined;
  if (typeof p.values["batch-rows"] === "string") {
    batchRows = Number(p.values["batch-rows"]);
    if (!Number.isInteger(batchRows) || batchRows < 1 || batchRows > 1 << 24) {
      throw new UsageError("--batch-rows must be an integer between 1 and 16777216");
    }
  }
  checkOutDir(out);
  checkTraceFile(p.positionals[0]!);
  const quiet = p.values.quiet === true;
  const prog = new Progress("ingest", quiet);
  const t0 = performance.now();
  const m = await ingestToDir(p.positionals[0]!, out, {
    ...(batchRows !== undefined ? { batchRows } : {}),
    onProgress: (n) => prog.count("reading", n),
  });
  if (formats.length > 0) {
    // DuckDB and parquet-wasm are loaded only when copies are asked for
    const { writeTableCopies } = await import("./table_copies.ts");
    await writeTableCopies(
      out,
      formats,
      (_t, i, n) => prog.count(`writing ${formats.join(", ")}`, i, n, "tables"),
    );
  }
  prog.done();
  const secs = (performance.now() - t0) / 1000;
  const events = Number(m.info.events ?? 0);
  if (!quiet) {
    for (const w of m.warnings) console.error(`warning: ${w.message}`);
    const tables = m.tables.filter((t) => t.schema !== "main").length;
    console.error(
      `ingest: ${events.toLocaleString("en-US")} events in ${tables} event tables -> ${out} ` +
        `(Arrow${formats.map((f) => f === "csv" ? ", CSV" : ", Parquet").join("")}; ` +
        `${secs.toFixed(2)} s)`,
    );
  }
  return 0;
}
