import assert from "node:assert/strict";
import { UsageError } from "./errors.ts";
import {
  emptyTopology,
  loadTopology,
  parseTopology,
  sidOfName,
  topologyToCanonical,
  topologyToJson,
  validateTopology,
} from "./topology.ts";

const good = {
  format: "iommu-replay-topology/1",
  kernel: "6.12.0",
  iommus: [{ name: "dmar0", vendor: "intel" }, { name: "dmar1" }],
  devices: [
    { name: "0000:6a:01.0", iommu: "dmar0", ats: true, pasid: true, qdep: 32 },
    { name: "0000:e7:02.0", iommu: "dmar1", ats: false },
    { name: "platform-dev", iommu: null, sid: 0x4000 },
  ],
  bindings: [
    { pid: 1234, devices: ["0000:6a:01.0", "0000:e7:02.0"], pasid: 2 },
    { comm: "dsa_test", devices: ["0000:6a:01.0"] },
    { mm: "0xffff888012345000", devices: ["platform-dev"], pasid: 9 },
  ],
};

function rejects(d: unknown, message: string): void {
  assert.throws(() => validateTopology(d, "t.json"), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("a valid topology: defaults and derived SIDs", () => {
  const t = validateTopology(good, "t.json");
  assert.equal(t.kernel, "6.12.0");
  assert.deepEqual(t.iommus, [{ name: "dmar0", vendor: "intel" }, {
    name: "dmar1",
    vendor: "unknown",
  }]);
  // 6a:01.0 -> 0x6a << 8 | 1 << 3 | 0 = 0x6a08
  assert.deepEqual(t.devices[0], {
    name: "0000:6a:01.0",
    iommu: "dmar0",
    sid: 0x6a08,
    ats: true,
    pasid: true,
    qdep: 32,
  });
  // e7:02.0 -> 0xe700 | 0x10 = 0xe710; unknown facts stay null
  assert.deepEqual(t.devices[1], {
    name: "0000:e7:02.0",
    iommu: "dmar1",
    sid: 0xe710,
    ats: false,
    pasid: null,
    qdep: null,
  });
  assert.equal(t.devices[2]!.sid, 0x4000);
  assert.deepEqual(t.bindings[1], {
    pid: null,
    comm: "dsa_test",
    mm: null,
    devices: ["0000:6a:01.0"],
    pasid: null,
  });
});

Deno.test("topologyToCanonical: one binding row per (binding, device)", () => {
  const rows = topologyToCanonical(validateTopology(good, "t.json"));
  assert.deepEqual(rows.iommus, [
    { iommu: "dmar0", vendor: "intel", source: "topology" },
    { iommu: "dmar1", vendor: "unknown", source: "topology" },
  ]);
  assert.deepEqual(rows.devices[1], {
    device: "0000:e7:02.0",
    sid: 0xe710,
    iommu: "dmar1",
    ats: false,
    pasid: null,
    qdep: null,
    source: "topology",
  });
  assert.equal(rows.bindings.length, 4);
  assert.deepEqual(rows.bindings[0], {
    binding_id: 0,
    mm: "pid:1234",
    pid: 1234,
    comm: null,
    pasid: 2,
    device: "0000:6a:01.0",
    iommu: "dmar0",
    domain_id: null,
    from_ts: null,
    to_ts: null,
    source: "topology",
  });
  assert.equal(rows.bindings[1]!.device, "0000:e7:02.0");
  assert.equal(rows.bindings[1]!.iommu, "dmar1");
  assert.equal(rows.bindings[2]!.mm, null);
  assert.equal(rows.bindings[2]!.comm, "dsa_test");
  assert.equal(rows.bindings[3]!.mm, "0xffff888012345000");
  assert.equal(rows.bindings[3]!.iommu, null);
});

Deno.test("validation errors name the file, the JSON path and the problem", () => {
  rejects(null, "t.json: $: must be a JSON object");
  rejects(
    { ...good, color: 1 },
    "t.json: $.color: unknown key (allowed: format, kernel, note, iommus, devices, bindings)",
  );
  rejects({ ...good, format: "x" }, 't.json: $.format: must be "iommu-replay-topology/1"');
  rejects({ format: good.format, iommus: [] }, "t.json: $.devices: missing required key");
  rejects(
    { ...good, iommus: [{ name: "dmar0", vendor: "nvidia" }] },
    "t.json: $.iommus[0].vendor: must be one of intel, arm-smmuv3, amd, unknown",
  );
  rejects(
    { ...good, iommus: [{ name: "a" }, { name: "a" }] },
    't.json: $.iommus[1].name: duplicate IOMMU "a"',
  );
  rejects(
    { ...good, devices: [{ name: "d", qdep: 33 }] },
    "t.json: $.devices[0].qdep: must be an integer 1..32 or null",
  );
  rejects(
    { ...good, devices: [{ name: "d", ats: "yes" }] },
    "t.json: $.devices[0].ats: must be true, false or null",
  );
  rejects(
    { ...good, devices: [{ name: "d", iommu: "dmar9" }] },
    't.json: $.devices[0].iommu: IOMMU "dmar9" is not listed in $.iommus',
  );
  rejects(
    { ...good, devices: [{ name: "d", sid: 70000 }] },
    "t.json: $.devices[0].sid: must be an integer 0..65535 or null",
  );
  rejects(
    { ...good, devices: [{ name: "" }] },
    "t.json: $.devices[0].name: must be a non-empty string",
  );
  rejects(
    { ...good, devices: [{ name: "d", bus: 1 }] },
    "t.json: $.devices[0].bus: unknown key (allowed: name, iommu, sid, ats, pasid, qdep)",
  );
  rejects(
    { ...good, bindings: [{ devices: ["0000:6a:01.0"] }] },
    "t.json: $.bindings[0]: needs at least one of pid, comm, mm",
  );
  rejects(
    { ...good, bindings: [{ pid: 1, devices: [] }] },
    "t.json: $.bindings[0].devices: must be a non-empty array of device names",
  );
  rejects(
    { ...good, bindings: [{ pid: 1, devices: ["nope"] }] },
    't.json: $.bindings[0].devices[0]: device "nope" is not listed in $.devices',
  );
  rejects(
    { ...good, bindings: [{ pid: 0, devices: ["0000:6a:01.0"] }] },
    "t.json: $.bindings[0].pid: must be an integer 1..1073741823 or null",
  );
  rejects(
    { ...good, bindings: [{ pid: 1, devices: ["0000:6a:01.0"], pasid: 1 << 20 }] },
    "t.json: $.bindings[0].pasid: must be an integer 1..1048575 or null",
  );
  rejects(
    { ...good, bindings: [{ comm: "a_very_long_process_name", devices: ["0000:6a:01.0"] }] },
    "t.json: $.bindings[0].comm: is longer than 15 characters (TASK_COMM_LEN)",
  );
});

Deno.test("JSON round trip, empty topology, files", async () => {
  const t = validateTopology(good, "t.json");
  assert.deepEqual(parseTopology(topologyToJson(t), "again.json"), t);
  const e = emptyTopology("no IOMMU");
  assert.deepEqual(parseTopology(topologyToJson(e), "e.json"), e);
  assert.throws(() => parseTopology("[1,", "bad.json"), /bad\.json: \$: not valid JSON/);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/t.json`, JSON.stringify(good));
  assert.equal((await loadTopology(`${dir}/t.json`)).devices.length, 3);
  await assert.rejects(loadTopology(`${dir}/none.json`), UsageError);
  await Deno.remove(dir, { recursive: true });
  assert.equal(sidOfName("0000:00:02.0"), 0x10);
  assert.equal(sidOfName("00:1f.7"), 0xff);
  assert.equal(sidOfName("dmar0"), null);
});
