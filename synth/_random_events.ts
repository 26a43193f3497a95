/**
 * Deterministic pseudo-random events for any set of formats (test support): every field gets
 * a value of its kind, timestamps grow per CPU with occasional long gaps, strings are short
 * or long enough to need 8-byte record headers.
 *
 * @module
 */

import type { FieldValue, TraceEvent } from "../core/event.ts";
import type { EventFormat, FieldFormat } from "../ingest/format/types.ts";

/** Options of {@linkcode randomEvents}. */
export interface RandomEventsOptions {
  /** PRNG seed. */
  seed: number;
  /** Number of events. */
  count: number;
  /** CPUs to spread them over. */
  cpus: number;
  /** Buffers to pick from (repeat a name to weight it), default `[""]`. */
  buffers?: readonly string[];
  /** First timestamp, default 1 s. */
  startTs?: bigint;
}

/** A small xorshift32 generator. */
class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = (seed * 2654435761) >>> 0 || 1;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  big(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(this.int(65536));
    return BigInt.asUintN(bits, v);
  }
  word(min: number, max: number): string {
    const chars = "abcdefghijklmnopqrstuvwxyz0123456789:._/-";
    const n = min + this.int(max - min + 1);
    let s = "";
    for (let i = 0; i < n; i++) s += chars[this.int(chars.length)];
    return s;
  }
}

function intValue(rng: Rng, size: number, signed: boolean): number | bigint {
  const bits = size * 8;
  const u = rng.big(bits);
  const v = signed ? BigInt.asIntN(bits, u) : u;
  return size === 8 ? v : Number(v);
}

function fieldValue(rng: Rng, f: FieldFormat): FieldValue {
  switch (f.kind) {
    case "int":
      return intValue(rng, f.size, f.signed);
    case "array":
      if (f.isString) return rng.word(0, Math.max(0, f.size - 1));
      return Array.from(
        { length: f.count },
        () => intValue(rng, f.elemSize, f.signed),
      ) as number[] | bigint[];
    default: {
      if (f.isString) return rng.int(10) === 0 ? rng.word(120, 220) : rng.word(1, 24);
      const n = 1 + rng.int(4);
      return Array.from(
        { length: n },
        () => intValue(rng, f.elemSize, f.signed),
      ) as number[] | bigint[];
    }
  }
}

const COMMS = ["bash", "python3", "kworker/0:1", "trace-cmd", "qemu-system-x86", "swapper/1"];

/**
 * Makes reproducible random events.
 *
 * @param formats formats by `system:event`
 * @param options seed, count, CPUs, buffers
 * @returns the events, per CPU in time order
 */
export function randomEvents(
  formats: ReadonlyMap<string, EventFormat>,
  options: RandomEventsOptions,
): TraceEvent[] {
  const rng = new Rng(options.seed);
  const list = [...formats.values()];
  const buffers = options.buffers ?? [""];
  const clocks = new Map<string, bigint>();
  const out: TraceEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    const format = list[rng.int(list.length)]!;
    const cpu = rng.int(options.cpus);
    const buffer = buffers[rng.int(buffers.length)]!;
    const key = `${buffer}/${cpu}`;
    const gap = rng.int(100) === 0
      ? 200_000_000n + BigInt(rng.int(2_000_000_000))
      : BigInt(rng.int(50_000));
    const ts = (clocks.get(key) ?? options.startTs ?? 1_000_000_000n) + gap;
    clocks.set(key, ts);
    const pid = rng.int(8) === 0 ? 0 : 100 + rng.int(6);
    const fields: Record<string, FieldValue> = {};
    for (const f of format.ownFields) fields[f.name] = fieldValue(rng, f);
    out.push({
      ts,
      cpu,
      pid,
      comm: pid === 0 ? "<idle>" : COMMS[pid - 100]!,
      system: format.system,
      event: format.name,
      buffer,
      flags: rng.int(256),
      preempt_count: rng.int(256),
      fields,
    });
  }
  return out;
}
