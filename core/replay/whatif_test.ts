import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import { hypotheticalBindings, type MmRangeEvent, requestsFromMmTrace, whatIf } from "./whatif.ts";
import { fourAtsOneIommu, topo } from "./testdata/fixtures.ts";

function ev(
  kind: MmRangeEvent["kind"],
  ts: bigint,
  addr: bigint,
  len: bigint,
  extra: Partial<MmRangeEvent> = {},
): MmRangeEvent {
  return { ts, kind, cpu: 0, pid: 9, mm: null, addr, len, ...extra };
}

Deno.test("requestsFromMmTrace: syscall range rules", () => {
  const rs = [...requestsFromMmTrace([
    ev("munmap", 1n, 0x10000n, 0x2001n), // 3 pages
    ev("mprotect", 2n, 0x20000n, 0x1000n),
    ev("madvise", 3n, 0x30000n, 0x4000n, { behavior: 4 }), // MADV_DONTNEED
    ev("madvise", 4n, 0x30000n, 0x4000n, { behavior: 3 }), // MADV_WILLNEED: no flush
    ev("mremap", 5n, 0x40000n, 0x4000n, { new_len: 0x1000n }), // shrink: the tail
    ev("mremap", 6n, 0x50000n, 0x2000n, { new_len: 0x8000n, flags: 1 }), // may move: old range
    ev("mremap", 7n, 0x60000n, 0x2000n, { new_len: 0x8000n, flags: 0 }), // grow in place
    ev("munmap", 8n, 0x70000n, 0n), // empty
  ])];
  assert.deepEqual(
    rs.map((r) => [r.request_id, r.source, r.start, r.end, r.pages, r.mm]),
    [
      [0, "munmap", 0x10000n, 0x13000n, 3n, "pid:9"],
      [1, "mprotect", 0x20000n, 0x21000n, 1n, "pid:9"],
      [2, "madvise", 0x30000n, 0x34000n, 4n, "pid:9"],
      [3, "mremap", 0x41000n, 0x44000n, 3n, "pid:9"],
      [4, "mremap", 0x50000n, 0x52000n, 2n, "pid:9"],
    ],
  );
});

Deno.test("requestsFromMmTrace: tlb_flush only for local shootdowns, -1 is full", () => {
  const events = [
    ev("tlb_flush", 1n, 0n, 0n, { reason: 0, pages: 1 }), // task switch
    ev("tlb_flush", 2n, 0n, 0n, { reason: "local shootdown", pages: 4 }),
    ev("tlb_flush", 3n, 0n, 0n, { reason: 3, pages: -1 }),
    ev("tlb_flush", 4n, 0n, 0n, { reason: 1, pages: 4 }), // remote shootdown
    ev("munmap", 5n, 0x1000n, 0x1000n),
  ];
  assert.equal([...requestsFromMmTrace(events)].length, 1);
  const rs = [...requestsFromMmTrace(events, { use: "tlb_flush", firstId: 10 })];
  assert.deepEqual(rs.map((r) => [r.request_id, r.start, r.end, r.full]), [
    [10, 0n, 0x4000n, false],
    [11, 0n, (1n << 64n) - 1n, true],
  ]);
  assert.equal([...requestsFromMmTrace(events, { use: "both" })].length, 3);
});

Deno.test("hypotheticalBindings: all PASID-capable devices by default; unknown device is an error", () => {
  const t = topo({ dmar0: "intel" }, [["a", "dmar0", true], ["b", "dmar0", false]]);
  t.devices[1]!.pasid = false;
  const b = hypotheticalBindings(t.devices, [{ pid: 9 }, {
    mm: "0xffff8881",
    devices: ["b"],
    pasid: 77,
  }], 5);
  assert.deepEqual(b.map((x) => [x.binding_id, x.mm, x.device, x.pasid, x.domain_id]), [
    [5, "pid:9", "a", 1, 1],
    [6, "0xffff8881", "b", 77, 1],
  ]);
  assert.throws(() => hypotheticalBindings(t.devices, [{ pid: 1, devices: ["zz"] }]), UsageError);
  assert.throws(() => hypotheticalBindings(t.devices, [{}]), UsageError);
});

Deno.test("whatIf: an mm trace against 4 hypothetical ATS devices", () => {
  const t = fourAtsOneIommu();
  const r = whatIf({
    topology: { iommus: t.iommus, devices: t.devices },
    mm_events: [
      ev("munmap", 1n, 0x100000n, 0x4000n), // 4 aligned pages
      ev("munmap", 2n, 0x200000n, 0x40000n), // 64 pages: above the x86 ceiling on 6.6+
      ev("munmap", 3n, 0x300000n, 0x1000n, { pid: 10 }), // another process: not bound
    ],
    bind: [{ pid: 9 }],
  }, { policies: ["intel-per-device", "intel-batched", "ideal"] });
  const [perDev, batched, ideal] = r.policies;
  assert.equal(r.requests, 3);
  assert.equal(perDev!.requests_skipped, 1);
  assert.deepEqual([perDev!.submissions, batched!.submissions, ideal!.submissions], [16, 2, 2]);
  assert.equal(batched!.full_flushes, 5);
  assert.equal(ideal!.full_flushes, 0);
  assert.equal(ideal!.pages_invalidated, 5n * 4n + 5n * 64n);
  assert.equal(r.fidelity, null);
});
