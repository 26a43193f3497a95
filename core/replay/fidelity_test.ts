import assert from "node:assert/strict";
import { replay } from "./run.ts";
import { bind, fourAtsOneIommu, fullReq, observed, req } from "./testdata/fixtures.ts";

const t = fourAtsOneIommu();
const devs = t.devices.map((d) => d.device);

/** What a v6.12 kernel issues for pfn 0x100 + 4 pages on cpu: one batch. */
function batch(first: number, ts: bigint, sub: number, cpu = 0) {
  const size = { addr: 0x100000n, size: 0x4000n };
  return [
    observed(first, ts, "p_iotlb_inv", { ...size, submission_id: sub, cpu }),
    ...devs.map((_d, i) =>
      observed(first + 1 + i, ts + 1n, "p_dev_tlb_inv", {
        ...size,
        submission_id: sub,
        sid: 0x10 + i,
        cpu,
      })
    ),
  ];
}

Deno.test("fidelity: the 6.12 kernel's commands are reproduced one for one by intel-batched", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    kernel: "6.12.9",
    requests: [req(0, 10n, 0x100, 4), req(1, 20n, 0x100, 4)],
    observed_commands: [...batch(0, 11n, 0), ...batch(5, 21n, 1)],
  }, { policies: ["intel-per-device", "intel-batched"] });
  const f = r.fidelity!;
  assert.equal(f.policy, "intel-batched@6.12.9");
  assert.deepEqual(
    [
      f.matched,
      f.missing,
      f.extra,
      f.requests,
      f.requests_matched,
      f.submissions_replayed,
      f.submissions_observed,
    ],
    [10, 0, 0, 2, 2, 2, 2],
  );
  assert.deepEqual(f.first_differences, []);
});

Deno.test("fidelity: per-device policy against the same trace: 3 extra p_iotlb per request missing", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    requests: [req(0, 10n, 0x100, 4)],
    observed_commands: batch(0, 11n, 0),
  }, { policies: ["intel-per-device"], fidelity: "intel-per-device" });
  const f = r.fidelity!;
  assert.deepEqual([f.matched, f.missing, f.extra, f.requests_matched], [5, 3, 0, 0]);
  assert.deepEqual(f.first_differences, [
    {
      request_id: 0,
      ts: 10n,
      side: "missing",
      key: "dmar0|p_iotlb_inv||0x100000|0x4000",
      count: 3,
    },
  ]);
  assert.equal(f.submissions_replayed, 8);
  assert.equal(f.submissions_observed, 1);
});

Deno.test("fidelity: commands go to the latest request on their CPU; ignored kinds; before any request", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    requests: [req(0, 10n, 0x100, 4, { cpu: 0 }), req(1, 12n, 0x200, 1, { cpu: 1 })],
    observed_commands: [
      observed(99, 5n, "p_iotlb_inv", { addr: 0n, size: 4096n }), // before any request
      ...batch(0, 13n, 0, 0), // cpu 0, after request 1 started on cpu 1
      observed(50, 14n, "pc_inv", { cpu: 1 }), // never emitted by the policy
    ],
  }, { policies: ["intel-batched"], fidelity: "intel-batched" });
  const f = r.fidelity!;
  assert.equal(f.matched, 5);
  assert.equal(f.extra, 0);
  assert.equal(f.ignored, 2);
  assert.deepEqual(f.ignored_by_reason, { outside_request: 1, kind: 1 });
  assert.equal(f.missing, 5); // request 1 (cpu 1) was not observed
  // one p_iotlb and one p_dev_tlb per device (the key names the device)
  assert.deepEqual(
    f.first_differences.map((d) => `${d.request_id} ${d.side} ${d.count} ${d.key}`),
    [
      "1 missing 1 dmar0|p_iotlb_inv||0x200000|0x1000",
      ...devs.map((d) => `1 missing 1 dmar0|p_dev_tlb_inv|${d}|0x200000|0x1000`),
    ],
  );
  assert.equal(f.requests_matched, 1);
});

Deno.test("fidelity: teardown, PRQ drain and another PASID's commands are not compared", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    requests: [req(0, 10n, 0x100, 4)],
    observed_commands: [
      ...batch(0, 11n, 0),
      // a DMA-API flush-queue flush of PASID 0 on the same CPU: not this request's
      observed(10, 30n, "p_iotlb_inv", { pasid: 0, domain_id: 4, granularity: "pasid" }),
      // the unbind of device 0: PASID-entry teardown, then the PRQ drain
      observed(11, 40n, "pc_inv", { fields: "ctx=teardown" }),
      observed(12, 41n, "p_iotlb_inv", { granularity: "pasid", fields: "ctx=teardown" }),
      observed(13, 42n, "p_dev_tlb_inv", {
        sid: 0x10,
        addr: 0n,
        size: 1n << 64n,
        fields: "s=1 ctx=teardown",
      }),
      observed(14, 50n, "inv_wait", { fields: "ctx=prq_drain" }),
      observed(15, 51n, "p_iotlb_inv", {
        domain_id: 2,
        granularity: "pasid",
        fields: "ctx=prq_drain",
      }),
      observed(16, 52n, "p_dev_tlb_inv", {
        sid: 0x10,
        addr: 0n,
        size: 4096n,
        fields: "ctx=prq_drain",
      }),
      // a command without a PASID agrees with any request: compared, and not replayed
      observed(17, 60n, "p_iotlb_inv", { pasid: null, addr: 0n, size: 4096n }),
    ],
  }, { policies: ["intel-batched"], fidelity: "intel-batched" });
  const f = r.fidelity!;
  assert.deepEqual([f.matched, f.missing, f.extra, f.ignored], [5, 0, 1, 7]);
  assert.deepEqual(f.ignored_by_reason, {
    outside_request: 1,
    kind: 2,
    teardown: 2,
    prq_drain: 2,
  });
  assert.deepEqual(f.first_differences, [
    { request_id: 0, ts: 10n, side: "extra", key: "dmar0|p_iotlb_inv||0x0|0x1000", count: 1 },
  ]);
  assert.equal(f.submissions_observed, 2);
});

Deno.test("fidelity: a 6.11 full flush is a PASID-selective p_iotlb and non-PASID dev_tlb_invs", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    kernel: "6.11.2",
    requests: [fullReq(0, 10n, { source: "cache_tag_flush_all" })],
    observed_commands: [
      observed(0, 11n, "p_iotlb_inv", { granularity: "pasid" }),
      ...devs.map((d, i) =>
        observed(1 + i, 12n, "dev_tlb_inv", { device: d, pasid: null, addr: 0n, size: 1n << 64n })
      ),
    ],
  }, { policies: ["ideal"] });
  assert.equal(r.policies.length, 1);
  assert.equal(r.fidelity!.policy, "intel-cache-tag@6.11.2");
  assert.deepEqual([r.fidelity!.matched, r.fidelity!.missing, r.fidelity!.extra], [5, 0, 0]);
});

Deno.test("fidelity: the kernel's own 2 MiB flush is a range, not a full flush (no second ceiling)", () => {
  const thp = { addr: 0x7f0000200000n, size: 0x200000n };
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    kernel: "6.12.9",
    requests: [req(0, 10n, 0x7f0000200, 512)], // cache_tag_flush_range [A, A + 2 MiB - 1]
    observed_commands: [
      observed(0, 11n, "p_iotlb_inv", { ...thp, granularity: "page" }),
      ...devs.map((d, i) => observed(1 + i, 12n, "p_dev_tlb_inv", { ...thp, device: d })),
    ],
  }, { policies: ["intel-batched"] });
  assert.deepEqual([r.fidelity!.matched, r.fidelity!.missing, r.fidelity!.extra], [5, 0, 0]);
  assert.equal(r.policies[0]!.full_flushes, 0);
});
