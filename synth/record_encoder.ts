/**
 * Encodes a {@linkcode TraceEvent} into the raw bytes the kernel writes for it in the ring
 * buffer: the common fields, the event's fixed fields at their format-file offsets, then the
 * `__data_loc` / `__rel_loc` payloads appended after the fixed part.
 *
 * Layout rules (`include/trace/stages/stage5_get_offsets.h`, `stage6_event_callback.h`):
 * dynamic payloads start at `offsetof(entry, __data)` (the end of the last fixed field) and
 * follow each other without padding; a string takes `strlen + 1` bytes. The kernel reserves
 * `sizeof(struct entry) + data size`, so the record is the fixed part rounded up to the
 * struct's alignment plus the payloads. The ring buffer later pads it to 4 bytes.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import type { FieldValue, TraceEvent } from "../core/event.ts";
import type { EventFormat, FieldFormat } from "../ingest/format/types.ts";

/** Options of {@linkcode encodeRecord}. */
export interface EncodeOptions {
  /** Byte order of the trace (default little endian). */
  littleEndian?: boolean;
  /** Largest scalar alignment of the target: 8 on 64-bit kernels and ARM, 4 on i386 (default 8). */
  maxAlign?: 4 | 8;
  /** Encode missing fields as 0 / empty instead of throwing (default false). */
  allowMissing?: boolean;
}

const TEXT = new TextEncoder();

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function fieldAlign(f: FieldFormat, maxAlign: number): number {
  switch (f.kind) {
    case "int":
      return Math.min(Math.max(f.size, 1), maxAlign);
    case "data_loc":
    case "rel_loc":
      return 4;
    default:
      return Math.min(Math.max(f.elemSize, 1), maxAlign);
  }
}

/** Static facts about a format needed for every record of it. */
interface Layout {
  fixedEnd: number;
  structSize: number;
}

const layouts = new WeakMap<EventFormat, Map<number, Layout>>();

function layoutOf(format: EventFormat, maxAlign: number): Layout {
  let byAlign = layouts.get(format);
  if (!byAlign) layouts.set(format, byAlign = new Map());
  const hit = byAlign.get(maxAlign);
  if (hit) return hit;
  let fixedEnd = 8;
  let structAlign = 4;
  for (const f of format.fields) {
    fixedEnd = Math.max(fixedEnd, f.offset + f.size);
    structAlign = Math.max(structAlign, fieldAlign(f, maxAlign));
  }
  const layout = { fixedEnd, structSize: alignUp(fixedEnd, structAlign) };
  byAlign.set(maxAlign, layout);
  return layout;
}

const SMALL_RANGE: readonly number[] = [1, 0x100, 0x10000, 0x1000000, 0x100000000];

/** Whether an integer `v` fits `size` (1..4) bytes as signed or unsigned. */
function fitsSmall(v: number, size: number): boolean {
  const range = SMALL_RANGE[size]!;
  return Number.isInteger(v) && v >= -range / 2 && v < range;
}

function commonValue(event: TraceEvent, format: EventFormat, name: string): FieldValue | undefined {
  switch (name) {
    case "common_type":
      return format.id;
    case "common_flags":
      return event.flags;
    case "common_preempt_count":
      return event.preempt_count;
    case "common_pid":
      return event.pid;
  }
  return undefined;
}

function where(format: EventFormat, f: FieldFormat): string {
  return `${format.system}:${format.name}.${f.name}`;
}

function toBigInt(v: FieldValue | undefined, format: EventFormat, f: FieldFormat): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) {
      throw new UsageError(`${where(format, f)}: ${v} is not an integer`);
    }
    return BigInt(v);
  }
  if (typeof v === "boolean") return v ? 1n : 0n;
  throw new UsageError(`${where(format, f)}: expected an integer, got ${JSON.stringify(v)}`);
}

function writeInt(
  view: DataView,
  at: number,
  size: number,
  value: bigint,
  le: boolean,
  label: string,
): void {
  const bits = BigInt(size * 8);
  if (value < -(1n << (bits - 1n)) || value >= 1n << bits) {
    throw new UsageError(`${label}: ${value} does not fit in ${size} bytes`);
  }
  const u = BigInt.asUintN(size * 8, value);
  switch (size) {
    case 1:
      view.setUint8(at, Number(u));
      return;
    case 2:
      view.setUint16(at, Number(u), le);
      return;
    case 4:
      view.setUint32(at, Number(u), le);
      return;
    case 8:
      view.setBigUint64(at, u, le);
      return;
  }
  for (let i = 0; i < size; i++) {
    const byte = Number((u >> BigInt(8 * i)) & 0xffn);
    view.setUint8(at + (le ? i : size - 1 - i), byte);
  }
}

/** Bytes of an array-like field value (`char[]` string, or numeric elements). */
function arrayBytes(
  v: FieldValue | undefined,
  format: EventFormat,
  f: FieldFormat,
  le: boolean,
  nulTerminate: boolean,
): Uint8Array {
  if (typeof v === "string") {
    const s = TEXT.encode(v);
    if (!nulTerminate) return s;
    const out = new Uint8Array(s.length + 1);
    out.set(s);
    return out;
  }
  if (Array.isArray(v)) {
    const es = f.elemSize > 0 ? f.elemSize : 1;
    const out = new Uint8Array(v.length * es);
    const view = new DataView(out.buffer);
    v.forEach((x: number | bigint, i: number) =>
      writeInt(view, i * es, es, toBigInt(x, format, f), le, `${where(format, f)}[${i}]`)
    );
    return out;
  }
  throw new UsageError(
    `${where(format, f)}: expected a string or an array, got ${JSON.stringify(v)}`,
  );
}

/**
 * Encodes one event as the record bytes of its format.
 *
 * @param event the event (`pid`, `flags`, `preempt_count` fill the common fields)
 * @param format the event's parsed format; its `id` becomes `common_type`
 * @param options byte order, alignment, missing-field policy
 * @returns the record (not padded to 4 bytes; the ring buffer does that)
 * @throws {UsageError} when a field is missing, has the wrong type or does not fit
 * @example
 * ```ts
 * import { encodeRecord } from "./record_encoder.ts";
 * import { parseFormatFile } from "../ingest/format/format_file.ts";
 * const fmt = parseFormatFile(
 *   "name: tlb_flush\nID: 188\nformat:\n" +
 *     "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
 *     "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n" +
 *     "\tfield:int reason;\toffset:8;\tsize:4;\tsigned:1;\n" +
 *     "\tfield:unsigned long pages;\toffset:16;\tsize:8;\tsigned:0;\n",
 *   "tlb",
 * );
 * const rec = encodeRecord({
 *   ts: 0n, cpu: 0, pid: 42, comm: "x", system: "tlb", event: "tlb_flush", buffer: "",
 *   flags: 0, preempt_count: 0, fields: { reason: 3, pages: 1n },
 * }, fmt);
 * console.assert(rec.length === 24 && rec[0] === 188 && rec[8] === 3 && rec[16] === 1);
 * ```
 */
export function encodeRecord(
  event: TraceEvent,
  format: EventFormat,
  options: EncodeOptions = {},
): Uint8Array {
  const le = options.littleEndian ?? true;
  const { fixedEnd, structSize } = layoutOf(format, options.maxAlign ?? 8);

  // First pass: payloads of dynamic and flexible fields.
  const dynamic: { f: FieldFormat; bytes: Uint8Array }[] = [];
  let flex: { f: FieldFormat; bytes: Uint8Array } | null = null;
  for (const f of format.fields) {
    if (f.kind !== "data_loc" && f.kind !== "rel_loc" && f.kind !== "flex") continue;
    const v = f.name in event.fields ? event.fields[f.name] : undefined;
    let bytes: Uint8Array;
    if (v === undefined || v === null) {
      if (!options.allowMissing) {
        throw new UsageError(`${where(format, f)}: no value for this field`);
      }
      bytes = f.isString ? new Uint8Array(1) : new Uint8Array(0);
    } else {
      bytes = arrayBytes(v, format, f, le, f.isString);
    }
    if (f.kind === "flex") flex = { f, bytes };
    else dynamic.push({ f, bytes });
  }

  const dataSize = dynamic.reduce((n, d) => n + d.bytes.length, 0);
  const length = flex ? flex.f.offset + flex.bytes.length : structSize + dataSize;
  if (length > 0xffff) {
    throw new UsageError(`${format.system}:${format.name}: record of ${length} bytes is too long`);
  }
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);

  for (const f of format.fields) {
    if (f.kind === "int") {
      const raw = f.common ? commonValue(event, format, f.name) : event.fields[f.name];
      if (raw === undefined || raw === null) {
        if (!options.allowMissing) {
          throw new UsageError(`${where(format, f)}: no value for this field`);
        }
        continue;
      }
      if (typeof raw === "number" && f.size <= 4 && fitsSmall(raw, f.size)) {
        // Fast path: small integers need no BigInt.
        const u = raw < 0 ? raw + SMALL_RANGE[f.size]! : raw;
        if (f.size === 4) view.setUint32(f.offset, u, le);
        else if (f.size === 2) view.setUint16(f.offset, u, le);
        else if (f.size === 1) view.setUint8(f.offset, u);
        else writeInt(view, f.offset, f.size, BigInt(raw), le, where(format, f));
        continue;
      }
      if (typeof raw === "number" && f.size === 8 && Number.isSafeInteger(raw)) {
        // Two 32-bit halves (two's complement for negatives), exact for safe integers.
        const hi = Math.floor(raw / 0x100000000);
        const lo = raw - hi * 0x100000000;
        view.setUint32(f.offset + (le ? 0 : 4), lo, le);
        view.setUint32(f.offset + (le ? 4 : 0), hi >>> 0, le);
        continue;
      }
      writeInt(view, f.offset, f.size, toBigInt(raw, format, f), le, where(format, f));
    } else if (f.kind === "array") {
      const raw = event.fields[f.name];
      if (raw === undefined || raw === null) {
        if (!options.allowMissing) {
          throw new UsageError(`${where(format, f)}: no value for this field`);
        }
        continue;
      }
      const bytes = arrayBytes(raw, format, f, le, false);
      // Fixed char arrays are copied whole by the kernel (memcpy of TASK_COMM_LEN): truncate.
      out.set(bytes.subarray(0, f.size), f.offset);
    }
  }

  let at = fixedEnd;
  for (const { f, bytes } of dynamic) {
    out.set(bytes, at);
    const off = f.kind === "rel_loc" ? at - (f.offset + f.size) : at;
    if (f.size === 4) view.setUint32(f.offset, ((bytes.length << 16) | off) >>> 0, le);
    else writeInt(view, f.offset, f.size, BigInt(off), le, where(format, f));
    at += bytes.length;
  }
  if (flex) out.set(flex.bytes, flex.f.offset);
  return out;
}
