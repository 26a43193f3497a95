import assert from "node:assert/strict";
import { BindingState } from "../state.ts";
import { bind, topo } from "../testdata/fixtures.ts";
import { emitted, info } from "../testdata/recording_sink.ts";
import { ideal } from "./ideal.ts";

Deno.test("ideal: exact range, one IOTLB command per IOMMU, vendor names", () => {
  const t = topo({ dmar0: "intel", smmu0: "arm-smmuv3", ivhd0: "amd" }, [
    ["a", "dmar0", true],
    ["b", "dmar0", true],
    ["c", "smmu0", true],
    ["d", "ivhd0", false],
  ]);
  const bindings = [
    ...bind(t, "mm1", 5, ["a"]),
    ...bind(t, "mm1", 5, ["b"], { firstId: 1, domain_id: 2 }),
    ...bind(t, "mm1", 5, ["c", "d"], { firstId: 2 }),
  ];
  const view = new BindingState({ ...t, bindings }).viewFor({ mm: "mm1", pasid: null }, 0n);
  assert.deepEqual(emitted(ideal.create({}), view, info(0x103, 3)), [
    "p_iotlb_inv@dmar0 0x103+3",
    "p_dev_tlb_inv@dmar0/a 0x103+3",
    "p_dev_tlb_inv@dmar0/b 0x103+3",
    "inv_wait@dmar0",
    "inv_iommu_pages@ivhd0 0x103+3",
    "completion_wait@ivhd0",
    "tlbi_nh_va@smmu0 0x103+3",
    "atc_inv@smmu0/c 0x103+3",
    "cmd_sync@smmu0",
  ]);
  assert.equal(
    emitted(ideal.create({}), view, info(0, 2 ** 52, { full: true }))[0],
    "p_iotlb_inv@dmar0 all",
  );
  assert.equal(
    emitted(ideal.create({}), view, info(0, 1, { dma: true }))[0],
    "iotlb_inv@dmar0 0x0+1",
  );
});
