import assert from "node:assert/strict";
import type { ObservedCommandRow } from "../../core/canonical.ts";
import { normalize } from "../../core/normalize/normalize.ts";
import { validateTopology } from "../../core/topology.ts";
import { pasidReuse612, sva4Devices612, sva4Devices69, twoIommus612 } from "./vtd_sva.ts";

// Timestamps follow the builders' clock: a notifier starts at t = n ms, kernel-internal steps are
// 50 ns, and each 6.9-style single submission waits 700 ns (see vtd_sva.ts).

const ALL = (1n << 64n) - 1n;
const DEVS = ["0000:6a:01.0", "0000:6a:02.0", "0000:6b:01.0", "0000:6b:02.0"];
const SIDS = [0x6a08, 0x6a10, 0x6b08, 0x6b10];

/** Kinds per submission, in submission order. */
function shape(cmds: readonly ObservedCommandRow[]): string[][] {
  const out: string[][] = [];
  for (const c of cmds) {
    (out[c.submission_id] ??= []).push(c.kind);
  }
  return out;
}

Deno.test("6.9, 4 ATS devices, one mm: per-device submissions, requests from descriptors", () => {
  const t = normalize(sva4Devices69().events);
  assert.deepEqual(t.iommus, [{ iommu: "dmar0", vendor: "intel", source: "trace" }]);
  // No device names in a 6.9 trace: the SID behind dmar0 names them.
  assert.deepEqual(t.devices, [
    {
      device: "dmar0/6a:01.0",
      sid: 0x6a08,
      iommu: "dmar0",
      ats: true,
      pasid: true,
      qdep: 32,
      source: "trace",
    },
    {
      device: "dmar0/6a:02.0",
      sid: 0x6a10,
      iommu: "dmar0",
      ats: true,
      pasid: true,
      qdep: 32,
      source: "trace",
    },
    {
      device: "dmar0/6b:01.0",
      sid: 0x6b08,
      iommu: "dmar0",
      ats: true,
      pasid: true,
      qdep: 32,
      source: "trace",
    },
    {
      device: "dmar0/6b:02.0",
      sid: 0x6b10,
      iommu: "dmar0",
      ats: true,
      pasid: true,
      qdep: 32,
      source: "trace",
    },
  ]);
  // Bound before the trace; the mm-release teardown p_dev_tlb (t = 4 ms + 2100 ns + i * 2100 ns)
  // ends each binding.
  assert.equal(t.bindings.length, 4);
  t.bindings.forEach((b, i) => {
    assert.deepEqual(b, {
      binding_id: i,
      mm: null,
      pid: null,
      comm: null,
      pasid: 2,
      device: `dmar0/${["6a:01.0", "6a:02.0", "6b:01.0", "6b:02.0"][i]}`,
      iommu: "dmar0",
      domain_id: null,
      from_ts: null,
      to_ts: 4_002_100n + BigInt(i) * 2_100n,
      source: "qi_submit",
    });
  });
  // 2 pages at 0x7f0000001000: chunks of 8 KiB at 0x7f0000000000 and 0x7f0000002000 -> one
  // request covering [0x7f0000000000, 0x7f0000004000) = 4 pages, at the first p_iotlb (1 ms + 700 ns).
  assert.deepEqual(t.requests, [
    {
      request_id: 0,
      ts: 1_000_700n,
      cpu: 1,
      mm: null,
      pid: 1000,
      pasid: 2,
      start: 0x7f0000000000n,
      end: 0x7f0000004000n,
      pages: 4n,
      source: "qi_submit",
      full: false,
    },
    {
      request_id: 1,
      ts: 2_000_700n,
      cpu: 1,
      mm: null,
      pid: 1000,
      pasid: 2,
      start: 0x7f0000010000n,
      end: 0x7f0000011000n,
      pages: 1n,
      source: "qi_submit",
      full: false,
    },
    {
      request_id: 2,
      ts: 3_000_700n,
      cpu: 1,
      mm: null,
      pid: 1000,
      pasid: 2,
      start: 0n,
      end: ALL,
      pages: 1n << 52n,
      source: "qi_submit",
      full: true,
    },
  ]);
  // 16 + 8 + 8 range/full descriptors, 12 teardown, 12 drain = 56; every one its own submission
  // except the four 3-descriptor drains: 44 + 4 = 48 submissions.
  assert.equal(t.observed_commands.length, 56);
  const s = shape(t.observed_commands);
  assert.equal(s.length, 48);
  assert.deepEqual(s.slice(0, 4), [["p_iotlb_inv"], ["p_dev_tlb_inv"], ["p_iotlb_inv"], [
    "p_dev_tlb_inv",
  ]]);
  assert.deepEqual(s.slice(32, 35), [["pc_inv"], ["p_iotlb_inv"], ["p_dev_tlb_inv"]]);
  assert.deepEqual(s[44], ["inv_wait", "p_iotlb_inv", "p_dev_tlb_inv"]);
  assert.deepEqual(s[47], ["inv_wait", "p_iotlb_inv", "p_dev_tlb_inv"]);
  // teardown and drain rows are marked in `fields`
  assert.equal(t.observed_commands[32]!.fields, "ctx=teardown");
  assert.equal(t.observed_commands[33]!.fields, "am=0 ih=0 ctx=teardown");
  assert.equal(
    t.observed_commands[44]!.fields,
    "if=0 sw=0 fn=1 pd=0 status_data=0x2 status_addr=0x0 ctx=prq_drain",
  );
  // First two descriptors, every column: p_iotlb AM 1 at 0x7f0000000000 (8 KiB);
  // qw0 = PASID 2 << 32 | DID 1 << 16 | GRAN 3 << 4 | 6 = 0x200010036, qw1 = addr | AM 1
  assert.deepEqual(t.observed_commands[0], {
    command_id: 0,
    ts: 1_000_700n,
    cpu: 1,
    iommu: "dmar0",
    submission_id: 0,
    kind: "p_iotlb_inv",
    domain_id: 1,
    pasid: 2,
    sid: null,
    device: null,
    addr: 0x7f0000000000n,
    size: 0x2000n,
    granularity: "page",
    raw: "0x200010036 0x7f0000000001 0x0 0x0",
    fields: "am=1 ih=0",
  });
  // p_dev_tlb order 1: bits 12..12 set then bit 12 cleared -> ADDR 0x7f0000000000 | S (0x800);
  // qw0 = PFSID 0x6a0 << 52 | PASID 2 << 32 | SID 0x6a08 << 16 | QDEP 0 | 8 << 12 | 8
  assert.deepEqual(t.observed_commands[1], {
    command_id: 1,
    ts: 1_001_400n,
    cpu: 1,
    iommu: "dmar0",
    submission_id: 1,
    kind: "p_dev_tlb_inv",
    domain_id: null,
    pasid: 2,
    sid: 0x6a08,
    device: "dmar0/6a:01.0",
    addr: 0x7f0000000000n,
    size: 0x2000n,
    granularity: "range",
    raw: "0x6a0000026a088008 0x7f0000000800 0x0 0x0",
    fields: "s=1 g=0 qdep_field=0 pfsid=0x6a08",
  });
  assert.ok(t.statements.includes(
    "no bind events: bindings inferred from p_dev_tlb_inv descriptors (device by SID, bind and unbind times unknown, non-ATS devices invisible)",
  ));
  assert.ok(
    t.statements.includes(
      "VT-d submission boundaries inferred for 48 submissions (same CPU and IOMMU, back to back; batched after cache-tag flushes; see qi_submit.ts)",
    ),
  );
});

Deno.test("6.9 with a topology: descriptors resolve to the named devices", () => {
  const topology = validateTopology({
    format: "iommu-replay-topology/1",
    iommus: [{ name: "dmar0", vendor: "intel" }],
    devices: DEVS.map((name) => ({ name, iommu: "dmar0", ats: true })),
  }, "topo");
  const t = normalize(sva4Devices69().events, { topology });
  assert.deepEqual(
    t.devices.map((d) => [d.device, d.sid, d.source, d.qdep]),
    DEVS.map((d, i) => [d, SIDS[i], "topology", 32]),
  );
  assert.deepEqual(t.bindings.map((b) => b.device), DEVS);
  assert.equal(t.observed_commands[1]!.device, "0000:6a:01.0");
  assert.equal(t.iommus[0]!.source, "topology");
});

Deno.test("6.12, 4 ATS devices, one mm: cache tags, one batched submission per flush", () => {
  const t = normalize(sva4Devices612().events);
  assert.deepEqual(t.iommus, [{ iommu: "dmar0", vendor: "intel", source: "trace" }]);
  assert.deepEqual(
    t.devices,
    DEVS.map((device, i) => ({
      device,
      sid: SIDS[i],
      iommu: "dmar0",
      ats: true,
      pasid: true,
      qdep: 32,
      source: "trace",
    })),
  );
  // bound at the DEVTLB assign (500 µs + 100 ns + i * 100 ns), unbound at the DEVTLB unassign;
  // the mm is named by exit_mmap.
  const to = [4_008_600n, 4_009_500n, 4_010_400n, 4_011_300n];
  assert.deepEqual(
    t.bindings,
    DEVS.map((device, i) => ({
      binding_id: i,
      mm: "0xffff888012345000",
      pid: 1000,
      comm: "dsa_test",
      pasid: 2,
      device,
      iommu: "dmar0",
      domain_id: 1,
      from_ts: 500_100n + BigInt(i) * 100n,
      to_ts: to[i],
      source: "cache_tag",
    })),
  );
  // One request per kernel flush (5 tag events each); end inclusive 0x7f0000002fff -> exclusive.
  const base = { cpu: 1, mm: "0xffff888012345000", pid: 1000, pasid: 2 };
  assert.deepEqual(t.requests, [
    {
      request_id: 0,
      ts: 1_000_050n,
      ...base,
      start: 0x7f0000001000n,
      end: 0x7f0000003000n,
      pages: 2n,
      source: "cache_tag_flush_range",
      full: false,
    },
    {
      request_id: 1,
      ts: 2_000_050n,
      ...base,
      start: 0x7f0000010000n,
      end: 0x7f0000011000n,
      pages: 1n,
      source: "cache_tag_flush_range",
      full: false,
    },
    {
      request_id: 2,
      ts: 3_000_050n,
      ...base,
      start: 0n,
      end: ALL,
      pages: 1n << 52n,
      source: "cache_tag_flush_all",
      full: true,
    },
  ]);
  const s = shape(t.observed_commands);
  // 3 batched flushes, 4 x 3 teardown singles, 4 drains
  assert.equal(s.length, 19);
  assert.deepEqual(s[0], [
    "p_iotlb_inv",
    "p_dev_tlb_inv",
    "p_dev_tlb_inv",
    "p_dev_tlb_inv",
    "p_dev_tlb_inv",
  ]);
  assert.deepEqual(s[2], [
    "p_iotlb_inv",
    "dev_tlb_inv",
    "dev_tlb_inv",
    "dev_tlb_inv",
    "dev_tlb_inv",
  ]);
  assert.deepEqual(s[3], ["pc_inv"]);
  assert.deepEqual(s[15], ["inv_wait", "p_iotlb_inv", "p_dev_tlb_inv"]);
  // The 16 KiB PSI: calculate_psi_aligned_address(0x7f0000001000, 0x7f0000002fff): 2 pages,
  // pfn 0x7f0000001 is odd -> shared bits of pfn ^ end_pfn (1 ^ 2 = 3) give mask 2 -> 4 pages at
  // 0x7f0000000000; p_iotlb AM 2, p_dev_tlb size order 2 (qw1 0x7f0000001000 | S).
  assert.deepEqual(t.observed_commands[0], {
    command_id: 0,
    ts: 1_000_300n,
    cpu: 1,
    iommu: "dmar0",
    submission_id: 0,
    kind: "p_iotlb_inv",
    domain_id: 1,
    pasid: 2,
    sid: null,
    device: null,
    addr: 0x7f0000000000n,
    size: 0x4000n,
    granularity: "page",
    raw: "0x200010036 0x7f0000000002 0x0 0x0",
    fields: "am=2 ih=0",
  });
  assert.deepEqual(t.observed_commands[4], {
    command_id: 4,
    ts: 1_000_500n,
    cpu: 1,
    iommu: "dmar0",
    submission_id: 0,
    kind: "p_dev_tlb_inv",
    domain_id: null,
    pasid: 2,
    sid: 0x6b10,
    device: "0000:6b:02.0",
    addr: 0x7f0000000000n,
    size: 0x4000n,
    granularity: "range",
    // 0x6b10: PFSID high 0x6b1 << 52, low 0 << 12; SID 0x6b10 << 16
    raw: "0x6b1000026b100008 0x7f0000001800 0x0 0x0",
    fields: "s=1 g=0 qdep_field=0 pfsid=0x6b10",
  });
  // flush-all's whole-device dev_tlb_inv (type 3, no PASID)
  const all = t.observed_commands[11]!;
  assert.equal(all.kind, "dev_tlb_inv");
  assert.equal(all.granularity, "all");
  assert.equal(all.addr, null);
  assert.equal(all.size, null);
  // PFSID high 0x6a0 << 52 | SID 0x6a08 << 32 | QDEP 0 | PFSID low 8 << 12 | 3
  assert.equal(all.raw, "0x6a006a0800008003 0x7ffffffffffff001 0x0 0x0");
  assert.deepEqual(t.statements.slice(0, 3), [
    "no bind events: bindings inferred from cache tags",
    "SVA requests from cache_tag_flush events (the kernel's ranges, one request per flush, per-tag fan-out merged)",
    "3 requests from lower-priority sources dropped as duplicates of the chosen source",
  ]);
});

Deno.test("6.12 with the qi_submit_sync probe: exact submissions, same requests", () => {
  // Insert a probe event before each submission of the 6.12 scenario (the probe fires at
  // qi_submit_sync entry, before its qi_submit events).
  const evs = sva4Devices612().events;
  const out = [];
  let i = 0;
  while (i < evs.length) {
    const e = evs[i]!;
    if (e.event !== "qi_submit") {
      out.push(e);
      i++;
      continue;
    }
    // group: consecutive qi_submit events of one kernel call (50 ns apart); singles are 700 ns
    let n = 1;
    while (
      evs[i + n]?.event === "qi_submit" && evs[i + n]!.ts - evs[i + n - 1]!.ts === 50n
    ) n++;
    if (e.fields["qw0"] === 0x200000045n) n = 3; // the drain: wait + 2
    out.push({
      ...e,
      system: "iommu_replay",
      event: "qi_submit_sync",
      fields: { __probe_ip: 1n, iommu: "dmar0", count: n, options: 0n },
    });
    for (let k = 0; k < n; k++) out.push(evs[i + k]!);
    i += n;
  }
  const t = normalize(out);
  assert.equal(shape(t.observed_commands).length, 19);
  assert.equal(t.requests.length, 3);
  assert.ok(
    t.statements.includes("VT-d submission boundaries from the qi_submit_sync probe (exact)"),
  );
});

Deno.test("two VT-d units: one request, one submission per IOMMU", () => {
  const t = normalize(twoIommus612().events);
  assert.deepEqual(t.iommus.map((u) => u.iommu), ["dmar0", "dmar1"]);
  assert.deepEqual(t.devices.map((d) => [d.device, d.iommu, d.qdep]), [
    ["0000:6a:01.0", "dmar0", 32],
    ["0000:6a:02.0", "dmar0", 32],
    ["0000:e7:01.0", "dmar1", 16],
    ["0000:e7:02.0", "dmar1", 16],
  ]);
  assert.deepEqual(t.bindings.map((b) => [b.device, b.iommu, b.mm, b.to_ts]), [
    ["0000:6a:01.0", "dmar0", "pid:1000", null],
    ["0000:6a:02.0", "dmar0", "pid:1000", null],
    ["0000:e7:01.0", "dmar1", "pid:1000", null],
    ["0000:e7:02.0", "dmar1", "pid:1000", null],
  ]);
  assert.deepEqual(t.requests, [{
    request_id: 0,
    ts: 1_000_050n,
    cpu: 1,
    mm: "pid:1000",
    pid: 1000,
    pasid: 2,
    start: 0x7f0000001000n,
    end: 0x7f0000003000n,
    pages: 2n,
    source: "cache_tag_flush_range",
    full: false,
  }]);
  // dmar1's tags come first in the list: its batch is submitted first.
  assert.deepEqual(t.observed_commands.map((c) => [c.submission_id, c.iommu, c.kind, c.device]), [
    [0, "dmar1", "p_iotlb_inv", null],
    [0, "dmar1", "p_dev_tlb_inv", "0000:e7:01.0"],
    [0, "dmar1", "p_dev_tlb_inv", "0000:e7:02.0"],
    [1, "dmar0", "p_iotlb_inv", null],
    [1, "dmar0", "p_dev_tlb_inv", "0000:6a:01.0"],
    [1, "dmar0", "p_dev_tlb_inv", "0000:6a:02.0"],
  ]);
  // QDEP 16 is encoded as is: qw0 bits 8:4 = 0x10 -> 0x100
  assert.equal(t.observed_commands[1]!.raw, "0xe7000002e7088108 0x7f0000001800 0x0 0x0");
});

Deno.test("a PASID reused after exit binds a new mm (whose pointer is reused too)", () => {
  const t = normalize(pasidReuse612().events);
  // A: assign DEVTLB at 1 ms + 100 ns, unassign after teardown (2100 ns), exit_mmap, exit and the
  // IOTLB unassign (50 ns each): 3 ms + 2100 + 150 + 50 = 3_002_300 ns. B: 3 ms later.
  assert.deepEqual(t.bindings, [
    {
      binding_id: 0,
      mm: "0xffff888077770000",
      pid: 3000,
      comm: "worker_a",
      pasid: 7,
      device: "0000:6a:01.0",
      iommu: "dmar0",
      domain_id: 1,
      from_ts: 1_000_100n,
      to_ts: 3_002_300n,
      source: "cache_tag",
    },
    {
      binding_id: 1,
      mm: "0xffff888077770000#2",
      pid: 3100,
      comm: "worker_b",
      pasid: 7,
      device: "0000:6a:01.0",
      iommu: "dmar0",
      domain_id: 1,
      from_ts: 4_000_100n,
      to_ts: 6_002_300n,
      source: "cache_tag",
    },
  ]);
  assert.deepEqual(t.requests.map((r) => [r.ts, r.cpu, r.mm, r.pid, r.pasid, r.start, r.end]), [
    [2_000_050n, 0, "0xffff888077770000", 3000, 7, 0x7f0000010000n, 0x7f0000011000n],
    [5_000_050n, 1, "0xffff888077770000#2", 3100, 7, 0x7f0000020000n, 0x7f0000021000n],
  ]);
  assert.deepEqual(shape(t.observed_commands), [
    ["p_iotlb_inv", "p_dev_tlb_inv"],
    ["pc_inv"],
    ["p_iotlb_inv"],
    ["p_dev_tlb_inv"],
    ["inv_wait", "p_iotlb_inv", "p_dev_tlb_inv"],
    ["p_iotlb_inv", "p_dev_tlb_inv"],
    ["pc_inv"],
    ["p_iotlb_inv"],
    ["p_dev_tlb_inv"],
    ["inv_wait", "p_iotlb_inv", "p_dev_tlb_inv"],
  ]);
});
