/**
 * The repository's example workload: a deterministic, parametrized SVA workload on a Linux 6.12
 * VT-d machine with two IOMMU units, written as the events the kernel would trace.
 *
 * ## The machine (default {@linkcode EXAMPLE_WORKLOAD_PARAMS})
 *
 * | device         | unit    | what          | ATS (qdep) | default DMA domain DID |
 * | -------------- | ------- | ------------- | ---------- | ---------------------- |
 * | `0000:6a:01.0` | `dmar0` | DSA           | yes (32)   | 2                      |
 * | `0000:6a:02.0` | `dmar0` | IAA           | yes (32)   | 3                      |
 * | `0000:6b:00.0` | `dmar0` | NIC           | no         | 4                      |
 * | `0000:e7:01.0` | `dmar1` | DSA           | yes (32)   | 2                      |
 * | `0000:e7:02.0` | `dmar1` | IAA           | yes (16)   | 3                      |
 * | `0000:e8:00.0` | `dmar1` | NVMe          | no         | 4                      |
 *
 * The non-ATS devices cannot be bound to an mm on VT-d 6.12 (`intel_iommu_enable_sva` requires
 * ATS); they use the DMA API in lazy mode, so the trace shows their domains' flush-queue flushes:
 * `cache_tag_flush_all` of an IOTLB tag with PASID 0 and a PASID-selective `p_iotlb_inv` of
 * PASID 0 (DMA domains are first-stage domains in scalable mode).
 *
 * ## The processes
 *
 * A launcher (`bash`) forks and execs each application. Each application binds a subset of the
 * ATS devices (`iommu_sva_bind_device`, one shared SVA domain per mm, PASIDs from 2 up: PASID 1 is
 * taken by the DSA driver's kernel work queues), then issues thousands of `munmap`, `mprotect`
 * and `madvise` calls of 1 page to 2 MiB, aligned and unaligned:
 * - `dsa_copy` binds both dmar0 accelerators, adds the dmar1 DSA mid-run and drops it later; a
 *   second thread (same mm, another CPU) works for part of the run, so its flushes IPI the other
 *   CPU; it exits with devices bound (the mm-release teardown path).
 * - `iaa_comp` binds one dmar0 and two dmar1 accelerators, unbinds them explicitly and exits;
 *   a second `iaa_comp` later gets the freed PASID again.
 * - `db_worker` binds the dmar1 DSA only, and forks a child (new mm, no SVA) that unmaps memory
 *   the IOMMU never sees.
 *
 * ## What the kernel emits (Linux 6.12, `drivers/iommu/intel/cache.c`, `svm.c`, `pasid.c`,
 * `arch/x86/mm/tlb.c`; see research/iommu.md §1-3)
 *
 * - **bind**: `cache_tag_assign` of the IOTLB tag (`users` after the increment) then of the DEVTLB
 *   tag. A new unit's tags go to the head of the domain's tag list, a unit's new tags after its
 *   last tag, so tags of one unit stay adjacent.
 * - **mm range change**: `sys_enter_*`, then the CPU flush (`tlb_flush`: local mm shootdown, or
 *   remote IPI send + local + remote shootdown when another CPU runs the mm), then the
 *   secondary-TLB notifier. A range over the 33-page ceiling (in units of the gather stride:
 *   4 KiB, or 2 MiB for a THP mapping) becomes `(0, ULONG_MAX)`, i.e. `cache_tag_flush_all`:
 *   per tag a PASID-selective `p_iotlb_inv` or a whole-device `dev_tlb_inv` (non-PASID form).
 *   Otherwise `cache_tag_flush_range(start, end - 1)`: `calculate_psi_aligned_address` gives one
 *   naturally aligned block, per tag a `p_iotlb_inv` or `p_dev_tlb_inv` of that block. Walking
 *   the tag list, the batch (`qi_batch`, at most 16) is submitted when the unit changes and at
 *   the end: one `qi_submit_sync` per unit per flush. Each tag's flush event is traced after its
 *   descriptor is queued, so a unit's `qi_submit` events follow its tags' flush events.
 *   `mprotect` to a more permissive protection and `madvise(MADV_WILLNEED)` flush nothing.
 * - **unbind** (`remove_dev_pasid`): `cache_tag_unassign` IOTLB (`users` before the decrement)
 *   and DEVTLB, the PASID-entry teardown (`pc_inv`, PASID-selective `p_iotlb_inv`, whole
 *   `p_dev_tlb_inv`: three submissions), then the PRQ drain (`inv_wait` with fence,
 *   `p_iotlb_inv` with the device's default-domain DID, `p_dev_tlb_inv` with address word 0: one
 *   submission).
 * - **exit with devices bound**: mm release tears down every PASID entry (newest binding
 *   first), `exit_mmap` names the mm, `sched_process_exit`; closing the files unbinds (unassign
 *   and drain; the entry is already gone).
 * - **page faults**: `prq_report` on the unit's PRQ thread, then the page response
 *   (`page_grp_resp`) from the I/O-fault work queue.
 *
 * Everything random (gaps, sizes, addresses) comes from a seeded generator: the same parameters
 * give the same events. {@linkcode ExampleWorkload.flushes} records each IOMMU flush the
 * processes caused (the requests of a replay), so tests can compute expected counts by hand.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";
import { sidOf } from "./vtd_encode.ts";
import {
  devTlb,
  devTlbPasid,
  FLPT_DEFAULT_DID,
  invWaitFence,
  MAX_AGAW_PFN_WIDTH,
  pcInvPasid,
  piotlb,
  psiAligned,
} from "./vtd_encode.ts";

/** `ULONG_MAX`: `TLB_FLUSH_ALL`, and the `pages` of a full `tlb_flush`. */
export const ULONG_MAX = (1n << 64n) - 1n;
/** `tlb_single_page_flush_ceiling` (x86). */
export const TLB_CEILING = 33n;
const PAGE = 4096n;
const HUGE = 2n << 20n;

/** One PCI device of the example machine. */
export interface ExampleDevice {
  /** Kernel device name (`0000:6a:01.0`). */
  name: string;
  /** What it is (for people). */
  role: string;
  /** Its VT-d unit. */
  iommu: string;
  /** ATS enabled (only ATS devices can be bound to an mm on VT-d). */
  ats: boolean;
  /** ATS invalidate queue depth (`pci_ats_queue_depth`). */
  qdep: number;
  /** Domain id of its default (DMA API) domain on its unit. */
  dmaDid: number;
}

/** A device binding of a process, at fractions of the process's life. */
export interface ExampleBind {
  /** Device name. */
  device: string;
  /** When it binds (0 = right after exec, 1 = at exit). */
  at: number;
  /** When it unbinds; absent: still bound at exit. */
  until?: number;
}

/** A second thread of a process (same mm, own CPU). */
export interface ExampleThread {
  /** Thread id. */
  pid: number;
  /** Its CPU. */
  cpu: number;
  /** Created at this fraction of the process's life. */
  from: number;
  /** Exits at this fraction. */
  to: number;
  /** mm operations it issues. */
  ops: number;
}

/** A forked child that keeps the program (new mm, never bound). */
export interface ExampleChild {
  /** Child pid. */
  pid: number;
  /** Its CPU. */
  cpu: number;
  /** Forked at this fraction of the parent's life. */
  from: number;
  /** Exits at this fraction of the parent's life. */
  to: number;
  /** mm operations it issues. */
  ops: number;
}

/** One application process. */
export interface ExampleProcess {
  /** Command name after exec. */
  comm: string;
  /** Process id. */
  pid: number;
  /** Its CPU. */
  cpu: number;
  /** Exec time, fraction of the trace. */
  start: number;
  /** Exit time, fraction of the trace. */
  end: number;
  /** mm operations of the main thread. */
  ops: number;
  /** Device bindings. */
  binds: ExampleBind[];
  /** A second thread. */
  thread?: ExampleThread;
  /** A forked child. */
  child?: ExampleChild;
}

/** Parameters of {@linkcode exampleWorkload}. */
export interface ExampleWorkloadParams {
  /** PRNG seed. */
  seed: number;
  /** Kernel release the events follow (6.12 behaviour). */
  kernel: string;
  /** Number of CPUs. */
  cpus: number;
  /** First timestamp (ns). */
  startNs: bigint;
  /** Length of the trace (ns). */
  durationNs: bigint;
  /** VT-d units. */
  iommus: string[];
  /** Devices. */
  devices: ExampleDevice[];
  /** The launcher shell that forks the applications (on CPU 0). */
  launcher: { pid: number; comm: string };
  /** Applications, in launch order. */
  processes: ExampleProcess[];
  /** Lowest PASID handed to user processes. */
  firstPasid: number;
  /** Page faults (PRQ reports) spread over the bound processes. */
  faults: number;
  /** Flush-queue flushes of each non-ATS device's DMA domain. */
  dmaFlushes: number;
  /** Share of 2 MiB operations on THP mappings (range flush with a 2 MiB stride). */
  thpShare: number;
}

/** The default parameters: the committed example. */
export const EXAMPLE_WORKLOAD_PARAMS: Readonly<ExampleWorkloadParams> = Object.freeze({
  seed: 0x5a5a2024,
  kernel: "6.12.11",
  cpus: 4,
  startNs: 812_000_000_000n,
  durationNs: 3_000_000_000n,
  iommus: ["dmar0", "dmar1"],
  devices: [
    { name: "0000:6a:01.0", role: "DSA", iommu: "dmar0", ats: true, qdep: 32, dmaDid: 2 },
    { name: "0000:6a:02.0", role: "IAA", iommu: "dmar0", ats: true, qdep: 32, dmaDid: 3 },
    { name: "0000:6b:00.0", role: "NIC", iommu: "dmar0", ats: false, qdep: 0, dmaDid: 4 },
    { name: "0000:e7:01.0", role: "DSA", iommu: "dmar1", ats: true, qdep: 32, dmaDid: 2 },
    { name: "0000:e7:02.0", role: "IAA", iommu: "dmar1", ats: true, qdep: 16, dmaDid: 3 },
    { name: "0000:e8:00.0", role: "NVMe", iommu: "dmar1", ats: false, qdep: 0, dmaDid: 4 },
  ],
  launcher: { pid: 3990, comm: "bash" },
  processes: [
    {
      comm: "dsa_copy",
      pid: 4001,
      cpu: 1,
      start: 0.02,
      end: 0.96,
      ops: 1150,
      binds: [
        { device: "0000:6a:01.0", at: 0.01 },
        { device: "0000:6a:02.0", at: 0.02 },
        { device: "0000:e7:01.0", at: 0.4, until: 0.75 },
      ],
      thread: { pid: 4002, cpu: 2, from: 0.2, to: 0.6, ops: 450 },
    },
    {
      comm: "iaa_comp",
      pid: 4010,
      cpu: 3,
      start: 0.05,
      end: 0.45,
      ops: 650,
      binds: [
        { device: "0000:6a:02.0", at: 0.02, until: 0.97 },
        { device: "0000:e7:02.0", at: 0.03, until: 0.97 },
        { device: "0000:e7:01.0", at: 0.04, until: 0.97 },
      ],
    },
    {
      comm: "db_worker",
      pid: 4030,
      cpu: 0,
      start: 0.1,
      end: 0.9,
      ops: 600,
      binds: [{ device: "0000:e7:01.0", at: 0.02 }],
      child: { pid: 4031, cpu: 2, from: 0.7, to: 0.85, ops: 40 },
    },
    {
      comm: "iaa_comp",
      pid: 4050,
      cpu: 3,
      start: 0.5,
      end: 0.92,
      ops: 550,
      binds: [{ device: "0000:e7:02.0", at: 0.03, until: 0.98 }],
    },
  ],
  firstPasid: 2,
  faults: 12,
  dmaFlushes: 24,
  thpShare: 0.6,
} as ExampleWorkloadParams);

/** A cache tag as the generator tracked it at a flush. */
export interface ExampleTag {
  /** 0 IOTLB, 1 DEVTLB. */
  type: 0 | 1;
  /** Its unit. */
  iommu: string;
  /** The device of a DEVTLB tag, null for IOTLB tags. */
  device: string | null;
}

/** One IOMMU flush caused by a process's mm change: one request of a replay. */
export interface ExampleFlush {
  /** Time of the first cache-tag event of the flush. */
  ts: bigint;
  /** CPU. */
  cpu: number;
  /** Calling task. */
  pid: number;
  /** The mm's PASID. */
  pasid: number;
  /** The syscall behind it. */
  source: "munmap" | "mprotect" | "madvise";
  /** `cache_tag_flush_all` (the range went over the CPU ceiling). */
  full: boolean;
  /** First byte (0 when full). */
  start: bigint;
  /** Last byte, inclusive (`ULONG_MAX` when full). */
  end: bigint;
  /** The range was a THP mapping (2 MiB gather stride). */
  thp: boolean;
  /** The domain's tags, in list order (the order the kernel walks them). */
  tags: ExampleTag[];
}

/** The generated workload. */
export interface ExampleWorkload {
  /** Kernel release. */
  kernel: string;
  /** Number of CPUs. */
  cpus: number;
  /** Events in time order. */
  events: TraceEvent[];
  /** IOMMU flushes of SVA domains, in time order. */
  flushes: ExampleFlush[];
  /** mm syscalls issued (munmap, mprotect, madvise), whether or not they flushed. */
  syscalls: number;
  /** Per process life: pid, comm, PASID (null when it never bound) and mm pointer. */
  lives: { pid: number; comm: string; pasid: number | null; mm: bigint }[];
  /** Device bindings made (one per bind). */
  binds: { pid: number; device: string; pasid: number; ts: bigint; until: bigint }[];
  /** PRQ reports. */
  faults: number;
  /** DMA-domain flush-queue flushes. */
  dmaFlushes: number;
  /** Submissions outside request flushes (teardown, drain, page responses, DMA flushes). */
  otherSubmissions: number;
}

/** xorshift32: small, fast, deterministic. */
class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = (seed >>> 0) || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.#s = x;
    return x / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** bigint in [lo, hi]. */
  big(lo: bigint, hi: bigint): bigint {
    return lo + BigInt(Math.floor(this.next() * Number(hi - lo + 1n)));
  }
}

interface Tag extends ExampleTag {
  dev: ExampleDevice;
  users: number;
}

/** A domain's cache-tag list with the 6.12 insertion and refcount rules. */
class TagList {
  tags: Tag[] = [];

  #match(t: Tag, type: 0 | 1, d: ExampleDevice): boolean {
    return t.type === type && (type === 0 ? t.iommu === d.iommu : t.device === d.name);
  }

  assign(type: 0 | 1, d: ExampleDevice): Tag {
    let prev = -1;
    for (let i = 0; i < this.tags.length; i++) {
      const t = this.tags[i]!;
      if (this.#match(t, type, d)) {
        t.users++;
        return t;
      }
      if (t.iommu === d.iommu) prev = i;
    }
    const tag: Tag = { type, iommu: d.iommu, device: type === 1 ? d.name : null, dev: d, users: 1 };
    this.tags.splice(prev + 1, 0, tag);
    return tag;
  }

  /** Returns the tag with `users` before the decrement. */
  unassign(type: 0 | 1, d: ExampleDevice): { tag: Tag; users: number } {
    const i = this.tags.findIndex((t) => this.#match(t, type, d));
    const tag = this.tags[i]!;
    const users = tag.users--;
    if (tag.users === 0) this.tags.splice(i, 1);
    return { tag, users };
  }
}

interface Ctx {
  cpu: number;
  pid: number;
  comm: string;
}

interface Life {
  comm: string;
  pid: number;
  cpu: number;
  mm: bigint;
  pasid: number | null;
  tags: TagList;
  /** Bound devices, in bind order. */
  bound: ExampleDevice[];
  thread: { pid: number; cpu: number; alive: boolean } | null;
  region: bigint;
}

interface Actor {
  /** Desired start of the next step, or null when done. */
  next: bigint | null;
  /** CPUs the step needs free. */
  cpus(): number[];
  /** Runs the step from `t`; returns its end. */
  run(t: bigint): bigint;
}

const SIGCHLD_FORK = 0x1200011n; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
const THREAD_FLAGS = 0x3d0f00n; // CLONE_VM | FS | FILES | SIGHAND | THREAD | SYSVSEM | SETTLS | ...
const MADV_DONTNEED = 4n, MADV_FREE = 8n, MADV_WILLNEED = 3n;
const PROT_READ = 1n, PROT_RW = 3n;

/**
 * Generates the example workload.
 *
 * @param params the machine, the processes and the seed (default {@linkcode EXAMPLE_WORKLOAD_PARAMS})
 * @returns events in time order and what they contain
 * @example
 * ```ts
 * import { exampleWorkload } from "./example_workload.ts";
 * const w = exampleWorkload();
 * console.assert(w.flushes.length > 2000 && w.events[0]!.ts <= w.events[1]!.ts);
 * ```
 */
export function exampleWorkload(
  params: Readonly<ExampleWorkloadParams> = EXAMPLE_WORKLOAD_PARAMS,
): ExampleWorkload {
  return new Generator(params).run();
}

class Generator {
  p: Readonly<ExampleWorkloadParams>;
  rng: Rng;
  events: { e: TraceEvent; seq: number }[] = [];
  seq = 0;
  flushes: ExampleFlush[] = [];
  cpuFree: bigint[];
  lastTs: bigint[];
  devices: Map<string, ExampleDevice>;
  usedPasids = new Set<number>();
  lives: ExampleWorkload["lives"] = [];
  binds: ExampleWorkload["binds"] = [];
  syscalls = 0;
  faults = 0;
  dmaFlushCount = 0;
  otherSubmissions = 0;
  prqSeq = new Map<string, number>();
  /** Lives currently bound to at least one device, for faults. */
  active = new Set<Life>();

  constructor(p: Readonly<ExampleWorkloadParams>) {
    this.p = p;
    this.rng = new Rng(p.seed);
    this.cpuFree = Array.from({ length: p.cpus }, () => p.startNs);
    this.lastTs = Array.from({ length: p.cpus }, () => 0n);
    this.devices = new Map(p.devices.map((d) => [d.name, d]));
  }

  at(frac: number): bigint {
    return this.p.startNs + BigInt(Math.round(Number(this.p.durationNs) * frac));
  }

  /** Emits one event; per CPU, timestamps strictly increase. */
  emit(
    c: Ctx,
    ts: bigint,
    system: string,
    event: string,
    fields: Record<string, FieldValue>,
    flags = 0,
    preempt = 0,
  ): bigint {
    const t = ts > this.lastTs[c.cpu]! ? ts : this.lastTs[c.cpu]! + 1n;
    this.lastTs[c.cpu] = t;
    this.events.push({
      e: {
        ts: t,
        cpu: c.cpu,
        pid: c.pid,
        comm: c.pid === 0 ? "<idle>" : c.comm,
        system,
        event,
        buffer: "",
        flags,
        preempt_count: preempt,
        fields,
      },
      seq: this.seq++,
    });
    return t;
  }

  jitter(base: number, spread: number): bigint {
    return BigInt(base + this.rng.int(0, spread));
  }

  // ---- VT-d pieces -------------------------------------------------------------------------

  /** `qi_submit_sync`: one traced event per descriptor, then the wait. */
  submit(c: Ctx, t: bigint, iommu: string, descs: bigint[][], softirq = false): bigint {
    for (const qw of descs) {
      t = this.emit(
        c,
        t,
        "intel_iommu",
        "qi_submit",
        {
          qw0: qw[0]!,
          qw1: qw[1]!,
          qw2: qw[2]!,
          qw3: qw[3]!,
          iommu,
        },
        softirq ? 0x11 : 0x01,
        2,
      );
      t += this.jitter(35, 20);
    }
    const devtlb = descs.some((q) => {
      const type = q[0]! & 0xfn;
      return type === 3n || type === 8n;
    });
    return t + (devtlb ? this.jitter(1100, 1400) : this.jitter(350, 400));
  }

  tagFields(tag: Tag, pasid: number): Record<string, FieldValue> {
    return {
      iommu: tag.iommu,
      dev: tag.type === 0 ? tag.iommu : tag.dev.name,
      type: tag.type,
      domain_id: FLPT_DEFAULT_DID,
      pasid,
    };
  }

  sid(d: ExampleDevice): number {
    const m = /^[0-9a-f]{4}:([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(d.name)!;
    return sidOf(parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16));
  }

  /** `cache_tag_flush_range` / `cache_tag_flush_all` over a domain's tags, 6.12 batching. */
  iommuFlush(c: Ctx, t: bigint, life: Life, full: boolean, start: bigint, end: bigint): bigint {
    const pasid = life.pasid!;
    const psi = full ? null : psiAligned(start, end);
    let cur: string | null = null;
    let batch: bigint[][] = [];
    for (const tag of life.tags.tags) {
      if (cur !== null && cur !== tag.iommu) {
        t = this.submit(c, t, cur, batch);
        batch = [];
      }
      cur = tag.iommu;
      const d = tag.dev;
      if (tag.type === 0) {
        batch.push(
          psi
            ? piotlb(FLPT_DEFAULT_DID, pasid, psi.addr, psi.pages)
            : piotlb(FLPT_DEFAULT_DID, pasid, 0n, -1n),
        );
      } else {
        const sid = this.sid(d);
        batch.push(
          psi
            ? devTlbPasid(sid, sid, pasid, d.qdep, psi.addr, psi.mask)
            : devTlb(sid, sid, d.qdep, 0n, MAX_AGAW_PFN_WIDTH),
        );
      }
      if (batch.length === 16) {
        t = this.submit(c, t, cur, batch);
        batch = [];
      }
      if (psi) {
        const f = this.tagFields(tag, pasid);
        f.start = start;
        f.end = end;
        f.addr = psi.addr;
        f.pages = psi.pages;
        f.mask = psi.mask;
        t = this.emit(c, t, "intel_iommu", "cache_tag_flush_range", f, 0x01, 1);
      } else {
        t = this.emit(
          c,
          t,
          "intel_iommu",
          "cache_tag_flush_all",
          {
            ...this.tagFields(tag, pasid),
            users: tag.users,
          },
          0x01,
          1,
        );
      }
      t += this.jitter(45, 30);
    }
    if (cur !== null && batch.length > 0) t = this.submit(c, t, cur, batch);
    return t;
  }

  /** `intel_pasid_tear_down_entry` of an SVA PASID: three single submissions. */
  teardown(c: Ctx, t: bigint, d: ExampleDevice, pasid: number): bigint {
    const sid = this.sid(d);
    t = this.submit(c, t, d.iommu, [pcInvPasid(FLPT_DEFAULT_DID, pasid)]);
    t = this.submit(c, t, d.iommu, [piotlb(FLPT_DEFAULT_DID, pasid, 0n, -1n)]);
    t = this.submit(c, t, d.iommu, [
      devTlbPasid(sid, sid, pasid, d.qdep, 0n, MAX_AGAW_PFN_WIDTH),
    ]);
    this.otherSubmissions += 3;
    return t;
  }

  /** 6.12 `intel_drain_pasid_prq`: one 3-descriptor submission (default-domain DID, qw1 0). */
  drain(c: Ctx, t: bigint, d: ExampleDevice, pasid: number): bigint {
    const sid = this.sid(d);
    t = this.submit(c, t, d.iommu, [
      invWaitFence(),
      piotlb(d.dmaDid, pasid, 0n, -1n),
      devTlbPasid(sid, sid, pasid, d.qdep, 0n, 0n),
    ]);
    this.otherSubmissions++;
    return t + this.jitter(2000, 3000);
  }

  // ---- process pieces -------------------------------------------------------------------

  allocPasid(): number {
    let p = this.p.firstPasid;
    while (this.usedPasids.has(p)) p++;
    this.usedPasids.add(p);
    return p;
  }

  bind(life: Life, d: ExampleDevice, t: bigint): bigint {
    const c = { cpu: life.cpu, pid: life.pid, comm: life.comm };
    if (life.pasid === null) life.pasid = this.allocPasid();
    const pasid = life.pasid;
    t += this.jitter(8000, 6000); // open + iommu_sva_bind_device up to the tags
    for (const type of [0, 1] as const) {
      const tag = life.tags.assign(type, d);
      t = this.emit(c, t, "intel_iommu", "cache_tag_assign", {
        ...this.tagFields(tag, pasid),
        users: tag.users,
      });
      t += this.jitter(250, 200);
    }
    life.bound.push(d);
    this.active.add(life);
    this.binds.push({ pid: life.pid, device: d.name, pasid, ts: t, until: -1n });
    return t + this.jitter(6000, 4000);
  }

  unassign(c: Ctx, t: bigint, life: Life, d: ExampleDevice): bigint {
    for (const type of [0, 1] as const) {
      const { tag, users } = life.tags.unassign(type, d);
      t = this.emit(c, t, "intel_iommu", "cache_tag_unassign", {
        ...this.tagFields(tag, life.pasid!),
        users,
      });
      t += this.jitter(200, 150);
    }
    life.bound = life.bound.filter((x) => x !== d);
    if (life.bound.length === 0) this.active.delete(life);
    const b = this.binds.findLast((x) => x.pid === life.pid && x.device === d.name);
    if (b) b.until = t;
    return t;
  }

  /** Explicit unbind while the process lives. */
  unbind(life: Life, d: ExampleDevice, t: bigint): bigint {
    const c = { cpu: life.cpu, pid: life.pid, comm: life.comm };
    t += this.jitter(3000, 2000);
    t = this.unassign(c, t, life, d);
    t = this.teardown(c, t + this.jitter(400, 300), d, life.pasid!);
    t = this.drain(c, t + this.jitter(300, 200), d, life.pasid!);
    return t + this.jitter(4000, 3000);
  }

  /** One mm syscall and what it flushes. */
  mmOp(life: Life, c: Ctx, t: bigint, ipiCpu: number | null, ipiPid: number): bigint {
    const r = this.rng;
    // size in pages
    const u = r.next();
    let pages: bigint;
    if (u < 0.4) pages = 1n;
    else if (u < 0.62) pages = BigInt(r.int(2, 8));
    else if (u < 0.75) pages = BigInt(r.int(9, 33));
    else if (u < 0.85) pages = BigInt(r.int(34, 256));
    else if (u < 0.9) pages = BigInt(r.int(257, 511));
    else pages = 512n;
    let thp = false;
    let start: bigint;
    // the process's arena: 1 GiB of small-page mappings then 1 GiB of THP-capable ones
    if (pages === 512n && r.next() < this.p.thpShare) {
      thp = true;
      start = life.region + (1n << 30n) + BigInt(r.int(0, 511)) * HUGE;
    } else {
      let align = 1n;
      while (align < pages) align <<= 1n;
      const slot = BigInt(r.int(0, 262143 - 512));
      start = life.region + (r.next() < 0.5 ? (slot / align) * align : slot) * PAGE;
    }
    const len = pages * PAGE;
    // the syscall; len is not always a page multiple (the kernel rounds it up)
    const rawLen = r.next() < 0.25 && !thp ? len - BigInt(r.int(1, 4095)) : len;
    const kind = r.next();
    let source: ExampleFlush["source"];
    let flushes = true;
    const sys = { cpu: c.cpu, pid: c.pid, comm: c.comm };
    if (kind < 0.45) {
      source = "munmap";
      t = this.emit(sys, t, "syscalls", "sys_enter_munmap", {
        __syscall_nr: 11,
        addr: start,
        len: rawLen,
      });
    } else if (kind < 0.8) {
      source = "madvise";
      const b = r.next();
      const behavior = b < 0.7 ? MADV_DONTNEED : b < 0.9 ? MADV_FREE : MADV_WILLNEED;
      flushes = behavior !== MADV_WILLNEED;
      t = this.emit(sys, t, "syscalls", "sys_enter_madvise", {
        __syscall_nr: 28,
        start,
        len_in: rawLen,
        behavior,
      });
    } else {
      source = "mprotect";
      const prot = r.next() < 0.6 ? PROT_READ : PROT_RW;
      flushes = prot === PROT_READ; // RW after RO needs no flush (pte_needs_flush)
      t = this.emit(sys, t, "syscalls", "sys_enter_mprotect", {
        __syscall_nr: 10,
        start,
        len: rawLen,
        prot,
      });
    }
    this.syscalls++;
    t += this.jitter(900, 600) + BigInt(Number(pages) * 12);
    if (!flushes) return t + this.jitter(400, 300);
    // flush_tlb_mm_range
    const stride = thp ? 21n : 12n;
    const full = (len >> stride) > TLB_CEILING;
    const nr = full ? ULONG_MAX : len >> stride;
    if (ipiCpu !== null) {
      t = this.emit(
        sys,
        t,
        "tlb",
        "tlb_flush",
        { reason: 4, pages: full ? ULONG_MAX : pages },
        0,
        1,
      );
      t += this.jitter(250, 150);
      const local = this.emit(sys, t, "tlb", "tlb_flush", { reason: 3, pages: nr }, 0x01, 1);
      const remote = { cpu: ipiCpu, pid: ipiPid, comm: c.comm };
      this.emit(
        remote,
        local + this.jitter(300, 500),
        "tlb",
        "tlb_flush",
        {
          reason: 1,
          pages: nr,
        },
        0x09,
        1,
      );
      t = local + this.jitter(1500, 1200);
    } else {
      t = this.emit(sys, t, "tlb", "tlb_flush", { reason: 3, pages: nr }, 0x01, 1);
    }
    t += this.jitter(150, 100);
    if (life.tags.tags.length > 0 && life.pasid !== null) {
      const end = full ? ULONG_MAX : start + len - 1n;
      const s = full ? 0n : start;
      this.flushes.push({
        ts: t,
        cpu: c.cpu,
        pid: c.pid,
        pasid: life.pasid,
        source,
        full,
        start: s,
        end,
        thp,
        tags: life.tags.tags.map((x) => ({ type: x.type, iommu: x.iommu, device: x.device })),
      });
      t = this.iommuFlush(sys, t, life, full, s, end);
    }
    return t + this.jitter(300, 300);
  }

  /** Exit of a process's last thread. */
  exit(life: Life, t: bigint): bigint {
    const c = { cpu: life.cpu, pid: life.pid, comm: life.comm };
    t += this.jitter(5000, 3000);
    // exit_mm -> mmput -> exit_mmap -> mmu_notifier_release -> intel_mm_release
    for (const d of [...life.bound].reverse()) {
      t = this.teardown(c, t, d, life.pasid!);
      t += this.jitter(200, 200);
    }
    t += this.jitter(20000, 20000); // unmapping the whole address space
    t = this.emit(c, t, "mmap", "exit_mmap", { mm: life.mm, mt: life.mm + 0x40n });
    t += this.jitter(3000, 2000);
    t = this.emit(c, t, "sched", "sched_process_exit", {
      comm: life.comm,
      pid: life.pid,
      prio: 120,
    });
    // exit_files: the device files close in fd order (bind order)
    for (const d of [...life.bound]) {
      t += this.jitter(2000, 2000);
      t = this.unassign(c, t, life, d);
      t = this.drain(c, t + this.jitter(300, 200), d, life.pasid!);
    }
    if (life.pasid !== null) this.usedPasids.delete(life.pasid); // freed at the last mmdrop
    return t + this.jitter(10000, 5000);
  }

  // ---- actors ---------------------------------------------------------------------------

  /** A task's schedule: steps at desired times, run in order. */
  script(cpus: () => number[], steps: { at: bigint; run: (t: bigint) => bigint }[]): Actor {
    steps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    let i = 0;
    let floor = 0n;
    const actor: Actor = {
      next: steps[0]?.at ?? null,
      cpus,
      run: (t) => {
        const s = steps[i++]!;
        const end = s.run(t);
        floor = end;
        const n = steps[i];
        actor.next = n ? (n.at > floor ? n.at : floor + 1n) : null;
        return end;
      },
    };
    return actor;
  }

  /** Desired times of `n` operations spread over [from, to] with random gaps. */
  opTimes(n: number, from: bigint, to: bigint): bigint[] {
    const gaps = Array.from({ length: n + 1 }, () => -Math.log(1 - this.rng.next() * 0.999));
    const sum = gaps.reduce((a, b) => a + b, 0);
    const span = Number(to - from);
    const out: bigint[] = [];
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += gaps[i]!;
      out.push(from + BigInt(Math.round((acc / sum) * span)));
    }
    return out;
  }

  mmPtr(): bigint {
    return 0xffff888100000000n + BigInt(this.rng.int(0x10000, 0x3ffffff)) * 0x40n;
  }

  run(): ExampleWorkload {
    const p = this.p;
    const actors: Actor[] = [];
    const launcher = { cpu: 0, pid: p.launcher.pid, comm: p.launcher.comm };
    let region = 0x7f1c00000000n;
    const allLives: Life[] = [];
    for (const spec of p.processes) {
      const t0 = this.at(spec.start), t1 = this.at(spec.end);
      const life: Life = {
        comm: spec.comm,
        pid: spec.pid,
        cpu: spec.cpu,
        mm: this.mmPtr(),
        pasid: null,
        tags: new TagList(),
        bound: [],
        thread: null,
        region,
      };
      region += 0x100000000n;
      allLives.push(life);
      const frac = (f: number) => t0 + BigInt(Math.round(Number(t1 - t0) * f));
      const me = { cpu: spec.cpu, pid: spec.pid, comm: spec.comm };
      const forkedMm = this.mmPtr();
      // the launcher forks; the child execs
      actors.push(this.script(() => [0], [{
        at: t0 - 200_000n,
        run: (t) => {
          t = this.emit(launcher, t, "task", "task_newtask", {
            pid: spec.pid,
            comm: p.launcher.comm,
            clone_flags: SIGCHLD_FORK,
            oom_score_adj: 0,
          });
          t = this.emit(launcher, t + this.jitter(3000, 2000), "sched", "sched_process_fork", {
            parent_comm: p.launcher.comm,
            parent_pid: p.launcher.pid,
            child_comm: p.launcher.comm,
            child_pid: spec.pid,
          });
          return t + this.jitter(2000, 1000);
        },
      }]));
      const steps: { at: bigint; run: (t: bigint) => bigint }[] = [];
      steps.push({
        at: t0,
        run: (t) => {
          // exec_mmap drops the forked copy of the launcher's mm
          t = this.emit(me, t, "mmap", "exit_mmap", { mm: forkedMm, mt: forkedMm + 0x40n });
          t = this.emit(me, t + this.jitter(30000, 20000), "sched", "sched_process_exec", {
            filename: `/opt/accel/bin/${spec.comm}`,
            pid: spec.pid,
            old_pid: spec.pid,
          });
          return t + this.jitter(200000, 100000);
        },
      });
      for (const b of spec.binds) {
        const d = this.devices.get(b.device)!;
        steps.push({ at: frac(b.at), run: (t) => this.bind(life, d, t) });
        if (b.until !== undefined) {
          steps.push({ at: frac(b.until), run: (t) => this.unbind(life, d, t) });
        }
      }
      const opsFrom = frac(0.025), opsTo = frac(0.99);
      for (const at of this.opTimes(spec.ops, opsFrom, opsTo)) {
        steps.push({
          at,
          run: (t) => {
            const th = life.thread;
            return this.mmOp(life, me, t, th?.alive ? th.cpu : null, th?.pid ?? 0);
          },
        });
      }
      if (spec.thread) {
        const th = spec.thread;
        const tc = { cpu: th.cpu, pid: th.pid, comm: spec.comm };
        steps.push({
          at: frac(th.from),
          run: (t) => {
            t = this.emit(me, t, "task", "task_newtask", {
              pid: th.pid,
              comm: spec.comm,
              clone_flags: THREAD_FLAGS,
              oom_score_adj: 0,
            });
            t = this.emit(me, t + this.jitter(4000, 2000), "sched", "sched_process_fork", {
              parent_comm: spec.comm,
              parent_pid: spec.pid,
              child_comm: spec.comm,
              child_pid: th.pid,
            });
            life.thread = { pid: th.pid, cpu: th.cpu, alive: true };
            return t + this.jitter(3000, 1000);
          },
        });
        const tSteps: { at: bigint; run: (t: bigint) => bigint }[] = [];
        for (const at of this.opTimes(th.ops, frac(th.from + 0.01), frac(th.to - 0.01))) {
          tSteps.push({ at, run: (t) => this.mmOp(life, tc, t, spec.cpu, spec.pid) });
        }
        tSteps.push({
          at: frac(th.to),
          run: (t) => {
            t = this.emit(tc, t, "sched", "sched_process_exit", {
              comm: spec.comm,
              pid: th.pid,
              prio: 120,
            });
            life.thread!.alive = false;
            return t + this.jitter(5000, 2000);
          },
        });
        tSteps.push({
          at: frac(th.to) + 4_000_000n,
          run: (t) =>
            this.emit(
              { cpu: th.cpu, pid: 0, comm: "<idle>" },
              t,
              "sched",
              "sched_process_free",
              {
                comm: spec.comm,
                pid: th.pid,
                prio: 120,
              },
              0x10,
              1,
            ) + 1000n,
        });
        actors.push(this.script(() => [th.cpu, spec.cpu], tSteps));
      }
      if (spec.child) {
        const ch = spec.child;
        const cc = { cpu: ch.cpu, pid: ch.pid, comm: spec.comm };
        const childLife: Life = {
          comm: spec.comm,
          pid: ch.pid,
          cpu: ch.cpu,
          mm: this.mmPtr(),
          pasid: null,
          tags: new TagList(),
          bound: [],
          thread: null,
          region: life.region,
        };
        allLives.push(childLife);
        steps.push({
          at: frac(ch.from),
          run: (t) => {
            t = this.emit(me, t, "task", "task_newtask", {
              pid: ch.pid,
              comm: spec.comm,
              clone_flags: SIGCHLD_FORK,
              oom_score_adj: 0,
            });
            t = this.emit(me, t + this.jitter(30000, 10000), "sched", "sched_process_fork", {
              parent_comm: spec.comm,
              parent_pid: spec.pid,
              child_comm: spec.comm,
              child_pid: ch.pid,
            });
            return t + this.jitter(3000, 1000);
          },
        });
        const cSteps: { at: bigint; run: (t: bigint) => bigint }[] = [];
        for (const at of this.opTimes(ch.ops, frac(ch.from + 0.01), frac(ch.to - 0.01))) {
          cSteps.push({ at, run: (t) => this.mmOp(childLife, cc, t, null, 0) });
        }
        cSteps.push({ at: frac(ch.to), run: (t) => this.exit(childLife, t) });
        cSteps.push({
          at: frac(ch.to) + 3_000_000n,
          run: (t) =>
            this.emit(
              { cpu: ch.cpu, pid: 0, comm: "<idle>" },
              t,
              "sched",
              "sched_process_free",
              {
                comm: spec.comm,
                pid: ch.pid,
                prio: 120,
              },
              0x10,
              1,
            ) + 1000n,
        });
        actors.push(this.script(() => [ch.cpu], cSteps));
      }
      steps.push({ at: t1, run: (t) => this.exit(life, t) });
      steps.push({
        at: t1 + 5_000_000n,
        run: (t) =>
          this.emit(
            { cpu: spec.cpu, pid: 0, comm: "<idle>" },
            t,
            "sched",
            "sched_process_free",
            {
              comm: spec.comm,
              pid: spec.pid,
              prio: 120,
            },
            0x10,
            1,
          ) + 1000n,
      });
      actors.push(
        this.script(() => (life.thread?.alive ? [spec.cpu, life.thread.cpu] : [spec.cpu]), steps),
      );
    }
    actors.push(this.dmaActor());
    actors.push(this.faultActor());
    this.schedule(actors);
    for (const l of allLives) {
      this.lives.push({ pid: l.pid, comm: l.comm, pasid: l.pasid, mm: l.mm });
    }
    this.events.sort((a, b) =>
      a.e.ts < b.e.ts ? -1 : a.e.ts > b.e.ts ? 1 : a.e.cpu - b.e.cpu || a.seq - b.seq
    );
    this.flushes.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.cpu - b.cpu));
    return {
      kernel: p.kernel,
      cpus: p.cpus,
      events: this.events.map((x) => x.e),
      flushes: this.flushes,
      syscalls: this.syscalls,
      lives: this.lives,
      binds: this.binds,
      faults: this.faults,
      dmaFlushes: this.dmaFlushCount,
      otherSubmissions: this.otherSubmissions,
    };
  }

  /** Runs the actors: always the step that can start first, on free CPUs. */
  schedule(actors: Actor[]): void {
    for (;;) {
      let best: Actor | null = null;
      let bestT = 0n;
      for (const a of actors) {
        if (a.next === null) continue;
        let t = a.next;
        for (const c of a.cpus()) if (this.cpuFree[c]! > t) t = this.cpuFree[c]!;
        if (best === null || t < bestT) {
          best = a;
          bestT = t;
        }
      }
      if (best === null) return;
      const cpus = best.cpus();
      const end = best.run(bestT);
      for (const c of cpus) this.cpuFree[c] = end + 500n;
    }
  }

  /** Flush-queue timer flushes of the non-ATS devices' DMA domains (CPU 0, softirq). */
  dmaActor(): Actor {
    const p = this.p;
    const dma = p.devices.filter((d) => !d.ats);
    const times = dma.length === 0
      ? []
      : this.opTimes(p.dmaFlushes * dma.length, this.at(0.01), this.at(0.99));
    const idle = { cpu: 0, pid: 0, comm: "<idle>" };
    let k = 0;
    return this.script(
      () => [0],
      times.map((at) => ({
        at,
        run: (t: bigint) => {
          const d = dma[k++ % dma.length]!;
          t = this.emit(
            idle,
            t,
            "intel_iommu",
            "cache_tag_flush_all",
            {
              iommu: d.iommu,
              dev: d.iommu,
              type: 0,
              domain_id: d.dmaDid,
              pasid: 0,
              users: 1,
            },
            0x11,
            1,
          );
          this.dmaFlushCount++;
          this.otherSubmissions++;
          return this.submit(
            idle,
            t + this.jitter(40, 20),
            d.iommu,
            [piotlb(d.dmaDid, 0, 0n, -1n)],
            true,
          );
        },
      })),
    );
  }

  /** Page requests: the PRQ thread reports, the fault work queue responds (CPU 0). */
  faultActor(): Actor {
    const times = this.opTimes(this.p.faults, this.at(0.08), this.at(0.88));
    return this.script(
      () => [0],
      times.map((at) => ({
        at,
        run: (t: bigint) => {
          const lives = [...this.active].filter((l) => l.pasid !== null && l.bound.length > 0);
          if (lives.length === 0) return t;
          const life = lives[this.rng.int(0, lives.length - 1)]!;
          const d = life.bound[this.rng.int(0, life.bound.length - 1)]!;
          const sid = this.sid(d);
          const seq = this.prqSeq.get(d.iommu) ?? 0;
          this.prqSeq.set(d.iommu, seq + 1);
          const addr = life.region + BigInt(this.rng.int(0, 262143)) * PAGE;
          const write = this.rng.next() < 0.7;
          const prg = this.rng.int(0, 511);
          const dw0 = (BigInt(life.pasid!) << 32n) | (BigInt(sid) << 16n) | 0x100n | 0x1n;
          const dw1 = addr | (BigInt(prg) << 3n) | 0x4n | (write ? 0x2n : 0x1n);
          const unit = d.iommu.replace(/^dmar/, "");
          const prqThread = {
            cpu: 0,
            pid: 1180 + Number(unit),
            comm: `irq/${156 + Number(unit)}-${d.iommu}-p`,
          };
          t = this.emit(prqThread, t, "intel_iommu", "prq_report", {
            dw0,
            dw1,
            dw2: 0n,
            dw3: 0n,
            seq: BigInt(seq),
            iommu: d.iommu,
            dev: d.name,
            buff: "", // filled by decode_prq_descriptor() only when the event is printed
          });
          this.faults++;
          // iopf work: handle_mm_fault, then intel_page_response (page_grp_resp, success)
          const kworker = { cpu: 0, pid: 312, comm: "kworker/u16:3" };
          const resp = [
            (BigInt(life.pasid!) << 32n) | (BigInt(sid) << 16n) | (1n << 4n) | 9n,
            (BigInt(prg) << 3n) | (1n << 2n),
            0n,
            0n,
          ];
          this.otherSubmissions++;
          return this.submit(kworker, t + this.jitter(6000, 8000), d.iommu, [resp]);
        },
      })),
    );
  }
}
