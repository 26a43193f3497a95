import assert from "node:assert/strict";
import { BindingState } from "../state.ts";
import { bind, topo } from "../testdata/fixtures.ts";
import { emitted, info } from "../testdata/recording_sink.ts";
import { intelPerDevice } from "./intel_per_device.ts";

const t = topo({ dmar0: "intel" }, [["a", "dmar0", true], ["b", "dmar0", false]]);
const view = new BindingState({ ...t, bindings: bind(t, "mm1", 5) }).viewFor({
  mm: "mm1",
  pasid: null,
}, 0n);

Deno.test("intel-per-device 6.9: unaligned range in two aligned chunks, per device, one submission each", () => {
  const log = emitted(intelPerDevice.create({}), view, info(0x102, 4));
  assert.deepEqual(log, [
    "p_iotlb_inv@dmar0/a 0x100+4",
    "inv_wait@dmar0",
    "p_dev_tlb_inv@dmar0/a 0x100+4",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar0/a 0x104+4",
    "inv_wait@dmar0",
    "p_dev_tlb_inv@dmar0/a 0x104+4",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar0/b 0x100+4",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar0/b 0x104+4",
    "inv_wait@dmar0",
  ]);
});

Deno.test("intel-per-device 5.10: one unaligned chunk; devTLB sized by first/last page", () => {
  const log = emitted(intelPerDevice.create({ kernel: "5.10" }), view, info(0x102, 4));
  assert.deepEqual(log.slice(0, 4), [
    "p_iotlb_inv@dmar0/a 0x100+4", // mask 2 with an unaligned address: hardware flushes 0x100-0x103
    "inv_wait@dmar0",
    "p_dev_tlb_inv@dmar0/a 0x100+8", // fls(0x102 ^ 0x105) = 3
    "inv_wait@dmar0",
  ]);
  // no CPU ceiling before 6.6: 34 pages stay a range
  assert.equal(
    emitted(intelPerDevice.create({ kernel: "5.10" }), view, info(0x1000, 34))[0],
    "p_iotlb_inv@dmar0/a 0x1000+64",
  );
});

Deno.test("intel-per-device: full flush (and > 33 pages on 6.6+) is PASID-selective per device", () => {
  const want = [
    "p_iotlb_inv@dmar0/a all",
    "inv_wait@dmar0",
    "p_dev_tlb_inv@dmar0/a all",
    "inv_wait@dmar0",
    "p_iotlb_inv@dmar0/b all",
    "inv_wait@dmar0",
  ];
  assert.deepEqual(
    emitted(intelPerDevice.create({}), view, info(0, 2 ** 52, { full: true })),
    want,
  );
  assert.deepEqual(emitted(intelPerDevice.create({}), view, info(0x1000, 34)), want);
  assert.deepEqual(
    emitted(intelPerDevice.create({ cpuCeilingPages: 64 }), view, info(0x1000, 34))[0],
    "p_iotlb_inv@dmar0/a 0x1000+64",
  );
});
