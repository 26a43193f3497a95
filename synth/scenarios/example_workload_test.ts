import assert from "node:assert/strict";
import type { TraceEvent } from "../../core/event.ts";
import {
  EXAMPLE_WORKLOAD_PARAMS,
  type ExampleFlush,
  exampleWorkload,
  type ExampleWorkloadParams,
  ULONG_MAX,
} from "./example_workload.ts";

/** One process binding A (dmar0), B (dmar1), then C (dmar0); no noise. */
const SMALL: ExampleWorkloadParams = {
  ...EXAMPLE_WORKLOAD_PARAMS,
  seed: 7,
  durationNs: 40_000_000n,
  processes: [{
    comm: "app",
    pid: 500,
    cpu: 1,
    start: 0.05,
    end: 0.95,
    ops: 120,
    binds: [
      { device: "0000:6a:01.0", at: 0.0 },
      { device: "0000:e7:01.0", at: 0.005 },
      { device: "0000:6a:02.0", at: 0.01 },
    ],
  }],
  faults: 0,
  dmaFlushes: 0,
};
const A = 0x6a08, B = 0xe708, C = 0x6a10; // requester ids of the three devices

const small = exampleWorkload(SMALL);
const type = (e: TraceEvent) => Number((e.fields.qw0 as bigint) & 0xfn);
const on = (cpu: number, from: bigint) => small.events.filter((e) => e.cpu === cpu && e.ts >= from);

/** The events of one flush: from its first cache-tag event to its last qi_submit. */
function flushEvents(f: ExampleFlush): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const e of on(f.cpu, f.ts)) {
    if (e.system !== "intel_iommu") break;
    out.push(e);
  }
  return out;
}

/** The smallest naturally aligned block of >= roundup_pow2(pages) pages holding the range. */
function block(start: bigint, end: bigint): { addr: bigint; mask: bigint } {
  const pfn = start >> 12n, last = end >> 12n;
  let mask = 0n;
  while (1n << mask < last - pfn + 1n) mask++;
  while (pfn >> mask !== last >> mask) mask++;
  return { addr: (pfn >> mask) << (mask + 12n), mask };
}

Deno.test("example workload: same parameters, same events; another seed, other events", () => {
  assert.deepEqual(exampleWorkload(SMALL).events, small.events);
  assert.notDeepEqual(exampleWorkload({ ...SMALL, seed: 8 }).events, small.events);
});

Deno.test("example workload: events in time order, strictly increasing per CPU", () => {
  const last = new Map<number, bigint>();
  for (let i = 0; i < small.events.length; i++) {
    const e = small.events[i]!;
    if (i > 0) assert(small.events[i - 1]!.ts <= e.ts);
    assert(e.ts > (last.get(e.cpu) ?? -1n));
    last.set(e.cpu, e.ts);
  }
});

Deno.test("example workload: bind traces IOTLB then DEVTLB tags with the shared refcount", () => {
  const assigns = small.events.filter((e) => e.event === "cache_tag_assign").map((e) =>
    `${e.fields.iommu}/${e.fields.dev} type ${e.fields.type} did ${e.fields.domain_id} ` +
    `pasid ${e.fields.pasid} ref ${e.fields.users}`
  );
  assert.deepEqual(assigns, [
    "dmar0/dmar0 type 0 did 1 pasid 2 ref 1",
    "dmar0/0000:6a:01.0 type 1 did 1 pasid 2 ref 1",
    "dmar1/dmar1 type 0 did 1 pasid 2 ref 1",
    "dmar1/0000:e7:01.0 type 1 did 1 pasid 2 ref 1",
    "dmar0/dmar0 type 0 did 1 pasid 2 ref 2",
    "dmar0/0000:6a:02.0 type 1 did 1 pasid 2 ref 1",
  ]);
});

Deno.test("example workload: the tag list puts a new unit first and keeps a unit's tags together", () => {
  const withAll = small.flushes.filter((f) => f.tags.length === 5);
  assert(withAll.length > 50);
  for (const f of withAll) {
    assert.deepEqual(f.tags.map((t) => `${t.iommu}:${t.device ?? "iotlb"}`), [
      "dmar1:iotlb",
      "dmar1:0000:e7:01.0",
      "dmar0:iotlb",
      "dmar0:0000:6a:01.0",
      "dmar0:0000:6a:02.0",
    ]);
  }
});

Deno.test("example workload: a range flush is traced per tag and submitted once per unit", () => {
  const ranges = small.flushes.filter((f) => !f.full && f.tags.length === 5);
  assert(ranges.length > 30);
  for (const f of ranges) {
    const ev = flushEvents(f);
    assert.deepEqual(
      ev.map((e) => e.event === "qi_submit" ? `qi:${e.fields.iommu}` : e.fields.dev),
      [
        "dmar1",
        "0000:e7:01.0",
        "qi:dmar1",
        "qi:dmar1",
        "dmar0",
        "0000:6a:01.0",
        "0000:6a:02.0",
        "qi:dmar0",
        "qi:dmar0",
        "qi:dmar0",
      ],
    );
    const { addr, mask } = block(f.start, f.end);
    for (const e of ev.filter((x) => x.event === "cache_tag_flush_range")) {
      assert.deepEqual(
        [e.fields.start, e.fields.end, e.fields.addr, e.fields.mask, e.fields.pages],
        [f.start, f.end, addr, mask, 1n << mask],
      );
    }
    const qi = ev.filter((x) => x.event === "qi_submit");
    assert.deepEqual(qi.map(type), [6, 8, 6, 8, 8]);
    // p_iotlb: PSI (gran 3), DID 1, PASID 2; address and AM in qw1
    assert.equal(qi[0]!.fields.qw0, (2n << 32n) | (1n << 16n) | (3n << 4n) | 6n);
    assert.equal(qi[0]!.fields.qw1, addr | mask);
    // p_dev_tlb: SIDs in tag order; qdep 32 is written as 0; size in the address bits (S bit 11)
    const sids = qi.filter((q) => type(q) === 8).map((q) =>
      Number(((q.fields.qw0 as bigint) >> 16n) & 0xffffn)
    );
    assert.deepEqual(sids, [B, A, C]);
    const want = mask === 0n
      ? addr
      : (addr | (((1n << (mask + 12n)) - 1n) & ~0xfffn & ~(1n << (mask + 11n)))) | 0x800n;
    assert.equal(qi[1]!.fields.qw1, want);
  }
});

Deno.test("example workload: over the 33-page ceiling the notifier flushes everything", () => {
  const full = small.flushes.filter((f) => f.full && f.tags.length === 5);
  assert(full.length > 5);
  for (const f of full) {
    assert.deepEqual([f.start, f.end], [0n, ULONG_MAX]);
    const ev = flushEvents(f);
    assert.deepEqual(
      ev.map((e) => e.event),
      [
        "cache_tag_flush_all",
        "cache_tag_flush_all",
        "qi_submit",
        "qi_submit",
        "cache_tag_flush_all",
        "cache_tag_flush_all",
        "cache_tag_flush_all",
        "qi_submit",
        "qi_submit",
        "qi_submit",
      ],
    );
    const qi = ev.filter((e) => e.event === "qi_submit");
    // PASID-selective p_iotlb (gran 2), then the non-PASID dev_tlb_inv of the whole device TLB
    assert.deepEqual(qi.map(type), [6, 3, 6, 3, 3]);
    assert.equal(qi[0]!.fields.qw0, (2n << 32n) | (1n << 16n) | (2n << 4n) | 6n);
    assert.equal(
      qi[1]!.fields.qw0,
      (BigInt(B) << 32n) | 3n | (BigInt(B & 0xf) << 12n) |
        (BigInt(B >> 4) << 52n),
    );
    assert.equal(qi[1]!.fields.qw1, 0x7ffffffffffff001n);
    // the IOTLB tag of dmar0 is shared by two devices
    assert.equal(ev[4]!.fields.users, 2);
  }
  // the CPU side: a full local flush right before
  for (const f of full) {
    const before = small.events.filter((e) => e.cpu === f.cpu && e.ts < f.ts).at(-1)!;
    assert.deepEqual([before.event, before.fields.reason, before.fields.pages], [
      "tlb_flush",
      3,
      ULONG_MAX,
    ]);
  }
});

Deno.test("example workload: range sizes stay under the ceiling unless the stride is 2 MiB", () => {
  const w = exampleWorkload();
  for (const f of w.flushes.filter((x) => !x.full)) {
    const pages = (f.end + 1n - f.start) >> 12n;
    if (f.thp) assert.deepEqual([f.start % (2n << 20n), pages], [0n, 512n]);
    else assert(pages <= 33n, `${pages} pages`);
  }
});

Deno.test("example workload: exit with devices bound tears down, then unbinds in fd order", () => {
  const exit = small.events.find((e) =>
    e.event === "exit_mmap" && e.pid === 500 && e.ts > 1n &&
    e.fields.mm === small.lives[0]!.mm
  )!;
  const after = on(1, exit.ts - 200_000n).filter((e) => e.event !== "tlb_flush");
  const i = after.indexOf(exit);
  // mm release, newest binding first: pc_inv, p_iotlb (PASID), p_dev_tlb (whole) per device
  const teardown = after.slice(0, i).filter((e) => e.event === "qi_submit").slice(-9);
  assert.deepEqual(teardown.map(type), [7, 6, 8, 7, 6, 8, 7, 6, 8]);
  assert.deepEqual(
    teardown.filter((e) => type(e) === 8).map((e) =>
      Number(((e.fields.qw0 as bigint) >> 16n) & 0xffffn)
    ),
    [C, B, A],
  );
  const rest = after.slice(i + 1);
  assert.equal(rest[0]!.event, "sched_process_exit");
  const seq = rest.slice(1, 16).map((e) =>
    e.event === "qi_submit"
      ? `qi${type(e)}:${e.fields.qw1}`
      : `${e.event}:${e.fields.dev}:${e.fields.users}`
  );
  assert.deepEqual(seq, [
    "cache_tag_unassign:dmar0:2",
    "cache_tag_unassign:0000:6a:01.0:1",
    "qi5:0",
    "qi6:0",
    "qi8:0",
    "cache_tag_unassign:dmar1:1",
    "cache_tag_unassign:0000:e7:01.0:1",
    "qi5:0",
    "qi6:0",
    "qi8:0",
    "cache_tag_unassign:dmar0:1",
    "cache_tag_unassign:0000:6a:02.0:1",
    "qi5:0",
    "qi6:0",
    "qi8:0",
  ]);
  // the drain's p_iotlb carries the device's default-domain DID (6a:01.0: 2)
  assert.equal(((rest[4]!.fields.qw0 as bigint) >> 16n) & 0xffffn, 2n);
});

Deno.test("example workload: explicit unbind, PASID reuse, faults and DMA flushes", () => {
  const w = exampleWorkload();
  const iaa = w.events.filter((e) => e.pid === 4010);
  const un = iaa.findIndex((e) => e.event === "cache_tag_unassign");
  // unassign IOTLB + DEVTLB, then the entry teardown (3 submissions), then the drain
  assert.deepEqual(
    iaa.slice(un, un + 8).map((e) => e.event === "qi_submit" ? `qi${type(e)}` : e.event),
    [
      "cache_tag_unassign",
      "cache_tag_unassign",
      "qi7",
      "qi6",
      "qi8",
      "qi5",
      "qi6",
      "qi8",
    ],
  );
  const second = w.binds.find((b) => b.pid === 4050)!;
  const firstExit = w.events.find((e) => e.event === "sched_process_exit" && e.pid === 4010)!;
  assert.equal(second.pasid, 3);
  assert(second.ts > firstExit.ts);
  const prq = w.events.filter((e) => e.event === "prq_report");
  assert.equal(prq.length, 12);
  for (const p of prq) {
    const pasid = Number(((p.fields.dw0 as bigint) >> 32n) & 0xfffffn);
    const bound = w.binds.filter((b) =>
      b.device === p.fields.dev && b.pasid === pasid && b.ts <= p.ts &&
      (b.until < 0n || b.until >= p.ts)
    );
    assert.equal(bound.length, 1, `fault of ${p.fields.dev} PASID ${pasid} at ${p.ts}`);
  }
  const dma = w.events.filter((e) => e.event === "cache_tag_flush_all" && e.fields.pasid === 0);
  assert.equal(dma.length, 48);
  assert(dma.every((e) => e.fields.domain_id === 4 && e.pid === 0));
});
