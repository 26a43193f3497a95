import assert from "node:assert/strict";
import { BindingState } from "../state.ts";
import { bind, topo } from "../testdata/fixtures.ts";
import { emitted, info } from "../testdata/recording_sink.ts";
import { intelBatched } from "./intel_batched.ts";
import { intelCacheTag } from "./intel_cache_tag.ts";
import { intelCacheTag6100 } from "./intel_cache_tag_6_10_0.ts";

const t = topo({ dmar0: "intel", dmar1: "intel" }, [["a", "dmar0", true], ["b", "dmar0", false], [
  "c",
  "dmar1",
  true,
]]);
const view = new BindingState({ ...t, bindings: bind(t, "mm1", 5) }).viewFor({
  mm: "mm1",
  pasid: null,
}, 0n);

Deno.test("intel-cache-tag: one p_iotlb per IOMMU, one p_dev_tlb per ATS device, each submitted alone", () => {
  assert.deepEqual(emitted(intelCacheTag.create({}), view, info(0x102, 4)), [
    "p_iotlb_inv@dmar0 0x100+8",
    "inv_wait@dmar0",
    "p_dev_tlb_inv@dmar0/a 0x100+8",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar1 0x100+8",
    "inv_wait@dmar1",
    "p_dev_tlb_inv@dmar1/c 0x100+8",
    "inv_wait@dmar1",
  ]);
});

Deno.test("intel-cache-tag-6.10.0: the p_iotlb keeps roundup_pow2(pages) at the widened address", () => {
  assert.deepEqual(emitted(intelCacheTag6100.create({}), view, info(3, 2)).slice(0, 3), [
    "p_iotlb_inv@dmar0 0x0+2",
    "inv_wait@dmar0",
    "p_dev_tlb_inv@dmar0/a 0x0+8",
  ]);
  // aligned ranges are unaffected
  assert.equal(
    emitted(intelCacheTag6100.create({}), view, info(4, 4))[0],
    "p_iotlb_inv@dmar0 0x4+4",
  );
});

Deno.test("intel-batched: one submission per IOMMU; full flush is PASID-selective", () => {
  assert.deepEqual(emitted(intelBatched.create({}), view, info(0, 2 ** 52, { full: true })), [
    "p_iotlb_inv@dmar0 all",
    "p_dev_tlb_inv@dmar0/a all",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar1 all",
    "p_dev_tlb_inv@dmar1/c all",
    "inv_wait@dmar1",
  ]);
});

Deno.test("intel-batched: at most 16 descriptors per submission", () => {
  const many = topo(
    { dmar0: "intel" },
    Array.from({ length: 20 }, (_, i) => [`d${i}`, "dmar0", true] as [string, string, boolean]),
  );
  const v = new BindingState({ ...many, bindings: bind(many, "mm1", 5) }).viewFor({
    mm: "mm1",
    pasid: null,
  }, 0n);
  const log = emitted(intelBatched.create({}), v, info(0, 1));
  assert.equal(log.length, 21 + 2);
  assert.equal(log[16], "inv_wait@dmar0");
  assert.equal(log[22], "inv_wait@dmar0");
  assert.equal(
    emitted(intelBatched.create({ maxBatch: 4 }), v, info(0, 1)).filter((x) =>
      x.startsWith("inv_wait")
    ).length,
    6,
  );
});
