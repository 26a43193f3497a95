import assert from "node:assert/strict";
import { normalize } from "../../core/normalize/normalize.ts";
import { SMMU, smmuv3Probes } from "./smmuv3_probes.ts";

const us = (n: number) => BigInt(n) * 1000n;

Deno.test("SMMUv3 captured with probes: bindings, exact requests, decoded command lists", () => {
  const t = normalize(smmuv3Probes().events);
  assert.deepEqual(t.iommus, [{ iommu: SMMU.iommu, vendor: "arm-smmuv3", source: "probe" }]);
  // The masters named by the bind probe are placed behind the SMMU by the SIDs of their ATC_INV.
  assert.deepEqual(t.devices, [
    {
      device: "0000:01:00.0",
      sid: 0x100,
      iommu: SMMU.iommu,
      ats: true,
      pasid: true,
      qdep: null,
      source: "probe",
    },
    {
      device: "0000:02:00.0",
      sid: 0x200,
      iommu: SMMU.iommu,
      ats: true,
      pasid: true,
      qdep: null,
      source: "probe",
    },
  ]);
  assert.deepEqual(t.bindings, [
    {
      binding_id: 0,
      mm: "0xffff000012340000",
      pid: 4000,
      comm: "accel",
      pasid: 1,
      device: "0000:01:00.0",
      iommu: SMMU.iommu,
      domain_id: null,
      from_ts: us(200),
      to_ts: us(3000),
      source: "sva_bind",
    },
    {
      binding_id: 1,
      mm: "0xffff000012340000",
      pid: 4000,
      comm: "accel",
      pasid: 1,
      device: "0000:02:00.0",
      iommu: SMMU.iommu,
      domain_id: null,
      from_ts: us(300),
      to_ts: us(3100),
      source: "sva_bind",
    },
  ]);
  const base = { cpu: 2, mm: "0xffff000012340000", pid: 4000, pasid: 1, source: "mmu_notifier" };
  assert.deepEqual(t.requests, [
    {
      request_id: 0,
      ts: us(1000),
      ...base,
      start: 0x7f0000001000n,
      end: 0x7f0000003000n,
      pages: 2n,
      full: false,
    },
    {
      request_id: 1,
      ts: us(2000),
      ...base,
      start: 0n,
      end: (1n << 64n) - 1n,
      pages: 1n << 52n,
      full: true,
    },
  ]);
  assert.deepEqual(
    t.observed_commands.map((
      c,
    ) => [
      c.submission_id,
      c.kind,
      c.domain_id,
      c.pasid,
      c.sid,
      c.device,
      c.addr,
      c.size,
      c.granularity,
    ]),
    [
      [0, "tlbi_nh_va", 3, null, null, null, 0x7f0000001000n, 0x1000n, "va"],
      [0, "tlbi_nh_va", 3, null, null, null, 0x7f0000002000n, 0x1000n, "va"],
      // pages 0x7f0000001..2: fls(1 ^ 2) = 2 -> 4 pages at page 0x7f0000000
      [1, "atc_inv", null, 1, 0x100, "0000:01:00.0", 0x7f0000000000n, 0x4000n, "range"],
      [1, "atc_inv", null, 1, 0x200, "0000:02:00.0", 0x7f0000000000n, 0x4000n, "range"],
      [2, "tlbi_nh_asid", 3, null, null, null, null, null, "asid"],
      [3, "atc_inv", null, 1, 0x100, "0000:01:00.0", null, null, "all"],
      [3, "atc_inv", null, 1, 0x200, "0000:02:00.0", null, null, "all"],
    ],
  );
  // cmd0 = SID 0x100 << 32 | SSID 1 << 12 | SSV 1 << 11 | 0x40; cmd1 = address | SIZE 2
  assert.equal(t.observed_commands[2]!.raw, "0x10000001840 0x7f0000000002");
  assert.equal(t.observed_commands[2]!.fields, "ssv=1 global=0 size_log2=2");
  assert.deepEqual(t.statements, [
    "bindings from SVA bind / set_dev_pasid probe events",
    "SVA requests from the mmu-notifier probe (exact mm ranges)",
    "mm ids are kernel pointers where exit_mmap or probes named them, else pid:<pid>",
    "1 probe events filtered out by their mapping's where clause",
  ]);
});
