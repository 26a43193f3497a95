/**
 * The checkable claims of iommu.md §5, reproduced on constructed rows.
 */
import assert from "node:assert/strict";
import { replay } from "./run.ts";
import { bind, fourAtsOneIommu, req, topo } from "./testdata/fixtures.ts";

const K12_POLICIES = ["intel-per-device", "intel-cache-tag", "intel-batched"];

function k12(requests = [req(0, 10n, 0x100, 4)]) {
  const t = fourAtsOneIommu();
  return replay({ ...t, bindings: bind(t, "mm1", 5), requests }, { policies: K12_POLICIES });
}

Deno.test("K1: 4 ATS devices behind one IOMMU: 4 -> 1 p_iotlb_inv per range", () => {
  const [perDev, cacheTag, batched] = k12().policies;
  assert.equal(perDev!.descriptors["p_iotlb_inv"], 4);
  assert.equal(cacheTag!.descriptors["p_iotlb_inv"], 1);
  assert.equal(batched!.descriptors["p_iotlb_inv"], 1);
});

Deno.test("K2: aligned range: descriptors 8 -> 5 -> 5, submissions 8 -> 5 -> 1", () => {
  const [perDev, cacheTag, batched] = k12().policies;
  const descs = (p: typeof perDev) =>
    p!.descriptors["p_iotlb_inv"]! + p!.descriptors["p_dev_tlb_inv"]!;
  assert.deepEqual([descs(perDev), descs(cacheTag), descs(batched)], [8, 5, 5]);
  assert.deepEqual([perDev!.submissions, cacheTag!.submissions, batched!.submissions], [8, 5, 1]);
  assert.deepEqual(
    [
      perDev!.descriptors["inv_wait"],
      cacheTag!.descriptors["inv_wait"],
      batched!.descriptors["inv_wait"],
    ],
    [8, 5, 1],
  );
});

Deno.test("K2: unaligned range doubles pre-6.10 counts (2 chunks) but not 6.10+", () => {
  // pfn 0x102..0x105: 4 pages, not 4-aligned -> chunks [0x100,0x104) and [0x104,0x108)
  const [perDev, cacheTag, batched] = k12([req(0, 10n, 0x102, 4)]).policies;
  assert.equal(perDev!.submissions, 16);
  assert.equal(cacheTag!.submissions, 5);
  assert.equal(batched!.submissions, 1);
  // 6.10+: one block; mask = lowest zero bit >= 2 of 0x102 ^ 0x105 = 0b111 -> 3 (8 pages)
  assert.equal(cacheTag!.pages_invalidated, 5n * 8n);
  assert.equal(perDev!.pages_invalidated, 5n * 8n);
  assert.equal(cacheTag!.pages_requested, 5n * 4n);
});

Deno.test("K2: modeled time under bare-metal-vtd, computed by hand", () => {
  const [perDev, cacheTag, batched] = k12().policies;
  // per-device: 8 x 500 + 4 x 50 + 4 x 500 ; cache-tag: 5 x 500 + 50 + 4 x 500 ; batched: 500 + 50 + 2000
  assert.equal(perDev!.modeled_ns, 6200);
  assert.equal(cacheTag!.modeled_ns, 4550);
  assert.equal(batched!.modeled_ns, 2550);
  assert.equal(batched!.ratio_to_baseline.modeled_ns, 2550 / 6200);
  assert.equal(cacheTag!.ratio_to_baseline.submissions, 5 / 8);
});

Deno.test("K3: one vIOMMU, N devices: trapped submissions per range N -> 1", () => {
  const t = fourAtsOneIommu();
  const r = replay(
    { ...t, bindings: bind(t, "mm1", 5), requests: [req(0, 10n, 0, 1)] },
    { policies: ["intel-per-device", "intel-batched"], costModel: "viommu-trap" },
  );
  assert.equal(r.policies[0]!.traps, 8);
  assert.equal(r.policies[1]!.traps, 1);
  // batched: 500 + 7000 + 50 + 4 x 500
  assert.equal(r.policies[1]!.modeled_ns, 9550);
});

Deno.test("K6: SMMUv3 waits serially per instance; ideal waits in parallel", () => {
  const t = topo({ smmu0: "arm-smmuv3", smmu1: "arm-smmuv3", smmu2: "arm-smmuv3" }, [
    ["a", "smmu0", true],
    ["b", "smmu1", true],
    ["c", "smmu2", true],
  ]);
  const r = replay(
    { ...t, bindings: bind(t, "mm1", 5), requests: [req(0, 10n, 0x40, 2)] },
    { policies: ["smmuv3-no-btm", "ideal"], costModel: "smmuv3" },
  );
  const [smmu, ideal] = r.policies;
  // per instance: 2 tlbi_nh_va + cmd_sync, then atc_inv + cmd_sync
  assert.equal(smmu!.descriptors["tlbi_nh_va"], 6);
  assert.equal(smmu!.descriptors["cmd_sync"], 6);
  assert.equal(smmu!.modeled_ns, 3 * (500 + 2 * 50 + 500 + 500));
  // ideal: per instance one tlbi + one atc_inv + one cmd_sync, the 3 instances in parallel
  assert.equal(ideal!.descriptors["cmd_sync"], 3);
  assert.equal(ideal!.modeled_ns, 500 + 50 + 500);
});

Deno.test("K8: SMMUv3 without RIL: ranges >= 512 pages become one tlbi_nh_asid", () => {
  const t = topo({ smmu0: "arm-smmuv3" }, [["a", "smmu0", false]]);
  const run = (pages: number) =>
    replay(
      { ...t, bindings: bind(t, "mm1", 5), requests: [req(0, 10n, 0x1000, pages)] },
      { policies: ["smmuv3-no-btm"] },
    ).policies[0]!;
  const below = run(511), at = run(512);
  assert.equal(below.descriptors["tlbi_nh_va"], 511);
  assert.equal(below.descriptors["tlbi_nh_asid"], 0);
  assert.equal(below.submissions, 1); // 8 batches of <= 64 commands, only the last one synced
  assert.equal(at.descriptors["tlbi_nh_va"], 0);
  assert.equal(at.descriptors["tlbi_nh_asid"], 1);
  assert.equal(at.submissions, 1);
  assert.equal(at.full_flushes, 1);
});

Deno.test("K8: with RIL the TLBI count is one per 5-bit window of the page count", () => {
  const t = topo({ smmu0: "arm-smmuv3" }, [["a", "smmu0", false]]);
  const run = (pages: number) =>
    replay(
      { ...t, bindings: bind(t, "mm1", 5), requests: [req(0, 10n, 0x1000, pages)] },
      { policies: ["smmuv3-no-btm"], policyOptions: { ril: true } },
    ).policies[0]!;
  assert.equal(run(512).descriptors["tlbi_nh_va"], 1); // 16 x 2^5
  assert.equal(run(0b11_00000_00110).descriptors["tlbi_nh_va"], 2); // windows 0b110 (scale 1) and 0b11 (scale 10)
  // 1 page, non-leaf: bumped to 2 pages, one command
  const one = run(1);
  assert.equal(one.descriptors["tlbi_nh_va"], 1);
  assert.equal(one.pages_invalidated, 2n);
  assert.equal(one.uncovered, 0);
});

Deno.test("K9: x86 (v6.6+): ranges > 33 pages reach the IOMMU as a full flush", () => {
  const t = fourAtsOneIommu();
  const run = (pages: number, kernel?: string) =>
    replay(
      {
        ...t,
        bindings: bind(t, "mm1", 5),
        requests: [req(0, 10n, 0x1000, pages, { source: "munmap" })],
      },
      { policies: [kernel ? `intel-cache-tag@${kernel}` : "intel-cache-tag"] },
    ).policies[0]!;
  assert.equal(run(33).full_flushes, 0);
  assert.equal(run(33).pages_invalidated, 5n * 64n); // 33 pages -> mask 6
  assert.equal(run(34).full_flushes, 5); // PASID-selective p_iotlb + 4 whole-range p_dev_tlb
  assert.equal(run(34).pages_requested, 0n);
  // before v6.6 the notifier saw the raw range
  assert.equal(run(34, "6.5").full_flushes, 0);
  // the ideal policy keeps the raw range
  const ideal = replay(
    { ...t, bindings: bind(t, "mm1", 5), requests: [req(0, 10n, 0x1000, 34)] },
    { policies: ["ideal"] },
  ).policies[0]!;
  assert.equal(ideal.full_flushes, 0);
  assert.equal(ideal.pages_invalidated, 5n * 34n);
});

Deno.test("K10: v6.10.0 under-invalidates unaligned first-level ranges; the fixed code does not", () => {
  const t = fourAtsOneIommu();
  // pfn 3-4: mask 3 -> block 0-7, but the buggy p_iotlb covers pfn 0-1 only
  const r = replay(
    { ...t, bindings: bind(t, "mm1", 5), requests: [req(0, 10n, 3, 2), req(1, 20n, 4, 4)] },
    { policies: ["intel-cache-tag-6.10.0", "intel-cache-tag"] },
  );
  const [buggy, fixed] = r.policies;
  assert.equal(buggy!.uncovered, 1); // the IOTLB of dmar0 for request 0; ATCs are fine
  assert.equal(fixed!.uncovered, 0);
  const a = r.anomalies.filter((x) => x.kind === "uncovered_range");
  assert.equal(a.length, 1);
  assert.equal(a[0]!.policy, "intel-cache-tag-6.10.0");
  assert.equal(a[0]!.request_id, 0);
  assert.equal(a[0]!.pasid, 5);
  assert.match(a[0]!.detail, /IOTLB of dmar0.*needs pfn 0x3-0x4.*covered pfn 0x0-0x1/);
  // aligned request 1 is correct in both
  assert.equal(buggy!.pages_invalidated, 2n + 4n * 8n + 5n * 4n);
});
