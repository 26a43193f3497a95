import assert from "node:assert/strict";
import { BindingState } from "../state.ts";
import { bind, topo } from "../testdata/fixtures.ts";
import { emitted, info } from "../testdata/recording_sink.ts";
import { amdPerDevice } from "./amd_per_device.ts";

const t = topo({ ivhd0: "amd" }, [["a", "ivhd0", true], ["b", "ivhd0", false]]);
const view = new BindingState({ ...t, bindings: bind(t, "mm1", 5) }).viewFor({
  mm: "mm1",
  pasid: null,
}, 0n);

Deno.test("amd-per-device: per device inv_iommu_pages (+ inv_iotlb_pages) + completion_wait", () => {
  assert.deepEqual(emitted(amdPerDevice.create({}), view, info(7, 4)), [
    "inv_iommu_pages@ivhd0/a 0x0+16",
    "inv_iotlb_pages@ivhd0/a 0x0+16",
    "completion_wait@ivhd0",
    "inv_iommu_pages@ivhd0/b 0x0+16",
    "completion_wait@ivhd0",
  ]);
});

Deno.test("amd-per-device: msb_diff > 51 flushes all; CPU ceiling from 6.6; iommu_v2 before 6.7", () => {
  assert.equal(
    emitted(amdPerDevice.create({}), view, info(2 ** 40 - 1, 2, { dma: true }))[0],
    "inv_iommu_pages@ivhd0/a all",
  );
  assert.equal(
    emitted(amdPerDevice.create({}), view, info(2 ** 39 - 1, 2, { dma: true }))[0],
    "inv_iommu_pages@ivhd0/a 0x0+1099511627776",
  );
  assert.equal(
    emitted(amdPerDevice.create({}), view, info(0, 34))[0],
    "inv_iommu_pages@ivhd0/a all",
  );
  assert.equal(
    emitted(amdPerDevice.create({ kernel: "6.6" }), view, info(0, 2))[0],
    "inv_iommu_pages@ivhd0/a all",
  );
  assert.equal(
    emitted(amdPerDevice.create({ kernel: "6.6" }), view, info(5, 1))[0],
    "inv_iommu_pages@ivhd0/a 0x5+1",
  );
});
