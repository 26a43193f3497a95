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

Deno.test("intel-batched: full flush: PASID-selective p_iotlb, non-PASID dev_tlb until 6.17", () => {
  const all = info(0, 2 ** 52, { full: true, source: "cache_tag_flush_all" });
  assert.deepEqual(emitted(intelBatched.create({}), view, all), [
    "p_iotlb_inv@dmar0 all",
    "dev_tlb_inv@dmar0/a all",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar1 all",
    "dev_tlb_inv@dmar1/c all",
    "inv_wait@dmar1",
  ]);
  // v6.17 (3141153816bf): the devTLB part of a full flush carries the PASID
  assert.deepEqual(emitted(intelBatched.create({ kernel: "6.17" }), view, all).slice(0, 3), [
    "p_iotlb_inv@dmar0 all",
    "p_dev_tlb_inv@dmar0/a all",
    "inv_wait@dmar0",
  ]);
  // the cache-tag code had the non-PASID form from the start (v6.10)
  for (const p of [intelCacheTag.create({}), intelCacheTag6100.create({})]) {
    assert.equal(emitted(p, view, all)[2], "dev_tlb_inv@dmar0/a all");
  }
});

Deno.test("intel-batched: a range whose mask reaches 52 bits stays a PASID p_dev_tlb (flush_range)", () => {
  // pfn 2^51 - 1 .. 2^51: the lowest bit both share above bit 0 is bit 52 (MAX_AGAW_PFN_WIDTH)
  const wide = info(2 ** 51 - 1, 2, { source: "cache_tag_flush_range" });
  assert.deepEqual(emitted(intelBatched.create({}), view, wide).slice(0, 2), [
    "p_iotlb_inv@dmar0 all",
    "p_dev_tlb_inv@dmar0/a all",
  ]);
});

Deno.test("cache-tag policies: the x86 ceiling applies to what-if ranges, not the kernel's own", () => {
  // a 2 MiB THP range: the kernel flushed it as one mask-9 block (the ceiling counts 2 MiB strides)
  const kernelRange = info(0x7f0000200, 512, { source: "cache_tag_flush_range" });
  const mmuNotifier = info(0x7f0000200, 512, { source: "mmu_notifier" });
  const syscall = info(0x7f0000200, 512, { source: "munmap" });
  const p = intelBatched.create({});
  assert.deepEqual(emitted(p, view, kernelRange).slice(0, 2), [
    "p_iotlb_inv@dmar0 0x7f0000200+512",
    "p_dev_tlb_inv@dmar0/a 0x7f0000200+512",
  ]);
  assert.deepEqual(emitted(p, view, mmuNotifier), emitted(p, view, kernelRange));
  // a munmap of 512 pages in a what-if replay goes over the 33-page ceiling: flush_all
  assert.deepEqual(emitted(p, view, syscall).slice(0, 2), [
    "p_iotlb_inv@dmar0 all",
    "dev_tlb_inv@dmar0/a all",
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
