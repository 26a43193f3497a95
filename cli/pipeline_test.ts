/**
 * The streamed replay pipeline (normalizer -> spill -> engine) gives the replay result of the
 * in-memory path (whole canonical tables, then `replay()`) on every scenario trace, written as
 * trace.dat; and its counts, `keepRows` tables and `--out` tables agree.
 */
import assert from "node:assert/strict";
import type { TraceEvent } from "../core/event.ts";
import { normalize, wantedEventKeys } from "../core/normalize/normalize.ts";
import { replay } from "../core/replay/mod.ts";
import type { ReplayResult } from "../core/replay/mod.ts";
import { loadTopology, type Topology } from "../core/topology.ts";
import { readEventsInOrder } from "../ingest/arrow/read_events.ts";
import { eventTablesOfDir, ingestToDir, type Manifest } from "../ingest/ingest.ts";
import { type ColumnInfo, RawTables } from "../ingest/arrow/raw_tables.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";
import { type FieldDecl, renderFormat } from "../ingest/known_formats/render_format.ts";
import { EXAMPLE_FILES } from "../synth/make_example.ts";
import { allScenarios } from "../synth/scenarios/scenarios.ts";
import { writeTraceDat } from "../synth/tracedat_writer.ts";
import { kernelFromUname, replayIngested, replayTrace } from "./pipeline.ts";

/** Format files for events the bundled formats lack (probe events), typed from their values. */
function formatsFor(events: readonly TraceEvent[], kernel: string) {
  const known = knownFormats(kernel);
  const have = new Set(known.map((f) => `${f.system}:${f.name}`));
  const extra = new Map<string, { system: string; text: string }>();
  for (const e of events) {
    const key = `${e.system}:${e.event}`;
    if (have.has(key) || extra.has(key)) continue;
    const fields: FieldDecl[] = Object.entries(e.fields).map(([name, v]) => {
      if (typeof v === "string") return { kind: "dynamic", type: "char", name };
      if (Array.isArray(v)) return { kind: "array", type: "u64", name, len: v.length };
      if (typeof v === "bigint") return { kind: "field", type: "u64", name };
      return { kind: "field", type: "int", name };
    });
    const text = renderFormat(e.event, 9000 + extra.size, {
      shape: "trace_event",
      fields,
      printFmt: '"probe"',
    });
    extra.set(key, { system: e.system, text });
  }
  return [...known, ...extra.values()];
}

/** The in-memory path on a trace: ingest, then {@linkcode arrayPathOf}. */
async function arrayPath(
  path: string,
  dir: string,
  opts: { whatIf?: boolean; topology?: Topology },
) {
  return arrayPathOf(dir, await ingestToDir(path, dir), opts);
}

/** The in-memory path on an ingested directory: normalize every row, then `replay()`. */
async function arrayPathOf(
  dir: string,
  m: Manifest,
  opts: { whatIf?: boolean; topology?: Topology },
) {
  const { index, tables } = eventTablesOfDir(dir, m);
  const want = new Set(wantedEventKeys());
  const events: TraceEvent[] = [];
  for await (const e of readEventsInOrder(index!, tables, (k) => want.has(k))) events.push(e);
  const canonical = normalize(events, { file: m.source, onMalformed: "skip", ...opts });
  const result = replay({
    iommus: canonical.iommus,
    devices: canonical.devices,
    bindings: canonical.bindings,
    requests: canonical.requests,
    ...(canonical.observed_commands.length > 0
      ? { observed_commands: canonical.observed_commands }
      : {}),
    process_events: canonical.process_events,
    kernel: kernelFromUname(m.info.kernel as string | null),
  });
  return { canonical, result };
}

const json = (r: ReplayResult) =>
  JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)));

for (const s of allScenarios()) {
  Deno.test(`pipeline: streamed replay of ${s.name} equals the in-memory replay`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "pipeline-test-" });
    try {
      const trace = `${tmp}/${s.name}.dat`;
      await Deno.writeFile(
        trace,
        writeTraceDat({
          version: 7,
          compression: "zstd",
          kernel: s.kernel,
          cpus: 4,
          formats: formatsFor(s.events, s.kernel),
          events: s.events,
        }),
      );
      const opts = {
        ...(s.options.topology ? { topology: s.options.topology } : {}),
        ...(s.options.whatIf ? { whatIf: true } : {}),
      };
      const want = await arrayPath(trace, `${tmp}/ingest`, opts);
      assert(want.canonical.requests.length > 0, "the scenario has requests");

      const streamed = await replayTrace(trace, { ...opts, keepRows: false });
      assert.deepEqual(json(streamed.result), json(want.result));
      assert.deepEqual(streamed.counts, {
        requests: want.canonical.requests.length,
        observed_commands: want.canonical.observed_commands.length,
        faults: want.canonical.faults.length,
      });
      assert.equal(streamed.canonical.requests.length, 0);
      assert.deepEqual(streamed.canonical.bindings, want.canonical.bindings);
      assert.deepEqual(streamed.canonical.statements, want.canonical.statements);

      const kept = await replayTrace(trace, { ...opts, outDir: `${tmp}/out` });
      assert.deepEqual(kept.canonical, want.canonical);
      assert.deepEqual(json(kept.result), json(want.result));
      const listed = new Map(kept.manifest.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
      assert.equal(listed.get("main.requests"), want.canonical.requests.length);
      assert.equal(listed.get("main.observed_commands"), want.canonical.observed_commands.length);
      assert.equal(listed.get("main.faults"), want.canonical.faults.length);
      assert.equal(listed.get("main.bindings"), want.canonical.bindings.length);
      // the spill is gone
      for await (const e of Deno.readDir(`${tmp}/out`)) assert(!e.name.startsWith(".spill"));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("pipeline: the example traces (thousands of requests, streamed in many releases) equal the in-memory replay", async () => {
  const dir = new URL("../examples/", import.meta.url).pathname;
  const topology = await loadTopology(`${dir}${EXAMPLE_FILES.topology}`);
  const cases: [string, { topology?: Topology; whatIf?: boolean }][] = [
    [EXAMPLE_FILES.dat, {}],
    [EXAMPLE_FILES.mmWorkload, { topology, whatIf: true }],
  ];
  for (const [file, opts] of cases) {
    const tmp = await Deno.makeTempDir({ prefix: "pipeline-test-" });
    try {
      const want = await arrayPath(`${dir}${file}`, tmp, opts);
      // what-if is left to `auto`: the mm recording has no table that can hold IOMMU requests
      const got = await replayTrace(`${dir}${file}`, {
        ...(opts.topology ? { topology: opts.topology } : {}),
        keepRows: false,
      });
      assert.equal(got.whatIf, opts.whatIf === true, file);
      assert.deepEqual(json(got.result), json(want.result), file);
      assert.equal(got.counts.requests, want.canonical.requests.length, file);
      assert(got.counts.requests > 1000, `${file}: ${got.counts.requests} requests`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
});

Deno.test("pipeline: auto what-if falls back to the mm events when the IOMMU tables hold no request", async () => {
  const s = allScenarios().find((x) => x.name === "fork_exec_6.12")!;
  const last = s.events[s.events.length - 1]!;
  // a DMA-domain (PASID 0) cache-tag flush: its table has a row, but it is not a request
  const events = [
    ...s.events,
    {
      ...last,
      ts: last.ts + 1000n,
      system: "intel_iommu",
      event: "cache_tag_flush_range",
      fields: {
        iommu: "dmar0",
        dev: "0000:00:02.0",
        type: 1,
        domain_id: 5,
        pasid: 0,
        start: 0x1000n,
        end: 0x1fffn,
        addr: 0x1000n,
        pages: 1n,
        mask: 0n,
      },
    },
  ];
  const tmp = await Deno.makeTempDir({ prefix: "pipeline-test-" });
  try {
    const trace = `${tmp}/t.dat`;
    await Deno.writeFile(
      trace,
      writeTraceDat({
        version: 7,
        compression: "zstd",
        kernel: s.kernel,
        cpus: 4,
        formats: formatsFor(events, s.kernel),
        events,
      }),
    );
    const topology = s.options.topology!;
    const want = await arrayPath(trace, `${tmp}/ingest`, { topology, whatIf: true });
    const got = await replayTrace(trace, { topology, keepRows: true });
    assert.equal(got.whatIf, true);
    // the flush was read (so the manifest listed a table that may hold requests)
    assert(got.canonical.statements.includes(
      "1 cache-tag flushes of PASID 0 (DMA domains) are not requests",
    ));
    assert.deepEqual(got.canonical, want.canonical);
    assert.deepEqual(json(got.result), json(want.result));
    assert(got.counts.requests > 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("pipeline: raw tables that go back in time are replayed in time order, as in memory", async () => {
  // ingesters merge by time; a damaged per-CPU clock can still step back: build such tables by hand
  const tmp = await Deno.makeTempDir({ prefix: "pipeline-test-" });
  try {
    const files = new Map<string, string>();
    const rt = new RawTables({
      write(schema, table, ipc) {
        const rel = `${schema}/${table}.arrows`;
        Deno.mkdirSync(`${tmp}/${schema}`, { recursive: true });
        Deno.writeFileSync(`${tmp}/${rel}`, ipc, { append: files.has(rel) });
        files.set(rel, rel);
      },
    });
    const t = rt.tableForFields("syscalls", "sys_enter_munmap", [
      { name: "addr", value: 0n },
      { name: "len", value: 0n },
    ]);
    const munmap = (ts: bigint, addr: bigint, len: bigint) =>
      rt.addValues(t, ts, 0, 100, "app", 0, 0, "", [addr, len]);
    for (let i = 0; i < 3000; i++) {
      // long after the rows around 1.005 ms were handed over (the normalizer releases every 1024)
      if (i === 2500) munmap(1_005_000n, 0x10000n, 0x1000n);
      munmap(1_000_000n + BigInt(i) * 1000n, 0x7f0000000000n + BigInt(i) * 0x2000n, 0x2000n);
    }
    rt.finish();
    const m: Manifest = {
      format: "iommu-replay-ingest",
      version: 1,
      source: "by-hand",
      tables: [
        { ...tableEntry(t.builder), file: "syscalls/sys_enter_munmap.arrows" },
        { ...tableEntry(rt.eventsIndex!.builder), file: "main/events.arrows" },
      ],
      info: { events: 3001 },
      warnings: [],
    };
    const want = await arrayPathOf(tmp, m, { whatIf: true });
    const got = await replayIngested(tmp, m, { whatIf: true, keepRows: true });
    assert.deepEqual(got.canonical, want.canonical);
    assert.deepEqual(json(got.result), json(want.result));
    assert.deepEqual(got.canonical.requests.slice(5, 7).map((r) => [r.ts, r.start]), [
      [1_005_000n, 0x7f0000000000n + 5n * 0x2000n],
      [1_005_000n, 0x10000n],
    ]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

function tableEntry(b: { schema: string; name: string; written: number; info: ColumnInfo[] }) {
  return { schema: b.schema, name: b.name, rows: b.written, columns: b.info };
}

Deno.test("pipeline: --cost-model takes a JSON file (read before the ingest), and rejects bad ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "iommu-replay-cm-" });
  try {
    const ok = `${dir}/cm.json`, bad = `${dir}/bad.json`;
    await Deno.writeTextFile(ok, JSON.stringify({ base: "bare-metal-vtd", trap_ns: 2000 }));
    await Deno.writeTextFile(bad, JSON.stringify({ base: "bare-metal-vtd", bogus: 1 }));
    const trace = new URL("../examples/sva_two_iommus.dat", import.meta.url).pathname;
    const policies = ["intel-per-device", "intel-batched"];
    const plain = await replayTrace(trace, { policies });
    const trapped = await replayTrace(trace, { policies, costModel: ok });
    plain.result.policies.forEach((a, i) => {
      const b = trapped.result.policies[i]!;
      assert.equal(b.cost_model, `bare-metal-vtd+${ok}`);
      // every submission now also costs a 2 us trap
      assert.equal(b.traps, a.submissions);
      assert.equal(b.modeled_ns, a.modeled_ns + 2000 * a.submissions);
    });
    await assert.rejects(() => replayTrace(trace, { costModel: bad }), /unknown key "bogus"/);
    await assert.rejects(
      () => replayTrace(trace, { costModel: `${dir}/none.json` }),
      /neither a built-in .* nor a readable file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
