import assert from "node:assert/strict";
import type { BindingRow } from "../../canonical.ts";
import { replay } from "../run.ts";
import { BindingState } from "../state.ts";
import { bind, req, topo } from "../testdata/fixtures.ts";
import { emitted, info, RecordingSink } from "../testdata/recording_sink.ts";
import { dmaLazy } from "./dma_lazy.ts";
import { dmaStrict } from "./dma_strict.ts";

const t = topo({ dmar0: "intel" }, [["a", "dmar0", true], ["b", "dmar0", true]]);
const dmaBindings: BindingRow[] = bind(t, "x", 0).map((b) => ({ ...b, mm: null, pasid: null }));
const view = new BindingState({ ...t, bindings: dmaBindings }).viewFor(
  { mm: null, pasid: null },
  0n,
);

Deno.test("dma-strict: range flush per unmap, batched per IOMMU (6.12), DSI above MAMV", () => {
  assert.deepEqual(emitted(dmaStrict.create({}), view, info(0x102, 4, { dma: true })), [
    "iotlb_inv@dmar0 0x100+8",
    "dev_tlb_inv@dmar0/a 0x100+8",
    "dev_tlb_inv@dmar0/b 0x100+8",
    "inv_wait@dmar0",
  ]);
  assert.deepEqual(
    emitted(dmaStrict.create({ mamv: 2 }), view, info(0x102, 4, { dma: true })).slice(0, 2),
    [
      "iotlb_inv@dmar0 all",
      "dev_tlb_inv@dmar0/a 0x100+8",
    ],
  );
  assert.equal(
    emitted(dmaStrict.create({ kernel: "6.11" }), view, info(0, 1, { dma: true })).length,
    6,
  );
  // no CPU ceiling for IOVA ranges
  assert.equal(
    emitted(dmaStrict.create({}), view, info(0, 64, { dma: true }))[0],
    "iotlb_inv@dmar0 0x0+64",
  );
});

Deno.test("dma-lazy: 255 entries per CPU ring of 4 slots -> 3; timer flush is async", () => {
  const p = dmaLazy.create({ fqSize: 4 });
  const s = new RecordingSink(p);
  s.use(view);
  const at = (id: number, tsNs: number, cpu = 0) => {
    p.advance!(tsNs, s);
    p.evaluate(info(0x10 + id, 1, { id, tsNs, cpu, dma: true }), view, s);
  };
  at(0, 0);
  at(1, 1);
  at(2, 2);
  assert.deepEqual(s.log, []);
  at(3, 3); // ring full: synchronous domain flush
  const flush = [
    "iotlb_inv@dmar0 all",
    "dev_tlb_inv@dmar0/a all",
    "dev_tlb_inv@dmar0/b all",
    "inv_wait@dmar0",
  ];
  assert.deepEqual(s.log, flush);
  at(4, 20_000_000, 1); // the timer armed by request 0 fired at 10 ms
  assert.deepEqual(s.log.slice(4), flush.map((x) => `async(0) ${x}`));
  p.finish!(s); // the timer armed by request 4
  assert.deepEqual(s.log.slice(8), flush.map((x) => `async(4) ${x}`));
});

Deno.test("dma-lazy through replay: latency excludes timer flushes, totals include them", () => {
  const rows: { request_id: number; kind: string }[] = [];
  const requests = [0, 1, 2, 3].map((i) =>
    req(i, BigInt(i), 0x10 + i, 1, { mm: null, pasid: null, source: "dma_unmap" })
  );
  requests.push(
    req(4, 20_000_000n, 0x20, 1, { mm: null, pasid: null, cpu: 1, source: "dma_unmap" }),
  );
  const r = replay({ ...t, bindings: dmaBindings, requests }, {
    policies: ["dma-lazy"],
    policyOptions: { fqSize: 4 },
    onCommand: (c) => rows.push({ request_id: c.request_id, kind: c.kind }),
  });
  const p = r.policies[0]!;
  assert.equal(p.submissions, 3);
  assert.equal(p.modeled_ns_requests, 500 + 50 + 2 * 500);
  assert.equal(p.modeled_ns_deferred, 2 * (500 + 50 + 2 * 500));
  assert.equal(p.modeled_ns_per_request.max, 1550);
  assert.equal(p.modeled_ns_per_request.p50, 0);
  assert.equal(p.full_flushes, 9);
  assert.equal(p.uncovered, 0);
  assert.deepEqual([...new Set(rows.map((x) => x.request_id))], [3, 0, 4]);
});

Deno.test("scope: SVA policies skip DMA-API unmaps, DMA-API policies skip SVA requests", () => {
  const both = [...bind(t, "mm1", 5), ...dmaBindings];
  const requests = [
    req(0, 1n, 0x10, 2), // SVA: mm1, PASID 5
    req(1, 2n, 0x20, 1, { mm: null, pasid: null, source: "dma_unmap" }),
    req(2, 3n, 0x30, 4), // SVA
  ];
  const r = replay({ ...t, bindings: both, requests }, {
    policies: ["intel-batched", "dma-strict", "dma-lazy", "ideal"],
    policyOptions: { fqSize: 4 },
  });
  const by = new Map(r.policies.map((p) => [p.name, p]));
  assert.equal(by.get("intel-batched")!.requests, 2);
  assert.equal(by.get("intel-batched")!.requests_out_of_scope, 1);
  assert.equal(by.get("dma-strict")!.requests, 1);
  assert.equal(by.get("dma-strict")!.requests_out_of_scope, 2);
  assert.equal(by.get("ideal")!.requests, 3);
  // DMA-API policies are compared with the first DMA-API policy, the others with the baseline
  assert.equal(by.get("dma-lazy")!.ratio_to_baseline.baseline, "dma-strict");
  assert.equal(by.get("ideal")!.ratio_to_baseline.baseline, "intel-batched");
  // a deferred flush has no ranged coverage: no pages requested, no over-invalidation ratio
  assert.equal(by.get("dma-lazy")!.pages_requested, 0n);
  assert.equal(by.get("dma-lazy")!.over_invalidation, null);
  assert.deepEqual(r.not_applicable, []);
});

Deno.test("scope: a DMA-only trace lists the SVA policies as not applicable", () => {
  const requests = [req(0, 1n, 0x10, 2, { mm: null, pasid: null, source: "iommu_unmap" })];
  const r = replay({ ...t, bindings: dmaBindings, requests }, {
    policies: ["intel-per-device", "dma-strict"],
  });
  assert.deepEqual(r.policies.map((p) => p.name), ["dma-strict"]);
  assert.equal(r.policies[0]!.ratio_to_baseline.baseline, "dma-strict");
  assert.deepEqual(r.not_applicable.map((n) => [n.name, n.scope, n.requests_out_of_scope]), [
    ["intel-per-device", "sva", 1],
  ]);
});
