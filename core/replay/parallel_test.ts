import assert from "node:assert/strict";
import type { RequestRow } from "../canonical.ts";
import { PARALLEL_MIN_REQUESTS, ReplayEngine, type ReplayOptions } from "./engine.ts";
import { kind } from "./kinds.ts";
import type { PolicyOptions, ReplayPolicy } from "./policy.ts";
import { BUILTIN_POLICY_NAMES } from "./registry.ts";
import { closeReplayWorkers } from "./replay_workers.ts";
import type { ReplayResult } from "./result.ts";
import { xorshift32 } from "../../synth/xorshift.ts";
import { bind, fullReq, observed, req, topo } from "./testdata/fixtures.ts";

// Two VT-d units; mm1 bound on [1000, 30000) and again from 50000; mm2 bound throughout through
// PASID 9 on one unit; a DMA domain; a fork whose child invalidates with its parent's PASID.
const t = topo({ dmar0: "intel", dmar1: "intel" }, [
  ["a", "dmar0", true],
  ["b", "dmar0", false],
  ["c", "dmar1", true],
]);
const bindings = [
  ...bind(t, "mm1", 5, undefined, { from_ts: 1000n, to_ts: 30000n }),
  ...bind(t, "mm1", 5, undefined, { from_ts: 50000n, firstId: 10 }),
  ...bind(t, "mm2", 9, ["a", "c"], { firstId: 20, pid: 200 }),
  ...bind(t, "mm2", 9, ["b"], { firstId: 30, mm: null, pasid: null, pid: null }),
];

function requests(n: number): RequestRow[] {
  const rnd = xorshift32(0x9e3779b9);
  const out: RequestRow[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd(), ts = BigInt(i * 2);
    const pages = r % 7 === 0 ? 30 + (r % 300) : 1 + (r % 9);
    const pfn = 0x400000 + (rnd() % 0x10000);
    switch (r % 11) {
      case 0:
        out.push(fullReq(i, ts));
        break;
      case 1:
        out.push(req(i, ts, pfn, pages, { mm: null, pasid: null, pid: null, source: "dma_unmap" }));
        break;
      case 2:
        out.push(req(i, ts, pfn, pages, { mm: "mm2", pasid: 9, pid: 200 }));
        break;
      case 3:
        // the forked child (pid 300) invalidating with its parent's PASID
        out.push(req(i, ts, pfn, pages, { mm: "mm3", pasid: 5, pid: 300 }));
        break;
      case 4:
        // by PASID only: an SVA flush, or a DMA-API unmap of a PASID domain
        out.push(req(i, ts, pfn, pages, {
          mm: null,
          pasid: 9,
          pid: null,
          source: r % 3 ? "cache_tag_flush_range" : "iommu_unmap",
        }));
        break;
      default:
        out.push(req(i, ts, pfn, pages, { source: r % 2 ? "munmap" : "cache_tag_flush_range" }));
    }
  }
  return out;
}

/** A user policy (an instance: it cannot go to a worker, so it is replayed batch by batch here). */
const toy: ReplayPolicy = {
  name: "toy",
  description: "one p_iotlb_inv for the first page only (under-invalidates)",
  kinds: [kind("p_iotlb_inv"), kind("inv_wait")],
  waitKind: 1,
  parallelIommus: false,
  implicitIotlb: false,
  deferred: false,
  evaluate(q, view, out) {
    for (let i = 0; i < view.iommuCount; i++) out.cmd(0, i, -1, -1, q.startPfn, 1);
  },
};

function run(workers: number, options: ReplayOptions): { r: ReplayResult; threads: number } {
  const e = new ReplayEngine({
    ...t,
    bindings,
    process_events: [{ ts: 2000n, kind: "fork", pid: 100, child_pid: 300, mm: "mm1" }],
    kernel: "6.9",
  }, { ...options, workers });
  const obs = [observed(0, 5n, "p_iotlb_inv", { pasid: 77 }), observed(1, 70001n, "inv_wait")];
  let k = 0;
  for (const q of requests(PARALLEL_MIN_REQUESTS + 9000)) {
    while (k < obs.length && obs[k]!.ts < q.ts) e.pushObserved(obs[k++]!);
    e.pushRequest(q);
  }
  while (k < obs.length) e.pushObserved(obs[k++]!);
  return { r: e.finish(), threads: e.workerThreads };
}

Deno.test("worker threads give the same result as one thread, anomalies and caps included", () => {
  try {
    const options: ReplayOptions = {
      policies: [...BUILTIN_POLICY_NAMES, "intel-per-device@5.10", toy],
      maxAnomaliesPerKind: 7,
      fidelity: "intel-per-device",
    };
    const one = run(0, options), two = run(2, options);
    assert.equal(one.threads, 0);
    assert.equal(two.threads, 2);
    assert.deepEqual(two.r, one.r);
    // the caps were reached, so which rows were kept depended on the merge order
    assert(one.r.anomaly_counts["uncovered_range"]! > 7);
    assert.equal(one.r.anomalies.filter((a) => a.kind === "uncovered_range").length, 7);
    assert(one.r.anomaly_counts["child_uses_parent_pasid"]! >= 1);
    assert(one.r.anomaly_counts["unbound_pasid_invalidation"]! >= 1);
    assert(one.r.fidelity !== null);
    // and a single-thread replay request by request (every run fed as the request arrives)
    const rows: number[] = [];
    const third = run(2, { ...options, onRequestCost: (c) => void rows.push(c.modeled_ns) });
    assert.equal(third.threads, 0);
    assert.deepEqual(third.r, one.r);
  } finally {
    closeReplayWorkers();
  }
});

Deno.test("small replays stay on the calling thread; one built-in policy goes to one worker", () => {
  const small = new ReplayEngine({ ...t, bindings }, {
    policies: ["intel-batched", "ideal"],
    workers: 2,
  });
  for (const q of requests(100)) small.pushRequest(q);
  assert.equal(small.finish().requests, 100);
  assert.equal(small.workerThreads, 0);
  const one = new ReplayEngine({ ...t, bindings }, { policies: ["intel-batched"], workers: 2 });
  for (const q of requests(PARALLEL_MIN_REQUESTS + 1)) one.pushRequest(q);
  assert.equal(one.finish().requests, PARALLEL_MIN_REQUESTS + 1);
  assert.equal(one.workerThreads, 1);
  closeReplayWorkers();
});

Deno.test("remembered request shapes give the same result as evaluating every request", () => {
  // every built-in under several kernels and options, with 1-page to 2 MiB ranges at all
  // alignments, full flushes, syscall ranges over the 33-page ceiling, and caps reached
  const variants: { policies: string[]; policyOptions?: PolicyOptions }[] = [
    { policies: [...BUILTIN_POLICY_NAMES] },
    {
      policies: [
        "intel-per-device@5.10",
        "intel-per-device@6.5",
        "intel-cache-tag@6.17",
        "amd-per-device@6.5",
        "intel-cache-tag-6.10.0@6.10.0",
      ],
    },
    { policies: ["smmuv3-btm", "smmuv3-no-btm"], policyOptions: { ril: true } },
    {
      policies: ["smmuv3-no-btm", "intel-batched"],
      policyOptions: { smmuForceSync: true, maxBatch: 3 },
    },
  ];
  const rs = requests(20000).map((q, i) => {
    if (i % 13 !== 5) return q;
    // whole THP-sized and larger ranges at page offsets
    const start = q.start - (q.start % 0x200000n) + BigInt((i % 7) * 4096);
    return { ...q, start, end: start + 0x200000n * BigInt(1 + (i % 3)), pages: 512n };
  });
  for (const v of variants) {
    const run = (memo: boolean) => {
      const e = new ReplayEngine({ ...t, bindings }, {
        ...v,
        memo,
        workers: 0,
        maxAnomaliesPerKind: 5,
      });
      for (const q of rs) e.pushRequest(q);
      return e.finish();
    };
    const evaluated = run(false), remembered = run(true);
    assert.deepEqual(remembered, evaluated, v.policies.join(", "));
    assert(evaluated.policies.every((p) => p.requests > 0));
  }
});
