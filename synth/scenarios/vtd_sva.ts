/**
 * Intel VT-d SVA scenarios: what the kernel emits when devices bound to one mm are invalidated.
 *
 * - {@linkcode sva4Devices69}: 4 ATS devices behind `dmar0`, one mm, Linux 6.9. Only
 *   `qi_submit` exists: per device and per aligned chunk one p_iotlb and one p_dev_tlb, each its
 *   own `qi_submit_sync`. At exit the mm-release teardown (pc_inv, p_iotlb, p_dev_tlb per device)
 *   and, at unbind, the PRQ drain (inv_wait, p_iotlb, p_dev_tlb in one submission).
 * - {@linkcode sva4Devices612}: the same machine on Linux 6.12: cache tags at bind and unbind,
 *   `cache_tag_flush_range` / `cache_tag_flush_all` per tag, one batched submission per flush.
 * - {@linkcode twoIommus612}: 2 devices behind `dmar0` and 2 behind `dmar1`, Linux 6.12: the
 *   cache-tag list puts the second IOMMU's tags first; one submission per IOMMU per flush.
 * - {@linkcode pasidReuse612}: a PASID freed at exit and reused by the next process, whose mm
 *   also reuses the first mm's pointer.
 *
 * Timing: events of one kernel call are 50-100 ns apart; a traced qi_submit is followed by the
 * submission's wait (700 ns here) before the next call.
 *
 * @module
 */
import type { TraceEvent } from "../../core/event.ts";
import {
  cacheTagFlushRange,
  cacheTagLog,
  type EventCtx,
  exitMmap,
  KERNEL_6_12,
  KERNEL_6_9,
  type KernelProfile,
  qiSubmit,
  schedProcessExit,
  schedProcessFree,
  sysEnterMunmap,
} from "./kernel_events.ts";
import {
  devTlb,
  devTlbPasid,
  FLPT_DEFAULT_DID,
  invWaitFence,
  MAX_AGAW_PFN_WIDTH,
  pcInvPasid,
  piotlb,
  psiAligned,
  sidOf,
} from "./vtd_encode.ts";

/** A scenario: events plus what to pass to the normalizer. */
export interface Scenario {
  /** File-name-safe id. */
  name: string;
  /** Kernel version the events follow. */
  kernel: string;
  /** One line. */
  description: string;
  /** Events in time order. */
  events: TraceEvent[];
}

/** One PCI device of a scenario. */
export interface ScenarioDevice {
  /** Kernel device name. */
  name: string;
  /** Requester id. */
  sid: number;
  /** Its VT-d unit. */
  iommu: string;
  /** ATS queue depth. */
  qdep: number;
}

/** The four DSA-like ATS devices of the 4-device scenarios (all behind dmar0, ATS qdep 32). */
export const FOUR_DEVICES: readonly ScenarioDevice[] = Object.freeze([
  { name: "0000:6a:01.0", sid: sidOf(0x6a, 1, 0), iommu: "dmar0", qdep: 32 },
  { name: "0000:6a:02.0", sid: sidOf(0x6a, 2, 0), iommu: "dmar0", qdep: 32 },
  { name: "0000:6b:01.0", sid: sidOf(0x6b, 1, 0), iommu: "dmar0", qdep: 32 },
  { name: "0000:6b:02.0", sid: sidOf(0x6b, 2, 0), iommu: "dmar0", qdep: 32 },
]);

/** The process of the scenarios. */
export const APP: Readonly<{ pid: number; comm: string; cpu: number; pasid: number }> = Object
  .freeze({ pid: 1000, comm: "dsa_test", cpu: 1, pasid: 2 });
/** Its mm pointer (seen at exit_mmap). */
export const APP_MM = 0xffff888012345000n;

/** The munmap ranges of the scenarios. */
export const RANGES: Readonly<
  Record<"twoPages" | "onePage" | "big", { addr: bigint; len: bigint }>
> = Object.freeze({
  /** 2 pages straddling an 8 KiB boundary: v5.11 splits into 2 chunks, 6.10+ uses one 16 KiB PSI. */
  twoPages: { addr: 0x7f0000001000n, len: 0x2000n },
  /** 1 aligned page. */
  onePage: { addr: 0x7f0000010000n, len: 0x1000n },
  /** 256 pages: above x86's 33-page ceiling, the notifier gets (0, ULONG_MAX). */
  big: { addr: 0x7f0000100000n, len: 0x100000n },
});

class Clock {
  ts: bigint;
  constructor(start: bigint) {
    this.ts = start;
  }
  ctx(pid: number, comm: string, cpu: number, step = 0n): EventCtx {
    this.ts += step;
    return { ts: this.ts, cpu, pid, comm };
  }
}

const WAIT = 700n;
const STEP = 50n;

/** The 6.6-6.9 `intel_flush_svm_range_dev` loop for one device: aligned chunks of p_iotlb + p_dev_tlb. */
function perDeviceRange(
  out: TraceEvent[],
  clk: Clock,
  d: ScenarioDevice,
  pasid: number,
  address: bigint,
  pages: bigint,
): void {
  let shift = 0n;
  while (1n << shift < pages) shift++;
  const align = 1n << (12n + shift);
  let start = address & ~(align - 1n);
  const end = (address + (pages << 12n) + align - 1n) & ~(align - 1n);
  while (start < end) {
    const chunkPages = align >> 12n;
    out.push(
      qiSubmit(
        clk.ctx(APP.pid, APP.comm, APP.cpu, WAIT),
        d.iommu,
        piotlb(FLPT_DEFAULT_DID, pasid, start, chunkPages),
      ),
    );
    out.push(
      qiSubmit(
        clk.ctx(APP.pid, APP.comm, APP.cpu, WAIT),
        d.iommu,
        devTlbPasid(d.sid, d.sid, pasid, d.qdep, start, shift),
      ),
    );
    start += align;
  }
}

/** `intel_pasid_tear_down_entry` for an SVA (first-level) PASID of an ATS device: 3 submissions. */
function teardown(
  out: TraceEvent[],
  clk: Clock,
  c: { pid: number; comm: string; cpu: number },
  d: ScenarioDevice,
  pasid: number,
): void {
  out.push(
    qiSubmit(clk.ctx(c.pid, c.comm, c.cpu, WAIT), d.iommu, pcInvPasid(FLPT_DEFAULT_DID, pasid)),
  );
  out.push(
    qiSubmit(
      clk.ctx(c.pid, c.comm, c.cpu, WAIT),
      d.iommu,
      piotlb(FLPT_DEFAULT_DID, pasid, 0n, -1n),
    ),
  );
  out.push(
    qiSubmit(
      clk.ctx(c.pid, c.comm, c.cpu, WAIT),
      d.iommu,
      devTlbPasid(d.sid, d.sid, pasid, d.qdep, 0n, MAX_AGAW_PFN_WIDTH),
    ),
  );
}

/** `intel_drain_pasid_prq`: one submission of [inv_wait(fence), p_iotlb(PASID), p_dev_tlb(all)]. */
function drain(
  out: TraceEvent[],
  clk: Clock,
  c: { pid: number; comm: string; cpu: number },
  d: ScenarioDevice,
  pasid: number,
): void {
  out.push(qiSubmit(clk.ctx(c.pid, c.comm, c.cpu, WAIT), d.iommu, invWaitFence()));
  out.push(
    qiSubmit(
      clk.ctx(c.pid, c.comm, c.cpu, STEP),
      d.iommu,
      piotlb(FLPT_DEFAULT_DID, pasid, 0n, -1n),
    ),
  );
  out.push(
    qiSubmit(
      clk.ctx(c.pid, c.comm, c.cpu, STEP),
      d.iommu,
      devTlbPasid(d.sid, d.sid, pasid, d.qdep, 0n, MAX_AGAW_PFN_WIDTH),
    ),
  );
}

/**
 * 4 ATS devices, one VT-d unit, one mm, Linux 6.9 (qi_submit only, per-device invalidation).
 *
 * Timeline (CPU 1, pid 1000 `dsa_test`, PASID 2, devices bound before the trace):
 * 1. t=1 ms munmap of 2 pages at 0x7f0000001000: per device, chunks 0x7f0000000000 and
 *    0x7f0000002000 (8 KiB each): 4 descriptors, 4 submissions; 16 in all.
 * 2. t=2 ms munmap of 1 page at 0x7f0000010000: per device p_iotlb (AM 0) + p_dev_tlb (S 0).
 * 3. t=3 ms munmap of 256 pages: the notifier gets (0, ULONG_MAX): per device PASID-selective
 *    p_iotlb + whole p_dev_tlb.
 * 4. t=4 ms exit: mm release tears down each device's PASID entry (pc_inv, p_iotlb, p_dev_tlb),
 *    `exit_mmap` names the mm, `sched_process_exit`, then the unbind drains each device (one
 *    3-descriptor submission each), and later `sched_process_free`.
 *
 * @returns the scenario
 */
export function sva4Devices69(): Scenario {
  return sva4Devices(KERNEL_6_9);
}

/**
 * The same machine on Linux 6.12: cache tags and batching.
 *
 * Timeline (CPU 1, pid 1000, PASID 2):
 * 1. t=0.5 ms bind of the 4 devices: per device `cache_tag_assign` IOTLB (dev `dmar0`, users
 *    1..4) then DEVTLB (dev = the device, users 1).
 * 2. t=1 ms munmap of 2 pages: `cache_tag_flush_range` [0x7f0000001000-0x7f0000002fff] for the
 *    IOTLB tag and the 4 DEVTLB tags (addr 0x7f0000000000, pages 4, mask 2), then one batched
 *    submission: p_iotlb (AM 2) + 4 p_dev_tlb (16 KiB).
 * 3. t=2 ms munmap of 1 page: same shape, mask 0.
 * 4. t=3 ms big munmap: `cache_tag_flush_all` per tag, one submission: PASID-selective p_iotlb and
 *    4 whole `dev_tlb_inv` (the 6.12 flush-all path uses the non-PASID dev-TLB descriptor).
 * 5. t=4 ms exit: mm release teardown per device (3 single submissions each), `exit_mmap`,
 *    `sched_process_exit`, then per device `cache_tag_unassign` IOTLB (users 4..1) + DEVTLB and
 *    the PRQ drain; later `sched_process_free`.
 *
 * @returns the scenario
 */
export function sva4Devices612(): Scenario {
  return sva4Devices(KERNEL_6_12);
}

function sva4Devices(k: KernelProfile): Scenario {
  const out: TraceEvent[] = [];
  const clk = new Clock(0n);
  const devs = FOUR_DEVICES;
  const pasid = APP.pasid;
  const app = (step: bigint) => clk.ctx(APP.pid, APP.comm, APP.cpu, step);
  if (k.cacheTags) {
    clk.ts = 500_000n;
    devs.forEach((d, i) => {
      out.push(cacheTagLog(app(STEP), "cache_tag_assign", {
        iommu: d.iommu,
        dev: d.iommu,
        type: 0,
        did: FLPT_DEFAULT_DID,
        pasid,
        users: i + 1,
      }));
      out.push(cacheTagLog(app(STEP), "cache_tag_assign", {
        iommu: d.iommu,
        dev: d.name,
        type: 1,
        did: FLPT_DEFAULT_DID,
        pasid,
        users: 1,
      }));
    });
  }
  const flushes = [RANGES.twoPages, RANGES.onePage];
  flushes.forEach((r, i) => {
    clk.ts = BigInt(i + 1) * 1_000_000n;
    out.push(sysEnterMunmap(app(0n), r.addr, r.len));
    if (!k.cacheTags) {
      for (const d of devs) perDeviceRange(out, clk, d, pasid, r.addr, r.len >> 12n);
      return;
    }
    cacheTagRangeFlush(out, clk, k, devs, pasid, r.addr, r.addr + r.len - 1n, APP);
  });
  clk.ts = 3_000_000n;
  out.push(sysEnterMunmap(app(0n), RANGES.big.addr, RANGES.big.len));
  if (!k.cacheTags) {
    for (const d of devs) {
      out.push(qiSubmit(app(WAIT), d.iommu, piotlb(FLPT_DEFAULT_DID, pasid, 0n, -1n)));
      out.push(
        qiSubmit(
          app(WAIT),
          d.iommu,
          devTlbPasid(d.sid, d.sid, pasid, d.qdep, 0n, MAX_AGAW_PFN_WIDTH),
        ),
      );
    }
  } else {
    const iotlb = { iommu: "dmar0", dev: "dmar0", type: 0, did: FLPT_DEFAULT_DID, pasid, users: 4 };
    out.push(cacheTagLog(app(STEP), "cache_tag_flush_all", iotlb));
    for (const d of devs) {
      out.push(cacheTagLog(app(STEP), "cache_tag_flush_all", {
        iommu: d.iommu,
        dev: d.name,
        type: 1,
        did: FLPT_DEFAULT_DID,
        pasid,
        users: 1,
      }));
    }
    out.push(qiSubmit(app(STEP), "dmar0", piotlb(FLPT_DEFAULT_DID, pasid, 0n, -1n)));
    for (const d of devs) {
      out.push(qiSubmit(app(STEP), d.iommu, devTlb(d.sid, d.sid, d.qdep, 0n, MAX_AGAW_PFN_WIDTH)));
    }
  }
  // Exit: mm release tears the PASID entries down, then exit_mmap, then the unbind at fd close.
  clk.ts = 4_000_000n;
  for (const d of devs) teardown(out, clk, APP, d, pasid);
  out.push(exitMmap(app(STEP), APP_MM));
  out.push(schedProcessExit(app(STEP), k));
  devs.forEach((d, i) => {
    if (k.cacheTags) {
      out.push(cacheTagLog(app(STEP), "cache_tag_unassign", {
        iommu: d.iommu,
        dev: d.iommu,
        type: 0,
        did: FLPT_DEFAULT_DID,
        pasid,
        users: devs.length - i,
      }));
      out.push(cacheTagLog(app(STEP), "cache_tag_unassign", {
        iommu: d.iommu,
        dev: d.name,
        type: 1,
        did: FLPT_DEFAULT_DID,
        pasid,
        users: 1,
      }));
    }
    drain(out, clk, APP, d, pasid);
  });
  clk.ts = 5_000_000n;
  out.push(schedProcessFree(clk.ctx(0, "swapper/0", 0), APP.pid, APP.comm));
  return {
    name: k.cacheTags ? "sva_4dev_6.12" : "sva_4dev_6.9",
    kernel: k.version,
    description: `4 ATS devices behind dmar0 bound to one mm, Linux ${k.version}`,
    events: out,
  };
}

/**
 * `cache_tag_flush_range(domain, start, end)` over tags in list order, with 6.12 batching (one
 * submission per IOMMU, flushed when the IOMMU changes and at the end).
 */
function cacheTagRangeFlush(
  out: TraceEvent[],
  clk: Clock,
  k: KernelProfile,
  devs: readonly ScenarioDevice[],
  pasid: number,
  start: bigint,
  endIncl: bigint,
  who: { pid: number; comm: string; cpu: number },
): void {
  const psi = psiAligned(start, endIncl);
  const r = { start, end: endIncl, addr: psi.addr, pages: psi.pages, mask: psi.mask };
  // Tag list order: per IOMMU, the IOTLB tag then its DEVTLB tags (see cache_tag_assign).
  const byIommu = new Map<string, ScenarioDevice[]>();
  for (const d of devs) byIommu.set(d.iommu, [...(byIommu.get(d.iommu) ?? []), d]);
  for (const [iommu, ds] of byIommu) {
    const batch: bigint[][] = [];
    batch.push(piotlb(FLPT_DEFAULT_DID, pasid, psi.addr, psi.pages));
    out.push(cacheTagFlushRange(clk.ctx(who.pid, who.comm, who.cpu, STEP), k, {
      iommu,
      dev: iommu,
      type: 0,
      did: FLPT_DEFAULT_DID,
      pasid,
    }, r));
    for (const d of ds) {
      batch.push(devTlbPasid(d.sid, d.sid, pasid, d.qdep, psi.addr, psi.mask));
      out.push(cacheTagFlushRange(clk.ctx(who.pid, who.comm, who.cpu, STEP), k, {
        iommu,
        dev: d.name,
        type: 1,
        did: FLPT_DEFAULT_DID,
        pasid,
      }, r));
    }
    for (const qw of batch) {
      out.push(qiSubmit(clk.ctx(who.pid, who.comm, who.cpu, STEP), iommu, qw));
    }
  }
}

/** The devices of the two-IOMMU scenario. */
export const TWO_IOMMU_DEVICES: readonly ScenarioDevice[] = Object.freeze([
  { name: "0000:6a:01.0", sid: sidOf(0x6a, 1, 0), iommu: "dmar0", qdep: 32 },
  { name: "0000:6a:02.0", sid: sidOf(0x6a, 2, 0), iommu: "dmar0", qdep: 32 },
  { name: "0000:e7:01.0", sid: sidOf(0xe7, 1, 0), iommu: "dmar1", qdep: 16 },
  { name: "0000:e7:02.0", sid: sidOf(0xe7, 2, 0), iommu: "dmar1", qdep: 16 },
]);

/**
 * Two VT-d units, 2 ATS devices each, one mm, Linux 6.12.
 *
 * Bind order dmar0 devices then dmar1 devices puts the dmar1 tags first in the domain's tag
 * list (a new IOMMU's tag is added at the list head). One munmap of 2 pages at 0x7f0000001000
 * gives `cache_tag_flush_range` for I(dmar1), e7:01.0, e7:02.0, then dmar1's batch (3
 * descriptors), then I(dmar0), 6a:01.0, 6a:02.0 and dmar0's batch.
 *
 * @returns the scenario
 */
export function twoIommus612(): Scenario {
  const k = KERNEL_6_12;
  const out: TraceEvent[] = [];
  const clk = new Clock(500_000n);
  const pasid = APP.pasid;
  const app = (step: bigint) => clk.ctx(APP.pid, APP.comm, APP.cpu, step);
  const users = new Map<string, number>();
  for (const d of TWO_IOMMU_DEVICES) {
    const u = (users.get(d.iommu) ?? 0) + 1;
    users.set(d.iommu, u);
    out.push(cacheTagLog(app(STEP), "cache_tag_assign", {
      iommu: d.iommu,
      dev: d.iommu,
      type: 0,
      did: FLPT_DEFAULT_DID,
      pasid,
      users: u,
    }));
    out.push(cacheTagLog(app(STEP), "cache_tag_assign", {
      iommu: d.iommu,
      dev: d.name,
      type: 1,
      did: FLPT_DEFAULT_DID,
      pasid,
      users: 1,
    }));
  }
  clk.ts = 1_000_000n;
  const r = RANGES.twoPages;
  out.push(sysEnterMunmap(app(0n), r.addr, r.len));
  const order = [
    ...TWO_IOMMU_DEVICES.filter((d) => d.iommu === "dmar1"),
    ...TWO_IOMMU_DEVICES.filter((d) => d.iommu === "dmar0"),
  ];
  cacheTagRangeFlush(out, clk, k, order, pasid, r.addr, r.addr + r.len - 1n, APP);
  return {
    name: "two_iommus_6.12",
    kernel: k.version,
    description: "2 ATS devices behind dmar0 and 2 behind dmar1 bound to one mm, Linux 6.12",
    events: out,
  };
}

/** A process of the PASID-reuse scenario. */
export interface ReuseTask {
  /** Process id. */
  pid: number;
  /** Process name. */
  comm: string;
  /** CPU it runs on. */
  cpu: number;
}
/** The two processes of the PASID-reuse scenario, the PASID and the (reused) mm pointer. */
export const REUSE: Readonly<{ a: ReuseTask; b: ReuseTask; pasid: number; mm: bigint }> = Object
  .freeze({
    a: { pid: 3000, comm: "worker_a", cpu: 0 },
    b: { pid: 3100, comm: "worker_b", cpu: 1 },
    pasid: 7,
    mm: 0xffff888077770000n,
  });

/**
 * A PASID reused after exit, Linux 6.12, one ATS device (0000:6a:01.0 behind dmar0).
 *
 * 1. t=1 ms `worker_a` (pid 3000) binds the device: assign IOTLB + DEVTLB, PASID 7.
 * 2. t=2 ms it unmaps 1 page at 0x7f0000010000: one cache-tag flush (2 tags), one submission.
 * 3. t=3 ms it exits: mm release teardown, `exit_mmap` (mm 0xffff888077770000), exit, unassign,
 *    drain; t=3.5 ms `sched_process_free`.
 * 4. t=4 ms `worker_b` (pid 3100) binds the same device and gets PASID 7 again.
 * 5. t=5 ms it unmaps 1 page at 0x7f0000020000: one flush.
 * 6. t=6 ms it exits; its mm had been allocated at the same address (slab reuse), so
 *    `exit_mmap` shows the same pointer again.
 *
 * @returns the scenario
 */
export function pasidReuse612(): Scenario {
  const k = KERNEL_6_12;
  const out: TraceEvent[] = [];
  const clk = new Clock(0n);
  const d = FOUR_DEVICES[0]!;
  const pasid = REUSE.pasid;
  const life = (p: { pid: number; comm: string; cpu: number }, t0: bigint, addr: bigint) => {
    const c = (step: bigint) => clk.ctx(p.pid, p.comm, p.cpu, step);
    clk.ts = t0;
    const tag = { iommu: d.iommu, dev: d.iommu, type: 0, did: FLPT_DEFAULT_DID, pasid, users: 1 };
    const dtag = { iommu: d.iommu, dev: d.name, type: 1, did: FLPT_DEFAULT_DID, pasid, users: 1 };
    out.push(cacheTagLog(c(STEP), "cache_tag_assign", tag));
    out.push(cacheTagLog(c(STEP), "cache_tag_assign", dtag));
    clk.ts = t0 + 1_000_000n;
    out.push(sysEnterMunmap(c(0n), addr, 0x1000n));
    cacheTagRangeFlush(out, clk, k, [d], pasid, addr, addr + 0xfffn, p);
    clk.ts = t0 + 2_000_000n;
    teardown(out, clk, p, d, pasid);
    out.push(exitMmap(c(STEP), REUSE.mm));
    out.push(schedProcessExit(c(STEP), k));
    out.push(cacheTagLog(c(STEP), "cache_tag_unassign", tag));
    out.push(cacheTagLog(c(STEP), "cache_tag_unassign", dtag));
    drain(out, clk, p, d, pasid);
    clk.ts = t0 + 2_500_000n;
    out.push(schedProcessFree(clk.ctx(0, "swapper/2", 2), p.pid, p.comm));
  };
  life(REUSE.a, 1_000_000n, 0x7f0000010000n);
  life(REUSE.b, 4_000_000n, 0x7f0000020000n);
  return {
    name: "pasid_reuse_6.12",
    kernel: k.version,
    description: "PASID 7 freed when worker_a exits and reused by worker_b, Linux 6.12",
    events: out,
  };
}
