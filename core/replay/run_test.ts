import assert from "node:assert/strict";
import type { ReplayedCommandRow } from "../canonical.ts";
import { UsageError } from "../errors.ts";
import { kind } from "./kinds.ts";
import type { PolicyFactory } from "./policy.ts";
import type { RequestCostRow } from "./policy_run.ts";
import { replay, replayAsync, resultToJSON } from "./run.ts";
import { policyDescriptorRows, policySummaryRows } from "./tables.ts";
import { bind, fourAtsOneIommu, fullReq, req, topo } from "./testdata/fixtures.ts";

const t = fourAtsOneIommu();

Deno.test("replayed_commands rows and per-request costs are streamed", () => {
  const rows: ReplayedCommandRow[] = [];
  const costs: RequestCostRow[] = [];
  const two = topo({ dmar0: "intel" }, [["a", "dmar0", true], ["b", "dmar0", false]]);
  replay({
    ...two,
    bindings: bind(two, "mm1", 5),
    requests: [req(7, 10n, 0x100, 2), req(8, 20n, 0x300, 1)],
  }, {
    policies: ["intel-batched"],
    onCommand: (r) => rows.push(r),
    onRequestCost: (c) => costs.push(c),
  });
  const base = { policy: "intel-batched", iommu: "dmar0" };
  assert.deepEqual(rows.slice(0, 3), [
    {
      ...base,
      request_id: 7,
      submission: 1,
      device: null,
      kind: "p_iotlb_inv",
      addr: 0x100000n,
      size: 0x2000n,
    },
    {
      ...base,
      request_id: 7,
      submission: 1,
      device: "a",
      kind: "p_dev_tlb_inv",
      addr: 0x100000n,
      size: 0x2000n,
    },
    {
      ...base,
      request_id: 7,
      submission: 1,
      device: null,
      kind: "inv_wait",
      addr: null,
      size: null,
    },
  ]);
  assert.equal(rows[3]!.submission, 2);
  assert.equal(rows.length, 6);
  assert.deepEqual(costs, [
    {
      policy: "intel-batched",
      request_id: 7,
      ts: 10n,
      submissions: 1,
      descriptors: 2,
      modeled_ns: 1050,
    },
    {
      policy: "intel-batched",
      request_id: 8,
      ts: 20n,
      submissions: 1,
      descriptors: 2,
      modeled_ns: 1050,
    },
  ]);
});

Deno.test("summary: per-request distribution, skipped requests, baseline ratios", () => {
  const bindings = bind(t, "mm1", 5, undefined, { from_ts: 100n });
  const requests = [
    req(0, 50n, 0, 1), // before the bind: skipped
    ...Array.from({ length: 9 }, (_, i) => req(1 + i, 200n + BigInt(i), 0x10, 1)),
    req(10, 300n, 0x10, 1, { mm: "other" }), // nobody bound: skipped
    fullReq(11, 400n),
    req(12, 500n, 0x20, 0), // empty range: skipped
  ];
  const r = replay({ ...t, bindings, requests }, {
    policies: ["intel-batched", "intel-per-device"],
    baseline: "intel-per-device",
  });
  const [b, p] = r.policies;
  assert.equal(r.requests, 13);
  assert.equal(b!.requests, 10);
  assert.equal(b!.requests_skipped, 3);
  // every evaluated request costs 500 + 50 + 4 x 500 = 2550 under intel-batched
  assert.deepEqual(b!.modeled_ns_per_request, {
    count: 10,
    mean: 2550,
    p50: 2550,
    p90: 2550,
    p99: 2550,
    max: 2550,
    approximate: false,
  });
  assert.equal(p!.modeled_ns_per_request.max, 6200);
  assert.equal(b!.ratio_to_baseline.baseline, "intel-per-device");
  assert.equal(b!.ratio_to_baseline.modeled_ns, 2550 / 6200);
  assert.equal(p!.ratio_to_baseline.modeled_ns, 1);
  // 9 ranged requests x 5 caches x 1 page; the full request hits all 5 caches with full-scope commands
  assert.equal(b!.pages_requested, 45n);
  assert.equal(b!.pages_invalidated, 45n);
  assert.equal(b!.over_invalidation, 1);
  assert.equal(b!.full_flushes, 5);
  assert.equal(p!.full_flushes, 8);
  const rows = policySummaryRows(r);
  assert.equal(rows[0]!.descriptors, 50);
  assert.equal(rows[1]!.descriptors, 80);
  assert.deepEqual(policyDescriptorRows(r).filter((x) => x.policy === "intel-batched"), [
    { policy: "intel-batched", kind: "p_iotlb_inv", count: 10 },
    { policy: "intel-batched", kind: "p_dev_tlb_inv", count: 36 },
    { policy: "intel-batched", kind: "inv_wait", count: 10 },
    // the full request's device TLBs: cache_tag_flush_all's non-PASID form (6.10 - 6.16)
    { policy: "intel-batched", kind: "dev_tlb_inv", count: 4 },
  ]);
});

Deno.test("resultToJSON: the five keys; counts as numbers or strings; timestamps as strings", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    requests: [req(0, 2n ** 60n, 0, 2 ** 51, { source: "munmap" }), req(1, 2n ** 60n + 1n, 3, 2)],
  }, { policies: ["ideal", "intel-cache-tag-6.10.0"] });
  const j = resultToJSON(r);
  assert.deepEqual(Object.keys(j), [
    "policies",
    "fidelity",
    "anomalies",
    "anomaly_counts",
    "not_applicable",
  ]);
  assert.deepEqual(j.anomaly_counts, { uncovered_range: r.anomaly_counts["uncovered_range"] });
  const ideal = j.policies[0] as Record<string, unknown>;
  assert.equal(ideal.pages_requested, (5n * 2n ** 51n + 10n).toString()); // > 2^53 - 1
  assert.equal(typeof (j.policies[1] as Record<string, unknown>).pages_requested, "number");
  assert.deepEqual(ideal.descriptors, {
    p_iotlb_inv: 2,
    p_dev_tlb_inv: 8,
    inv_wait: 2,
    iotlb_inv: 0,
    dev_tlb_inv: 0,
    tlbi_nh_va: 0,
    atc_inv: 0,
    cmd_sync: 0,
    inv_iommu_pages: 0,
    inv_iotlb_pages: 0,
    completion_wait: 0,
  });
  const a = j.anomalies[0] as Record<string, unknown>;
  assert.equal(a.ts, (2n ** 60n + 1n).toString());
  assert.equal(j.fidelity, null);
  JSON.stringify(j); // no bigint left
});

Deno.test("bad input: out of time order, bad ranges, unknown or duplicate policies, bad baseline", () => {
  const input = { ...t, bindings: bind(t, "mm1", 5) };
  const usage = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message));
  usage(
    () => replay({ ...input, requests: [req(0, 10n, 0, 1), req(1, 9n, 0, 1)] }),
    /not in time order: request 1 at 9/,
  );
  usage(
    () => replay({ ...input, requests: [{ ...req(0, 10n, 0, 1), end: 0n, start: 4096n }] }),
    /request 0: bad range/,
  );
  usage(() => replay({ ...input, requests: [] }, { policies: ["x"] }), /unknown policy "x"/);
  usage(() => replay({ ...input, requests: [] }, { policies: ["ideal", "ideal"] }), /given twice/);
  usage(
    () => replay({ ...input, requests: [] }, { policies: ["ideal"], baseline: "dma-lazy" }),
    /baseline "dma-lazy"/,
  );
  usage(() => replay({ ...input, requests: [] }, { costModel: "fast" }), /unknown cost model/);
});

Deno.test("byte ranges are widened to whole pages", () => {
  const rows: ReplayedCommandRow[] = [];
  replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    requests: [{ ...req(0, 1n, 0, 1), start: 0x1800n, end: 0x2001n }],
  }, {
    policies: ["ideal"],
    onCommand: (r) => rows.push(r),
  });
  assert.equal(rows[0]!.addr, 0x1000n);
  assert.equal(rows[0]!.size, 0x2000n);
});

Deno.test("replayAsync over async streams gives the same result", async () => {
  const input = { ...t, bindings: bind(t, "mm1", 5) };
  const requests = [req(0, 1n, 0x100, 4), req(1, 2n, 0x102, 4), fullReq(2, 3n)];
  async function* gen() {
    for (const r of requests) yield r;
  }
  const a = replay({ ...input, requests });
  const b = await replayAsync({ ...input, requests: gen() });
  assert.deepEqual(resultToJSON(b), resultToJSON(a));
  // SVA requests only: the DMA-API policies do not apply and are listed apart
  assert.equal(a.policies.length, 8);
  assert.deepEqual(a.not_applicable.map((n) => n.name), ["dma-strict", "dma-lazy"]);
});

Deno.test("a user policy: looked up by name; implicit wait; more than 4 disjoint pieces", () => {
  // issues one p_iotlb_inv per page, every other page, and never waits
  const sparse: PolicyFactory = {
    name: "sparse",
    description: "test policy",
    vendor: "intel",
    defaultKernel: null,
    create: () => ({
      name: "sparse",
      description: "test policy",
      kinds: [kind("p_iotlb_inv"), kind("inv_wait")],
      waitKind: 1,
      parallelIommus: false,
      implicitIotlb: false,
      deferred: false,
      evaluate(q, view, out) {
        for (let p = q.startPfn; p < q.endPfn; p += 2) out.cmd(0, 0, -1, -1, p, 1);
        void view;
      },
    }),
  };
  const one = topo({ dmar0: "intel" }, [["a", "dmar0", false]]);
  const r = replay(
    { ...one, bindings: bind(one, "mm1", 5), requests: [req(0, 1n, 0, 12)] },
    { policies: ["sparse"], extraPolicies: [sparse] },
  );
  const p = r.policies[0]!;
  assert.equal(p.submissions, 1); // closed implicitly
  assert.equal(p.descriptors["p_iotlb_inv"], 6);
  assert.equal(p.uncovered, 1);
  // 6 single pages, the last 3 merged into one over-approximated piece [6, 11)
  assert.equal(p.pages_invalidated, 3n + 5n);
});

Deno.test("streaming rows does not change the summaries (counting fast paths agree)", () => {
  const t2 = topo({ dmar0: "intel", smmu0: "arm-smmuv3" }, [
    ["a", "dmar0", true],
    ["b", "dmar0", false],
    ["c", "smmu0", true],
  ]);
  const requests = [
    req(0, 1n, 0x100, 4),
    req(1, 2n, 0x103, 130),
    req(2, 3n, 3, 2),
    fullReq(3, 4n),
    req(4, 5n, 0x7ff, 700),
  ];
  const input = { ...t2, bindings: bind(t2, "mm1", 5), requests };
  let n = 0;
  const counted = replay(input);
  const streamed = replay(input, { onCommand: () => n++, onRequestCost: () => {} });
  assert.deepEqual(resultToJSON(streamed), resultToJSON(counted));
  // one row per descriptor, waits included
  let total = 0;
  for (const p of counted.policies) for (const v of Object.values(p.descriptors)) total += v;
  assert.equal(n, total);
  assert.ok(total > 150, `total ${total}`);
});
