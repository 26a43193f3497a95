/**
 * Events out of ftrace text: the kernel's `trace` / `trace_pipe` / `per_cpu/cpuN/trace` files
 * (flavor `kernel`) and `trace-cmd report` output (flavor `report`), read line by line in
 * bounded memory.
 *
 * Each event line gives the context (see `context_line.ts`), the event name and the payload.
 * Events whose format is known (supplied, or bundled for the kernel version) get typed field
 * values decoded from the payload (`payload_decoder.ts`); other events get their `key=value`
 * pairs as strings. Nothing is dropped silently: comment and bookkeeping lines are recognised,
 * and every other line that is not an event is counted with its line number.
 *
 * Timestamps: `seconds.micros` text is converted exactly as printed (the kernel and trace-cmd
 * round ns to µs, so text is the binary timestamp rounded to 1 µs; `trace-cmd report -t` and the
 * kernel `raw`/`hex` options give full ns). A bare integer is a non-ns clock's raw count
 * (counter, x86-tsc, uptime). The kernel latency-format prints µs since the buffer start.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import { TraceError, type TraceWarning } from "../../core/errors.ts";
import type { TraceInfoRow } from "../../core/trace_info.ts";
import type { FileSource } from "../file_source.ts";
import type { EventFormat } from "../format/types.ts";
import {
  type ContextShape,
  emptyContext,
  type LineContext,
  parseDefaultContext,
  parseLatencyContext,
  parseRawContext,
  parseVerboseContext,
} from "./context_line.ts";
import { type EventBody, parseEventBody } from "./event_body.ts";
import { systemOfEvent } from "./event_systems.ts";
import { decodeFlags, type FlagColumn, layoutForWidth, layoutFromLegend } from "./flags.ts";
import { FormatResolver, type KnownEvent } from "./format_resolver.ts";
import { LineReader } from "./line_reader.ts";
import { type DecodeHow, PayloadDecoder, type PayloadParserFactory } from "./payload_decoder.ts";
import { splitKeyValues, splitSyscallArgs } from "./payload_fields.ts";
import { mmMtOffset, restoreUnprinted } from "./unprinted_fields.ts";
import {
  emptyHeaderFacts,
  type HeaderFacts,
  readCommentLine,
  readMetaLine,
} from "./text_header.ts";

/** Which program wrote the text. */
export type TextFlavor = "kernel" | "report";

/** Options of {@linkcode FtraceTextReader}. */
export interface FtraceTextOptions {
  /** `kernel` (tracefs `trace` files) or `report` (`trace-cmd report`). */
  flavor: TextFlavor;
  /** Kernel release whose bundled formats to use (default: from the header, else the newest). */
  kernel?: string | null;
  /** Event formats that take precedence over the bundled ones (e.g. from the traced machine). */
  formats?: readonly EventFormat[];
  /** Buffer name for kernel text (an instance's `trace` file); default `""`. */
  buffer?: string;
  /** Longest line read, in bytes (default 64 KiB); longer lines are skipped and counted. */
  maxLineBytes?: number;
  /** Read size (default 1 MiB). */
  chunkBytes?: number;
  /** Inverts print formats (default: none; the ingester passes the shared one). */
  payloadParser?: PayloadParserFactory | null;
  /** Give up with an error after this many unparsed lines before the first event (default 1000). */
  maxLeadingGarbage?: number;
}

/** One event read from text. */
export interface TextEvent {
  /** ns (rounded to the printed precision), a raw count, or ns since the buffer start. */
  ts: bigint;
  /** CPU (0 when the line has no context). */
  cpu: number;
  /** -1 when the line has no context (`nocontext-info`). */
  pid: number;
  /** Thread group id when printed (`record-tgid`), else null. */
  tgid: number | null;
  /** Command name as printed (truncated to 8 characters in latency formats). */
  comm: string;
  /** `common_flags` decoded from the flag column, null when not printed. */
  flags: number | null;
  /** `common_preempt_count`, null when not printed. */
  preempt: number | null;
  /** Buffer (instance) name, `""` for the top-level buffer. */
  buffer: string;
  /** Trace system (from the format, or judged from the name). */
  system: string;
  /** Event name. */
  event: string;
  /** Dense id of `system:event` within this text (0, 1, ...), for per-type lookups. */
  type: number;
  /** The event's format when known (its fields are typed in `values`), else null. */
  format: EventFormat | null;
  /** Field values: typed for a known format, `key=value` strings otherwise. */
  values: Record<string, FieldValue>;
  /** For events without a format: the keys found, in payload order. */
  keys: readonly string[];
  /** The payload text. */
  payload: string;
  /** How the values were found (`text` for events without a format). */
  how: DecodeHow | "text";
  /** Line number (1-based). */
  line: number;
}

/** Counters of a read. */
export interface TextStats {
  /** Lines read. */
  lines: number;
  /** Events read. */
  events: number;
  /** Event types seen (`system:event`). */
  eventTypes: Set<string>;
  /** Lines that matched nothing (overlong lines included). */
  unparsed: number;
  /** Line numbers of the first unparsed lines. */
  unparsedLines: number[];
  /** Known-format events whose payload matched no decoding (fields null). */
  payloadMismatch: number;
  /** Line numbers of the first mismatches. */
  payloadMismatchLines: number[];
  /** Known-format events decoded only partly. */
  payloadPartial: number;
  /** Flag columns that did not decode. */
  badFlags: number;
  /** Raw/hex option events known only by their type id. */
  idOnly: number;
  /** Events with a nanosecond-clock timestamp. */
  nsTimestamps: number;
  /** Events with a raw count (non-ns clock). */
  rawTimestamps: number;
  /** Events timed from the buffer start (kernel latency-format). */
  relativeTimestamps: number;
  /** Smallest number of fraction digits among ns timestamps (6: µs text, 9: ns text). */
  minDigits: number;
  /** Events printed without context. */
  noContext: number;
  /** Line shapes seen. */
  shapes: Set<ContextShape | "nocontext">;
  /** Buffer names seen. */
  buffers: Set<string>;
  /** Highest CPU number seen (-1: none). */
  maxCpu: number;
  /** Events by how their fields were found. */
  how: Record<DecodeHow | "text", number>;
  /** Events with fields restored from printed ones (`exit_mmap`'s `mm` from `mt`). */
  restored: number;
}

/** An event type of this text. */
interface EventType {
  id: number;
  system: string;
  known: KnownEvent | null;
  /**
   * The known formats in the order to try them: the first one that fully decodes an event of this
   * type moves to the front and stays there (its fields are the type's columns).
   */
  formats: EventFormat[];
  /** A format has fully decoded an event of this type. */
  pinned: boolean;
}

const INSTANCE = /^([^\s:]{1,64}): /;
const TYPE_ID = /^type: (\d{1,10})\s*$/;
const FAILED = "[FAILED TO PARSE]";
const NOCONTEXT = /^[A-Za-z_][\w.-]{0,127}:(?: |$)/;

const SHAPES: readonly ((line: string, out: LineContext) => boolean)[] = [
  parseDefaultContext,
  parseLatencyContext,
  parseVerboseContext,
  parseRawContext,
];

function note(list: number[], n: number): void {
  if (list.length < 5) list.push(n);
}

/**
 * Reads events from ftrace or trace-cmd report text.
 *
 * @example
 * ```ts
 * import { memorySource } from "../file_source.ts";
 * import { FtraceTextReader } from "./text_reader.ts";
 * const text = "# tracer: nop\n" +
 *   "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1 reason:x (3)\n";
 * const r = new FtraceTextReader(memorySource(new TextEncoder().encode(text), "t"), { flavor: "kernel" });
 * const evs = [...r.events()];
 * console.assert(evs.length === 1 && evs[0]!.system === "tlb" && evs[0]!.ts === 383902511000n);
 * ```
 */
export class FtraceTextReader {
  /** What the header said. */
  readonly header: HeaderFacts = emptyHeaderFacts();
  /** Counters. */
  readonly stats: TextStats = {
    lines: 0,
    events: 0,
    eventTypes: new Set(),
    unparsed: 0,
    unparsedLines: [],
    payloadMismatch: 0,
    payloadMismatchLines: [],
    payloadPartial: 0,
    badFlags: 0,
    idOnly: 0,
    nsTimestamps: 0,
    rawTimestamps: 0,
    relativeTimestamps: 0,
    minDigits: 9,
    noContext: 0,
    shapes: new Set(),
    buffers: new Set(),
    maxCpu: -1,
    how: { print_fmt: 0, raw_fields: 0, plugin: 0, syscall: 0, partial: 0, none: 0, text: 0 },
    restored: 0,
  };
  private readonly lines: LineReader;
  private readonly resolver: FormatResolver;
  private readonly decoder: PayloadDecoder;
  private readonly report: boolean;
  private readonly buffer: string;
  private readonly maxGarbage: number;
  private readonly ctx = emptyContext();
  private lastShape = 0;
  private layouts = new Map<number, readonly FlagColumn[]>();
  private legendLayout: FlagColumn[] | null = null;
  private legendSeen = 0;
  private done = false;
  private readonly types = new Map<string, EventType>();

  /**
   * A reader positioned before the first line.
   *
   * @param src the text file
   * @param opts flavor, formats, limits
   */
  constructor(readonly src: FileSource, readonly opts: FtraceTextOptions) {
    this.lines = new LineReader(src, {
      ...(opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {}),
      ...(opts.chunkBytes !== undefined ? { chunkBytes: opts.chunkBytes } : {}),
      section: opts.flavor === "report" ? "trace-cmd report text" : "ftrace text",
    });
    this.resolver = new FormatResolver({
      kernel: opts.kernel ?? null,
      formats: opts.formats ?? [],
    });
    this.decoder = new PayloadDecoder(opts.payloadParser ?? null);
    this.report = opts.flavor === "report";
    this.buffer = opts.buffer ?? "";
    this.maxGarbage = opts.maxLeadingGarbage ?? 1000;
  }

  /** Lines skipped for exceeding the line cap. */
  get overlongLines(): number {
    return this.lines.overlong;
  }

  /** Bytes read so far. */
  get bytesRead(): number {
    return this.lines.bytesRead;
  }

  /**
   * The events, in file order. Can be iterated once.
   *
   * @returns a generator of events
   * @throws {TraceError} when no event line is found among the first `maxLeadingGarbage`
   *   unparsed lines (the input is not ftrace text)
   */
  *events(): Generator<TextEvent> {
    if (this.done) return;
    this.done = true;
    const lr = this.lines;
    const h = this.header;
    const st = this.stats;
    while (lr.next()) {
      const line = lr.text;
      st.lines = lr.lineNo;
      if (line.length === 0) continue;
      const c0 = line.charCodeAt(0);
      if (c0 === 35 /* # */) {
        readCommentLine(line, h);
        if (h.kernel) this.resolver.setKernel(h.kernel);
        continue;
      }
      if (isBlank(line)) continue;
      // Event lines first (the common case); no bookkeeping line parses as an event.
      const ev = this.eventOf(line, lr.lineNo);
      if (ev) {
        st.events++;
        yield ev;
        continue;
      }
      if (readMetaLine(line, h, this.report)) continue;
      st.unparsed++;
      note(st.unparsedLines, lr.lineNo);
      if (st.events === 0 && st.unparsed >= this.maxGarbage) {
        throw new TraceError(
          "parse_error",
          `no ${this.report ? "trace-cmd report" : "ftrace"} event line in the first ` +
            `${st.unparsed} lines that are not comments (first at line ${st.unparsedLines[0]})`,
          { file: this.src.name, section: `line ${lr.lineNo}`, offset: lr.offset },
        );
      }
    }
    // Overlong lines matched nothing either.
    st.unparsed += lr.overlong;
  }

  private parseContext(line: string): boolean {
    const ctx = this.ctx;
    const n = SHAPES.length;
    for (let k = 0; k < n; k++) {
      const i = (this.lastShape + k) % n;
      if (SHAPES[i]!(line, ctx)) {
        this.lastShape = i;
        return true;
      }
    }
    return false;
  }

  private layoutFor(width: number): readonly FlagColumn[] {
    const h = this.header;
    if (h.legend.length !== this.legendSeen) {
      this.legendSeen = h.legend.length;
      this.legendLayout = layoutFromLegend(h.legend);
    }
    if (this.legendLayout && this.legendLayout.length === width) return this.legendLayout;
    let l = this.layouts.get(width);
    if (!l) {
      l = layoutForWidth(width);
      this.layouts.set(width, l);
    }
    return l;
  }

  /** The type of a body's event, created on first sight (system, known format, dense id). */
  private typeOf(body: EventBody, idOnly: boolean): EventType {
    const key = body.kind === "function" ? "\0function" : body.name;
    let t = this.types.get(key);
    if (t) return t;
    const known = idOnly || body.kind === "function" ? null : this.resolver.lookup(body.name);
    const system = idOnly
      ? "unknown"
      : known
      ? known.system
      : body.kind === "syscall_enter" || body.kind === "syscall_exit"
      ? "syscalls"
      : systemOfEvent(body.name);
    t = {
      id: this.types.size,
      system,
      known,
      formats: known ? [...known.formats] : [],
      pinned: false,
    };
    this.types.set(key, t);
    this.stats.eventTypes.add(`${system}:${body.name}`);
    return t;
  }

  private eventOf(line: string, lineNo: number): TextEvent | null {
    const ctx = this.ctx;
    const st = this.stats;
    let buffer = this.buffer;
    let ok = false;
    let text = line;
    if (this.report) {
      const c0 = line.charCodeAt(0);
      if (c0 !== 32 && c0 !== 9) {
        const m = INSTANCE.exec(line);
        if (m) {
          const rest = line.slice(m[0].length);
          if (this.parseContext(rest)) {
            ok = true;
            buffer = m[1]!;
            text = rest;
          }
        }
      }
    }
    if (!ok) ok = this.parseContext(text);
    let noContext = false;
    if (!ok) {
      // nocontext-info: only the event, in a kernel file whose header has no columns.
      if (this.report || this.header.columnHeader || !NOCONTEXT.test(line)) {
        if (this.report || this.header.columnHeader || !line.startsWith("sys_")) return null;
      }
      if (st.events > st.noContext) return null;
      noContext = true;
      ctx.body = line;
    }
    let body: EventBody | null;
    let idOnly: number | null = null;
    if (!noContext && (ctx.shape === "raw" || ctx.shape === "hex")) {
      const m = TYPE_ID.exec(ctx.body);
      if (!m) return null;
      idOnly = Number(m[1]);
      body = { kind: "event", name: `id_${idOnly}`, payload: ctx.body };
    } else {
      body = parseEventBody(ctx.body);
      if (!body) {
        const b = ctx.body.trim();
        if (b === "<stack trace>" || b === "<user stack trace>") {
          body = {
            kind: "event",
            name: b === "<stack trace>" ? "kernel_stack" : "user_stack",
            payload: "",
          };
        } else return null;
      }
    }
    // Context.
    let ts = 0n;
    let cpu = 0;
    let pid = -1;
    let comm = "";
    let tgid: number | null = null;
    let flags: number | null = null;
    let preempt: number | null = null;
    if (noContext) {
      st.noContext++;
      st.shapes.add("nocontext");
    } else {
      ts = ctx.ts;
      cpu = ctx.cpu;
      pid = ctx.pid;
      comm = ctx.comm;
      tgid = ctx.tgid;
      st.shapes.add(ctx.shape);
      if (ctx.flagsText !== null) {
        const d = decodeFlags(ctx.flagsText, this.layoutFor(ctx.flagsText.length), this.report);
        if (d) {
          flags = d.flags;
          preempt = d.preempt;
        } else st.badFlags++;
      } else if (ctx.flagsNum !== null) {
        flags = ctx.flagsNum;
        preempt = ctx.preemptNum;
      }
      const relative = ctx.tsRelative || (ctx.shape === "latency" && !this.report && !ctx.tsIsNs);
      if (relative) st.relativeTimestamps++;
      else if (ctx.tsIsNs) {
        st.nsTimestamps++;
        if (ctx.tsDigits < st.minDigits) st.minDigits = ctx.tsDigits;
      } else st.rawTimestamps++;
      if (cpu > st.maxCpu) st.maxCpu = cpu;
    }
    st.buffers.add(buffer);
    // Event and fields.
    let format: EventFormat | null = null;
    let values: Record<string, FieldValue>;
    let keys: readonly string[] = [];
    let how: DecodeHow | "text" = "text";
    const ty = this.typeOf(body, idOnly !== null);
    const known = ty.known;
    const system = ty.system;
    if (idOnly !== null) {
      st.idOnly++;
      values = {};
    } else if (known) {
      const formats = ty.formats;
      let at = 0;
      let best = this.decoder.decode(formats[0]!, body.kind, body.payload);
      for (let i = 1; i < formats.length && (best.how === "none" || best.how === "partial"); i++) {
        const alt = this.decoder.decode(formats[i]!, body.kind, body.payload);
        if (alt.how !== "none" && (alt.how !== "partial" || best.how === "none")) {
          best = alt;
          at = i;
        }
      }
      const full = best.how !== "none" && best.how !== "partial";
      if (full && !ty.pinned) {
        // The first full decode fixes the type's format: a payload of another kernel version
        // (the text does not say which) gets that version's columns, `pages` included.
        ty.pinned = true;
        if (at > 0) {
          formats.unshift(...formats.splice(at, 1));
          at = 0;
        }
      }
      format = formats[at]!;
      values = best.values;
      how = best.how;
      if (how !== "none") {
        const restored = restoreUnprinted(format, values, this.opts.kernel ?? this.header.kernel);
        if (restored.length) st.restored++;
      }
      if (how === "none") {
        st.payloadMismatch++;
        note(st.payloadMismatchLines, lineNo);
      } else if (how === "partial") st.payloadPartial++;
    } else {
      values = {};
      if (body.kind === "syscall_enter") {
        const kv = splitSyscallArgs(body.payload) ?? { keys: [], values: [] };
        keys = kv.keys;
        for (let i = 0; i < kv.keys.length; i++) values[kv.keys[i]!] = kv.values[i]!;
      } else if (body.kind === "syscall_exit") {
        keys = ["ret"];
        values.ret = body.payload;
      } else if (body.kind === "function") {
        const sp = body.payload.indexOf(" <-");
        keys = ["ip", "parent_ip"];
        values.ip = body.payload.slice(0, sp);
        values.parent_ip = body.payload.slice(sp + 3);
      } else {
        const p = body.payload.startsWith(FAILED)
          ? body.payload.slice(FAILED.length)
          : body.payload;
        const kv = splitKeyValues(p);
        keys = kv.keys;
        for (let i = 0; i < kv.keys.length; i++) values[kv.keys[i]!] = kv.values[i]!;
      }
    }
    st.how[how]++;
    return {
      ts,
      cpu,
      pid,
      tgid,
      comm,
      flags,
      preempt,
      buffer,
      system,
      event: body.name,
      type: ty.id,
      format,
      values,
      keys,
      payload: body.payload,
      how,
      line: lineNo,
    };
  }

  /**
   * Warnings about what was read (call after iterating).
   *
   * @returns the warnings
   */
  warnings(): TraceWarning[] {
    const st = this.stats;
    const h = this.header;
    const file = this.src.name;
    const w: TraceWarning[] = [];
    const lines = (l: number[]) => l.join(", ");
    if (st.unparsed > 0) {
      const over = this.lines.overlong;
      w.push({
        code: "unparsed_lines",
        message: `${st.unparsed} line(s) matched no event or header form` +
          (st.unparsedLines.length ? ` (first at lines ${lines(st.unparsedLines)})` : "") +
          (over
            ? `; ${over} of them longer than the line cap (lines ` +
              `${lines(this.lines.overlongLines)})`
            : ""),
        location: {
          file,
          section: `line ${st.unparsedLines[0] ?? this.lines.overlongLines[0]}`,
          offset: 0,
        },
      });
    }
    if (st.payloadMismatch > 0) {
      w.push({
        code: "payload_mismatch",
        message: `${st.payloadMismatch} event(s) with a known format had a payload that fits ` +
          `none of its forms; their fields are null (lines ${lines(st.payloadMismatchLines)})`,
      });
    }
    if (st.payloadPartial > 0) {
      w.push({
        code: "payload_partial",
        message: `${st.payloadPartial} event(s) were decoded only partly (missing fields are null)`,
      });
    }
    if (st.restored > 0) {
      w.push({
        code: "restored_fields",
        message: `${st.restored} exit_mmap event(s): mm not printed, restored as mt - ` +
          `offsetof(struct mm_struct, mm_mt) (0x${
            mmMtOffset(this.opts.kernel ?? this.header.kernel).toString(16)
          }, 64-byte cache lines)`,
      });
    }
    if (st.badFlags > 0) {
      w.push({
        code: "bad_flags",
        message: `${st.badFlags} flag column(s) did not decode; flags are null there`,
      });
    }
    if (st.rawTimestamps > 0) {
      w.push({
        code: "non_ns_clock",
        message: "timestamps are raw counts of a non-nanosecond clock (counter, x86-tsc, uptime)",
      });
    }
    if (st.relativeTimestamps > 0) {
      w.push({
        code: "relative_timestamps",
        message: "latency-format timestamps count from the buffer start, not from boot",
      });
    }
    if (st.nsTimestamps > 0 && st.minDigits < 9) {
      w.push({
        code: "rounded_timestamps",
        message: `timestamps printed with ${st.minDigits} fraction digits: each is the ` +
          `recorded ns value rounded to ${st.minDigits === 6 ? "1 µs" : `10^-${st.minDigits} s`}`,
      });
    }
    if (st.noContext > 0) {
      w.push({
        code: "no_context",
        message: `${st.noContext} event(s) printed without context (nocontext-info): ts, cpu ` +
          `and pid are unknown (0, 0, -1)`,
      });
    }
    if (st.idOnly > 0) {
      w.push({
        code: "event_ids_only",
        message: `${st.idOnly} event(s) printed as type ids only (raw/hex option); ` +
          `they are in unknown.id_<type>`,
      });
    }
    if (h.lostEvents > 0n) {
      w.push({
        code: "lost_events",
        message: `the text reports ${h.lostEvents} lost event(s) in ${h.lostLines} marker(s)`,
      });
    }
    const overwritten = this.overwritten();
    if (overwritten > 0) {
      w.push({
        code: "overwritten_events",
        message: `the header counts ${overwritten} event(s) written but no longer in the buffer`,
      });
    }
    if (h.entriesInBuffer !== null && h.entriesInBuffer !== st.events && !this.report) {
      w.push({
        code: "entries_mismatch",
        message: `the header says ${h.entriesInBuffer} entries in the buffer, ${st.events} ` +
          `event line(s) were read`,
      });
    }
    if (this.resolver.note) w.push({ code: "format_version", message: this.resolver.note });
    if (h.statLines > 0 && st.events === 0) {
      w.push({
        code: "no_events",
        message: "the report holds buffer statistics (--stat), not events",
      });
    }
    return w;
  }

  private overwritten(): number {
    const h = this.header;
    if (h.entriesWritten === null || h.entriesInBuffer === null) return 0;
    return Math.max(0, h.entriesWritten - h.entriesInBuffer);
  }

  /**
   * The `main.trace_info` row (call after iterating).
   *
   * @param warnings number of warnings reported
   * @returns the row
   */
  info(warnings: number): TraceInfoRow {
    const st = this.stats;
    const h = this.header;
    const options: string[] = [];
    if (h.tracer) options.push(`tracer=${h.tracer}`);
    for (const s of st.shapes) {
      if (s === "latency") options.push(this.report ? "latency" : "latency-format");
      else if (s === "verbose") options.push("latency-format", "verbose");
      else if (s === "nocontext") options.push("nocontext-info");
      else if (s === "raw" || s === "hex") options.push(s);
    }
    if (h.tgidColumn) options.push("record-tgid");
    if (st.nsTimestamps > 0 && st.minDigits === 9 && this.report) options.push("ns-timestamps");
    const lost = h.lostLines > 0 ? h.lostEvents : BigInt(this.overwritten());
    const cpus = h.cpus ?? st.maxCpu + 1;
    return {
      source: this.src.name,
      format: this.report ? "tracecmd_report" : "ftrace_text",
      version: h.reportVersion ?? "",
      clock: null,
      clock_is_ns: st.rawTimestamps === 0,
      kernel: h.kernel ?? this.opts.kernel ?? null,
      tracer_version: null,
      cpus: Math.max(cpus, 0),
      page_size: null,
      long_size: null,
      endian: "n/a",
      compression: "none",
      options: [...new Set(options)].join(","),
      buffers: [...st.buffers].join(","),
      events: BigInt(st.events),
      event_types: st.eventTypes.size,
      lost_events: lost,
      lost_pages_unknown_count: 0,
      damaged_pages: 0,
      lost_bytes: 0n,
      unknown_events: BigInt(st.idOnly),
      unparsed_lines: BigInt(st.unparsed),
      warnings,
    };
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * A text event as the normalizer's {@linkcode TraceEvent} (unknown flags and preempt count
 * become 0).
 *
 * @param e the text event
 * @returns the trace event
 */
export function toTraceEvent(e: TextEvent): TraceEvent {
  return {
    ts: e.ts,
    cpu: e.cpu,
    pid: e.pid,
    comm: e.comm,
    system: e.system,
    event: e.event,
    buffer: e.buffer,
    flags: e.flags ?? 0,
    preempt_count: e.preempt ?? 0,
    fields: e.values,
  };
}
