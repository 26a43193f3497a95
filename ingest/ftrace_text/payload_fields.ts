/**
 * Field values out of payload text, for the payload forms that are not an event's own print
 * format: `key=value` lists (any event; `trace-cmd report -R`), the kernel's syscall argument
 * lists, the function tracer, and trace-cmd's tlb plugin.
 *
 * Typed conversion to a format field ({@linkcode valueForField}) accepts what printers print for
 * an integer: decimal, `0x` hex, bare hex where the printer always uses hex, and
 * `ARRAY[0f, 00, ...]` byte lists.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat, FieldFormat } from "../format/types.ts";

/** Keys and raw value texts, in payload order. */
export interface KeyValues {
  /** Keys, in payload order. */
  keys: string[];
  /** Value texts, one per key. */
  values: string[];
}

function isKeyStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isKeyChar(c: number): boolean {
  return isKeyStart(c) || (c >= 48 && c <= 57) || c === 46;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Splits `k1=v1 k2=some text k3=v3` into keys and values. A key starts the payload or follows
 * whitespace and is an identifier directly followed by `=`; a value runs to the whitespace before
 * the next key (so values may hold spaces and `=`: `my_field=foo=bar`). Text before the first key
 * is ignored. A key seen twice keeps its first value.
 *
 * @param payload the payload
 * @returns keys and values (empty when there is no key)
 * @example
 * ```ts
 * import { splitKeyValues } from "./payload_fields.ts";
 * const kv = splitKeyValues("comm=gen.sh pid=9396 reason=local mm shootdown (3)");
 * console.assert(kv.keys.join() === "comm,pid,reason" && kv.values[2] === "local mm shootdown (3)");
 * ```
 */
export function splitKeyValues(payload: string): KeyValues {
  const n = payload.length;
  const keys: string[] = [];
  const vStart: number[] = [];
  const tokWs: number[] = [];
  let i = 0;
  let ws = 0;
  while (i < n) {
    // i is at a token start; ws is where the whitespace before it began.
    if (isKeyStart(payload.charCodeAt(i))) {
      let j = i + 1;
      while (j < n && isKeyChar(payload.charCodeAt(j))) j++;
      if (j < n && payload.charCodeAt(j) === 61 /* = */) {
        keys.push(payload.slice(i, j));
        vStart.push(j + 1);
        tokWs.push(ws);
        i = j + 1;
      }
    }
    while (i < n && !isSpace(payload.charCodeAt(i))) i++;
    ws = i;
    while (i < n && isSpace(payload.charCodeAt(i))) i++;
  }
  const end = trimEnd(payload, n);
  const seen = new Set<string>();
  const outK: string[] = [];
  const values: string[] = [];
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (seen.has(key)) continue;
    seen.add(key);
    outK.push(key);
    const e = k + 1 < keys.length ? tokWs[k + 1]! : end;
    values.push(payload.slice(vStart[k]!, Math.max(vStart[k]!, e)));
  }
  return { keys: outK, values };
}

function trimEnd(s: string, n: number): number {
  while (n > 0 && isSpace(s.charCodeAt(n - 1))) n--;
  return n;
}

/**
 * Splits the kernel's syscall argument list `addr: 0x7f5f00038000, len: 0x8c5f` (or, with the
 * `verbose` option, `unsigned long addr: 0x..., size_t len: 0x...`) into names and value texts.
 *
 * @param args the text between the parentheses
 * @returns names and values, or null when the list does not have that form
 * @example
 * ```ts
 * import { splitSyscallArgs } from "./payload_fields.ts";
 * const a = splitSyscallArgs("unsigned long addr: 0x7f5f00038000, size_t len: 8c5f")!;
 * console.assert(a.keys.join() === "addr,len" && a.values.join() === "0x7f5f00038000,8c5f");
 * ```
 */
export function splitSyscallArgs(args: string): KeyValues | null {
  const keys: string[] = [];
  const values: string[] = [];
  if (args.trim() === "") return { keys, values };
  for (const part of args.split(", ")) {
    const c = part.lastIndexOf(": ");
    if (c < 0) return null;
    const decl = part.slice(0, c).trim().split(/\s+/);
    const name = decl[decl.length - 1]!.replace(/^\*+/, "");
    if (!/^\w+$/.test(name)) return null;
    keys.push(name);
    values.push(part.slice(c + 2).trim());
  }
  return { keys, values };
}

/**
 * Parses an integer as printers print it: `-12`, `0x1f`, `0X1F`, `0x1f (31)` (the kernel's
 * `fields` option), and, when `bareHex` is set, `1f` (the kernel's syscall arguments before 6.x
 * printed `%lx` without `0x`).
 *
 * @param text the value text
 * @param bareHex read digits without a prefix as hex
 * @returns the value (bigint), or null
 * @example
 * ```ts
 * import { parseIntText } from "./payload_fields.ts";
 * console.assert(parseIntText("0x8c5f") === 0x8c5fn && parseIntText("-1") === -1n);
 * console.assert(parseIntText("ff", true) === 255n && parseIntText("ff") === null);
 * ```
 */
export function parseIntText(text: string, bareHex = false): bigint | null {
  let t = text.trim();
  // The kernel's `fields` option prints integers as "0x1f (31)".
  const paren = t.indexOf(" (");
  if (paren > 0 && t.endsWith(")")) t = t.slice(0, paren);
  let neg = false;
  if (t.startsWith("-")) {
    neg = true;
    t = t.slice(1);
  } else if (t.startsWith("+")) t = t.slice(1);
  if (t.length === 0 || t.length > 40) return null;
  let v: bigint;
  if (t.startsWith("0x") || t.startsWith("0X")) {
    const h = t.slice(2);
    if (!/^[0-9a-fA-F]{1,32}$/.test(h)) return null;
    v = BigInt(`0x${h}`);
  } else if (bareHex) {
    if (!/^[0-9a-fA-F]{1,32}$/.test(t)) return null;
    v = BigInt(`0x${t}`);
  } else {
    if (!/^\d{1,40}$/.test(t)) return null;
    v = BigInt(t);
  }
  return neg ? -v : v;
}

/**
 * Brings an integer into the range of a field (two's complement wrap to its size) and into the
 * JS type its column takes (number up to 4 bytes, bigint for 8).
 *
 * @param f the field
 * @param v the value
 * @returns the value as stored by binary readers
 */
export function fitInt(f: FieldFormat, v: bigint): number | bigint {
  const bits = Math.min(Math.max(f.size, 1), 8) * 8;
  const w = f.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  return bits <= 32 ? Number(w) : w;
}

function isIntField(f: FieldFormat): boolean {
  return f.kind === "int";
}

/**
 * Converts a printed value to a format field's type.
 *
 * @param f the field
 * @param text the printed value
 * @param bareHex read unprefixed digits as hex
 * @returns the typed value, or undefined when the text does not fit the field
 * @example
 * ```ts
 * import { valueForField } from "./payload_fields.ts";
 * const f = { name: "pages", type: "long", elemType: "long", offset: 8, size: 8, signed: true,
 *   kind: "int" as const, elemSize: 8, count: 0, isString: false, common: false };
 * console.assert(valueForField(f, "-1") === -1n);
 * ```
 */
export function valueForField(
  f: FieldFormat,
  text: string,
  bareHex = false,
): FieldValue | undefined {
  if (isIntField(f)) {
    const v = parseIntText(text, bareHex);
    if (v === null) return undefined;
    return fitInt(f, v);
  }
  if (f.isString) return text;
  // Arrays: ARRAY[0f, 00], {1,2}, {0x1,0x2}, or a space/comma separated list.
  let body = text.trim();
  let hexBytes = false;
  if (body.startsWith("ARRAY[") && body.endsWith("]")) {
    body = body.slice(6, -1);
    hexBytes = true;
  } else if (body.startsWith("{") && body.endsWith("}")) body = body.slice(1, -1);
  else if (body.startsWith("[") && body.endsWith("]")) body = body.slice(1, -1);
  const parts = body.split(/[\s,]+/).filter((p) => p !== "");
  if (hexBytes) {
    // libtraceevent dumps the raw bytes; rebuild elements little-endian.
    const bytes: number[] = [];
    for (const p of parts) {
      if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
      bytes.push(parseInt(p, 16));
    }
    const es = Math.max(f.elemSize, 1);
    const out: (number | bigint)[] = [];
    for (let i = 0; i + es <= bytes.length; i += es) {
      let v = 0n;
      for (let k = es - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[i + k]!);
      out.push(fitElem(f, v));
    }
    return out as number[] | bigint[];
  }
  const out: (number | bigint)[] = [];
  for (const p of parts) {
    const v = parseIntText(p, bareHex);
    if (v === null) return undefined;
    out.push(fitElem(f, v));
  }
  return out as number[] | bigint[];
}

function fitElem(f: FieldFormat, v: bigint): number | bigint {
  const bits = Math.min(Math.max(f.elemSize, 1), 8) * 8;
  const w = f.signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  return bits <= 32 ? Number(w) : w;
}

/**
 * Reads `trace-cmd report -R` output (`field=value` for each own field, in format order) of a
 * known event. Values may hold spaces (strings); each ends where ` <next field>=` starts.
 *
 * @param fmt the event format
 * @param payload the payload
 * @param hexFields fields whose values are printed in hex without `0x` (see `hexPrintedFields`)
 * @returns field values by name, or null when the payload is not in that form
 * @example
 * ```ts
 * import { parseFormatFile } from "../format/format_file.ts";
 * import { parseRawFields } from "./payload_fields.ts";
 * const fmt = parseFormatFile(
 *   "name: e\nID: 1\nformat:\n\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;\n" +
 *     "\tfield:long pages;\toffset:16;\tsize:8;\tsigned:1;\n\nprint fmt: \"\"\n",
 *   "tlb",
 * );
 * console.assert(parseRawFields(fmt, "reason=3 pages=1")?.pages === 1n);
 * ```
 */
export function parseRawFields(
  fmt: EventFormat,
  payload: string,
  hexFields?: ReadonlySet<string>,
): Record<string, FieldValue> | null {
  const fields = fmt.ownFields;
  if (fields.length === 0) return payload.trim() === "" ? {} : null;
  const out: Record<string, FieldValue> = {};
  let pos = 0;
  const p = payload.trimEnd();
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const head = `${f.name}=`;
    if (!p.startsWith(head, pos)) return null;
    const vStart = pos + head.length;
    let vEnd = p.length;
    const next = fields[i + 1];
    if (next) {
      const at = p.indexOf(` ${next.name}=`, vStart);
      if (at < 0) return null;
      vEnd = at;
    }
    const v = valueForField(f, p.slice(vStart, vEnd), hexFields?.has(f.name) ?? false);
    if (v === undefined) return null;
    out[f.name] = v;
    pos = vEnd + 1;
  }
  return out;
}

/**
 * Reads the payload trace-cmd's tlb plugin prints for `tlb:tlb_flush`
 * (`pages=1 reason=local mm shootdown (3)`), instead of the kernel's `pages:1 reason:...`.
 *
 * @param payload the payload
 * @returns `pages` and `reason`, or null
 * @example
 * ```ts
 * import { parseTlbPlugin } from "./payload_fields.ts";
 * const v = parseTlbPlugin("pages=-1 reason=flush on task switch (0)")!;
 * console.assert(v.pages === -1n && v.reason === 0n);
 * ```
 */
export function parseTlbPlugin(payload: string): { pages: bigint; reason: bigint } | null {
  const m = /^pages=(-?\d{1,20}) reason=.*\((-?\d{1,11})\)\s*$/.exec(payload);
  if (!m) return null;
  return { pages: BigInt(m[1]!), reason: BigInt(m[2]!) };
}

/**
 * Reads the function tracer's `ip <-parent_ip` into string fields.
 *
 * @param payload the body
 * @returns `ip` and `parent_ip` texts, or null
 */
export function parseFunctionPayload(payload: string): { ip: string; parent_ip: string } | null {
  const m = /^(\S+) <-(\S+)$/.exec(payload);
  return m ? { ip: m[1]!, parent_ip: m[2]! } : null;
}
