/**
 * Builders of {@linkcode TraceEvent}s with the field names and decoded value types of the
 * kernel's format files, for the events the IOMMU scenarios use.
 *
 * Value types follow the readers' decoding rules: fields of 8 bytes (`u64`, `unsigned long`,
 * `size_t`, pointers) are `bigint`; smaller integers are `number`; `char[]` and
 * `__data_loc char[]` are `string`; integer arrays are `bigint[]` (8-byte elements) or `number[]`.
 * No file format is involved: the trace writers turn these into trace.dat or text.
 *
 * Field sets (checked against the format files of the named kernels, see `research/iommu.md` §1
 * and `/sys/kernel/tracing/events/<system>/<event>/format` on 6.18):
 * - `intel_iommu:qi_submit`: `qw0 qw1 qw2 qw3` (u64), `iommu` (string).
 * - `intel_iommu:cache_tag_{assign,unassign,flush_all}`: `iommu dev` (string), `type domain_id`
 *   (u16), `pasid users` (u32).
 * - `intel_iommu:cache_tag_flush_range[_np]`: `iommu dev type domain_id pasid`, then `start end addr
 *   [pages] mask` (unsigned long; `pages` dropped in later trees).
 * - `task:task_newtask`: `pid` (pid_t), `comm` (char[16]), `clone_flags` (u64), `oom_score_adj` (short).
 * - `sched:sched_process_fork`: `parent_comm parent_pid child_comm child_pid`;
 *   `sched_process_exec`: `filename pid old_pid`; `sched_process_exit`: `comm pid prio`
 *   (+ `group_dead` on 6.16+); `sched_process_free`: `comm pid prio`.
 * - `mmap:exit_mmap`: `mm mt` (pointers).
 * - `syscalls:sys_enter_munmap`: `__syscall_nr addr len`; `sys_enter_mprotect`: `__syscall_nr start
 *   len prot`; `sys_enter_madvise`: `__syscall_nr start len_in behavior`.
 * - `tlb:tlb_flush`: `reason` (int), `pages` (unsigned long).
 * - Probe events (kprobe/fprobe): `__probe_ip` (unsigned long) then the fetch arguments.
 *
 * @module
 */
import type { FieldValue, TraceEvent } from "../../core/event.ts";

/** Who and where an event happens. */
export interface EventCtx {
  /** Timestamp (ns). */
  ts: bigint;
  /** CPU. */
  cpu: number;
  /** Task. */
  pid: number;
  /** Task name. */
  comm: string;
}

/** Kernel version traits the builders follow. */
export interface KernelProfile {
  /** `uname -r` style. */
  version: string;
  /** Cache-tag tracepoints exist (6.10+). */
  cacheTags: boolean;
  /** `cache_tag_flush_all` exists (6.10 - 6.16). */
  cacheTagFlushAll: boolean;
  /** `cache_tag_flush` has `pages` (until the 2025 trees). */
  cacheTagPages: boolean;
  /** Cache-tag flushes are batched into one submission per IOMMU (6.12+). */
  batching: boolean;
  /** `sched_process_exit` has `group_dead` (6.16+). */
  exitGroupDead: boolean;
}

/** Linux 6.9: qi_submit only, per-device flushes. */
export const KERNEL_6_9: KernelProfile = Object.freeze({
  version: "6.9.0",
  cacheTags: false,
  cacheTagFlushAll: false,
  cacheTagPages: false,
  batching: false,
  exitGroupDead: false,
});

/** Linux 6.12: cache tags and batched submissions. */
export const KERNEL_6_12: KernelProfile = Object.freeze({
  version: "6.12.0",
  cacheTags: true,
  cacheTagFlushAll: true,
  cacheTagPages: true,
  batching: true,
  exitGroupDead: false,
});

/**
 * One event.
 *
 * @param c context
 * @param system trace system
 * @param event event name
 * @param fields decoded fields
 * @returns the event
 */
export function traceEvent(
  c: EventCtx,
  system: string,
  event: string,
  fields: Record<string, FieldValue>,
): TraceEvent {
  return {
    ts: c.ts,
    cpu: c.cpu,
    pid: c.pid,
    comm: c.comm,
    system,
    event,
    buffer: "",
    flags: 1,
    preempt_count: 1,
    fields,
  };
}

/**
 * `intel_iommu:qi_submit`.
 *
 * @param c context
 * @param iommu unit name
 * @param qw descriptor words (qw2/qw3 default 0)
 * @returns the event
 */
export function qiSubmit(c: EventCtx, iommu: string, qw: readonly bigint[]): TraceEvent {
  return traceEvent(c, "intel_iommu", "qi_submit", {
    qw0: qw[0] ?? 0n,
    qw1: qw[1] ?? 0n,
    qw2: qw[2] ?? 0n,
    qw3: qw[3] ?? 0n,
    iommu,
  });
}

/** A cache tag as the tracepoints print it. */
export interface CacheTagFields {
  /** IOMMU unit name. */
  iommu: string;
  /** `dev_name(tag->dev)`: the IOMMU's own device for IOTLB tags. */
  dev: string;
  /** 0 iotlb, 1 devtlb, 2 nesting_iotlb, 3 nesting_devtlb. */
  type: number;
  /** Domain id. */
  did: number;
  /** PASID. */
  pasid: number;
  /** Reference count after the operation (before it for unassign). */
  users: number;
}

/**
 * `cache_tag_assign`, `cache_tag_unassign` or `cache_tag_flush_all`.
 *
 * @param c context
 * @param event event name
 * @param t the tag
 * @returns the event
 */
export function cacheTagLog(
  c: EventCtx,
  event: "cache_tag_assign" | "cache_tag_unassign" | "cache_tag_flush_all",
  t: CacheTagFields,
): TraceEvent {
  return traceEvent(c, "intel_iommu", event, {
    iommu: t.iommu,
    dev: t.dev,
    type: t.type,
    domain_id: t.did,
    pasid: t.pasid,
    users: t.users,
  });
}

/**
 * `cache_tag_flush_range` / `cache_tag_flush_range_np`.
 *
 * @param c context
 * @param k kernel profile (decides whether `pages` exists)
 * @param t the tag (`users` is not part of this event)
 * @param r the raw inclusive range and the PSI result
 * @param np the `_np` variant
 * @returns the event
 */
export function cacheTagFlushRange(
  c: EventCtx,
  k: KernelProfile,
  t: Omit<CacheTagFields, "users">,
  r: { start: bigint; end: bigint; addr: bigint; pages: bigint; mask: bigint },
  np = false,
): TraceEvent {
  const f: Record<string, FieldValue> = {
    iommu: t.iommu,
    dev: t.dev,
    type: t.type,
    domain_id: t.did,
    pasid: t.pasid,
    start: r.start,
    end: r.end,
    addr: r.addr,
  };
  if (k.cacheTagPages) f.pages = r.pages;
  f.mask = r.mask;
  return traceEvent(c, "intel_iommu", np ? "cache_tag_flush_range_np" : "cache_tag_flush_range", f);
}

/**
 * `task:task_newtask`, emitted by the parent.
 *
 * @param c parent context
 * @param child new task id
 * @param comm child comm (the parent's at clone time)
 * @param cloneFlags clone flags
 * @returns the event
 */
export function taskNewtask(
  c: EventCtx,
  child: number,
  comm: string,
  cloneFlags: bigint,
): TraceEvent {
  return traceEvent(c, "task", "task_newtask", {
    pid: child,
    comm,
    clone_flags: cloneFlags,
    oom_score_adj: 0,
  });
}

/**
 * `sched:sched_process_fork`, emitted by the parent.
 *
 * @param c parent context
 * @param child child pid
 * @returns the event
 */
export function schedProcessFork(c: EventCtx, child: number): TraceEvent {
  return traceEvent(c, "sched", "sched_process_fork", {
    parent_comm: c.comm,
    parent_pid: c.pid,
    child_comm: c.comm,
    child_pid: child,
  });
}

/**
 * `sched:sched_process_exec` (the context carries the new comm).
 *
 * @param c context after exec
 * @param filename program path
 * @param oldPid pid before exec
 * @returns the event
 */
export function schedProcessExec(c: EventCtx, filename: string, oldPid = c.pid): TraceEvent {
  return traceEvent(c, "sched", "sched_process_exec", { filename, pid: c.pid, old_pid: oldPid });
}

/**
 * `sched:sched_process_exit`.
 *
 * @param c context of the exiting task
 * @param k kernel profile
 * @param groupDead last thread of the group
 * @returns the event
 */
export function schedProcessExit(c: EventCtx, k: KernelProfile, groupDead = true): TraceEvent {
  const f: Record<string, FieldValue> = { comm: c.comm, pid: c.pid, prio: 120 };
  if (k.exitGroupDead) f.group_dead = groupDead ? 1 : 0;
  return traceEvent(c, "sched", "sched_process_exit", f);
}

/**
 * `sched:sched_process_free` (emitted later, from RCU or the reaper's context).
 *
 * @param c context of the freeing task
 * @param pid freed task
 * @param comm freed task's comm
 * @returns the event
 */
export function schedProcessFree(c: EventCtx, pid: number, comm: string): TraceEvent {
  return traceEvent(c, "sched", "sched_process_free", { comm, pid, prio: 120 });
}

/**
 * `mmap:exit_mmap`.
 *
 * @param c context
 * @param mm mm pointer
 * @param mt maple tree pointer
 * @returns the event
 */
export function exitMmap(c: EventCtx, mm: bigint, mt: bigint = mm + 0x40n): TraceEvent {
  return traceEvent(c, "mmap", "exit_mmap", { mm, mt });
}

/**
 * `syscalls:sys_enter_munmap` (x86_64 syscall 11).
 *
 * @param c context
 * @param addr start
 * @param len length
 * @returns the event
 */
export function sysEnterMunmap(c: EventCtx, addr: bigint, len: bigint): TraceEvent {
  return traceEvent(c, "syscalls", "sys_enter_munmap", { __syscall_nr: 11, addr, len });
}

/**
 * `syscalls:sys_enter_mprotect` (x86_64 syscall 10).
 *
 * @param c context
 * @param start start
 * @param len length
 * @param prot protection bits
 * @returns the event
 */
export function sysEnterMprotect(
  c: EventCtx,
  start: bigint,
  len: bigint,
  prot: bigint,
): TraceEvent {
  return traceEvent(c, "syscalls", "sys_enter_mprotect", { __syscall_nr: 10, start, len, prot });
}

/**
 * `syscalls:sys_enter_madvise` (x86_64 syscall 28; `behavior` is declared `int` with size 8).
 *
 * @param c context
 * @param start start
 * @param len length
 * @param behavior MADV_* value
 * @returns the event
 */
export function sysEnterMadvise(
  c: EventCtx,
  start: bigint,
  len: bigint,
  behavior: bigint,
): TraceEvent {
  return traceEvent(c, "syscalls", "sys_enter_madvise", {
    __syscall_nr: 28,
    start,
    len_in: len,
    behavior,
  });
}

/**
 * `tlb:tlb_flush`.
 *
 * @param c context
 * @param reason 0 task switch, 1 remote shootdown, 2 local shootdown, 3 local mm shootdown, 4 remote ipi send
 * @param pages pages, `2^64 - 1` for a full flush
 * @returns the event
 */
export function tlbFlush(c: EventCtx, reason: number, pages: bigint): TraceEvent {
  return traceEvent(c, "tlb", "tlb_flush", { reason, pages });
}

/**
 * A probe event: `__probe_ip` and the fetched arguments.
 *
 * @param c context
 * @param system probe group
 * @param event probe event
 * @param ip probed address
 * @param args fetched arguments
 * @returns the event
 */
export function probeEvent(
  c: EventCtx,
  system: string,
  event: string,
  ip: bigint,
  args: Record<string, FieldValue>,
): TraceEvent {
  return traceEvent(c, system, event, { __probe_ip: ip, ...args });
}
