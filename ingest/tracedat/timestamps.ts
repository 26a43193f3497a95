/**
 * trace-cmd's timestamp corrections, in its order: guest->host TIME_SHIFT, TSC2NSEC
 * (`mul_u64_u32_shr`), then the DATE and OFFSET offsets. Clocks that do not count nanoseconds
 * keep raw counts (trace-cmd prints those as plain counts too).
 *
 * @module
 */
import type { TraceDat } from "./tracedat_file.ts";

/**
 * Turns a relative raw timestamp (see `RecordReader.base`) and a CPU into the final value.
 * `additive` is set when the correction is a plain `additive + rel` (no TSC2NSEC / TIME_SHIFT).
 */
export type TimestampCorrector = ((rel: number, cpu: number) => bigint) & { additive?: bigint };

const M64 = (1n << 64n) - 1n;

/**
 * `mul_u64_u32_shr` as trace-cmd computes it (64-bit wrap-around included).
 *
 * @param a value
 * @param mul multiplier (u32)
 * @param shift right shift
 * @returns `(a * mul) >> shift` in trace-cmd's 64-bit arithmetic
 * @example
 * ```ts
 * import { mulU64U32Shr } from "./timestamps.ts";
 * console.assert(mulU64U32Shr(1000n, 3n, 1) === 1500n);
 * ```
 */
export function mulU64U32Shr(a: bigint, mul: bigint, shift: number): bigint {
  const al = a & 0xffffffffn;
  const ah = a >> 32n;
  let ret = ((al * mul) & M64) >> BigInt(shift);
  if (ah) ret = (ret + (((ah * mul) & M64) << BigInt(32 - shift))) & M64;
  return ret;
}

/** Clocks trace-cmd displays as nanoseconds (`extract_trace_clock`). */
const NS_CLOCKS = new Set([
  "local",
  "global",
  "uptime",
  "perf",
  "mono",
  "mono_raw",
  "boot",
  "tai",
  "tsc2nsec",
]);

/**
 * Whether a clock's values are nanoseconds (as trace-cmd decides it).
 *
 * @param clock clock name, null when the file does not say (old files: `local`)
 * @param tsc2nsec whether a TSC2NSEC option converts the counts
 * @returns true for nanosecond clocks
 */
export function clockIsNs(clock: string | null, tsc2nsec: boolean): boolean {
  if (tsc2nsec) return true;
  if (clock === null) return true;
  return NS_CLOCKS.has(clock);
}

function hostSync(ts: bigint, cpu: number, t: TraceDat): bigint {
  const shift = t.options.timeShift!;
  const c = shift.cpus[cpu];
  if (!c || c.times.length === 0) return ts;
  const n = c.times.length;
  if (n === 1) return ts + c.offsets[0]!;
  const interp = (shift.flags & 1) !== 0;
  const calc = (i: number, j: number) => {
    const tmin = c.times[i]!;
    const tmax = c.times[j]!;
    let cor: bigint;
    let scaling: bigint;
    if (interp) {
      const delta = tmax - tmin;
      const off = (ts - tmin) * (c.offsets[j]! - c.offsets[i]!);
      cor = delta === 0n ? c.offsets[i]! : c.offsets[i]! + (off + delta / 2n) / delta;
      scaling = (c.scalings[i]! + c.scalings[j]!) / 2n;
    } else {
      cor = c.offsets[i]!;
      scaling = c.scalings[i]!;
    }
    const frac = c.fractions[i] ?? 0n;
    const scaled = ((ts * scaling) & M64) >> frac;
    return (scaled + cor) & M64;
  };
  if (n === 2 || ts <= c.times[0]!) return calc(0, 1);
  if (ts >= c.times[n - 1]!) return calc(n - 2, n - 1);
  let lo = 0;
  let hi = n - 1;
  let mid = (lo + hi) >> 1;
  while (lo <= hi) {
    if (ts < c.times[mid]!) hi = mid - 1;
    else if (ts > c.times[mid]!) lo = mid + 1;
    else break;
    mid = (lo + hi) >> 1;
  }
  return calc(mid, Math.min(mid + 1, n - 1));
}

/**
 * Builds the corrector for a trace and a raw timestamp base.
 *
 * @param t the opened trace
 * @param base raw value the relative timestamps are counted from
 * @returns the corrector
 */
export function makeTimestampCorrector(t: TraceDat, base: bigint): TimestampCorrector {
  const o = t.options;
  let offset = 0n;
  if (o.dateUs !== null) offset += o.dateUs * 1000n;
  if (o.offsetNs !== null) offset += o.offsetNs;
  const tsc = o.tsc2nsec;
  const shift = o.timeShift;
  if (!tsc && !shift) {
    const add = base + offset;
    const f: TimestampCorrector = (rel) => add + BigInt(rel);
    f.additive = add;
    return f;
  }
  return (rel, cpu) => {
    let ts = base + BigInt(rel);
    if (shift) ts = hostSync(ts, cpu, t);
    if (tsc) ts = mulU64U32Shr(ts, BigInt(tsc.mult), tsc.shift);
    return ts + offset;
  };
}
