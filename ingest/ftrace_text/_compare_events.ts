/**
 * Test support: compares events read from text with the events of the trace.dat they were
 * printed from, at the precision the text has. Per CPU the order of events is the same in both
 * (each CPU's ring buffer is in time order); across CPUs equal timestamps may be printed in either
 * order, so events are compared CPU by CPU.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import type { TextEvent } from "./text_reader.ts";

/** What to compare. */
export interface CompareOptions {
  /**
   * Timestamps: `us` (text rounded to µs), `ns` (exact), `relative_us` (µs since the first
   * event, kernel latency-format, ±1 µs), `raw` (raw counts, exact), `none` (no context: only
   * the events' sequence and fields are compared).
   */
  ts: "us" | "ns" | "relative_us" | "raw" | "none";
  /** Compare flags and preempt count where the text printed them. */
  flags?: boolean;
  /** Only this many leading characters of the comm are printed (latency: 8). */
  commWidth?: number;
  /** Compare the typed fields of known-format events (default true). */
  fields?: boolean;
  /** Mask applied to the flags before comparing (libtraceevent does not print 0x20). */
  flagsMask?: number;
  /** Mask applied to the preempt count before comparing (verbose prints `& 0xf`). */
  preemptMask?: number;
  /** Compare the buffer (instance) name. */
  buffer?: boolean;
  /** Event names are ids (`id_188`): map dat `system:event` to the id used in text. */
  ids?: Map<string, number>;
}

/** Result of a comparison. */
export interface CompareResult {
  /** Event pairs compared. */
  compared: number;
  /** Field values compared. */
  fieldsCompared: number;
  /** The first mismatches (at most 30). */
  mismatches: string[];
}

function norm(v: FieldValue | undefined): string {
  if (v === undefined) return "undefined";
  if (typeof v === "bigint" || typeof v === "number") return BigInt(v).toString();
  if (Array.isArray(v)) return `[${v.map((x) => BigInt(x).toString()).join(",")}]`;
  return String(v);
}

function roundUs(ns: bigint): bigint {
  return ((ns + 500n) / 1000n) * 1000n;
}

/**
 * Compares text events with trace.dat events.
 *
 * @param text events read from text
 * @param dat events of the trace.dat
 * @param opts what to compare
 * @returns counts and the first mismatches (at most 30)
 */
export function compareTextWithDat(
  text: readonly TextEvent[],
  dat: readonly TraceEvent[],
  opts: CompareOptions,
): CompareResult {
  const mism: string[] = [];
  const add = (s: string) => {
    if (mism.length < 30) mism.push(s);
  };
  if (text.length !== dat.length) add(`count: text ${text.length}, dat ${dat.length}`);
  let fieldsCompared = 0;
  let compared = 0;
  const groups = (evs: readonly { cpu: number }[]) => {
    const m = new Map<number, number[]>();
    evs.forEach((e, i) => {
      const k = opts.ts === "none" ? 0 : e.cpu;
      const l = m.get(k);
      if (l) l.push(i);
      else m.set(k, [i]);
    });
    return m;
  };
  const tg = groups(text);
  const dg = groups(dat);
  const t0 = text[0]?.ts ?? 0n;
  const d0 = dat[0]?.ts ?? 0n;
  for (const [cpu, dl] of dg) {
    const tl = tg.get(cpu) ?? [];
    if (tl.length !== dl.length) add(`cpu ${cpu}: text ${tl.length} events, dat ${dl.length}`);
    const n = Math.min(tl.length, dl.length);
    for (let k = 0; k < n; k++) {
      const t = text[tl[k]!]!;
      const d = dat[dl[k]!]!;
      const where = `line ${t.line} (dat #${dl[k]}, ${d.system}:${d.event})`;
      compared++;
      const id = opts.ids?.get(`${d.system}:${d.event}`);
      const wantEvent = opts.ids ? `id_${id}` : d.event;
      if (t.event !== wantEvent) add(`${where}: event ${t.event} != ${wantEvent}`);
      if (!opts.ids && t.format && t.system !== d.system) {
        add(`${where}: system ${t.system} != ${d.system}`);
      }
      if (opts.buffer && t.buffer !== d.buffer) add(`${where}: buffer ${t.buffer} != ${d.buffer}`);
      if (opts.ts !== "none") {
        if (t.cpu !== d.cpu) add(`${where}: cpu ${t.cpu} != ${d.cpu}`);
        if (t.pid !== d.pid) add(`${where}: pid ${t.pid} != ${d.pid}`);
        if (!opts.ids) {
          const dc = opts.commWidth ? d.comm.slice(0, opts.commWidth) : d.comm;
          if (t.comm !== dc) add(`${where}: comm ${t.comm} != ${dc}`);
        }
        let want: bigint;
        let ok: boolean;
        switch (opts.ts) {
          case "us":
            want = roundUs(d.ts);
            ok = t.ts === want;
            break;
          case "relative_us": {
            want = d.ts - d0;
            const got = t.ts - t0;
            const diff = got - want;
            ok = diff <= 1000n && diff >= -1000n;
            break;
          }
          default:
            want = d.ts;
            ok = t.ts === want;
        }
        if (!ok) add(`${where}: ts ${t.ts} != ${want}`);
      }
      const fm = opts.flagsMask ?? 0xff;
      if (opts.flags && t.flags !== null && t.flags !== (d.flags & fm)) {
        add(`${where}: flags ${t.flags} != ${d.flags & fm}`);
      }
      const pm = opts.preemptMask ?? 0xff;
      if (opts.flags && t.preempt !== null && t.preempt !== (d.preempt_count & pm)) {
        add(`${where}: preempt ${t.preempt} != ${d.preempt_count & pm}`);
      }
      if ((opts.fields ?? true) && t.format) {
        for (const f of t.format.ownFields) {
          if (!(f.name in t.values)) continue;
          fieldsCompared++;
          const a = norm(t.values[f.name]);
          const b = norm(d.fields[f.name]);
          if (a !== b) add(`${where}: ${f.name} ${a} != ${b} (${t.how})`);
        }
      }
    }
  }
  return { compared, fieldsCompared, mismatches: mism };
}
