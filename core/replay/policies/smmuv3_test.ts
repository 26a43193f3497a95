import assert from "node:assert/strict";
import { BindingState } from "../state.ts";
import { bind, topo } from "../testdata/fixtures.ts";
import { emitted, info } from "../testdata/recording_sink.ts";
import { smmuv3Btm } from "./smmuv3_btm.ts";
import { smmuv3NoBtm } from "./smmuv3_no_btm.ts";

const t = topo({ smmu0: "arm-smmuv3" }, [["a", "smmu0", true], ["b", "smmu0", false]]);
const view = new BindingState({ ...t, bindings: bind(t, "mm1", 5) }).viewFor({
  mm: "mm1",
  pasid: null,
}, 0n);

Deno.test("smmuv3-btm: only atc_inv per ATS master, sized by first/last page", () => {
  assert.deepEqual(emitted(smmuv3Btm.create({}), view, info(7, 4)), [
    "atc_inv@smmu0/a 0x0+16",
    "cmd_sync@smmu0",
  ]);
  assert.deepEqual(emitted(smmuv3Btm.create({}), view, info(0, 600)), [
    "atc_inv@smmu0/a all",
    "cmd_sync@smmu0",
  ]);
  assert.deepEqual(emitted(smmuv3Btm.create({ ril: true }), view, info(0, 600)), [
    "atc_inv@smmu0/a 0x0+1024",
    "cmd_sync@smmu0",
  ]);
});

Deno.test("smmuv3-no-btm: per-page TLBIs, then ATC, each set closed by cmd_sync", () => {
  assert.deepEqual(emitted(smmuv3NoBtm.create({}), view, info(7, 2)), [
    "tlbi_nh_va@smmu0 0x7+1",
    "tlbi_nh_va@smmu0 0x8+1",
    "cmd_sync@smmu0",
    "atc_inv@smmu0/a 0x0+16",
    "cmd_sync@smmu0",
  ]);
});

Deno.test("smmuv3-no-btm with RIL: windows of num * 2^scale pages", () => {
  // 0b1100000000110 = 6150 pages: 6 pages (scale 1, num 3), then 3 << 11 = 6144 pages (scale 11)
  assert.deepEqual(
    emitted(smmuv3NoBtm.create({ ril: true }), view, info(0x10000, 6150)).slice(0, 3),
    [
      "tlbi_nh_va@smmu0 0x10000+6",
      "tlbi_nh_va@smmu0 0x10006+6144",
      "cmd_sync@smmu0",
    ],
  );
  assert.equal(
    emitted(smmuv3NoBtm.create({ ril: true }), view, info(0, 2 ** 52, { full: true }))[0],
    "tlbi_nh_asid@smmu0 all",
  );
});

Deno.test("smmuv3: full 64-command batches go out unsynced; one cmd_sync per set", () => {
  // arm_smmu_cmdq_batch_add issues a full batch with sync = false; batch_submit syncs once.
  const log = emitted(smmuv3NoBtm.create({}), view, info(0, 130));
  assert.equal(log.filter((x) => x.startsWith("tlbi_nh_va")).length, 130);
  assert.deepEqual(log.filter((x) => x.startsWith("cmd_sync")), [
    "cmd_sync@smmu0",
    "cmd_sync@smmu0",
  ]);
  assert.equal(log[130], "cmd_sync@smmu0");
});

Deno.test("smmuv3: ARM_SMMU_OPT_CMDQ_FORCE_SYNC syncs every 63 commands", () => {
  const log = emitted(smmuv3NoBtm.create({ smmuForceSync: true }), view, info(0, 130));
  // TLBI set: 63 + sync, 63 + sync, 4 + sync; ATC set: 1 + sync
  assert.equal(log.filter((x) => x.startsWith("cmd_sync")).length, 3 + 1);
  assert.equal(log[63], "cmd_sync@smmu0");
  assert.equal(log[127], "cmd_sync@smmu0");
});
