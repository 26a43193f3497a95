import assert from "node:assert/strict";
import type { BindingRow } from "../canonical.ts";
import { UsageError } from "../errors.ts";
import { BindingState } from "./state.ts";
import { bind, topo } from "./testdata/fixtures.ts";

const t = topo({ dmar10: "intel", dmar2: "intel" }, [
  ["0000:00:02.0", "dmar2", true],
  ["0000:00:01.0", "dmar2", false],
  ["0000:00:03.0", "dmar10", true],
]);

Deno.test("view: IOMMUs in natural order, groups by domain, devices contiguous", () => {
  const bindings = [
    ...bind(t, "mm1", 5),
    // a second domain on dmar2 for a device not in the topology: iommu from the binding, no ATS
    ...bind(t, "mm1", 5, ["0000:00:09.0"], { firstId: 10, iommu: "dmar2", domain_id: 7 }),
  ];
  const st = new BindingState({ ...t, bindings });
  const v = st.viewFor({ mm: "mm1", pasid: null }, 0n);
  assert.deepEqual(v.iommuName, ["dmar2", "dmar10"]);
  assert.equal(v.groupCount, 3);
  assert.deepEqual([...v.groupIommu], [0, 0, 1]);
  assert.deepEqual(v.groupDomain, [1, 7, 1]);
  assert.deepEqual(v.deviceName, ["0000:00:01.0", "0000:00:02.0", "0000:00:09.0", "0000:00:03.0"]);
  assert.deepEqual([...v.deviceAts], [0, 1, 0, 1]);
  assert.deepEqual([...v.groupDeviceStart], [0, 2, 3]);
  assert.deepEqual([...v.groupDeviceEnd], [2, 3, 4]);
  assert.deepEqual([...v.iommuGroupStart, ...v.iommuGroupEnd], [0, 2, 2, 3]);
  assert.deepEqual(v.deviceSid, [0x11, 0x10, null, 0x12]);
  assert.equal(v.atsCount, 2);
  assert.equal(v.pasid, 5);
});

Deno.test("view: bindings are active on [from, to); cached per interval; random access works", () => {
  const bindings: BindingRow[] = [
    ...bind(t, "mm1", 5, ["0000:00:02.0"], { from_ts: 100n, to_ts: 200n }),
    ...bind(t, "mm1", 5, ["0000:00:03.0"], { firstId: 1, from_ts: 150n, to_ts: null }),
  ];
  const st = new BindingState({ ...t, bindings });
  const n = (ts: bigint) => st.viewFor({ mm: "mm1", pasid: null }, ts).deviceCount;
  assert.deepEqual([n(99n), n(100n), n(149n), n(150n), n(199n), n(200n), n(10_000n)], [
    0,
    1,
    1,
    2,
    2,
    1,
    1,
  ]);
  assert.equal(n(120n), 1); // backwards
  const a = st.viewFor({ mm: "mm1", pasid: null }, 160n);
  assert.equal(st.viewFor({ mm: "mm1", pasid: null }, 170n), a); // same interval, same object
  assert.deepEqual(st.viewFor({ mm: "mm1", pasid: null }, 250n).deviceName, ["0000:00:03.0"]);
});

Deno.test("view: by PASID when the request has no mm; DMA bindings have neither", () => {
  const bindings: BindingRow[] = [
    ...bind(t, "mm1", 5, ["0000:00:02.0"]),
    ...bind(t, "mm2", 6, ["0000:00:03.0"], { firstId: 1 }),
    { ...bind(t, "x", 0, ["0000:00:01.0"], { firstId: 2 })[0]!, mm: null, pasid: null },
  ];
  const st = new BindingState({ ...t, bindings });
  assert.deepEqual(st.viewFor({ mm: null, pasid: 6 }, 0n).deviceName, ["0000:00:03.0"]);
  assert.deepEqual(st.viewFor({ mm: null, pasid: null }, 0n).deviceName, ["0000:00:01.0"]);
  assert.equal(st.viewFor({ mm: "nobody", pasid: 5 }, 0n).deviceCount, 0);
  assert.equal(st.viewFor({ mm: null, pasid: 99 }, 0n).key, "pasid:99");
});

Deno.test("state queries: pasidsOf, mmsOf, snapshot, isPasidBound", () => {
  const bindings: BindingRow[] = [
    ...bind(t, "mm1", 5, ["0000:00:02.0", "0000:00:01.0"], { from_ts: 100n, to_ts: 200n }),
    ...bind(t, "mm2", 6, ["0000:00:03.0"], { firstId: 2 }),
  ];
  const st = new BindingState({ ...t, bindings });
  assert.deepEqual(st.pasidsOf("mm1", 150n), [5]);
  assert.deepEqual(st.pasidsOf("mm1", 250n), []);
  assert.deepEqual(st.mmsOf(6, 0n), ["mm2"]);
  assert.deepEqual(st.snapshot(150n).mms, [
    // bindings open since before the trace come first
    {
      mm: "mm2",
      pasids: [{
        pasid: 6,
        domains: [{ iommu: "dmar10", domain_id: 1, devices: ["0000:00:03.0"] }],
      }],
    },
    {
      mm: "mm1",
      pasids: [{
        pasid: 5,
        domains: [{ iommu: "dmar2", domain_id: 1, devices: ["0000:00:02.0", "0000:00:01.0"] }],
      }],
    },
  ]);
  assert.equal(st.isPasidBound(5, 199n, "dmar2", 0n), true);
  assert.equal(st.isPasidBound(5, 200n, "dmar2", 0n), false);
  assert.equal(st.isPasidBound(5, 200n, "dmar2", 1n), true);
  assert.equal(st.isPasidBound(5, 150n, "dmar10", 0n), false);
  assert.equal(st.isPasidBound(5, 150n, null, 0n), true);
  assert.equal(st.iommuOf("0000:00:03.0"), "dmar10");
});

Deno.test("state: a binding that ends before it starts is a UsageError", () => {
  assert.throws(
    () =>
      new BindingState({
        ...t,
        bindings: bind(t, "m", 1, ["0000:00:02.0"], { from_ts: 5n, to_ts: 4n }),
      }),
    (e: unknown) => e instanceof UsageError && /binding 0/.test(e.message),
  );
});
