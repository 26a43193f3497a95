/**
 * The streamed normalizer (a {@linkcode CanonicalSink}) gives exactly the tables of the in-memory
 * one, whatever the release interval, and holds back only what decoders may still change.
 */
import assert from "node:assert/strict";
import type { FaultRow, ObservedCommandRow, RequestRow } from "../canonical.ts";
import type { TraceEvent } from "../event.ts";
import { allScenarios } from "../../synth/scenarios/scenarios.ts";
import { exampleWorkload } from "../../synth/scenarios/example_workload.ts";
import {
  qiSubmit,
  schedProcessFork,
  sysEnterMunmap,
  tlbFlush,
} from "../../synth/scenarios/kernel_events.ts";
import { piotlb } from "../../synth/scenarios/vtd_encode.ts";
import { type ObservedRec, observedRow, type RequestRec, requestRow } from "./builder.ts";
import {
  type CanonicalTables,
  normalize,
  type NormalizeOptions,
  Normalizer,
  type StreamResolver,
} from "./normalize.ts";

interface Streamed {
  tables: CanonicalTables;
  resolver: StreamResolver;
  maxPending: number;
}

/** Normalizes with a sink and assembles the streamed rows as a consumer would. */
function streamed(events: readonly TraceEvent[], opts: NormalizeOptions): Streamed {
  const reqs: { r: RequestRec; mm: number }[] = [];
  const obs: { c: ObservedRec; device: number }[] = [];
  const faults: FaultRow[] = [];
  const n = new Normalizer({
    ...opts,
    sink: {
      request: (r, mm) => void reqs.push({ r: { ...r }, mm }),
      observed: (c, device) => void obs.push({ c: { ...c }, device }),
      fault: (f) => void faults.push(f),
    },
  });
  let maxPending = 0;
  for (const e of events) {
    n.push(e);
    maxPending = Math.max(maxPending, n.pendingRows);
  }
  const { tables, resolver } = n.finishStream();
  const requests: RequestRow[] = [];
  for (const { r, mm } of reqs) {
    if (resolver.keepSource(r.source)) {
      requests.push(requestRow(r, requests.length, resolver.mmId(mm)));
    }
  }
  const subs = new Map<number, number>();
  const observed: ObservedCommandRow[] = obs.map(({ c, device }, i) => {
    let s = subs.get(c.submission);
    if (s === undefined) subs.set(c.submission, s = subs.size);
    return observedRow(c, i, s, resolver.deviceName(device));
  });
  assert.equal(resolver.requests, requests.length);
  assert.equal(resolver.observedCommands, observed.length);
  assert.equal(resolver.faults, faults.length);
  assert.equal(tables.requests.length + tables.observed_commands.length + tables.faults.length, 0);
  return {
    tables: { ...tables, requests, observed_commands: observed, faults },
    resolver,
    maxPending,
  };
}

for (const s of allScenarios()) {
  Deno.test(`stream: scenario ${s.name} gives the in-memory tables (release after every event)`, () => {
    const want = normalize(s.events, s.options);
    const got = streamed(s.events, { ...s.options, releaseEvery: 1 });
    assert.deepEqual(got.tables, want);
    assert.equal(got.resolver.late, 0);
    const coarse = streamed(s.events, { ...s.options, releaseEvery: 7 });
    assert.deepEqual(coarse.tables, want);
  });
}

Deno.test("stream: the example workload (batched qi_submit, drains, PRQ) gives the same tables", () => {
  const w = exampleWorkload();
  const want = normalize(w.events);
  assert(want.requests.length > 2000 && want.observed_commands.length > 5000);
  for (const every of [1, 64, 1024]) {
    const got = streamed(w.events, { releaseEvery: every });
    assert.deepEqual(got.tables, want, `releaseEvery ${every}`);
    // only rows of a few open groups wait: far fewer than the trace holds
    assert(got.maxPending < 32 + every * 2, `releaseEvery ${every}: ${got.maxPending} pending`);
  }
});

Deno.test("stream: a request group still open across a gap is held until no descriptor can extend it", () => {
  const cpu0 = (ts: bigint) => ({ ts, cpu: 0, pid: 10, comm: "app" });
  const cpu1 = (ts: bigint) => ({ ts, cpu: 1, pid: 11, comm: "other" });
  const events = [
    // 2 pages at 0x10000; the next chunk comes 2900 ns later: a new run (gap > 2000 ns), same group
    qiSubmit(cpu0(100n), "dmar0", piotlb(1, 2, 0x10000n, 2n)),
    qiSubmit(cpu0(3000n), "dmar0", piotlb(1, 2, 0x12000n, 2n)),
    tlbFlush(cpu1(4000n), 0, 1n),
    // another event on CPU 0 closes the run: its descriptor extends the first request
    schedProcessFork(cpu0(5000n), 12),
    tlbFlush(cpu1(6000n), 0, 1n),
  ];
  const want = normalize(events);
  const got = streamed(events, { releaseEvery: 1 });
  assert.deepEqual(got.tables, want);
  assert.deepEqual(
    got.tables.requests.map((r) => [r.ts, r.start, r.end, r.pages, r.pasid, r.source]),
    [[100n, 0x10000n, 0x14000n, 4n, 2, "qi_submit"]],
  );
  assert.deepEqual(got.tables.observed_commands.map((c) => [c.ts, c.submission_id]), [
    [100n, 0],
    [3000n, 1],
  ]);
});

Deno.test("stream: what-if requests are handed over as they come (pending stays bounded)", () => {
  const events: TraceEvent[] = [];
  for (let i = 0; i < 5000; i++) {
    const c = { ts: BigInt(1000 + i * 10), cpu: i % 2, pid: 100, comm: "app" };
    events.push(sysEnterMunmap(c, 0x7f0000000000n + BigInt(i) * 0x2000n, 0x2000n));
  }
  const got = streamed(events, { whatIf: true, releaseEvery: 16 });
  assert.equal(got.tables.requests.length, 5000);
  assert.deepEqual(got.tables.requests[4999], {
    request_id: 4999,
    ts: 1000n + 4999n * 10n,
    cpu: 1,
    mm: "pid:100",
    pid: 100,
    pasid: null,
    start: 0x7f0000000000n + 4999n * 0x2000n,
    end: 0x7f0000000000n + 5000n * 0x2000n,
    pages: 2n,
    source: "munmap",
    full: false,
  });
  // released every 16 events; the rows of the current instant wait for the next one
  assert(got.maxPending <= 17, `${got.maxPending} pending`);
  assert.deepEqual(got.tables, normalize(events, { whatIf: true }));
});

Deno.test("stream: rows older than ones already handed over are counted as late", () => {
  const c = (ts: bigint) => ({ ts, cpu: 0, pid: 100, comm: "app" });
  const events = [
    sysEnterMunmap(c(1000n), 0x10000n, 0x1000n),
    sysEnterMunmap(c(2000n), 0x20000n, 0x1000n),
    sysEnterMunmap(c(3000n), 0x30000n, 0x1000n),
    // time goes back below a row already handed over (1000 and 2000 went out at 3000)
    sysEnterMunmap(c(1500n), 0x40000n, 0x1000n),
  ];
  const got = streamed(events, { whatIf: true, releaseEvery: 1 });
  assert.equal(got.resolver.late, 1);
  assert.deepEqual(got.tables.requests.map((r) => r.ts), [1000n, 2000n, 1500n, 3000n]);
  // a small step back is absorbed by the rows not yet handed over
  const mild = [events[0]!, events[1]!, sysEnterMunmap(c(1500n), 0x40000n, 0x1000n), events[2]!];
  const m = streamed(mild, { whatIf: true, releaseEvery: 1 });
  assert.equal(m.resolver.late, 0);
  assert.deepEqual(m.tables.requests.map((r) => r.ts), [1000n, 1500n, 2000n, 3000n]);
});

Deno.test("stream: finishStream needs a sink", () => {
  assert.throws(() => new Normalizer().finishStream(), /needs a sink/);
});
