/**
 * An ARM SMMUv3 system (Linux 6.12, no range invalidation, no BTM) captured with the shipped probe
 * mappings (`core/probes/core.json`, `core/probes/smmuv3.json`): mainline has no SMMUv3
 * invalidation tracepoint, so everything comes from probe events.
 *
 * One SMMU (`smmu3.0x0000000009050000`), two ATS masters `0000:01:00.0` (SID 0x100) and
 * `0000:02:00.0` (SID 0x200), one process `accel` (pid 4000, mm 0xffff000012340000) with PASID 1;
 * the SVA domain's ASID is 3.
 *
 * | t (µs) | event |
 * |---|---|
 * | 100 | `iommu_replay:attach_device_pasid` 0000:00:1f.0 PASID 0 type 3 (a DMA domain: filtered by `where`) |
 * | 200, 300 | `attach_device_pasid` for each master, PASID 1, type 16 (SVA), mm |
 * | 1000 | `mmu_notifier_invalidate` mm [0x7f0000001000, 0x7f0000003000) |
 * | 1001 | `smmu_cmdq_issue`: TLBI_NH_VA ASID 3 at 0x7f0000001000 and 0x7f0000002000 (n=2, sync) |
 * | 1003 | `smmu_cmdq_issue`: ATC_INV SSID 1 SID 0x100 and SID 0x200, 16 KiB at 0x7f0000000000 (n=2, sync) |
 * | 2000 | `mmu_notifier_invalidate` mm (0, ULONG_MAX) |
 * | 2001 | `smmu_cmdq_issue`: TLBI_NH_ASID 3 (n=1, sync) |
 * | 2003 | `smmu_cmdq_issue`: ATC_INV SSID 1, SIZE 52 (all), for both SIDs (n=2, sync) |
 * | 3000, 3100 | `detach_device_pasid` for each master |
 *
 * The ATC range follows `arm_smmu_atc_inv_to_cmd`: pages 0x7f0000001..0x7f0000002, span
 * `fls(1 ^ 2) = 2`, so 2^2 pages at page 0x7f0000000.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import { type EventCtx, probeEvent } from "./kernel_events.ts";
import type { Scenario } from "./vtd_sva.ts";

/** A master of the SMMUv3 scenario. */
export interface SmmuMaster {
  /** Device name. */
  name: string;
  /** Stream id. */
  sid: number;
}
/** Names and numbers of the scenario. */
export const SMMU: Readonly<{
  iommu: string;
  masters: readonly SmmuMaster[];
  pid: number;
  comm: string;
  mm: bigint;
  pasid: number;
  asid: number;
}> = Object.freeze({
  iommu: "smmu3.0x0000000009050000",
  masters: [
    { name: "0000:01:00.0", sid: 0x100 },
    { name: "0000:02:00.0", sid: 0x200 },
  ],
  pid: 4000,
  comm: "accel",
  mm: 0xffff000012340000n,
  pasid: 1,
  asid: 3,
});

const OP = { TLBI_NH_ASID: 0x11n, TLBI_NH_VA: 0x12n, ATC_INV: 0x40n };

/** `arm_smmu_cmdq_build_cmd` for TLBI_NH_VA without range (NUM/SCALE/TG 0), not leaf. */
function tlbiNhVa(asid: number, va: bigint): [bigint, bigint] {
  return [OP.TLBI_NH_VA | (BigInt(asid) << 48n), va & ~0xfffn];
}

function tlbiNhAsid(asid: number): [bigint, bigint] {
  return [OP.TLBI_NH_ASID | (BigInt(asid) << 48n), 0n];
}

/** ATC_INV with SSV when ssid != 0; size = log2 pages. */
function atcInv(sid: number, ssid: number, addr: bigint, size: bigint): [bigint, bigint] {
  const c0 = OP.ATC_INV | ((ssid !== 0 ? 1n : 0n) << 11n) | (BigInt(ssid) << 12n) |
    (BigInt(sid) << 32n);
  return [c0, (addr & ~0xfffn) | size];
}

function cmdq(c: EventCtx, cmds: Array<[bigint, bigint]>): TraceEvent {
  const words: bigint[] = new Array(32).fill(0n);
  cmds.forEach(([a, b], i) => {
    words[2 * i] = a;
    words[2 * i + 1] = b;
  });
  return probeEvent(c, "iommu_replay", "smmu_cmdq_issue", 0xffff800080a1b2c0n, {
    smmu: SMMU.iommu,
    cmds: words,
    n: cmds.length,
    sync: 1,
  });
}

/**
 * Builds the SMMUv3 probe scenario.
 *
 * @returns the scenario
 */
export function smmuv3Probes(): Scenario {
  const us = (n: number) => BigInt(n) * 1000n;
  const c = (t: number): EventCtx => ({ ts: us(t), cpu: 2, pid: SMMU.pid, comm: SMMU.comm });
  const attach = (t: number, dev: string, pasid: number, type: number, mm: bigint) =>
    probeEvent(c(t), "iommu_replay", "attach_device_pasid", 0xffff800080912340n, {
      dev,
      pasid,
      type,
      mm,
    } as Record<string, FieldValue>);
  const notifier = (t: number, start: bigint, end: bigint) =>
    probeEvent(c(t), "iommu_replay", "mmu_notifier_invalidate", 0xffff8000803a0000n, {
      mm: SMMU.mm,
      start,
      end,
    });
  const [m0, m1] = SMMU.masters as [{ name: string; sid: number }, { name: string; sid: number }];
  const events: TraceEvent[] = [
    attach(100, "0000:00:1f.0", 0, 3, 0n),
    attach(200, m0.name, SMMU.pasid, 16, SMMU.mm),
    attach(300, m1.name, SMMU.pasid, 16, SMMU.mm),
    notifier(1000, 0x7f0000001000n, 0x7f0000003000n),
    cmdq(c(1001), [tlbiNhVa(SMMU.asid, 0x7f0000001000n), tlbiNhVa(SMMU.asid, 0x7f0000002000n)]),
    cmdq(c(1003), [
      atcInv(m0.sid, SMMU.pasid, 0x7f0000000000n, 2n),
      atcInv(m1.sid, SMMU.pasid, 0x7f0000000000n, 2n),
    ]),
    notifier(2000, 0n, (1n << 64n) - 1n),
    cmdq(c(2001), [tlbiNhAsid(SMMU.asid)]),
    cmdq(c(2003), [atcInv(m0.sid, SMMU.pasid, 0n, 52n), atcInv(m1.sid, SMMU.pasid, 0n, 52n)]),
    probeEvent(c(3000), "iommu_replay", "detach_device_pasid", 0xffff800080912400n, {
      dev: m0.name,
      pasid: SMMU.pasid,
      type: 16,
    }),
    probeEvent(c(3100), "iommu_replay", "detach_device_pasid", 0xffff800080912400n, {
      dev: m1.name,
      pasid: SMMU.pasid,
      type: 16,
    }),
  ];
  return {
    name: "smmuv3_probes_6.12",
    kernel: "6.12.0",
    description: "ARM SMMUv3, 2 ATS masters, SVA captured with the shipped probe mappings",
    events,
  };
}
