/**
 * Typed access to the fields of a {@linkcode TraceEvent}.
 *
 * Readers decode fields from the event's format file, so the same logical field can arrive as a
 * `number` (fields of 4 bytes or less) or a `bigint` (8-byte fields), depending on the kernel's
 * declaration (`unsigned long`, `u64`, `int`). These helpers accept both and fail with a
 * {@linkcode TraceError} that names the event, the field and the event's ordinal when a field is
 * missing or has the wrong type.
 *
 * @module
 */
import { TraceError } from "../errors.ts";
import type { FieldValue, TraceEvent } from "../event.ts";

/** 2^64 - 1: the all-ones unsigned long (`-1UL`, `ULONG_MAX`, `TLB_FLUSH_ALL`). */
export const U64_MAX = (1n << 64n) - 1n;

/** Where an event came from, for error messages. */
export interface EventSite {
  /** File label (or `<events>`). */
  file: string;
  /** Ordinal of the event in the stream (0-based). */
  index: number;
}

/**
 * Throws the typed error for a bad field.
 *
 * @param site where the stream came from
 * @param ev the event
 * @param field the field name
 * @param problem what is wrong
 * @returns never
 * @throws {TraceError} always
 */
export function badField(site: EventSite, ev: TraceEvent, field: string, problem: string): never {
  throw new TraceError(
    "bad_value",
    `event #${site.index} field ${field}: ${problem}`,
    { file: site.file, section: `${ev.system}:${ev.event}`, offset: 0 },
  );
}

function raw(ev: TraceEvent, names: readonly string[]): [string, FieldValue | undefined] {
  for (const n of names) {
    const v = ev.fields[n];
    if (v !== undefined) return [n, v];
  }
  return [names[0] ?? "", undefined];
}

/**
 * Reads an integer field as an unsigned 64-bit `bigint` (negative numbers wrap, as the kernel's
 * unsigned long does).
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names, first match wins (kernel versions rename fields)
 * @returns the value
 * @throws {TraceError} when absent or not an integer
 * @example
 * ```ts
 * import { u64 } from "./fields.ts";
 * const ev = { ts: 0n, cpu: 0, pid: 1, comm: "x", system: "s", event: "e", buffer: "", flags: 0,
 *   preempt_count: 0, fields: { pages: -1 } };
 * console.assert(u64({ file: "t", index: 0 }, ev, ["pages"]) === (1n << 64n) - 1n);
 * ```
 */
export function u64(site: EventSite, ev: TraceEvent, names: readonly string[]): bigint {
  const [n, v] = raw(ev, names);
  const r = asU64(v);
  if (r === null) return badField(site, ev, n, v === undefined ? "missing" : "not an integer");
  return r;
}

/**
 * Like {@linkcode u64} but returns null when every name is absent.
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names
 * @returns the value or null when absent
 * @throws {TraceError} when present but not an integer
 */
export function optU64(site: EventSite, ev: TraceEvent, names: readonly string[]): bigint | null {
  const [n, v] = raw(ev, names);
  if (v === undefined || v === null) return null;
  const r = asU64(v);
  if (r === null) return badField(site, ev, n, "not an integer");
  return r;
}

/**
 * Reads an integer field as a JS number (for ids, pids, PASIDs: values below 2^53).
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names
 * @returns the value (signed as declared)
 * @throws {TraceError} when absent, not an integer or too large
 */
export function int(site: EventSite, ev: TraceEvent, names: readonly string[]): number {
  const [n, v] = raw(ev, names);
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "bigint") {
    if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) {
      return Number(v);
    }
    return badField(site, ev, n, "too large for a number");
  }
  if (typeof v === "boolean") return v ? 1 : 0;
  return badField(site, ev, n, v === undefined ? "missing" : "not an integer");
}

/**
 * Like {@linkcode int} but returns null when every name is absent.
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names
 * @returns the value or null
 * @throws {TraceError} when present but not an integer
 */
export function optInt(site: EventSite, ev: TraceEvent, names: readonly string[]): number | null {
  const [, v] = raw(ev, names);
  if (v === undefined || v === null) return null;
  return int(site, ev, names);
}

/**
 * Reads a string field (`char[]`, `__data_loc char[]`).
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names
 * @returns the string
 * @throws {TraceError} when absent or not a string
 */
export function str(site: EventSite, ev: TraceEvent, names: readonly string[]): string {
  const [n, v] = raw(ev, names);
  if (typeof v === "string") return v;
  return badField(site, ev, n, v === undefined ? "missing" : "not a string");
}

/**
 * Like {@linkcode str} but returns null when absent.
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names
 * @returns the string or null
 * @throws {TraceError} when present but not a string
 */
export function optStr(site: EventSite, ev: TraceEvent, names: readonly string[]): string | null {
  const [, v] = raw(ev, names);
  if (v === undefined || v === null) return null;
  return str(site, ev, names);
}

/**
 * Reads an integer array field (`u64 x[N]`, `__data_loc u64[]`, `u32 x[4]`) as `bigint[]`.
 *
 * @param site stream location for errors
 * @param ev the event
 * @param names accepted field names
 * @returns the elements as unsigned 64-bit values
 * @throws {TraceError} when absent or not an integer array
 */
export function u64Array(site: EventSite, ev: TraceEvent, names: readonly string[]): bigint[] {
  const [n, v] = raw(ev, names);
  if (!Array.isArray(v)) return badField(site, ev, n, v === undefined ? "missing" : "not an array");
  const out: bigint[] = [];
  for (const x of v as readonly (number | bigint)[]) {
    const r = asU64(x);
    if (r === null) return badField(site, ev, n, "array element is not an integer");
    out.push(r);
  }
  return out;
}

/**
 * Converts a decoded value to an unsigned 64-bit bigint, or null if it is not an integer.
 *
 * @param v a field value
 * @returns the value modulo 2^64, or null
 * @example
 * ```ts
 * import { asU64 } from "./fields.ts";
 * console.assert(asU64(-1) === (1n << 64n) - 1n);
 * console.assert(asU64("x") === null);
 * ```
 */
export function asU64(v: FieldValue | undefined): bigint | null {
  if (typeof v === "bigint") return BigInt.asUintN(64, v);
  if (typeof v === "number" && Number.isInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (typeof v === "boolean") return v ? 1n : 0n;
  return null;
}

/**
 * Formats a bigint as `0x...` lowercase hex.
 *
 * @param v value
 * @returns hex text
 * @example
 * ```ts
 * import { hex } from "./fields.ts";
 * console.assert(hex(255n) === "0xff");
 * ```
 */
export function hex(v: bigint | number): string {
  return "0x" + v.toString(16);
}
