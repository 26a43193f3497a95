import assert from "node:assert/strict";
import { type EventTable, RawTables } from "../arrow/raw_tables.ts";
import { batchText } from "../arrow/testdata/batch_text.ts";
import { openFileSource } from "../file_source.ts";
import type { EventFormat } from "../format/types.ts";
import { commonLayout } from "../tracedat/tracedat_events.ts";
import { ingestPerfData } from "./perf_data_ingest.ts";
import { type PerfReadOptions, readPerfData } from "./perf_reader.ts";

/**
 * ingestPerfData takes the samples as blocks of rows (`PerfReadOptions.rows`); the tables must be
 * those of the per-sample path (`onSample`, then `addRecord` row by row), also when the reorder
 * cap delivers early, windows are small and batches are short.
 */

const root = new URL("../../", import.meta.url).pathname;
const FILES = [
  `${root}tests/fixtures/perf/small.data`,
  `${root}tests/fixtures/perf/small_pipe.data`,
  // Shared fixtures when present (zstd records, more events).
  `${root}../shared/fixtures/recorded/perf/perf_zstd.data`,
  `${root}../shared/fixtures/recorded/perf/perf_mm.data`,
].filter((f) => {
  try {
    return Deno.statSync(f).isFile;
  } catch {
    return false;
  }
});

function tables(batchRows: number) {
  const out = new Map<string, string[]>();
  const rt = new RawTables({
    write(s, t, ipc) {
      const k = `${s}.${t}`;
      out.set(k, [...(out.get(k) ?? []), batchText(ipc)]);
    },
  }, { batchRows });
  return { rt, out };
}

/** The per-sample path: what ingestPerfData did before it took rows. */
async function perSample(file: string, batchRows: number, opts: PerfReadOptions) {
  const { rt, out } = tables(batchRows);
  const byFormat = new Map<EventFormat, { t: EventTable; flags: number; preempt: number }>();
  const src = openFileSource(file);
  try {
    const r = await readPerfData(src, (s) => {
      let e = byFormat.get(s.format);
      if (!e) {
        const c = commonLayout(s.format);
        e = { t: rt.tableForFormat(s.format, s.littleEndian), flags: c.flags, preempt: c.preempt };
        byFormat.set(s.format, e);
      }
      rt.tsPushSplit(e.t, s.tsHi, s.tsLo, 0);
      rt.addRecord(
        e.t,
        s.cpu,
        s.tid,
        () => s.comm,
        e.flags < s.rawLen ? s.bytes[s.raw + e.flags]! : 0,
        e.preempt < s.rawLen ? s.bytes[s.raw + e.preempt]! : 0,
        0,
        "",
        s.view,
        s.bytes,
        s.raw,
        s.rawLen,
        s.commKey,
      );
    }, opts);
    rt.finish();
    return { out, stats: r.stats, warnings: r.warnings.map((w) => w.code) };
  } finally {
    src.close();
  }
}

async function rows(file: string, batchRows: number, opts: PerfReadOptions) {
  const { rt, out } = tables(batchRows);
  const src = openFileSource(file);
  try {
    const r = await ingestPerfData(src, rt, undefined, opts);
    rt.finish();
    return { out, samples: r.info.events, warnings: r.warnings.map((w) => w.code) };
  } finally {
    src.close();
  }
}

Deno.test("ingestPerfData: the tables of the per-sample path, early deliveries and short batches too", async () => {
  assert.ok(FILES.length >= 2);
  for (const file of FILES) {
    for (
      const [batchRows, opts] of [
        [65536, {}],
        [37, { maxQueued: 9, chunkSize: 1 << 16 }],
      ] as const
    ) {
      const a = await perSample(file, batchRows, opts);
      const b = await rows(file, batchRows, opts);
      const what = `${file} ${JSON.stringify(opts)}`;
      assert.ok(a.stats.samples > 0, what);
      assert.equal(b.samples, BigInt(a.stats.samples), what);
      assert.deepStrictEqual(b.warnings, a.warnings, what);
      // The small cap does deliver early.
      assert.equal(b.warnings.includes("reorder_window"), "maxQueued" in opts, what);
      // Tables flush in another order (a file's bytes do not depend on it); each table's
      // batches must be the same.
      assert.deepStrictEqual([...b.out.keys()].sort(), [...a.out.keys()].sort(), what);
      for (const [k, v] of a.out) {
        const w = b.out.get(k)!;
        assert.equal(w.length, v.length, `${what}: ${k}`);
        v.forEach((x, i) => assert.equal(w[i], x, `${what}: ${k} batch ${i}`));
      }
    }
  }
});
