/**
 * An mm-only trace (no IOMMU events, as recorded on a machine without SVA hardware) with a
 * thread, a fork and an exec: the what-if input that a topology file turns into bindings.
 *
 * Linux 6.12, what the kernel emits (field sets in `kernel_events.ts`):
 *
 * | t (µs) | cpu | task | event |
 * |---|---|---|---|
 * | 100 | 0 | app 2000 | `sys_enter_mprotect` 0x7f1000000000 +0x4000 (first sighting of pid 2000) |
 * | 200 | 0 | app 2000 | `task_newtask` 2001, clone flags 0x3d0f00 (CLONE_VM: a thread) |
 * | 210 | 0 | app 2000 | `sched_process_fork` 2000 -> 2001 |
 * | 300 | 0 | app 2000 | `task_newtask` 2002, clone flags 0x1200011 (no CLONE_VM: a fork) |
 * | 310 | 0 | app 2000 | `sched_process_fork` 2000 -> 2002 |
 * | 400 | 1 | app 2001 | `sys_enter_munmap` 0x7f1000100000 +0x2000 (the thread: same mm) |
 * | 500 | 1 | app 2002 | `sys_enter_munmap` 0x7f1000200000 +0x1000 (the fork child: its own mm) |
 * | 600 | 1 | app 2002 | `exit_mmap` 0xffff8880bbbb0000 (exec drops the child's old mm) |
 * | 610 | 1 | helper 2002 | `sched_process_exec` /usr/bin/helper |
 * | 700 | 1 | helper 2002 | `sys_enter_madvise` 0x7f2000000000 +0x3000 MADV_DONTNEED (4) |
 * | 710 | 1 | helper 2002 | `sys_enter_madvise` 0x7f2000000000 +0x3000 MADV_WILLNEED (3): no request |
 * | 800 | 0 | app 2000 | `tlb_flush` reason 4 (remote ipi send), 8 pages |
 * | 801 | 0 | app 2000 | `tlb_flush` reason 2 (local shootdown), 8 pages: the same flush |
 * | 850 | 1 | app 2001 | `tlb_flush` reason 1 (remote shootdown), 8 pages: received, not a request |
 * | 900 | 0 | app 2000 | `tlb_flush` reason 3 (local mm shootdown), pages -1: full |
 * | 1000 | 1 | helper 2002 | `exit_mmap` 0xffff8880cccc0000, `sched_process_exit` |
 * | 1100 | 1 | app 2001 | `sched_process_exit` (thread, group not dead) |
 * | 1200 | 0 | app 2000 | `exit_mmap` 0xffff8880aaaa0000, `sched_process_exit` |
 *
 * With the topology {@linkcode FORK_EXEC_TOPOLOGY} (processes named `app` bind two devices with
 * PASID 5) and what-if on, pid 2000's mm is bound from 100 µs to 1200 µs; the fork child and the
 * exec'd helper are not bound.
 *
 * @module
 */
import type { TraceEvent } from "../../core/event.ts";
import { type Topology, validateTopology } from "../../core/topology.ts";
import {
  type EventCtx,
  exitMmap,
  KERNEL_6_12,
  schedProcessExec,
  schedProcessExit,
  schedProcessFork,
  sysEnterMadvise,
  sysEnterMprotect,
  sysEnterMunmap,
  taskNewtask,
  tlbFlush,
} from "./kernel_events.ts";
import type { Scenario } from "./vtd_sva.ts";

/** mm pointers of the scenario. */
export const FORK_EXEC_MM: Readonly<{ app: bigint; child: bigint; helper: bigint }> = Object.freeze(
  {
    app: 0xffff8880aaaa0000n,
    child: 0xffff8880bbbb0000n,
    helper: 0xffff8880cccc0000n,
  },
);

/** The what-if topology: one VT-d unit, two ATS devices, processes named `app` bind both. */
export const FORK_EXEC_TOPOLOGY: Topology = validateTopology({
  format: "iommu-replay-topology/1",
  kernel: "6.12.0",
  iommus: [{ name: "dmar0", vendor: "intel" }],
  devices: [
    { name: "0000:6a:01.0", iommu: "dmar0", ats: true, pasid: true, qdep: 32 },
    { name: "0000:6a:02.0", iommu: "dmar0", ats: true, pasid: true, qdep: 32 },
  ],
  bindings: [{ comm: "app", devices: ["0000:6a:01.0", "0000:6a:02.0"], pasid: 5 }],
}, "fork_exec topology");

/**
 * Builds the fork/exec scenario.
 *
 * @returns the scenario
 */
export function forkExec(): Scenario {
  const k = KERNEL_6_12;
  const us = (n: number) => BigInt(n) * 1000n;
  const at = (t: number, cpu: number, pid: number, comm: string): EventCtx => ({
    ts: us(t),
    cpu,
    pid,
    comm,
  });
  const app = (t: number, cpu = 0) => at(t, cpu, 2000, "app");
  const thread = (t: number) => at(t, 1, 2001, "app");
  const child = (t: number) => at(t, 1, 2002, "app");
  const helper = (t: number) => at(t, 1, 2002, "helper");
  const events: TraceEvent[] = [
    sysEnterMprotect(app(100), 0x7f1000000000n, 0x4000n, 1n),
    taskNewtask(app(200), 2001, "app", 0x3d0f00n),
    schedProcessFork(app(210), 2001),
    taskNewtask(app(300), 2002, "app", 0x1200011n),
    schedProcessFork(app(310), 2002),
    sysEnterMunmap(thread(400), 0x7f1000100000n, 0x2000n),
    sysEnterMunmap(child(500), 0x7f1000200000n, 0x1000n),
    exitMmap(child(600), FORK_EXEC_MM.child),
    schedProcessExec(helper(610), "/usr/bin/helper"),
    sysEnterMadvise(helper(700), 0x7f2000000000n, 0x3000n, 4n),
    sysEnterMadvise(helper(710), 0x7f2000000000n, 0x3000n, 3n),
    tlbFlush(app(800), 4, 8n),
    tlbFlush(app(801), 2, 8n),
    tlbFlush(thread(850), 1, 8n),
    tlbFlush(app(900), 3, (1n << 64n) - 1n),
    exitMmap(helper(1000), FORK_EXEC_MM.helper),
    schedProcessExit(helper(1000), k),
    schedProcessExit(thread(1100), k, false),
    exitMmap(app(1200), FORK_EXEC_MM.app),
    schedProcessExit(app(1200), k),
  ];
  return {
    name: "fork_exec_6.12",
    kernel: k.version,
    description: "mm-only trace: a thread, a fork and an exec (what-if input)",
    events,
  };
}
