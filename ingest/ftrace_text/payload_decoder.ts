/**
 * Field values of an event with a known format, from its payload text.
 *
 * Tries, in order (starting with whatever worked last time for that format):
 * 1. the event's own print format, inverted (`pages:%ld reason:%s (%d)` reads `pages:1
 *    reason:local MM shootdown (3)`), through the print-format parser of `ingest/format`;
 * 2. raw fields (`reason=3 pages=1`): `trace-cmd report -R`, the kernel's `fields` option, and
 *    what trace-cmd prints after `[FAILED TO PARSE]` for a print format it cannot read;
 * 3. the output of trace-cmd's plugins that replace the print format (tlb: `pages=1 reason=...`);
 * 4. any payload that names the fields (`name=value`
 *    or `name: value`): fields found are typed, the others are null (a partial decode).
 *
 * Kernel syscall lines (`sys_munmap(addr: 0x..., len: 0x...)`, `sys_munmap -> 0x0`) are decoded
 * from their argument lists; `__syscall_nr` is not printed there and stays null.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat } from "../format/types.ts";
import type { BodyKind } from "./event_body.ts";
import { hexPrintedFields } from "./print_fmt_inverse.ts";
import {
  parseIntText,
  parseRawFields,
  parseTlbPlugin,
  splitKeyValues,
  splitSyscallArgs,
  valueForField,
} from "./payload_fields.ts";

/** Inverts one event's print format: payload text to field values, or null if it does not fit. */
export type PayloadParser = (payload: string) => Record<string, FieldValue> | null;

/** Builds a {@linkcode PayloadParser} for a format (null when the format cannot be inverted). */
export type PayloadParserFactory = (fmt: EventFormat) => PayloadParser | null;

/** How a payload was decoded. */
export type DecodeHow = "print_fmt" | "raw_fields" | "plugin" | "syscall" | "partial" | "none";

/** A decoded payload. */
export interface DecodedPayload {
  /** Values by field name (fields not found are absent). */
  values: Record<string, FieldValue>;
  /** Which strategy found them. */
  how: DecodeHow;
}

type Strategy = (fmt: EventFormat, payload: string) => Record<string, FieldValue> | null;

const FAILED = "[FAILED TO PARSE]";

function tlbPlugin(fmt: EventFormat, payload: string): Record<string, FieldValue> | null {
  if (fmt.name !== "tlb_flush") return null;
  const v = parseTlbPlugin(payload);
  if (!v) return null;
  const out: Record<string, FieldValue> = {};
  for (const f of fmt.ownFields) {
    if (f.name === "pages") out.pages = valueForField(f, String(v.pages)) ?? null;
    else if (f.name === "reason") out.reason = valueForField(f, String(v.reason)) ?? null;
  }
  return out;
}

/**
 * Fields named in the payload as `name=value` or `name: value` / `name:value`.
 * Returns null unless at least one own field is found with a value of the right type.
 */
function partial(fmt: EventFormat, payload: string): Record<string, FieldValue> | null {
  let p = payload;
  if (p.startsWith(FAILED)) p = p.slice(FAILED.length);
  const kv = splitKeyValues(p);
  const byKey = new Map<string, string>();
  for (let i = 0; i < kv.keys.length; i++) byKey.set(kv.keys[i]!, kv.values[i]!);
  const out: Record<string, FieldValue> = {};
  let found = 0;
  for (const f of fmt.ownFields) {
    let text = byKey.get(f.name);
    if (text === undefined) {
      const m = new RegExp(`(?:^|[\\s,])${escapeRe(f.name)}: ?([^\\s,]+)`).exec(p);
      if (m) text = m[1]!;
    }
    if (text === undefined) continue;
    const v = valueForField(f, text);
    if (v === undefined) continue;
    out[f.name] = v;
    found++;
  }
  return found > 0 ? out : null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Decodes payloads of known-format events, remembering per format which strategy worked.
 *
 * @example
 * ```ts
 * import { parseFormatFile } from "../format/format_file.ts";
 * import { PayloadDecoder } from "./payload_decoder.ts";
 * const fmt = parseFormatFile(
 *   "name: tlb_flush\nID: 1\nformat:\n\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;\n" +
 *     "\tfield:unsigned long pages;\toffset:16;\tsize:8;\tsigned:0;\n\nprint fmt: \"\"\n",
 *   "tlb",
 * );
 * const d = new PayloadDecoder(null);
 * const r = d.decode(fmt, "event", "pages=1 reason=local mm shootdown (3)");
 * console.assert(r.how === "plugin" && r.values.reason === 3 && r.values.pages === 1n);
 * ```
 */
export class PayloadDecoder {
  private readonly parsers = new Map<EventFormat, PayloadParser | null>();
  private readonly last = new Map<EventFormat, number>();
  private readonly hex = new Map<EventFormat, ReadonlySet<string>>();
  private readonly strategies: { how: DecodeHow; run: Strategy }[];

  /**
   * A decoder with no strategy remembered yet.
   *
   * @param factory print-format inverter (null: print formats are not used)
   */
  constructor(private readonly factory: PayloadParserFactory | null) {
    this.strategies = [
      { how: "print_fmt", run: (f, p) => this.printFmt(f, p) },
      {
        how: "raw_fields",
        run: (f, p) =>
          parseRawFields(
            f,
            p.startsWith(FAILED) ? p.slice(FAILED.length + 1) : p,
            this.hexFields(f),
          ),
      },
      { how: "plugin", run: tlbPlugin },
    ];
  }

  private hexFields(fmt: EventFormat): ReadonlySet<string> {
    let h = this.hex.get(fmt);
    if (!h) {
      try {
        h = hexPrintedFields(fmt);
      } catch {
        h = new Set();
      }
      this.hex.set(fmt, h);
    }
    return h;
  }

  private printFmt(fmt: EventFormat, payload: string): Record<string, FieldValue> | null {
    if (!this.factory) return null;
    let p = this.parsers.get(fmt);
    if (p === undefined) {
      try {
        p = this.factory(fmt);
      } catch {
        p = null;
      }
      this.parsers.set(fmt, p);
    }
    if (!p) return null;
    try {
      return p(payload);
    } catch {
      return null;
    }
  }

  /**
   * Decodes one payload.
   *
   * @param fmt the event's format
   * @param kind what the body was (`syscall_enter`/`syscall_exit` use the kernel's syscall forms)
   * @param payload the payload text
   * @returns values by field name (missing fields are absent) and how they were found
   */
  decode(fmt: EventFormat, kind: BodyKind, payload: string): DecodedPayload {
    if (kind === "syscall_enter") return this.syscallEnter(fmt, payload);
    if (kind === "syscall_exit") return this.syscallExit(fmt, payload);
    const first = this.last.get(fmt) ?? 0;
    const n = this.strategies.length;
    for (let k = 0; k < n; k++) {
      const i = (first + k) % n;
      const s = this.strategies[i]!;
      const v = s.run(fmt, payload);
      if (v) {
        this.last.set(fmt, i);
        return { values: v, how: s.how };
      }
    }
    const v = partial(fmt, payload);
    if (v) return { values: v, how: "partial" };
    return { values: {}, how: "none" };
  }

  private syscallEnter(fmt: EventFormat, args: string): DecodedPayload {
    const kv = splitSyscallArgs(args);
    if (!kv) return { values: {}, how: "none" };
    const out: Record<string, FieldValue> = {};
    let found = 0;
    for (const f of fmt.ownFields) {
      const i = kv.keys.indexOf(f.name);
      if (i < 0) continue;
      const v = valueForField(f, kv.values[i]!, true);
      if (v === undefined) continue;
      out[f.name] = v;
      found++;
    }
    const want = fmt.ownFields.filter((f) => f.name !== "__syscall_nr").length;
    return { values: out, how: found === want ? "syscall" : found ? "partial" : "none" };
  }

  private syscallExit(fmt: EventFormat, ret: string): DecodedPayload {
    const f = fmt.ownFields.find((x) => x.name === "ret");
    const v = parseIntText(ret, true);
    if (!f || v === null) return { values: {}, how: "none" };
    return { values: { ret: valueForField(f, `${v}`) ?? null }, how: "syscall" };
  }
}
