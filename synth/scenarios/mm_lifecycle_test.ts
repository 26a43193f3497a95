import assert from "node:assert/strict";
import { normalize } from "../../core/normalize/normalize.ts";
import { FORK_EXEC_TOPOLOGY, forkExec } from "./mm_lifecycle.ts";

const A = "0xffff8880aaaa0000";
const CHILD = "0xffff8880bbbb0000";
const HELPER = "0xffff8880cccc0000";
const us = (n: number) => BigInt(n) * 1000n;

Deno.test("fork and exec, what-if with a topology: thread shares the mm, fork and exec do not", () => {
  const t = normalize(forkExec().events, { whatIf: true, topology: FORK_EXEC_TOPOLOGY });
  assert.deepEqual(t.iommus, [{ iommu: "dmar0", vendor: "intel", source: "topology" }]);
  assert.deepEqual(t.devices.map((d) => [d.device, d.sid, d.ats, d.qdep, d.source]), [
    ["0000:6a:01.0", 0x6a08, true, 32, "topology"],
    ["0000:6a:02.0", 0x6a10, true, 32, "topology"],
  ]);
  // pid 2000 is first seen at 100 µs with comm "app": its mm is bound until its exit_mmap.
  assert.deepEqual(
    t.bindings,
    ["0000:6a:01.0", "0000:6a:02.0"].map((device, i) => ({
      binding_id: i,
      mm: A,
      pid: 2000,
      comm: "app",
      pasid: 5,
      device,
      iommu: "dmar0",
      domain_id: null,
      from_ts: us(100),
      to_ts: us(1200),
      source: "topology",
    })),
  );
  const r = (
    id: number,
    t0: number,
    cpu: number,
    mm: string,
    pid: number,
    pasid: number | null,
    start: bigint,
    end: bigint,
    pages: bigint,
    source: string,
    full = false,
  ) => ({ request_id: id, ts: us(t0), cpu, mm, pid, pasid, start, end, pages, source, full });
  assert.deepEqual(t.requests, [
    r(0, 100, 0, A, 2000, 5, 0x7f1000000000n, 0x7f1000004000n, 4n, "mprotect"),
    // the thread (CLONE_VM) runs in pid 2000's mm, so the PASID applies
    r(1, 400, 1, A, 2001, 5, 0x7f1000100000n, 0x7f1000102000n, 2n, "munmap"),
    // the fork child has its own, unbound mm (named by the exit_mmap during its exec)
    r(2, 500, 1, CHILD, 2002, null, 0x7f1000200000n, 0x7f1000201000n, 1n, "munmap"),
    // after exec: a fresh mm; MADV_WILLNEED at 710 µs is not a request
    r(3, 700, 1, HELPER, 2002, null, 0x7f2000000000n, 0x7f2000003000n, 3n, "madvise"),
    // remote-IPI send + the initiator's local flush = one request; the remote shootdown is not one
    r(4, 800, 0, A, 2000, 5, 0n, 0x8000n, 8n, "tlb_flush"),
    r(5, 900, 0, A, 2000, 5, 0n, (1n << 64n) - 1n, 1n << 52n, "tlb_flush", true),
  ]);
  // process events for the replay checks: the thread is not a fork; exec's exit_mmap ends the
  // child's first mm; 6.12 has no group_dead, so exits come from exit_mmap
  assert.deepEqual(t.process_events, [
    { ts: us(300), kind: "fork", pid: 2000, child_pid: 2002, mm: A },
    { ts: us(600), kind: "exit", pid: 2002, child_pid: null, mm: CHILD },
    { ts: us(610), kind: "exec", pid: 2002, child_pid: null, mm: HELPER },
    { ts: us(1000), kind: "exit", pid: 2002, child_pid: null, mm: HELPER },
    { ts: us(1200), kind: "exit", pid: 2000, child_pid: null, mm: A },
  ]);
  assert.deepEqual(t.statements, [
    "bindings from the topology only (what-if)",
    "what-if mode: requests from syscall ranges and CPU TLB flushes (tlb_flush: page count only, no address)",
    "1 madvise calls skipped (behaviour does not zap pages)",
    "mm ids are kernel pointers where exit_mmap or probes named them, else pid:<pid>",
  ]);
});

Deno.test("without what-if the syscall and tlb events are only counted", () => {
  const t = normalize(forkExec().events);
  assert.deepEqual(t.requests, []);
  assert.deepEqual(t.bindings, []);
  assert.ok(t.statements.includes("9 syscall/tlb_flush events not used as requests (what-if off)"));
  assert.ok(t.statements.includes("no bindings in the trace"));
});

Deno.test("without task_newtask a thread cannot be told from a fork", () => {
  const evs = forkExec().events.filter((e) => e.event !== "task_newtask");
  const t = normalize(evs, { whatIf: true });
  // the thread 2001 now gets its own mm (named pid:2001: its mm never reaches exit_mmap)
  assert.equal(t.requests[1]!.mm, "pid:2001");
  assert.equal(t.requests[1]!.pasid, null);
  assert.ok(
    t.statements.includes("2 children seen only via sched_process_fork: assumed forks (new mm)"),
  );
});
