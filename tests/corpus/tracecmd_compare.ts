/**
 * Compares our trace.dat reader with `trace-cmd report -R -t` on the same file, event by event:
 * buffer, comm, pid, cpu, timestamp, event name and every field value.
 *
 * trace-cmd's raw field printing (libtraceevent `tep_print_fields`) is interpreted, not
 * reproduced: numbers may print in decimal or hex (compared modulo the field's width), an `ip`
 * may print as a symbol (resolved through the file's kallsyms), strings print as text.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import { openFileSource } from "../../ingest/file_source.ts";
import type { FieldFormat } from "../../ingest/format/types.ts";
import { parseKallsyms } from "../../ingest/tracedat/kallsyms.ts";
import { traceDatEvents } from "../../ingest/tracedat/tracedat_events.ts";
import { openTraceDat } from "../../ingest/tracedat/tracedat_file.ts";
import { clockIsNs } from "../../ingest/tracedat/timestamps.ts";

/** Result of one comparison. */
export interface CompareResult {
  file: string;
  /** Events trace-cmd printed. */
  theirs: number;
  /** Events we read. */
  ours: number;
  /** Field values compared. */
  fieldsCompared: number;
  /** First mismatches (at most 20) and their total. */
  mismatches: string[];
  mismatchCount: number;
}

interface Line {
  buffer: string;
  comm: string;
  pid: number;
  cpu: number;
  ts: string;
  event: string;
  payload: string;
}

/** Lines of `trace-cmd report -R -t` output read from a (optionally gzipped) file. */
export async function* linesFromFile(path: string): AsyncGenerator<string> {
  const f = await Deno.open(path);
  let stream: ReadableStream<Uint8Array> = f.readable;
  if (path.endsWith(".gz")) {
    stream = stream.pipeThrough(
      new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  }
  yield* splitLines(stream);
}

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (
    const chunk of stream.pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    )
  ) {
    rest += chunk;
    let i;
    while ((i = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, i);
      rest = rest.slice(i + 1);
    }
  }
  if (rest) yield rest;
}

/** Lines of `trace-cmd report -R -t <path>`, run now. */
export async function* reportLines(path: string): AsyncGenerator<string> {
  const cmd = new Deno.Command("trace-cmd", {
    args: ["report", "-R", "-t", path],
    stdout: "piped",
    stderr: "null",
  });
  const child = cmd.spawn();
  yield* splitLines(child.stdout);
  const st = await child.status;
  if (!st.success) throw new Error(`trace-cmd report failed on ${path} (exit ${st.code})`);
}

const LINE = /^\s*(.*?)-(\d+)\s+\[(\d+)\]\s*(\d+(?:\.\d+)?):\s+(\S+):\s?(.*)$/;

async function* parsedLines(
  lines: AsyncIterable<string>,
  instances: string[],
): AsyncGenerator<Line> {
  let cur: Line | null = null;
  for await (const raw of lines) {
    if (/^cpus=\d+$/.test(raw) || /^version = /.test(raw) || /^CPU \d+ is empty/.test(raw)) {
      continue;
    }
    let line = raw;
    let buffer = "";
    for (const name of instances) {
      if (line.startsWith(name + ":")) {
        buffer = name;
        line = line.slice(name.length + 1);
        break;
      }
    }
    const m = LINE.exec(line);
    if (!m) {
      if (cur) cur.payload += "\n" + raw;
      continue;
    }
    if (cur) yield cur;
    cur = {
      buffer,
      comm: m[1]!,
      pid: Number(m[2]),
      cpu: Number(m[3]),
      ts: m[4]!,
      event: m[5]!,
      payload: m[6]!.replace(/^ +/, ""),
    };
  }
  if (cur) yield cur;
}

function splitPayload(payload: string, names: string[]): Map<string, string> | null {
  const out = new Map<string, string>();
  let pos = 0;
  for (let i = 0; i < names.length; i++) {
    const key = names[i] + "=";
    if (payload.slice(pos, pos + key.length) !== key) return null;
    const vs = pos + key.length;
    let ve = payload.length;
    if (i + 1 < names.length) {
      const nk = " " + names[i + 1] + "=";
      const at = payload.indexOf(nk, vs);
      if (at < 0) return null;
      ve = at;
      pos = at + 1;
    }
    out.set(names[i]!, payload.slice(vs, ve));
  }
  return out;
}

function asBig(v: FieldValue): bigint | null {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  return null;
}

function formatTs(ts: bigint, ns: boolean): string {
  if (!ns) return ts.toString();
  const s = ts / 1000000000n;
  const n = ts % 1000000000n;
  return `${s}.${n.toString().padStart(9, "0")}`;
}

/**
 * Runs the comparison.
 *
 * @param path trace.dat path
 * @param lines the report lines (default: run `trace-cmd report -R -t` now)
 * @returns counts and the first mismatches
 */
export async function compareWithTraceCmd(
  path: string,
  lines: AsyncIterable<string> = reportLines(path),
): Promise<CompareResult> {
  const t = openTraceDat(openFileSource(path));
  const ksyms = parseKallsyms(new TextDecoder().decode(t.kallsyms));
  const ns = clockIsNs(t.clock, t.options.tsc2nsec !== null);
  const fmtByKey = new Map(t.formats.map((f) => [`${f.system}:${f.name}`, f]));
  const { events } = traceDatEvents(t);
  const instances = t.buffers.map((b) => b.name).filter((n) => n !== "");
  const res: CompareResult = {
    file: path,
    theirs: 0,
    ours: 0,
    fieldsCompared: 0,
    mismatches: [],
    mismatchCount: 0,
  };
  const bad = (msg: string) => {
    res.mismatchCount++;
    if (res.mismatches.length < 20) res.mismatches.push(msg);
  };
  const it = events[Symbol.iterator]();
  for await (const line of parsedLines(lines, instances)) {
    res.theirs++;
    const n = it.next();
    if (n.done) {
      bad(`trace-cmd has more events; first extra: ${JSON.stringify(line)}`);
      continue;
    }
    res.ours++;
    const e: TraceEvent = n.value;
    const where = `event #${res.theirs} (${line.event} @${line.ts})`;
    if (e.buffer !== line.buffer) bad(`${where}: buffer ${e.buffer} != ${line.buffer}`);
    if (e.comm !== line.comm) bad(`${where}: comm ${e.comm} != ${line.comm}`);
    if (e.pid !== line.pid) bad(`${where}: pid ${e.pid} != ${line.pid}`);
    if (e.cpu !== line.cpu) bad(`${where}: cpu ${e.cpu} != ${line.cpu}`);
    const ours = formatTs(e.ts, ns);
    if (ours !== line.ts) bad(`${where}: ts ${ours} != ${line.ts}`);
    if (e.event !== line.event) {
      bad(`${where}: event ${e.event} != ${line.event}`);
      continue;
    }
    const f = fmtByKey.get(`${e.system}:${e.event}`)!;
    const parts = splitPayload(line.payload, f.ownFields.map((x) => x.name));
    if (!parts) {
      bad(`${where}: cannot split payload '${line.payload}'`);
      continue;
    }
    for (const field of f.ownFields) {
      res.fieldsCompared++;
      const theirs = parts.get(field.name)!;
      const msg = compareField(field, e.fields[field.name] ?? null, theirs, ksyms);
      if (msg) bad(`${where}: ${field.name}: ${msg}`);
    }
  }
  for (let n = it.next(); !n.done; n = it.next()) {
    res.ours++;
    bad(`we have more events; extra: ${n.value.event} @${n.value.ts}`);
  }
  t.src.close();
  return res;
}

function compareField(
  f: FieldFormat,
  ours: FieldValue,
  theirs: string,
  ksyms: ReturnType<typeof parseKallsyms>,
): string | null {
  if (f.kind === "int") {
    const o = asBig(ours);
    if (o === null) return `ours is ${String(ours)}, theirs ${theirs}`;
    const m = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(theirs);
    if (m) {
      let v = BigInt(m[2]!);
      if (m[1]) v = -v;
      const bits = BigInt(8 * f.size);
      if (BigInt.asUintN(Number(bits), v) !== BigInt.asUintN(Number(bits), o)) {
        return `ours ${o} != theirs ${theirs}`;
      }
      return null;
    }
    // libtraceevent prints some addresses as symbols (e.g. ftrace:print ip).
    const sym = ksyms.lookup(BigInt.asUintN(64, o));
    if (sym && (theirs === sym.name || theirs.startsWith(sym.name + "+"))) return null;
    return `ours ${o} (${sym?.name ?? "no symbol"}) != theirs '${theirs}'`;
  }
  if (f.isString) {
    if (typeof ours !== "string") return `ours is not a string: ${String(ours)}`;
    if (ours === theirs) return null;
    // trace-cmd drops one trailing newline of a string (ftrace:print buffers end with "\n").
    if (ours.endsWith("\n") && ours.slice(0, -1) === theirs) return null;
    return `'${ours}' != '${theirs}'`;
  }
  // Non-string arrays.
  if (!Array.isArray(ours)) return `ours is not an array: ${String(ours)}`;
  if (f.kind === "flex" && f.size === 0 && theirs === "0") {
    // libtraceevent reads a 0-sized flexible array as a 0-byte number and prints 0.
    return null;
  }
  const am = /^ARRAY\[(.*)\]$/.exec(theirs);
  if (!am) return `theirs '${theirs}' is not an ARRAY[..]`;
  const bytes = am[1]!.trim() === "" ? [] : am[1]!.split(",").map((x) => parseInt(x.trim(), 16));
  const ob: number[] = [];
  for (const v of ours as readonly (number | bigint)[]) {
    let x = BigInt.asUintN(8 * f.elemSize, BigInt(v));
    for (let i = 0; i < f.elemSize; i++) {
      ob.push(Number(x & 0xffn));
      x >>= 8n;
    }
  }
  if (ob.length !== bytes.length || ob.some((b, i) => b !== bytes[i])) {
    return `bytes [${ob.join(",")}] != [${bytes.join(",")}]`;
  }
  return null;
}

if (import.meta.main) {
  for (const p of Deno.args) {
    const r = await compareWithTraceCmd(p);
    console.log(
      `${p}: theirs ${r.theirs} ours ${r.ours} fields ${r.fieldsCompared} mismatches ${r.mismatchCount}`,
    );
    for (const m of r.mismatches) console.log("  " + m);
  }
}
