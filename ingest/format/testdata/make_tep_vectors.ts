/**
 * Regenerates `tep_vectors.json.gz`: random records for the snapshot formats (and bprint
 * records for a few printk formats), printed by libtraceevent through `tep_oracle`.
 *
 *   cc -O1 -o /tmp/tep_oracle tep_oracle.c -ltraceevent
 *   deno run -A make_tep_vectors.ts /tmp/tep_oracle
 *
 * A record is kept only when this project's renderer prints it the same way; the others are
 * listed on stderr so a person can check they are the known cases libtraceevent cannot be
 * matched on from decoded fields (it reads past a field's end: `__print_hex(REC->arr, len)` with
 * `len` larger than the array, `%s` of a char array without a NUL; the data_loc word of a
 * `__data_loc T x` field declared without brackets).
 *
 * @module
 */
import { compileDecoder } from "../field_decoder.ts";
import { parseFormatFile } from "../format_file.ts";
import { compileRenderer, makeSymbolizer } from "../print_render.ts";
import { parsePrintkFormats } from "../bprint.ts";
import type { EventFormat } from "../types.ts";
import { loadFormatSnapshot, type TepVector, type TepVectors, toJson } from "./snapshot.ts";

const CORE = new Set(["tlb", "syscalls", "sched", "iommu", "dma", "kmem", "mmap", "task"]);

let seed = 20240601;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
}
const ri = (n: number) => Math.floor(rnd() * n);
function rbig(bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(ri(65536));
  return BigInt.asUintN(bits, v);
}
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./";
function rstr(max: number): string {
  let s = "";
  for (let i = ri(max + 1); i > 0; i--) s += ALNUM[ri(ALNUM.length)];
  return s;
}

const FUNCS: [bigint, string][] = [];
for (let i = 0; i < 8; i++) FUNCS.push([0xffffffff81000000n + BigInt(i) * 0x100n, `func_${i}`]);

function tableValues(text: string): bigint[] {
  const out: bigint[] = [];
  for (const m of text.matchAll(/\{\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*"/g)) out.push(BigInt(m[1]!));
  return out;
}

function record(fmt: EventFormat, values: bigint[]): Uint8Array {
  let fixed = 0;
  for (const f of fmt.fields) fixed = Math.max(fixed, f.offset + f.size);
  const bytes: number[] = new Array(fixed).fill(0);
  const put = (off: number, v: bigint, size: number) => {
    for (let i = 0; i < size; i++) bytes[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  };
  put(0, BigInt(fmt.id), 2);
  put(4, 4242n, 4);
  for (const f of fmt.ownFields) {
    if (f.kind === "int") {
      const bits = f.size * 8;
      const r = ri(10);
      let v: bigint;
      if (f.size === 1) v = BigInt(ri(2));
      else if (values.length && r < 4) {
        v = values[ri(values.length)]!;
        if (ri(3) === 0) v |= values[ri(values.length)]!;
      } else if (r === 4) v = 0n;
      else if (r === 5) v = BigInt.asUintN(bits, -1n);
      else if (r === 6 && f.size === 8) v = FUNCS[ri(FUNCS.length)]![0] + BigInt(ri(0x200));
      else if (r === 7) v = BigInt(ri(300));
      else v = rbig(bits);
      put(f.offset, BigInt.asUintN(bits, v), f.size);
    } else if (f.kind === "array") {
      if (f.isString) {
        const s = rstr(Math.max(0, f.size - 1));
        for (let i = 0; i < s.length; i++) bytes[f.offset + i] = s.charCodeAt(i);
      } else for (let i = 0; i < f.size; i++) bytes[f.offset + i] = ri(256);
    } else if (f.kind === "data_loc" || f.kind === "rel_loc") {
      const data: number[] = [];
      if (f.isString) {
        for (const c of rstr(12)) data.push(c.charCodeAt(0));
        data.push(0);
      } else for (let i = ri(4) * f.elemSize; i > 0; i--) data.push(ri(256));
      const off = bytes.length;
      const rel = f.kind === "rel_loc" ? off - (f.offset + f.size) : off;
      put(f.offset, BigInt((data.length << 16) | rel), 4);
      bytes.push(...data);
    } else if (f.kind === "flex") {
      if (f.isString) {
        for (const c of rstr(20)) bytes.push(c.charCodeAt(0));
        if (ri(2)) bytes.push(10);
        bytes.push(0);
      } else for (let i = 0; i < 8; i++) bytes.push(ri(256));
    }
  }
  return new Uint8Array(bytes);
}

/** bprint formats and a kernel-layout (vbin_printf) argument generator for each. */
const PRINTK: [bigint, string][] = [
  [0xffffffff82000000n, "hello %d %s\\n"],
  [0xffffffff82000040n, "cpu=%u freq=%lu load=%llu\\n"],
  [0xffffffff82000080n, "ptr=%p sym=%pS short=%ps\\n"],
  [0xffffffff820000c0n, "%s: %d %x %lx %llx %%\\n"],
  [0xffffffff82000100n, "w=%5d|%-5d|%05x|%.3s\\n"],
  [0xffffffff82000140n, "c=%c h=%hd after=%d\\n"],
  [0xffffffff82000180n, "star=%*d|\\n"],
  [0xffffffff820001c0n, "two %s\\t%s\\n"],
];

function vbin(fmt: string): number[] {
  const out: number[] = [];
  const align = (n: number) => {
    while (out.length % n) out.push(0);
  };
  const int = (size: number, v: bigint) => {
    align(size >= 4 ? 4 : size);
    for (let i = 0; i < size; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  };
  for (const m of fmt.matchAll(/%([-0-9.#*]*)(hh|h|ll|l|z)?([diuxXcsp%])([sS]?)/g)) {
    const [, flags, len, c, ext] = m;
    if (c === "%") continue;
    if (flags!.includes("*")) int(4, BigInt(ri(12)));
    if (c === "s") {
      for (const ch of rstr(8)) out.push(ch.charCodeAt(0));
      out.push(0);
    } else if (c === "c") int(1, BigInt(65 + ri(26)));
    else if (c === "p") {
      int(8, ext ? FUNCS[ri(FUNCS.length)]![0] + BigInt(ri(0x80)) : rbig(64));
    } else {
      const size = len === "ll"
        ? 8
        : len === "l" || len === "z"
        ? 8
        : len === "h"
        ? 2
        : len === "hh"
        ? 1
        : 4;
      int(size, rbig(size * 8));
    }
  }
  align(4);
  return out;
}

async function main() {
  const oracle = Deno.args[0];
  if (!oracle) throw new Error("usage: make_tep_vectors.ts <tep_oracle binary>");
  const dir = await Deno.makeTempDir();
  const snapshot = await loadFormatSnapshot();
  const lines = ["LONG 8"];
  for (const [a, n] of FUNCS) lines.push(`FUNC ${a.toString(16)} ${n}`);
  for (const [a, f] of PRINTK) lines.push(`PRINTK ${a.toString(16)} "${f}"`);
  const jobs: { fmt: EventFormat; rec: Uint8Array }[] = [];
  let k = 0;
  let bprint: EventFormat | null = null;
  for (const s of snapshot) {
    const fmt = parseFormatFile(s.text, s.system);
    const path = `${dir}/f${k++}`;
    await Deno.writeTextFile(path, s.text);
    lines.push(`FORMAT ${path} ${s.system}`);
    if (s.system === "ftrace") {
      if (fmt.name === "bprint") bprint = fmt;
      if (fmt.name !== "print" && fmt.name !== "bputs") continue;
    }
    const values = tableValues(fmt.printFmt);
    const n = CORE.has(s.system) || s.system === "ftrace" ? 4 : 1;
    for (let i = 0; i < n; i++) jobs.push({ fmt, rec: record(fmt, values) });
  }
  if (bprint) {
    for (const [addr, f] of PRINTK) {
      for (let i = 0; i < 3; i++) {
        const head = record(bprint, []).slice(0, 24);
        const dv = new DataView(head.buffer);
        dv.setBigUint64(8, FUNCS[ri(FUNCS.length)]![0] + BigInt(ri(0x40)), true);
        dv.setBigUint64(16, addr, true);
        jobs.push({ fmt: bprint, rec: new Uint8Array([...head, ...vbin(f)]) });
      }
    }
  }
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const run = async (input: string[]): Promise<string[]> => {
    const child = new Deno.Command(oracle, { stdin: "piped", stdout: "piped" }).spawn();
    const outP = child.output();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input.join("\n") + "\n"));
    await w.close();
    return new TextDecoder("latin1").decode((await outP).stdout).split("\n")
      .filter((l) => l.startsWith("P:") || l.startsWith("R:"));
  };
  // libtraceevent marks the bprint event failed for good after one record with missing
  // arguments: print every bprint record in a session of its own
  const out = await run([
    ...lines,
    ...jobs.filter((j) => j.fmt !== bprint).map((j) => `REC ${hex(j.rec)}`),
  ]);
  const bpJobs = jobs.filter((j) => j.fmt === bprint);
  jobs.splice(0, jobs.length, ...jobs.filter((j) => j.fmt !== bprint), ...bpJobs);
  for (const j of bpJobs) out.push(...await run([...lines, `REC ${hex(j.rec)}`]));
  const printk = parsePrintkFormats(
    PRINTK.map(([a, f]) => `0x${a.toString(16)} : "${f}"`).join("\n"),
  );
  const ctx = { symbols: makeSymbolizer(FUNCS), printk };
  const vectors: TepVector[] = [];
  const renderers = new Map<EventFormat, ReturnType<typeof compileRenderer>>();
  for (let i = 0; i < jobs.length; i++) {
    const { fmt, rec } = jobs[i]!;
    const p0 = out[2 * i]?.slice(2).replaceAll("\x01", "\n");
    const r0 = out[2 * i + 1]?.slice(2).replaceAll("\x01", "\n");
    if (p0 === undefined || r0 === undefined) break;
    const p = p0.endsWith("\n") ? p0.slice(0, -1) : p0;
    const r = r0.endsWith("\n") ? r0.slice(0, -1) : r0;
    let rend = renderers.get(fmt);
    if (!rend) renderers.set(fmt, rend = compileRenderer(fmt, ctx));
    const fields = compileDecoder(fmt, true).decode(new DataView(rec.buffer), rec, 0, rec.length);
    const event = `${fmt.system}:${fmt.name}`;
    if (rend.render(fields) !== p || rend.renderRaw(fields) !== r) {
      console.error(`not kept: ${event}\n  P ${JSON.stringify(p)}\n  R ${JSON.stringify(r)}`);
      continue;
    }
    vectors.push({ event, fields, p, r });
  }
  const file: TepVectors = {
    funcs: FUNCS,
    printk: [...printk],
    formats: bprint
      ? { "ftrace:bprint": snapshot.find((s) => s.text.includes("name: bprint"))!.text }
      : {},
    vectors,
  };
  const gz = new Blob([toJson(file)]).stream().pipeThrough(
    new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
  await Deno.writeFile(new URL("./tep_vectors.json.gz", import.meta.url), gz);
  await Deno.remove(dir, { recursive: true });
  console.error(`${vectors.length} vectors of ${jobs.length} records`);
}

if (import.meta.main) await main();
