/**
 * Compares our trace.dat reader with `trace-cmd report -R -t` on the same file, event by event:
 * buffer, comm, pid, cpu, timestamp, event name and every field value.
 *
 * trace-cmd's raw field printing (libtraceevent `tep_print_fields`) is interpreted, not
 * reproduced. How an integer field prints is decided from the event's print format and the
 * field's type ({@linkcode fieldRenderings}): with the conversion the print format applies to
 * the bare field (`%llx` prints hex without `0x`, `%d` decimal, `%pS` a symbol), else by type
 * (pointers and longs in `0x` hex, other integers in decimal). Values compare modulo the printed
 * width. Strings print as text, other arrays as their bytes in the file's byte order.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import { openFileSource } from "../../ingest/file_source.ts";
import { type Expr, parsePrintFmt, splitFormat } from "../../ingest/format/print_fmt.ts";
import type { EventFormat, FieldFormat } from "../../ingest/format/types.ts";
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

/** Whether `trace-cmd` can be run. */
export function haveTraceCmd(): boolean {
  try {
    new Deno.Command("trace-cmd", { args: ["--help"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
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
  const rendByKey = new Map<string, Map<string, Rendering>>();
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
    // The value must be the same; its rendering may not be: trace-cmd 3.1.6 once printed the raw
    // integer for trappy's tests_raw_trace.dat (clock "local", ns) in one CI run of several, so
    // its clock detection for that old file is not deterministic. A raw integer equal to our
    // nanoseconds is the same timestamp.
    if (ours !== line.ts && !(ns && e.ts.toString() === line.ts)) {
      bad(`${where}: ts ${ours} != ${line.ts}`);
    }
    if (e.event !== line.event) {
      bad(`${where}: event ${e.event} != ${line.event}`);
      continue;
    }
    const key = `${e.system}:${e.event}`;
    const f = fmtByKey.get(key)!;
    const parts = splitPayload(line.payload, f.ownFields.map((x) => x.name));
    if (!parts) {
      bad(`${where}: cannot split payload '${line.payload}'`);
      continue;
    }
    let rend = rendByKey.get(key);
    if (!rend) rendByKey.set(key, rend = fieldRenderings(f));
    for (const field of f.ownFields) {
      res.fieldsCompared++;
      const theirs = parts.get(field.name)!;
      const msg = compareField(field, rend.get(field.name)!, e.fields[field.name] ?? null, theirs, {
        ksyms,
        littleEndian: t.littleEndian,
      });
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

/**
 * How `trace-cmd report -R` prints one integer field:
 * - `dec`: decimal (`%d`, `%u`, `%llu`; signed or not);
 * - `hex`: hexadecimal, with or without `0x` (`%llx`, `0x%lx`, `%#x`, and pointers/longs by type);
 * - `oct`: octal (`%o`);
 * - `char`: one character (`%c`);
 * - `pointer`: glibc `%p`: `0x...` or `(nil)`;
 * - `symbol`: `%ps`/`%pS`: `sym` or `sym+0xoff` when kallsyms covers the address, else `0xaddr`;
 * - `text`: anything else (e.g. `%pI4` on an integer): compared as our decimal value.
 */
export interface Rendering {
  /** The print style. */
  style: "dec" | "hex" | "oct" | "char" | "pointer" | "symbol" | "text";
  /** Bits of the value that the conversion prints (values compare modulo 2^bits). */
  bits: number;
  /** For `hex`: `0x` always printed first, never, or `alt` (`%#x`: first unless the value is 0). */
  prefix: "0x" | "none" | "alt";
  /** Where the decision came from: the conversion spec (`%llx`) or `type` (no conversion used). */
  from: string;
}

/** Bits a C printf length modifier prints on this (64-bit) host: hh, h, none, l, ll. */
function convBits(length: number): number {
  return length <= -2 ? 8 : length === -1 ? 16 : length === 0 ? 32 : 64;
}

/** libtraceevent's `print_field_raw` choice, from the field's declaration alone. */
function byType(f: FieldFormat): Rendering {
  const bits = 8 * ([1, 2, 4, 8].includes(f.size) ? f.size : 8);
  const isLong = /long/.test(f.type);
  const r = (hex: boolean): Rendering => ({
    style: hex ? "hex" : "dec",
    bits,
    prefix: hex ? "0x" : "none",
    from: "type",
  });
  if (f.type.includes("*")) return r(true);
  // signed 4-byte longs print as 0x%x; other signed integers in decimal
  if (f.signed) return r(f.size === 4 && isLong);
  return r(isLong);
}

function bare(e: Expr): Expr {
  while (e.k === "cast") e = e.e;
  return e;
}

/**
 * Decides, for every integer field of an event, how `trace-cmd report -R` (libtraceevent 1.7
 * `print_selected_fields`) prints it. libtraceevent walks the fields in order and looks for each
 * in the parsed print format, resuming after the previous match and wrapping around once: the
 * first conversion whose argument is the bare field (casts allowed) prints it, with `0x` first
 * when the literal text before it ends in `0x`. After a match of the last conversion the search
 * is over and later fields print by type; so do fields the format never uses directly (inside
 * `__print_symbolic`, arithmetic, ...), arrays, and every field of an event whose format
 * libtraceevent cannot parse.
 *
 * @param fmt the event format
 * @returns renderings by field name (own fields only)
 */
export function fieldRenderings(fmt: EventFormat): Map<string, Rendering> {
  const out = new Map<string, Rendering>();
  const pf = parsePrintFmt(fmt.printFmt);
  const segs = pf.tepArgs && pf.tepFailure === null && fmt.printFmt !== ""
    ? splitFormat(pf.format, pf.tepArgs, "tep")
    : [];
  // ftrace:bprint's arguments are its own (bprint) args, never the fields
  const usable = segs.length > 0 && !segs.some((s) => s.kind === "conv" && s.arg === null) &&
    !(fmt.system === "ftrace" && fmt.name === "bprint");
  let at: number | null = usable ? 0 : null;
  for (const f of fmt.ownFields) {
    const isArray = f.kind === "data_loc" || f.kind === "rel_loc" || f.type.includes("[");
    if (isArray || at === null) {
      out.set(f.name, byType(f));
      continue;
    }
    let found = -1;
    let has0x = false;
    for (let k = 0; k < segs.length; k++) {
      const idx = (at + k) % segs.length;
      const seg = segs[idx]!;
      if (seg.kind === "text") {
        has0x = seg.text.length > 1 && seg.text.endsWith("0x");
        continue;
      }
      const a = seg.arg ? bare(seg.arg) : null;
      if (a && a.k === "field" && a.name === f.name) {
        found = idx;
        break;
      }
      has0x = false;
    }
    if (found < 0) {
      out.set(f.name, byType(f));
      continue;
    }
    const seg = segs[found]!;
    if (seg.kind !== "conv") throw new Error("unreachable");
    at = found + 1 < segs.length ? found + 1 : null;
    const bits = Math.min(8 * f.size || 64, seg.conv === "pointer" ? 64 : convBits(seg.length));
    const from = (has0x ? "0x" : "") + seg.spec;
    const prefix = has0x ? "0x" : seg.flags.includes("#") ? "alt" : "none";
    if (seg.conv === "int") {
      const style = seg.ch === "x" || seg.ch === "X" ? "hex" : seg.ch === "o" ? "oct" : "dec";
      out.set(f.name, { style, bits, prefix, from });
    } else if (seg.conv === "char") {
      out.set(f.name, { style: "char", bits: 8, prefix, from });
    } else if (seg.conv === "pointer") {
      const e = seg.ext[0] ?? "";
      const style = "SsFf".includes(e) && e !== "" ? "symbol" : e === "" ? "pointer" : "text";
      out.set(f.name, { style, bits, prefix, from });
    } else {
      out.set(f.name, { style: "text", bits, prefix, from });
    }
  }
  return out;
}

/** Parses a number printed as `r` says; null if the text is not such a number. */
function parsePrinted(text: string, r: Rendering): bigint | null {
  const t = text.trim();
  let m: RegExpExecArray | null;
  switch (r.style) {
    case "dec":
      m = /^(-?)(\d+)$/.exec(t);
      return m ? (m[1] ? -BigInt(m[2]!) : BigInt(m[2]!)) : null;
    case "hex": {
      m = /^(0[xX])?([0-9a-fA-F]+)$/.exec(t);
      if (!m) return null;
      const v = BigInt("0x" + m[2]!);
      const want = r.prefix === "0x" || (r.prefix === "alt" && v !== 0n);
      // `%llx` of 0x0abc prints `abc`: a `0x` in front would be a different rendering
      return want === (m[1] !== undefined) ? v : null;
    }
    case "oct":
      m = /^0?([0-7]+)$/.exec(t);
      return m ? BigInt("0o" + m[1]!) : null;
    case "pointer":
      if (t === "(nil)") return 0n;
      m = /^0x([0-9a-fA-F]+)$/.exec(t);
      return m ? BigInt("0x" + m[1]!) : null;
    default:
      return null;
  }
}

/** What {@linkcode compareField} needs to know about the file. */
export interface CompareContext {
  /** The file's kallsyms, for `%pS`-style fields. */
  ksyms: ReturnType<typeof parseKallsyms>;
  /** The file's byte order: trace-cmd prints non-string arrays as their bytes in it. */
  littleEndian: boolean;
}

/**
 * Compares one field value we decoded with what `trace-cmd report -R` printed for it.
 *
 * @param f the field
 * @param r how trace-cmd prints it (from {@linkcode fieldRenderings}; used for integers)
 * @param ours our value
 * @param theirs trace-cmd's text
 * @param ctx kallsyms and byte order
 * @returns null when equal, else what differs
 */
export function compareField(
  f: FieldFormat,
  r: Rendering,
  ours: FieldValue,
  theirs: string,
  ctx: CompareContext,
): string | null {
  if (f.kind === "int") {
    const o = asBig(ours);
    if (o === null) return `ours is ${String(ours)}, theirs ${theirs}`;
    const bits = r.bits;
    const same = (v: bigint) => BigInt.asUintN(bits, v) === BigInt.asUintN(bits, o);
    const how = `printed as ${r.style} (${r.from})`;
    if (r.style === "char") {
      return theirs.length === 1 && same(BigInt(theirs.charCodeAt(0)))
        ? null
        : `ours ${o} != theirs '${theirs}' ${how}`;
    }
    if (r.style === "symbol") {
      // libtraceevent 1.7: `sym` (`%ps`) or `sym+0xoff` (`%pS`) when kallsyms covers the address,
      // else `0xaddr`; newer versions add ` (0xaddr)` after the symbol under -R
      const addr = /^0x([0-9a-fA-F]+)$/.exec(theirs);
      if (addr) {
        return same(BigInt("0x" + addr[1]!)) ? null : `ours ${o} != theirs '${theirs}' ${how}`;
      }
      const m = /^([^\s+]+)(?:\+0x([0-9a-fA-F]+))?(?: \(0x([0-9a-fA-F]+)\))?$/.exec(theirs);
      if (!m) return `theirs '${theirs}' is not a symbol or address (${r.from})`;
      if (m[3] !== undefined && !same(BigInt("0x" + m[3]))) {
        return `ours ${o} != theirs '${theirs}' ${how}`;
      }
      const sym = ctx.ksyms.lookup(BigInt.asUintN(64, o));
      if (!sym || sym.name !== m[1]) {
        return `symbol of ${o} is ${sym?.name ?? "unknown"}, theirs '${theirs}'`;
      }
      if (m[2] !== undefined && BigInt("0x" + m[2]) !== sym.offset) {
        return `offset of ${o} in ${sym.name} is 0x${sym.offset.toString(16)}, theirs '${theirs}'`;
      }
      return null;
    }
    if (r.style === "text") {
      return theirs === o.toString() ? null : `ours ${o} != theirs '${theirs}' ${how}`;
    }
    const v = parsePrinted(theirs, r);
    if (v === null) return `theirs '${theirs}' is not ${how}`;
    return same(v) ? null : `ours ${o} != theirs ${theirs} ${how}`;
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
    const x = BigInt.asUintN(8 * f.elemSize, BigInt(v));
    for (let i = 0; i < f.elemSize; i++) {
      const shift = BigInt(8 * (ctx.littleEndian ? i : f.elemSize - 1 - i));
      ob.push(Number((x >> shift) & 0xffn));
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
