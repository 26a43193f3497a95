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
