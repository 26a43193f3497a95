/**
 * The fuzzer in CI: every saved regression input (fuzz/regressions/) and 20,800 generated inputs
 * (2,600 per target, fixed seed) must each end in a result or a typed error within the time
 * bound, in child processes under a watchdog. Also proves the watchdog itself: a hang, a dead
 * process and runaway memory are each reported.
 *
 * Long runs: `deno task fuzz --seconds 600` (see fuzz/fuzz.ts).
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { type CampaignResult, findingSignature, runCampaign } from "../fuzz/campaign.ts";
import { listRegressions } from "../fuzz/regressions.ts";
import { TARGET_NAMES } from "../fuzz/seeds.ts";
import { memorySource } from "../ingest/file_source.ts";
import { readPerfData } from "../ingest/perf/perf_reader.ts";
import { synthPerfData, type SynthRecord } from "../ingest/perf/testdata/synth_perf.ts";

/** Inputs per target in CI: 8 targets x 2,600 = 20,800. */
const PER_TARGET = 2600;
/** Time bound of one input. */
const TIMEOUT_MS = 2000;

function describe(r: CampaignResult): string {
  return r.findings.slice(0, 20).map((f) =>
    `${findingSignature(f)}: input ${f.file ?? f.index} (seed file ${f.seed ?? "-"}, ` +
    `mutations ${
      (f.ops ?? []).join(",")
    }); reproduce: deno task fuzz --seed 1 --target ${f.target} --index ${f.index}`
  ).join("\n");
}

Deno.test("fuzz: every regression input ends in a result or a typed error", async () => {
  const regs = listRegressions();
  const n = [...regs.values()].reduce((a, l) => a + l.length, 0);
  ok(n >= 1, "fuzz/regressions/ holds inputs");
  const r = await runCampaign({ targets: [...regs.keys()], seed: 1, timeoutMs: TIMEOUT_MS }, regs);
  equal(r.inputs, n);
  equal(r.findings.length, 0, describe(r));
});

Deno.test("fuzz: regression: a corrupt zstd piece mid-stream ends the compressed data with a warning", async () => {
  // 3000 samples compressed as one zstd stream in 20000-byte pieces; a byte of the second piece
  // flipped. Deno's node:zlib reports this corruption by throwing from a nextTick callback.
  const recs: SynthRecord[] = Array.from({ length: 3000 }, (_, i) => ({
    kind: "sample",
    event: "tlb:tlb_flush",
    time: BigInt(1000 + i * 37),
    pid: 100 + (i % 7),
    tid: 100 + (i % 7),
    cpu: i % 4,
    fields: { pages: BigInt(i * 13), reason: i % 5 },
  }));
  const f = synthPerfData({
    tracepoints: ["tlb:tlb_flush"],
    records: recs,
    compress: "zstd",
    pieceSize: 20000,
  }).bytes;
  const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
  const dataAt = Number(v.getBigUint64(40, true));
  const second = dataAt + v.getUint16(dataAt + 6, true);
  equal(v.getUint32(second, true), 81, "PERF_RECORD_COMPRESSED");
  f[second + 8 + 228]! ^= 0xff;
  deepStrictEqual(
    f,
    Deno.readFileSync(
      new URL("../fuzz/regressions/perf_data/died-zstd-corrupt-piece.bin", import.meta.url),
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    readPerfData(memorySource(f, "z.data"), () => {}),
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error("hang")), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  const tail = r.warnings.filter((w) => w.code === "damaged_tail");
  ok(tail.some((w) => /Data corruption detected/.test(w.message)), JSON.stringify(r.warnings));
  ok(r.stats.samples > 1000 && r.stats.samples < 3000, String(r.stats.samples));
});

Deno.test("fuzz: the watchdog reports a hang, a dead process and runaway memory", async () => {
  const file = new URL("../deno.json", import.meta.url).pathname;
  const r = await runCampaign(
    { targets: ["_hang", "_die", "_grow"], seed: 1, timeoutMs: 1000, selftest: true },
    new Map([["_hang", [file]], ["_die", [file]], ["_grow", [file]]]),
  );
  equal(r.inputs, 3);
  deepStrictEqual(r.findings.map((f) => `${f.target}:${f.outcome.kind}`).sort(), [
    "_die:died",
    "_grow:memory",
    "_hang:hang",
  ]);
});

Deno.test({
  name: `fuzz: ${
    PER_TARGET * TARGET_NAMES.length
  } generated inputs (seed 1) end in a result or a typed error`,
  async fn() {
    const r = await runCampaign({
      targets: TARGET_NAMES,
      seed: 1,
      inputsPerTarget: PER_TARGET,
      timeoutMs: TIMEOUT_MS,
      workers: 2,
    });
    const lines = [...r.byTarget].map(([t, s]) =>
      `  ${t.padEnd(16)} ${s.inputs} inputs, ${
        (s.ms / Math.max(s.inputs, 1)).toFixed(1)
      } ms avg, ` +
      `${s.maxMs.toFixed(0)} ms max, ok ${s.ok}, typed ${s.typed}`
    );
    console.log(
      `fuzz: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s (${
        (r.inputs / r.seconds).toFixed(0)
      }/s)\n` +
        lines.join("\n"),
    );
    equal(r.inputs, PER_TARGET * TARGET_NAMES.length);
    equal(r.findings.length, 0, describe(r));
    for (const [t, s] of r.byTarget) {
      // Every target reaches past the sniffer: some inputs read to the end, some fail typed.
      ok(s.ok > 0 && s.typed > 0, `${t}: ok ${s.ok}, typed ${s.typed}`);
    }
  },
});
