import assert from "node:assert/strict";
import { replay } from "./run.ts";
import { bind, fourAtsOneIommu, observed, req } from "./testdata/fixtures.ts";

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

Deno.test("fidelity: commands go to the latest request on their CPU; ignored kinds; unassigned", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    requests: [req(0, 10n, 0x100, 4, { cpu: 0 }), req(1, 12n, 0x200, 1, { cpu: 1 })],
    observed_commands: [
      observed(99, 5n, "p_iotlb_inv", { addr: 0n, size: 4096n }), // before any request: extra
      ...batch(0, 13n, 0, 0), // cpu 0, after request 1 started on cpu 1
      observed(50, 14n, "pc_inv", { cpu: 1 }), // never emitted by the policy
    ],
  }, { policies: ["intel-batched"], fidelity: "intel-batched" });
  const f = r.fidelity!;
  assert.equal(f.matched, 5);
  assert.equal(f.extra, 1);
  assert.equal(f.ignored, 1);
  assert.equal(f.missing, 5); // request 1 (cpu 1) was not observed
  assert.equal(f.first_differences[0]!.request_id, null);
  assert.equal(f.requests_matched, 1);
});

Deno.test("fidelity: full-scope commands compare as `all`; hidden run does not appear in summaries", () => {
  const r = replay({
    ...t,
    bindings: bind(t, "mm1", 5),
    kernel: "6.11.2",
    requests: [req(0, 10n, 0x100, 40, { source: "mmu_notifier" })], // > 33 pages: full flush
    observed_commands: [
      observed(0, 11n, "p_iotlb_inv", { granularity: "pasid" }),
      ...devs.map((d, i) =>
        observed(1 + i, 12n, "p_dev_tlb_inv", { device: d, addr: 0n, size: 1n << 64n })
      ),
    ],
  }, { policies: ["ideal"] });
  assert.equal(r.policies.length, 1);
  assert.equal(r.fidelity!.policy, "intel-cache-tag@6.11.2");
  assert.deepEqual([r.fidelity!.matched, r.fidelity!.missing, r.fidelity!.extra], [5, 0, 0]);
});
