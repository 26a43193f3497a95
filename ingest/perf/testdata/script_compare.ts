/**
 * Test helper: our perf.data reader's samples as `perf script` rows (payload rendered from the
 * print fmt by the shared renderer), `perf script` text as rows, and a column-by-column
 * comparison of the two at the text's time precision (perf script truncates).
 *
 * @module
 */
import { compileDecoder, type EventDecoder } from "../../format/field_decoder.ts";
import { type CompiledRenderer, compileRenderer } from "../../format/print_render.ts";
import type { EventFormat } from "../../format/types.ts";
import { type FileSource, openFileSource } from "../../file_source.ts";
import { type PerfReadOptions, type PerfReadResult, readPerfData } from "../perf_reader.ts";
import { emptyScriptLine, parseScriptLine } from "../script_line.ts";

/** One sample as perf script shows it. */
export interface ScriptRow {
  /** Command name. */
  comm: string;
  /** Process id (null when the text has none). */
  pid: number | null;
  /** Thread id. */
  tid: number;
  /** CPU. */
  cpu: number;
  /** ns */
  ts: bigint;
  /** `system:event`. */
  event: string;
  /** The payload as perf script prints it. */
  payload: string;
}

/**
 * Reads a perf.data file into rows.
 *
 * @param file path or source of the file
 * @param opts reader options
 * @returns rows in delivery order and the read result
 */
export async function binaryRows(
  file: string | FileSource,
  opts: PerfReadOptions = {},
): Promise<{ rows: ScriptRow[]; result: PerfReadResult }> {
  const rows: ScriptRow[] = [];
  const decs = new Map<EventFormat, { dec: EventDecoder; ren: CompiledRenderer }>();
  const src = typeof file === "string" ? openFileSource(file) : file;
  try {
    const result = await readPerfData(src, (s) => {
      let d = decs.get(s.format);
      if (!d) {
        d = {
          dec: compileDecoder(s.format, s.littleEndian),
          ren: compileRenderer(s.format, { longSize: 8, bigEndian: !s.littleEndian }),
        };
        decs.set(s.format, d);
      }
      const fields = d.dec.decode(s.view, s.bytes, s.raw, s.rawLen);
      rows.push({
        comm: s.comm,
        pid: s.pid,
        tid: s.tid,
        cpu: s.cpu,
        ts: BigInt(s.tsHi) * 4294967296n + BigInt(s.tsLo),
        event: `${s.format.system}:${s.format.name}`,
        payload: d.ren.render(fields),
      });
    }, opts);
    return { rows, result };
  } finally {
    src.close();
  }
}

/**
 * Parses `perf script` text into rows (sample lines only).
 *
 * @param text the output
 * @returns rows and the time precision (digits after the point)
 */
export function textRows(text: string): { rows: ScriptRow[]; precision: number } {
  const rows: ScriptRow[] = [];
  const l = emptyScriptLine();
  let precision = 0;
  for (const line of text.split("\n")) {
    if (parseScriptLine(line, l) !== "sample") continue;
    precision = l.precision;
    rows.push({
      comm: l.comm ?? "",
      pid: l.pid,
      tid: l.tid ?? -1,
      cpu: l.cpu ?? -1,
      ts: l.ts ?? -1n,
      event: l.event,
      payload: l.payload,
    });
  }
  return { rows, precision };
}

/**
 * Compares rows column by column.
 *
 * @param ours rows from the binary file (ns times)
 * @param theirs rows from text
 * @param precision digits after the point in the text's times
 * @returns the first 10 mismatches and the number of values compared
 */
export function compareRows(
  ours: ScriptRow[],
  theirs: ScriptRow[],
  precision: number,
): { mismatches: string[]; compared: number } {
  const mismatches: string[] = [];
  const unit = 10n ** BigInt(9 - precision);
  let compared = 0;
  if (ours.length !== theirs.length) {
    mismatches.push(`row count: ours ${ours.length}, theirs ${theirs.length}`);
  }
  const n = Math.min(ours.length, theirs.length);
  for (let i = 0; i < n && mismatches.length < 10; i++) {
    const a = ours[i]!, b = theirs[i]!;
    const cols: [string, unknown, unknown][] = [
      ["comm", a.comm, b.comm],
      ["tid", a.tid, b.tid],
      ["cpu", a.cpu, b.cpu],
      ["ts", a.ts - a.ts % unit, b.ts],
      ["event", a.event, b.event],
      ["payload", a.payload, b.payload],
    ];
    if (b.pid !== null) cols.push(["pid", a.pid, b.pid]);
    for (const [name, x, y] of cols) {
      compared++;
      if (x !== y) mismatches.push(`row ${i} ${name}: ours ${String(x)}, theirs ${String(y)}`);
    }
  }
  return { mismatches, compared };
}

/**
 * Runs `perf script` on a file now.
 *
 * @param path the file
 * @param args extra arguments (`--ns`, `-F ...`)
 * @returns its standard output
 */
export function runPerfScript(path: string, args: string[] = []): string {
  const out = new Deno.Command("perf", {
    args: ["script", ...args, "-i", path],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  if (!out.success) throw new Error(`perf script failed on ${path} (exit ${out.code})`);
  return new TextDecoder().decode(out.stdout);
}

/** Whether `perf` can be run. */
export function havePerf(): boolean {
  try {
    return new Deno.Command("perf", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
