import assert from "node:assert/strict";
import { TraceDatStreamWriter } from "./tracedat_stream.ts";
import { writeTraceDat } from "./tracedat_writer.ts";
import { checkWithTraceCmd } from "./trace_cmd_check.ts";
import { randomEvents } from "./_random_events.ts";
import type { TraceEvent } from "../core/event.ts";
import { UsageError } from "../core/errors.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";

const FORMATS = knownFormats("6.18");
const PARSED = new Map(
  FORMATS.map((f) => [`${f.system}:${f.name}`, parseFormatFile(f.text, f.system)]),
);

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "stream-test-" });
}

for (const compression of ["none", "zstd"] as const) {
  Deno.test(`stream (${compression}) writes the same bytes as the in-memory writer`, async () => {
    const dir = await tempDir();
    try {
      const events = randomEvents(PARSED, { seed: 5, count: 3000, cpus: 4, buffers: ["", "inst"] });
      const header = { cpus: 4, compression, formats: FORMATS, options: { offset: 7n } };
      const path = `${dir}/s.dat`;
      const w = new TraceDatStreamWriter(path, header, { tempDir: dir });
      w.addAll(events);
      assert.equal(w.events, 3000);
      const res = await w.close();
      const bytes = await Deno.readFile(path);
      assert.equal(res.bytes, bytes.length);
      assert.deepEqual(bytes, writeTraceDat({ ...header, events }));
      // Temporary files are gone; only the output remains.
      const left = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.deepEqual(left, ["s.dat"]);
      await checkWithTraceCmd(path, events, PARSED, { tsShift: 7n });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("stream writer keeps memory flat over 300k events (data lives in temp files)", async () => {
  const dir = await tempDir();
  try {
    const path = `${dir}/big.dat`;
    const w = new TraceDatStreamWriter(
      path,
      { cpus: 2, compression: "none", formats: FORMATS },
      { tempDir: dir },
    );
    const rssBefore = Deno.memoryUsage().rss;
    const ev: TraceEvent = {
      ts: 0n,
      cpu: 0,
      pid: 1,
      comm: "init",
      system: "intel_iommu",
      event: "qi_submit",
      buffer: "",
      flags: 0,
      preempt_count: 0,
      fields: { qw0: 0x6n, qw1: 0n, qw2: 0n, qw3: 0n, iommu: "dmar0" },
    };
    for (let i = 0; i < 300_000; i++) {
      ev.ts = 1_000_000_000n + BigInt(i * 250);
      ev.cpu = i & 1;
      (ev.fields as Record<string, bigint | string>).qw1 = BigInt(i) << 12n;
      w.add(ev);
    }
    const grown = Deno.memoryUsage().rss - rssBefore;
    const { bytes } = await w.close();
    // 300k records of 60 bytes -> about 18 MB of pages on disk, far above the memory growth.
    assert.ok(bytes > 1_000_000, `${bytes} bytes written`);
    assert.ok(grown < 64 << 20, `rss grew by ${grown} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stream writer refuses events that go back in time on one CPU", async () => {
  const dir = await tempDir();
  try {
    const w = new TraceDatStreamWriter(`${dir}/x.dat`, { cpus: 1, formats: FORMATS }, {
      tempDir: dir,
    });
    const e = (ts: bigint): TraceEvent => ({
      ts,
      cpu: 0,
      pid: 1,
      comm: "a",
      system: "tlb",
      event: "tlb_flush",
      buffer: "",
      flags: 0,
      preempt_count: 0,
      fields: { reason: 0, pages: 1 },
    });
    w.add(e(10n));
    assert.throws(() => w.add(e(5n)), UsageError);
    w.abort();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
