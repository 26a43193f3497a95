import assert from "node:assert/strict";
import { writeTraceDat } from "./tracedat_writer.ts";
import { checkWithTraceCmd, runTraceCmd } from "./trace_cmd_check.ts";
import { decompressBlock } from "./compression.ts";
import { randomEvents } from "./_random_events.ts";
import type { TraceEvent } from "../core/event.ts";
import { UsageError } from "../core/errors.ts";
import type { EventFormat } from "../ingest/format/types.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import {
  KNOWN_FORMAT_VERSIONS,
  type KnownFormat,
  knownFormats,
} from "../ingest/known_formats/known_formats.ts";

const FORMATS = knownFormats("6.18");

function parsed(list: readonly KnownFormat[], longSize = 8): Map<string, EventFormat> {
  return new Map(
    list.map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system, longSize)]),
  );
}

async function withTemp<T>(bytes: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".dat" });
  try {
    await Deno.writeFile(path, bytes);
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

function tlb(ts: bigint, cpu: number, reason: number, buffer = ""): TraceEvent {
  return {
    ts,
    cpu,
    pid: 4242,
    comm: "worker",
    system: "tlb",
    event: "tlb_flush",
    buffer,
    flags: 0x01,
    preempt_count: 0x02,
    fields: { reason, pages: 1 },
  };
}

for (const [version, compression] of [[6, "none"], [7, "none"], [7, "zstd"]] as const) {
  Deno.test(`v${version} ${compression}: trace-cmd report shows every event of every 6.18 format`, async () => {
    const formats = parsed(FORMATS);
    const events = randomEvents(formats, {
      seed: 7 + version,
      count: 2500,
      cpus: 3,
      buffers: ["", "", "", "inst2"],
    });
    // Long idle gaps force TIME_EXTEND records; lost events flag a page.
    events.push(tlb(90_000_000_000n, 0, 1), tlb(95_000_000_000n, 0, 2));
    const bytes = writeTraceDat({
      version,
      compression,
      cpus: 3,
      formats: FORMATS,
      events,
      options: { offset: 1000n },
      lost: [{ cpu: 0, ts: 95_000_000_000n, count: 17 }],
    });
    const r = await withTemp(bytes, (p) =>
      checkWithTraceCmd(p, events, formats, {
        tsShift: 1000n,
        dropped: [{ cpu: 0, count: 17 }],
      }));
    assert.equal(r.events, 2502);
    assert.ok(r.fields > 10_000, `compared ${r.fields} fields`);
  });
}

Deno.test("big-endian 32-bit trace (4-byte longs, 4-byte page commit) reads back in trace-cmd", async () => {
  const abi = { longSize: 4 as const, int64Align: 8 as const };
  const list = knownFormats("6.18", { abi });
  const formats = parsed(list, 4);
  const events = randomEvents(formats, { seed: 3, count: 800, cpus: 2 });
  const bytes = writeTraceDat({
    version: 7,
    compression: "zstd",
    cpus: 2,
    formats: list,
    events,
    bigEndian: true,
    longSize: 4,
  });
  assert.equal(bytes[12], 1, "endian byte");
  assert.equal(bytes[13], 4, "long size byte");
  const info = await withTemp(bytes, (p) => runTraceCmd(["dump", "--summary", "-i", p]));
  assert.match(info, /1\s+\[Big endian\]/);
  const r = await withTemp(
    bytes,
    (p) => checkWithTraceCmd(p, events, formats, { bigEndian: true }),
  );
  assert.equal(r.events, 800);
});

Deno.test("v6 with an instance keeps the instance's flyrecord block readable", async () => {
  const events = [tlb(1_000n, 0, 1), tlb(2_000n, 1, 2, "inst2"), tlb(3_000n, 1, 3)];
  const bytes = writeTraceDat({ version: 6, cpus: 2, formats: FORMATS, events });
  const text = await withTemp(bytes, (p) => runTraceCmd(["report", "-R", "-t", p]));
  assert.equal(
    text.split("\n").filter((l) => l.includes("tlb_flush")).map((l) =>
      l.replace(/\s+/g, " ").trim()
    ).join("\n"),
    [
      "worker-4242 [000] 0.000001000: tlb_flush: reason=1 pages=1",
      "inst2: worker-4242 [001] 0.000002000: tlb_flush: reason=2 pages=1",
      "worker-4242 [001] 0.000003000: tlb_flush: reason=3 pages=1",
    ].join("\n"),
  );
});

Deno.test("every bundled kernel version's formats round-trip through trace-cmd", async () => {
  for (const kernel of KNOWN_FORMAT_VERSIONS) {
    const list = knownFormats(kernel);
    const formats = parsed(list);
    const events = randomEvents(formats, { seed: 1, count: 300, cpus: 2 });
    const bytes = writeTraceDat({ cpus: 2, formats: list, events });
    const r = await withTemp(bytes, (p) => checkWithTraceCmd(p, events, formats));
    assert.equal(r.events, 300, kernel);
  }
});

Deno.test("TSC2NSEC converts x86-tsc counts the way trace-cmd does", async () => {
  const events = [tlb(1_000_000n, 0, 1), tlb(3_000_000n, 0, 2)];
  const bytes = writeTraceDat({
    cpus: 1,
    formats: FORMATS,
    events,
    clock: "x86-tsc",
    options: { tsc2nsec: { mult: 1 << 23, shift: 24, offset: 0n } },
  });
  const text = await withTemp(bytes, (p) => runTraceCmd(["report", "-R", "-t", p]));
  assert.match(text, /0\.000500000: tlb_flush:\s+reason=1/);
  assert.match(text, /0\.001500000: tlb_flush:\s+reason=2/);
  const opts = await withTemp(bytes, (p) => runTraceCmd(["dump", "--options", "-i", p]));
  assert.match(opts, /local global counter uptime perf mono mono_raw boot tai \[x86-tsc\]\n/);
});

Deno.test("DATE option and a non-ns clock are applied the way trace-cmd applies them", async () => {
  const events = [tlb(5n, 0, 1), tlb(9n, 0, 2)];
  const dated = writeTraceDat({ cpus: 1, formats: FORMATS, events, options: { date: "0x10" } });
  await withTemp(dated, (p) => checkWithTraceCmd(p, events, parsed(FORMATS), { tsShift: 16_000n }));
  const counter = writeTraceDat({ cpus: 1, formats: FORMATS, events, clock: "counter" });
  const text = await withTemp(counter, (p) => runTraceCmd(["report", "-R", p]));
  assert.match(text, /\[000\]\s+5: tlb_flush:\s+reason=1 pages=1/);
  assert.match(text, /\[000\]\s+9: tlb_flush:\s+reason=2 pages=1/);
});

// ------------------------------------------------------------------ byte layout

interface Section {
  id: number;
  flags: number;
  desc: number;
  at: number;
  body: Uint8Array;
}

function sections(bytes: Uint8Array): { start: number; firstOptions: bigint; list: Section[] } {
  const v = new DataView(bytes.buffer);
  let p = 10;
  while (bytes[p] !== 0) p++;
  p += 1 + 1 + 1 + 4; // version NUL, endian, long size, page size
  while (bytes[p] !== 0) p++;
  p++;
  while (bytes[p] !== 0) p++;
  p++;
  const firstOptions = v.getBigUint64(p, true);
  const start = p + 8;
  const list: Section[] = [];
  for (p = start; p < bytes.length;) {
    const size = Number(v.getBigUint64(p + 8, true));
    list.push({
      id: v.getUint16(p, true),
      flags: v.getUint16(p + 2, true),
      desc: v.getInt32(p + 4, true),
      at: p,
      body: bytes.subarray(p + 16, p + 16 + size),
    });
    p += 16 + size;
  }
  assert.equal(p, bytes.length, "sections tile the file");
  return { start, firstOptions, list };
}

Deno.test("v7 layout: contiguous sections, options chain, strings table, page-aligned CPU data", () => {
  const events = [tlb(1_000n, 0, 1), tlb(2_000n, 1, 2)];
  const bytes = writeTraceDat({ cpus: 2, compression: "none", formats: FORMATS, events });
  assert.deepEqual([...bytes.subarray(0, 12)], [
    0x17,
    0x08,
    0x44,
    ...new TextEncoder().encode("tracing7"),
    0,
  ]);
  const { firstOptions, list } = sections(bytes);
  assert.deepEqual(list.map((s) => s.id), [16, 17, 18, 19, 20, 21, 0, 3, 0, 15]);
  assert.equal(Number(firstOptions), list[6]!.at);
  const strings = new TextDecoder().decode(list[9]!.body).split("\0");
  assert.deepEqual(strings.slice(0, -1), [
    "headers",
    "ftrace events",
    "events format",
    "kallsyms",
    "printk",
    "command lines",
    "options",
    "buffer flyrecord ",
    "options",
    "strings",
  ]);
  assert.equal(
    list[9]!.desc,
    "headers\0ftrace events\0events format\0kallsyms\0printk\0command lines\0options\0buffer flyrecord \0options\0"
      .length,
  );
  // DONE of the first options section points at the second one.
  const o1 = list[6]!.body;
  assert.equal(
    new DataView(o1.buffer, o1.byteOffset).getBigUint64(o1.length - 8, true),
    BigInt(list[8]!.at),
  );
  // BUFFER option: section offset, "", "local", page size, 2 cpus, each page aligned, 4096 long.
  const b = list[8]!.body;
  const bv = new DataView(b.buffer, b.byteOffset, b.length);
  assert.equal(bv.getUint16(0, true), 3);
  assert.equal(bv.getBigUint64(6, true), BigInt(list[7]!.at));
  const afterNames = 6 + 8 + 1 + 6;
  assert.equal(bv.getUint32(afterNames, true), 4096);
  assert.equal(bv.getUint32(afterNames + 4, true), 2);
  for (let i = 0; i < 2; i++) {
    const at = afterNames + 8 + i * 20;
    assert.equal(bv.getUint32(at, true), i);
    assert.equal(Number(bv.getBigUint64(at + 4, true)) % 4096, 0);
    assert.equal(bv.getBigUint64(at + 12, true), 4096n);
  }
  // cmdlines section holds the comm of the events.
  assert.equal(new TextDecoder().decode(list[5]!.body.subarray(8)), "4242 worker\n");
});

Deno.test("zlib: sections and chunks carry zlib streams that inflate to the uncompressed file's bytes", () => {
  const formats = parsed(FORMATS);
  const events = randomEvents(formats, { seed: 11, count: 1500, cpus: 1 });
  const plain = writeTraceDat({ cpus: 1, compression: "none", formats: FORMATS, events });
  const zl = writeTraceDat({ cpus: 1, compression: "zlib", formats: FORMATS, events });
  assert.equal(new TextDecoder().decode(zl.subarray(18, 30)), "zlib\x001.2.13\x00");
  const a = sections(plain).list;
  const b = sections(zl).list;
  assert.deepEqual(b.map((s) => [s.id, s.flags]), a.map((s) => [s.id, s.id === 0 ? 0 : 1]));
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.id === 0 || a[i]!.id === 3) continue;
    const body = b[i]!.body;
    const v = new DataView(body.buffer, body.byteOffset);
    const z = body.subarray(8, 8 + v.getUint32(0, true));
    assert.equal(z[0], 0x78, "zlib header");
    assert.deepEqual(decompressBlock("zlib", z), a[i]!.body);
  }
  // Flyrecord: the CPU data is a chunk count and chunks of at most 10 pages.
  const fly = b.find((s) => s.id === 3)!;
  const rawFly = a.find((s) => s.id === 3)!;
  const pad = (x: Section) => (4096 - ((x.at + 16) % 4096)) % 4096;
  const data = fly.body.subarray(pad(fly));
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const n = dv.getUint32(0, true);
  const pages: Uint8Array[] = [];
  let p = 4;
  for (let i = 0; i < n; i++) {
    const cs = dv.getUint32(p, true);
    const us = dv.getUint32(p + 4, true);
    assert.ok(us <= 10 * 4096 && us % 4096 === 0);
    const out = decompressBlock("zlib", data.subarray(p + 8, p + 8 + cs));
    assert.equal(out.length, us);
    pages.push(out);
    p += 8 + cs;
  }
  assert.ok(n >= 2, `${n} chunks`);
  const joined = new Uint8Array(pages.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of pages) {
    joined.set(x, at);
    at += x.length;
  }
  assert.deepEqual(joined, rawFly.body.subarray(pad(rawFly)));
});

Deno.test("bad input is refused with a usage error", () => {
  const base = { cpus: 1, formats: FORMATS };
  assert.throws(() => writeTraceDat({ ...base, events: [tlb(1n, 1, 0)] }), UsageError);
  assert.throws(
    () => writeTraceDat({ ...base, events: [{ ...tlb(1n, 0, 0), event: "nope" }] }),
    /no format for event tlb:nope/,
  );
  assert.throws(
    () => writeTraceDat({ ...base, version: 6, compression: "zstd", events: [] }),
    UsageError,
  );
  assert.throws(() => writeTraceDat({ ...base, cpus: 0, events: [] }), UsageError);
  const dup = [...FORMATS, {
    system: "x",
    text: FORMATS[0]!.text.replace(/^name: \w+/, "name: other"),
  }];
  assert.throws(() => writeTraceDat({ ...base, formats: dup, events: [] }), /event id 1101/);
});
