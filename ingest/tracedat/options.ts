/**
 * trace.dat options (v6 option block, v7 OPTIONS sections): ids, payloads and what the reader
 * does with them. Unknown ids are skipped with a warning, as trace-cmd does.
 *
 * @module
 */
import type { TraceWarning } from "../../core/errors.ts";
import { ByteReader } from "../byte_reader.ts";
import type { BinReader } from "./metadata.ts";

/** Option ids (trace-cmd `enum tracecmd_file_options`). */
export const OPT = {
  DONE: 0,
  DATE: 1,
  CPUSTAT: 2,
  BUFFER: 3,
  TRACECLOCK: 4,
  UNAME: 5,
  HOOK: 6,
  OFFSET: 7,
  CPUCOUNT: 8,
  VERSION: 9,
  PROCMAPS: 10,
  TRACEID: 11,
  TIME_SHIFT: 12,
  GUEST: 13,
  TSC2NSEC: 14,
  STRINGS: 15,
  HEADER_INFO: 16,
  FTRACE_EVENTS: 17,
  EVENT_FORMATS: 18,
  KALLSYMS: 19,
  PRINTK: 20,
  CMDLINES: 21,
  BUFFER_TEXT: 22,
  BTF_FILE: 23,
  LAST_BOOT_INFO: 24,
  MODULES_FILE: 25,
} as const;

/** Option names by id, for `trace_info`. */
export const OPTION_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OPT).map(([k, v]) => [v, k]),
);

/** Per-CPU data location of a buffer. */
export interface CpuData {
  /** CPU number. */
  cpu: number;
  /** File offset of the CPU's data (v7: of its compressed chunk stream when compressed). */
  offset: number;
  /** Size on disk. */
  size: number;
}

/** A ring buffer (the top-level one is named `""`). */
export interface BufferDesc {
  /** Instance name (`""` for the top-level buffer). */
  name: string;
  /** Clock of this buffer, null when the file does not say. */
  clock: string | null;
  /** Sub-buffer (page) size. */
  pageSize: number;
  /** Per-CPU data; filled from the flyrecord table (v6) or the BUFFER option (v7). */
  cpus: CpuData[];
  /** v6: offset of this instance's `flyrecord` block; v7: offset of its section header. */
  sectionOffset: number;
  /** True if this buffer holds latency text rather than pages. */
  latency: boolean;
}

/** TIME_SHIFT samples of one CPU. */
export interface TimeShiftCpu {
  /** Host timestamps of the samples, ascending. */
  times: bigint[];
  /** Offset added at each sample time. */
  offsets: bigint[];
  /** Scaling multiplier at each sample time. */
  scalings: bigint[];
  /** Fraction bits: the scaled value is shifted right by this much. */
  fractions: bigint[];
}

/** What the options said. */
export interface TraceOptions {
  /** DATE: microseconds offset text (`0x...`), applied as `value * 1000` ns. */
  dateUs: bigint | null;
  /** OFFSET: ns added to every timestamp. */
  offsetNs: bigint | null;
  /** TRACECLOCK option seen (v6: enables the clock block after the CPU table). */
  traceclockSeen: boolean;
  /** Text of the trace_clock file when stored. */
  traceclockText: string | null;
  /** UNAME option: uname text of the traced machine, null if absent. */
  uname: string | null;
  /** VERSION option: version of the trace-cmd that recorded the file, null if absent. */
  version: string | null;
  /** CPUCOUNT option: number of CPUs, null if absent. */
  cpuCount: number | null;
  /** TRACEID option: this trace's id (matched by a peer's GUEST/TIME_SHIFT), null if absent. */
  traceId: bigint | null;
  /** TSC2NSEC option: `ns = ((tsc * mult) >> shift) + offset`, null if absent. */
  tsc2nsec: { mult: number; shift: number; offset: bigint } | null;
  /** TIME_SHIFT option: guest-to-host correction against the peer trace id, null if absent. */
  timeShift: { peer: bigint; flags: number; cpus: TimeShiftCpu[] } | null;
  /** GUEST options: each guest's name, trace id and vCPU -> host thread pid map. */
  guests: { name: string; traceId: bigint; vcpus: { vcpu: number; pid: number }[] }[];
  /** CPUSTAT options: per-CPU ring-buffer statistics text, one entry per CPU. */
  cpustat: string[];
  /** PROCMAPS option: the recorded processes' memory maps text, null if absent. */
  procmaps: string | null;
  /** HOOK options: hook definitions as text. */
  hooks: string[];
  /** LAST_BOOT_INFO options: text saved from the previous boot. */
  lastBootInfo: string[];
  /** v7: option id -> section offset (HEADER_INFO ... MODULES_FILE). */
  sections: Map<number, number>;
  /** Buffers declared by BUFFER / BUFFER_TEXT options. */
  buffers: BufferDesc[];
  /** Names of every option seen, in order (for trace_info). */
  seen: string[];
}

/** Empty options. */
export function emptyOptions(): TraceOptions {
  return {
    dateUs: null,
    offsetNs: null,
    traceclockSeen: false,
    traceclockText: null,
    uname: null,
    version: null,
    cpuCount: null,
    traceId: null,
    tsc2nsec: null,
    timeShift: null,
    guests: [],
    cpustat: [],
    procmaps: null,
    hooks: [],
    lastBootInfo: [],
    sections: new Map(),
    buffers: [],
    seen: [],
  };
}

const DEC = new TextDecoder();

function str(b: Uint8Array): string {
  const z = b.indexOf(0);
  return DEC.decode(z < 0 ? b : b.subarray(0, z));
}

/** Parses a C `strtoll(s, 0, 0)` style integer (`0x..`, `0..` octal, decimal, optional sign). */
export function parseCInt(s: string): bigint | null {
  const t = s.trim().replace(/\0+$/, "");
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)/.exec(t);
  if (!m) return null;
  const body = m[2]!;
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body.startsWith("0")) v = BigInt("0o" + body.slice(1));
  else v = BigInt(body);
  return m[1] === "-" ? -v : v;
}

/**
 * Reads one options list. v6: until a bare u16 0. v7: until DONE, whose u64 payload is returned.
 *
 * @param r reader at the first option
 * @param v7 true for a v7 OPTIONS section
 * @param opts accumulates what was read
 * @param warnings collects unknown options
 * @param file file name for warnings
 * @returns v7: offset of the next OPTIONS section (0 = none); v6: 0
 */
export function readOptions(
  r: BinReader,
  v7: boolean,
  opts: TraceOptions,
  warnings: TraceWarning[],
  file: string,
): number {
  r.section = "options";
  for (;;) {
    const at = r.pos;
    const id = r.u16();
    if (id === OPT.DONE && !v7) return 0;
    const size = r.size32("option size", r.remaining - 4);
    const data = r.take(size, "option data");
    const d = new ByteReader(
      data,
      (r as { le: boolean }).le,
      file,
      `option ${OPTION_NAMES[id] ?? id}`,
    );
    if (id === OPT.DONE) {
      if (size < 8) return 0;
      const next = d.u64();
      return Number(next);
    }
    const name = OPTION_NAMES[id];
    if (name) opts.seen.push(name);
    switch (id) {
      case OPT.DATE:
        opts.dateUs = parseCInt(str(data));
        break;
      case OPT.OFFSET:
        opts.offsetNs = parseCInt(str(data));
        break;
      case OPT.CPUSTAT:
        opts.cpustat.push(str(data));
        break;
      case OPT.TRACECLOCK:
        opts.traceclockSeen = true;
        if (size > 0) opts.traceclockText = str(data);
        break;
      case OPT.UNAME:
        opts.uname = str(data);
        break;
      case OPT.VERSION:
        opts.version = str(data);
        break;
      case OPT.HOOK:
        opts.hooks.push(str(data));
        break;
      case OPT.PROCMAPS:
        opts.procmaps = str(data);
        break;
      case OPT.CPUCOUNT:
        opts.cpuCount = d.u32();
        break;
      case OPT.TRACEID:
        opts.traceId = d.u64();
        break;
      case OPT.TSC2NSEC: {
        const mult = d.u32();
        const shift = d.u32();
        const offset = d.remaining >= 8 ? d.u64() : 0n;
        if (shift > 63) d.fail("bad_value", `TSC2NSEC shift ${shift} > 63`);
        opts.tsc2nsec = { mult, shift, offset };
        break;
      }
      case OPT.TIME_SHIFT:
        opts.timeShift = readTimeShift(d);
        break;
      case OPT.GUEST: {
        const gname = d.cstring("guest name");
        const traceId = d.u64();
        const n = d.size32("guest vcpus", d.remaining / 8);
        const vcpus = [];
        for (let i = 0; i < n; i++) vcpus.push({ vcpu: d.u32(), pid: d.u32() });
        opts.guests.push({ name: gname, traceId, vcpus });
        break;
      }
      case OPT.BUFFER:
        opts.buffers.push(v7 ? readBufferV7(d) : readBufferV6(d));
        break;
      case OPT.BUFFER_TEXT: {
        const offset = Number(d.u64());
        const bname = d.cstring("buffer name");
        const clock = d.remaining > 0 ? d.cstring("buffer clock") : null;
        opts.buffers.push({
          name: bname,
          clock,
          pageSize: 0,
          cpus: [],
          sectionOffset: offset,
          latency: true,
        });
        break;
      }
      case OPT.LAST_BOOT_INFO:
        opts.lastBootInfo.push(str(data));
        break;
      case OPT.HEADER_INFO:
      case OPT.FTRACE_EVENTS:
      case OPT.EVENT_FORMATS:
      case OPT.KALLSYMS:
      case OPT.PRINTK:
      case OPT.CMDLINES:
      case OPT.BTF_FILE:
      case OPT.MODULES_FILE:
        if (v7 && size >= 8) opts.sections.set(id, Number(d.u64()));
        break;
      default:
        warnings.push({
          code: "unknown_option",
          message: `skipped unknown option id ${id} (${size} bytes)`,
          location: { file, section: "options", offset: at },
        });
    }
  }
}

function readBufferV6(d: ByteReader): BufferDesc {
  const offset = d.u64();
  const name = d.cstring("buffer name");
  return {
    name,
    clock: null,
    pageSize: 0,
    cpus: [],
    sectionOffset: Number(offset),
    latency: false,
  };
}

function readBufferV7(d: ByteReader): BufferDesc {
  const offset = Number(d.u64());
  const name = d.cstring("buffer name");
  const clock = d.cstring("buffer clock");
  const pageSize = d.u32();
  const n = d.size32("buffer cpu count", Math.floor(d.remaining / 20));
  const cpus: CpuData[] = [];
  for (let i = 0; i < n; i++) {
    const cpu = d.u32();
    const off = d.u64();
    const size = d.u64();
    cpus.push({ cpu, offset: Number(off), size: Number(size) });
  }
  return { name, clock, pageSize, cpus, sectionOffset: offset, latency: false };
}

function readTimeShift(d: ByteReader): TraceOptions["timeShift"] {
  const peer = d.u64();
  const flags = d.u32();
  const ncpus = d.size32("time shift cpus", d.remaining / 4);
  const cpus: TimeShiftCpu[] = [];
  for (let c = 0; c < ncpus; c++) {
    const n = d.size32("time shift samples", d.remaining / 24);
    const rd = () => Array.from({ length: n }, () => d.u64());
    const times = rd();
    const offsets = rd();
    const scalings = rd();
    cpus.push({ times, offsets, scalings, fractions: new Array<bigint>(n).fill(0n) });
  }
  for (const c of cpus) {
    if (d.remaining < c.times.length * 8) break;
    c.fractions = Array.from({ length: c.times.length }, () => d.u64());
  }
  return { peer, flags, cpus };
}
