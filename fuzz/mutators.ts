/**
 * Mutators of the fuzzer: byte-level (bit flips, byte sets, lying size fields, truncation,
 * splices from another seed), line-level for text inputs and tree-level for JSON inputs. All
 * of them are pure functions of the input and a seeded {@linkcode Rng}; none evaluates input.
 *
 * @module
 */
import { HOSTILE_STRINGS, INVALID_UTF8 } from "./hostile.ts";
import type { Rng } from "./rng.ts";

/** How an input is shaped, which decides the mutators used. */
export type InputKind = "binary" | "text" | "json";

/** Largest input a mutation may produce (long-line mutations stay below it). */
export const MAX_MUTATED_BYTES = 8 << 20;

const ENC = new TextEncoder();
const DEC = new TextDecoder("utf-8", { fatal: false });

/** u32 values that make size checks go wrong. */
const U32_EDGES = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xfff,
  0x1000,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
];

/** u64 values (as bigint) that make size checks go wrong. */
const U64_EDGES = [
  0n,
  1n,
  0xffffffffn,
  0x100000000n,
  1n << 53n,
  (1n << 53n) + 1n,
  (1n << 63n) - 1n,
  1n << 63n,
  (1n << 64n) - 1n,
];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function clampSize(b: Uint8Array): Uint8Array {
  return b.length > MAX_MUTATED_BYTES ? b.subarray(0, MAX_MUTATED_BYTES) : b;
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations.

/**
 * Flips 1 to 8 random bits.
 *
 * @param b input (not modified)
 * @param rng generator
 * @returns the mutated copy
 */
export function bitFlip(b: Uint8Array, rng: Rng): Uint8Array {
  const out = b.slice();
  if (out.length === 0) return out;
  const n = rng.range(1, 8);
  for (let i = 0; i < n; i++) {
    const at = rng.chance(0.5) ? rng.low(out.length) : rng.int(out.length);
    out[at]! ^= 1 << rng.int(8);
  }
  return out;
}

/**
 * Sets 1 to 4 random bytes to random or boundary values.
 *
 * @param b input
 * @param rng generator
 * @returns the mutated copy
 */
export function byteSet(b: Uint8Array, rng: Rng): Uint8Array {
  const out = b.slice();
  if (out.length === 0) return out;
  const n = rng.range(1, 4);
  for (let i = 0; i < n; i++) {
    const at = rng.chance(0.5) ? rng.low(out.length) : rng.int(out.length);
    out[at] = rng.chance(0.5) ? rng.pick([0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x20]) : rng.int(256);
  }
  return out;
}

function writeInt(out: Uint8Array, at: number, width: 2 | 4 | 8, v: bigint, le: boolean): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (at + width > out.length) return;
  if (width === 2) dv.setUint16(at, Number(BigInt.asUintN(16, v)), le);
  else if (width === 4) dv.setUint32(at, Number(BigInt.asUintN(32, v)), le);
  else dv.setBigUint64(at, BigInt.asUintN(64, v), le);
}

/**
 * Writes a boundary integer (u16/u32/u64, either byte order) at a random aligned offset.
 *
 * @param b input
 * @param rng generator
 * @returns the mutated copy
 */
export function interestingInt(b: Uint8Array, rng: Rng): Uint8Array {
  const out = b.slice();
  const width = rng.pick([2, 4, 4, 8] as const);
  if (out.length < width) return out;
  const at = Math.min(out.length - width, (rng.low(out.length) & ~(width - 1)) >>> 0);
  const v = width === 8 ? rng.pick(U64_EDGES) : BigInt(rng.pick(U32_EDGES));
  writeInt(out, at, width, v, rng.chance(0.8));
  return out;
}

/** A candidate size or count field found in the input. */
export interface SizeField {
  /** Byte offset. */
  at: number;
  /** Width in bytes. */
  width: 4 | 8;
  /** Little endian. */
  le: boolean;
  /** Its value. */
  value: number;
}

/**
 * Finds u32/u64 fields whose value looks like a size, offset or count (1..input length) in a
 * window of the input (4 KiB, biased towards the start).
 *
 * @param b input
 * @param rng generator
 * @returns candidate fields
 */
export function findSizeFields(b: Uint8Array, rng: Rng): SizeField[] {
  const out: SizeField[] = [];
  if (b.length < 4) return out;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const start = rng.chance(0.6) ? rng.low(b.length) & ~3 : rng.int(b.length) & ~3;
  const end = Math.min(b.length, start + 4096);
  const step = rng.chance(0.8) ? 4 : 1;
  const len = BigInt(b.length);
  for (let at = start; at + 4 <= end; at += step) {
    for (const le of [true, false]) {
      const v = dv.getUint32(at, le);
      if (v >= 1 && v <= b.length) out.push({ at, width: 4, le, value: v });
      if (at + 8 <= b.length) {
        const v64 = dv.getBigUint64(at, le);
        if (v64 >= 1n && v64 <= len) out.push({ at, width: 8, le, value: Number(v64) });
      }
    }
  }
  return out;
}

/**
 * Makes a size, offset or count field lie: sets it to zero, off-by-one, double, the file size,
 * or huge values.
 *
 * @param b input
 * @param rng generator
 * @returns the mutated copy
 */
export function lyingSize(b: Uint8Array, rng: Rng): Uint8Array {
  const fields = findSizeFields(b, rng);
  if (fields.length === 0) return interestingInt(b, rng);
  const f = rng.pick(fields);
  const out = b.slice();
  const len = BigInt(b.length);
  const v = BigInt(f.value);
  const choices: bigint[] = [
    0n,
    v - 1n,
    v + 1n,
    v * 2n,
    v + 4096n,
    len,
    len - BigInt(f.at),
    len + 1n,
    0x7fffffffn,
    0xffffffffn,
    0x80000000n,
  ];
  if (f.width === 8) choices.push(...U64_EDGES);
  writeInt(out, f.at, f.width, rng.pick(choices), f.le);
  return out;
}

/**
 * Cuts the input short (anywhere, near the start, or a few bytes off the end).
 *
 * @param b input
 * @param rng generator
 * @returns the prefix
 */
export function truncate(b: Uint8Array, rng: Rng): Uint8Array {
  if (b.length === 0) return b.slice();
  const r = rng.int(3);
  const at = r === 0
    ? rng.int(b.length)
    : r === 1
    ? rng.low(b.length)
    : Math.max(0, b.length - rng.range(1, 64));
  return b.slice(0, at);
}

/**
 * Copies a range of another seed over (or into) the input.
 *
 * @param b input
 * @param rng generator
 * @param other another seed of the same target
 * @returns the spliced copy
 */
export function splice(b: Uint8Array, rng: Rng, other: Uint8Array): Uint8Array {
  if (other.length === 0 || b.length === 0) return b.slice();
  const from = rng.int(other.length);
  const len = Math.min(other.length - from, rng.range(1, rng.chance(0.5) ? 64 : 8192));
  const piece = other.subarray(from, from + len);
  const at = rng.chance(0.5) ? rng.low(b.length) : rng.int(b.length);
  if (rng.chance(0.5)) {
    const out = b.slice();
    out.set(piece.subarray(0, Math.min(piece.length, out.length - at)), at);
    return out;
  }
  return clampSize(concat([b.subarray(0, at), piece, b.subarray(at)]));
}

/**
 * Inserts, deletes or duplicates a range of bytes.
 *
 * @param b input
 * @param rng generator
 * @returns the changed copy
 */
export function rangeEdit(b: Uint8Array, rng: Rng): Uint8Array {
  if (b.length === 0) return rng.bytes(rng.range(1, 16));
  const at = rng.chance(0.5) ? rng.low(b.length) : rng.int(b.length);
  const len = Math.min(b.length - at, rng.range(1, rng.chance(0.7) ? 16 : 4096));
  switch (rng.int(3)) {
    case 0:
      return concat([b.subarray(0, at), rng.bytes(rng.range(1, 32)), b.subarray(at)]);
    case 1:
      return concat([b.subarray(0, at), b.subarray(at + len)]);
    default:
      return clampSize(concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at)]));
  }
}

/**
 * Rewrites a run of ASCII digits (a number in embedded text, such as `offset:8;` or `size:4;`
 * in the event formats a trace.dat or perf.data carries) with digits of the same length, so
 * the size fields around the text stay true.
 *
 * @param b input
 * @param rng generator
 * @returns the changed copy
 */
export function embeddedDigits(b: Uint8Array, rng: Rng): Uint8Array {
  const out = b.slice();
  const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
  const start = rng.chance(0.5) ? rng.low(b.length) : rng.int(b.length);
  const end = Math.min(b.length, start + 65536);
  const runs: [number, number][] = [];
  for (let i = start; i < end; i++) {
    if (!isDigit(b[i]) || isDigit(b[i - 1])) continue;
    let j = i;
    while (j < b.length && isDigit(b[j])) j++;
    // A number in text: after ':' or ' ' or '[' (format files, headers).
    const before = b[i - 1];
    if (before === 0x3a || before === 0x20 || before === 0x5b || before === 0x09) runs.push([i, j]);
    i = j;
  }
  if (runs.length === 0) return bitFlip(b, rng);
  const [i, j] = rng.pick(runs);
  const style = rng.int(4);
  for (let k = i; k < j; k++) {
    out[k] = style === 0 ? 0x39 : style === 1 ? 0x30 : style === 2 ? 0x30 + rng.int(10) : out[k]!;
  }
  if (style === 3) out[j - 1] = 0x30 + ((out[j - 1]! - 0x30 + rng.range(1, 9)) % 10);
  return out;
}

/** The byte-level mutators, by name. */
export const BINARY_MUTATORS: Readonly<
  Record<string, (b: Uint8Array, rng: Rng, other: Uint8Array) => Uint8Array>
> = Object.freeze({
  bitFlip: (b, rng) => bitFlip(b, rng),
  byteSet: (b, rng) => byteSet(b, rng),
  interestingInt: (b, rng) => interestingInt(b, rng),
  lyingSize: (b, rng) => lyingSize(b, rng),
  lyingSize2: (b, rng) => lyingSize(b, rng),
  truncate: (b, rng) => truncate(b, rng),
  splice: (b, rng, o) => splice(b, rng, o),
  rangeEdit: (b, rng) => rangeEdit(b, rng),
  embeddedDigits: (b, rng) => embeddedDigits(b, rng),
});

// ---------------------------------------------------------------------------------------------
// Line-level mutations.

function splitLines(b: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x0a) {
      lines.push(b.subarray(s, i));
      s = i + 1;
    }
  }
  lines.push(b.subarray(s));
  return lines;
}

function joinLines(lines: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const nl = new Uint8Array([0x0a]);
  lines.forEach((l, i) => {
    if (i > 0) parts.push(nl);
    parts.push(l);
  });
  return clampSize(concat(parts));
}

/** Number texts that overflow or confuse integer and float parsing. */
const NUMBER_EDGES = [
  "0",
  "-1",
  "-0",
  "4294967295",
  "4294967296",
  "9007199254740993",
  "18446744073709551615",
  "18446744073709551616",
  "99999999999999999999999999999",
  "0x",
  "0xffffffffffffffffff",
  "1e999",
  "NaN",
  "999999999.999999999",
  "1.",
  ".5",
  "",
];

function garbageLine(rng: Rng): Uint8Array {
  switch (rng.int(5)) {
    case 0:
      return rng.bytes(rng.range(1, 80));
    case 1:
      return ENC.encode(rng.pick(HOSTILE_STRINGS));
    case 2:
      return rng.pick(INVALID_UTF8);
    case 3: {
      const chars = " \t[]():=,#%\"'\\-_/.0123456789abcdefxyz<>{}|";
      let s = "";
      const n = rng.range(1, 120);
      for (let i = 0; i < n; i++) s += chars[rng.int(chars.length)];
      return ENC.encode(s);
    }
    default:
      return new Uint8Array(0);
  }
}

function longLine(rng: Rng, base: Uint8Array): Uint8Array {
  const target = rng.pick([4097, 65535, 65537, 70000, (1 << 20) + 7, 3 << 20]);
  const unit = base.length > 0 && rng.chance(0.5)
    ? base.subarray(0, Math.min(base.length, 64))
    : ENC.encode(rng.pick(["A", "x=1 ", "0", "[", "%d", " "]));
  const out = new Uint8Array(target);
  out.set(unit.subarray(0, Math.min(unit.length, target)));
  // Doubling copies: a few calls instead of one per unit.
  for (let have = Math.min(unit.length, target); have < target; have *= 2) {
    out.copyWithin(have, 0, Math.min(have, target - have));
  }
  if (base.length > 0 && rng.chance(0.5)) {
    const b = base.slice();
    return concat([b, out]);
  }
  return out;
}

function tweakNumber(line: Uint8Array, rng: Rng): Uint8Array {
  const s = DEC.decode(line);
  const nums = [...s.matchAll(/\d+(\.\d+)?/g)];
  if (nums.length === 0) return line;
  const m = rng.pick(nums);
  const at = m.index ?? 0;
  const rep = rng.chance(0.7) ? rng.pick(NUMBER_EDGES) : String(rng.u32());
  return ENC.encode(s.slice(0, at) + rep + s.slice(at + m[0].length));
}

function tweakChar(line: Uint8Array, rng: Rng): Uint8Array {
  if (line.length === 0) return ENC.encode(rng.pick(HOSTILE_STRINGS));
  const at = rng.int(line.length);
  const r = rng.int(4);
  if (r === 0) {
    const out = line.slice();
    out[at] = rng.pick([
      0x00,
      0x09,
      0x0d,
      0x1b,
      0x20,
      0x22,
      0x25,
      0x28,
      0x29,
      0x3a,
      0x3d,
      0x5b,
      0x5d,
    ])!;
    return out;
  }
  if (r === 1) return concat([line.subarray(0, at), line.subarray(at + 1)]);
  if (r === 2) return concat([line.subarray(0, at), rng.pick(INVALID_UTF8), line.subarray(at)]);
  return concat([line.subarray(0, at), ENC.encode(rng.pick(HOSTILE_STRINGS)), line.subarray(at)]);
}

/**
 * Mutates a text input line by line: duplicate, delete, swap or move lines, insert garbage or
 * hostile lines, very long lines, cut lines, numbers at their limits, odd characters, invalid
 * UTF-8, CRLF endings.
 *
 * @param b input
 * @param rng generator
 * @param other another seed (lines are borrowed from it)
 * @returns the mutated text
 */
export function mutateLines(b: Uint8Array, rng: Rng, other: Uint8Array): Uint8Array {
  const lines = splitLines(b);
  const n = lines.length;
  const i = rng.chance(0.3) ? rng.low(n) : rng.int(n);
  const j = rng.int(n);
  switch (rng.int(14)) {
    case 0:
      lines.splice(i, 0, lines[i]!);
      break;
    case 13: {
      // A line repeated with a counter glued to its first `name:` token: many distinct event
      // names (a table each) from one seed line.
      const text = DEC.decode(lines[i]!);
      const m = /[A-Za-z_][\w-]*(?=:)/.exec(text.replace(/^[^\]]*\]/, (x) => " ".repeat(x.length)));
      if (!m) break;
      const at = m.index + m[0].length;
      const times = rng.range(2, 200);
      const rep: Uint8Array[] = [];
      for (let t = 0; t < times; t++) rep.push(ENC.encode(text.slice(0, at) + t + text.slice(at)));
      lines.splice(i, 1, ...rep);
      break;
    }
    case 1:
      lines.splice(i, rng.chance(0.8) ? 1 : rng.range(1, 50));
      break;
    case 2:
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      break;
    case 3: {
      const block = lines.splice(i, rng.range(1, 20));
      lines.splice(rng.int(lines.length + 1), 0, ...block);
      break;
    }
    case 4:
      lines.splice(i, 0, garbageLine(rng));
      break;
    case 5:
      lines.splice(i, rng.chance(0.5) ? 1 : 0, longLine(rng, lines[i]!));
      break;
    case 6:
      lines[i] = lines[i]!.subarray(0, rng.int(lines[i]!.length + 1));
      break;
    case 7:
    case 8:
      lines[i] = tweakNumber(lines[i]!, rng);
      break;
    case 9:
    case 10:
      lines[i] = tweakChar(lines[i]!, rng);
      break;
    case 11: {
      const ol = splitLines(other);
      const k = rng.int(ol.length);
      lines.splice(i, 0, ...ol.slice(k, k + rng.range(1, 10)));
      break;
    }
    default: {
      // Repeat a block many times (a long trace in a few bytes of seed).
      const block = lines.slice(i, i + rng.range(1, 5));
      const times = rng.range(2, 400);
      const rep: Uint8Array[] = [];
      for (let t = 0; t < times; t++) rep.push(...block);
      lines.splice(i, 0, ...rep);
      break;
    }
  }
  if (rng.chance(0.02)) return ENC.encode(DEC.decode(joinLines(lines)).replaceAll("\n", "\r\n"));
  return joinLines(lines);
}

// ---------------------------------------------------------------------------------------------
// JSON mutations.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values a JSON mutation may put in place of another. */
function randomJson(rng: Rng, depth = 0): Json {
  switch (rng.int(depth > 2 ? 9 : 11)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([
        0,
        -1,
        1,
        1.5,
        32,
        33,
        65535,
        65536,
        0xfffff,
        0x100000,
        2 ** 31,
        2 ** 53 + 2,
      ]);
    case 3:
      return rng.pick([1e308, -1e308, 5e-324, -0]);
    case 4:
      return "";
    case 5:
      return rng.pick(HOSTILE_STRINGS);
    case 6:
      return "x".repeat(rng.pick([16, 256, 70000]));
    case 7:
      return rng.pick(["intel", "amd", "arm-smmuv3", "unknown", "0000:00:02.0", "dmar0", "kprobe"]);
    case 8:
      return String(rng.u32());
    case 9:
      return [randomJson(rng, depth + 1)];
    default:
      return { [rng.pick(["x", "name", "__proto__", "constructor"])]: randomJson(rng, depth + 1) };
  }
}

interface Slot {
  get(): Json;
  set(v: Json): void;
  remove(): void;
  parent: Json[] | { [k: string]: Json } | null;
}

/** Largest JSON text a tree mutation produces (a bigger result is dropped). */
const MAX_JSON_CHARS = 2 << 20;

/** Most JSON slots a mutation chooses from. */
const MAX_SLOTS = 20000;

function collectSlots(root: { v: Json }): Slot[] {
  const out: Slot[] = [{
    get: () => root.v,
    set: (v) => {
      root.v = v;
    },
    remove: () => {
      root.v = null;
    },
    parent: null,
  }];
  // Iterative walk (documents may be nested thousands deep); at most MAX_SLOTS slots.
  const stack: Json[] = [root.v];
  while (stack.length > 0 && out.length < MAX_SLOTS) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({
          get: () => v[i]!,
          set: (nv) => {
            v[i] = nv;
          },
          remove: () => {
            v.splice(i, 1);
          },
          parent: v,
        });
        stack.push(x);
      });
    } else if (v !== null && typeof v === "object") {
      for (const k of Object.keys(v)) {
        out.push({
          get: () => v[k]!,
          set: (nv) => {
            Object.defineProperty(v, k, {
              value: nv,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          },
          remove: () => {
            delete v[k];
          },
          parent: v,
        });
        stack.push(v[k]!);
      }
    }
  }
  return out;
}

/**
 * Mutates a JSON document as a tree (replace a value by one of another type or at a limit,
 * delete keys, add unknown or prototype-named keys, grow arrays, nest deeply), falling back to
 * line-level mutation when the input does not parse.
 *
 * @param b input (UTF-8 JSON)
 * @param rng generator
 * @param other another seed
 * @returns the mutated document
 */
export function mutateJson(b: Uint8Array, rng: Rng, other: Uint8Array): Uint8Array {
  let doc: Json;
  try {
    doc = JSON.parse(DEC.decode(b)) as Json;
  } catch {
    return mutateLines(b, rng, other);
  }
  const root = { v: doc };
  const ops = rng.range(1, 3);
  for (let k = 0; k < ops; k++) {
    const slots = collectSlots(root);
    const s = rng.pick(slots);
    const cur = s.get();
    switch (rng.int(8)) {
      case 0:
      case 1:
        s.set(randomJson(rng));
        break;
      case 2:
        if (s.parent) s.remove();
        break;
      case 3:
        if (cur !== null && typeof cur === "object" && !Array.isArray(cur)) {
          const key = rng.pick(["extra", "__proto__", "constructor", "toString", "Name", "", "é"]);
          Object.defineProperty(cur, key, {
            value: randomJson(rng),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else s.set(randomJson(rng));
        break;
      case 4:
        if (Array.isArray(cur) && cur.length > 0) {
          const item = cur[rng.int(cur.length)]!;
          const size = JSON.stringify(item)?.length ?? 4;
          const times = rng.chance(0.9) ? 1 : Math.min(rng.range(2, 2000), (2 << 20) / size);
          for (let t = 0; t < times; t++) cur.push(item);
        } else s.set([cur]);
        break;
      case 5:
        if (typeof cur === "number") s.set(rng.pick([cur + 1, cur - 1, -cur, cur * 2 ** 20, 0.5]));
        else if (typeof cur === "string") {
          s.set(rng.chance(0.5) ? cur + rng.pick(HOSTILE_STRINGS) : cur.toUpperCase());
        } else s.set(randomJson(rng));
        break;
      case 6: {
        let v: Json = rng.chance(0.5) ? 1 : {};
        const depth = rng.pick([10, 100, 5000]);
        for (let d = 0; d < depth; d++) v = rng.chance(0.5) ? [v] : { a: v };
        s.set(v);
        break;
      }
      default:
        if (cur !== null && typeof cur === "object") {
          s.set(Array.isArray(cur) ? {} : []);
        } else s.set(randomJson(rng));
    }
  }
  let text: string;
  try {
    text = JSON.stringify(root.v) ?? "null";
    // Indent small documents only: indenting a deeply nested one grows it quadratically.
    if (text.length < 16384 && rng.chance(0.5)) text = JSON.stringify(root.v, null, 2);
  } catch {
    text = DEC.decode(b);
  }
  if (text.length > MAX_JSON_CHARS) text = DEC.decode(b);
  const out = ENC.encode(text);
  return rng.chance(0.1) ? mutateLines(out, rng, other) : out;
}

/**
 * Applies 1 to 4 stacked mutations fitting the input kind.
 *
 * @param kind input kind
 * @param input the seed (not modified)
 * @param rng generator
 * @param other another seed of the same target (for splices)
 * @returns the mutated input and the names of the mutations applied
 * @example
 * ```ts
 * import { mutate } from "./mutators.ts";
 * import { Rng } from "./rng.ts";
 * const seed = new TextEncoder().encode("a\nb\nc\n");
 * const m1 = mutate("text", seed, new Rng(7), seed);
 * const m2 = mutate("text", seed, new Rng(7), seed);
 * console.assert(m1.ops.join() === m2.ops.join() && m1.bytes.length === m2.bytes.length);
 * ```
 */
export function mutate(
  kind: InputKind,
  input: Uint8Array,
  rng: Rng,
  other: Uint8Array,
): { bytes: Uint8Array; ops: string[] } {
  let b = input;
  const ops: string[] = [];
  const n = rng.chance(0.5) ? 1 : rng.range(2, 4);
  const names = Object.keys(BINARY_MUTATORS);
  for (let i = 0; i < n; i++) {
    const name = kind === "json" && rng.chance(0.85)
      ? "json"
      : kind !== "binary" && rng.chance(0.75)
      ? "lines"
      : rng.pick(names);
    try {
      b = name === "json"
        ? mutateJson(b, rng, other)
        : name === "lines"
        ? mutateLines(b, rng, other)
        : BINARY_MUTATORS[name]!(b, rng, other);
      ops.push(name);
    } catch {
      // A mutation that cannot apply (e.g. a document too deep to serialize) is skipped.
      ops.push(`${name}(skipped)`);
    }
  }
  return { bytes: b === input ? input.slice() : clampSize(b), ops };
}
