import assert from "node:assert/strict";
import { TraceError, UsageError } from "../errors.ts";
import type { FieldValue, TraceEvent } from "../event.ts";
import { validateProbeMapping } from "../probes/mapping.ts";
import { SHIPPED_MAPPINGS } from "../probes/shipped.ts";
import { normalize, Normalizer, NORMALIZER_EVENT_KEYS, wantedEventKeys } from "./normalize.ts";

let clock = 0n;
function ev(
  system: string,
  event: string,
  fields: Record<string, FieldValue>,
  o: { cpu?: number; pid?: number; comm?: string; ts?: bigint } = {},
): TraceEvent {
  clock = o.ts ?? clock + 100n;
  return {
    ts: clock,
    cpu: o.cpu ?? 0,
    pid: o.pid ?? 10,
    comm: o.comm ?? "t",
    system,
    event,
    buffer: "",
    flags: 0,
    preempt_count: 0,
    fields,
  };
}

Deno.test("DMA: iommu:unmap inside dma_unmap is one request; a lone iommu:unmap is its own", () => {
  clock = 0n;
  const t = normalize([
    ev("iommu", "unmap", { iova: 0xfff00000n, size: 0x2000n, unmapped_size: 0x2000n }),
    ev("dma", "dma_unmap_phys", {
      device: "0000:03:00.0",
      addr: 0xfff00000n,
      size: 0x2000n,
      dir: 1,
      attrs: 0n,
    }),
    ev("iommu", "unmap", { iova: 0x1000n, size: 0x1000n, unmapped_size: 0n }, { cpu: 1 }),
    ev("sched", "sched_process_exit", { comm: "t", pid: 10, prio: 120 }, { cpu: 1 }),
  ]);
  assert.deepEqual(t.requests, [
    {
      request_id: 0,
      ts: 200n,
      cpu: 0,
      mm: null,
      pid: 10,
      pasid: null,
      start: 0xfff00000n,
      end: 0xfff02000n,
      pages: 2n,
      source: "dma_unmap",
      full: false,
    },
    {
      // unmapped_size 0: the requested size is used
      request_id: 1,
      ts: 300n,
      cpu: 1,
      mm: null,
      pid: 10,
      pasid: null,
      start: 0x1000n,
      end: 0x2000n,
      pages: 1n,
      source: "iommu_unmap",
      full: false,
    },
  ]);
  assert.deepEqual(t.devices.map((d) => [d.device, d.sid]), [["0000:03:00.0", 0x300]]);
  assert.ok(t.statements.includes(
    "DMA requests from dma:* unmap events (no mm, no PASID; the unmapping device is not in the row)",
  ));
});

Deno.test("DMA: scatterlist unmaps take their IOVA ranges from the matching map", () => {
  clock = 0n;
  const t = normalize([
    ev("dma", "dma_map_sg", {
      device: "0000:03:00.0",
      full_nents: 2,
      full_ents: 1,
      truncated: 0,
      phys_addrs: [0x10000n, 0x30000n],
      dma_addrs: [0xfee00000n],
      lengths: [0x3000],
      dir: 0,
      attrs: 0n,
    }),
    ev("dma", "dma_unmap_sg", {
      device: "0000:03:00.0",
      addrs: [0x10000n, 0x30000n],
      dir: 0,
      attrs: 0n,
    }),
    ev("dma", "dma_unmap_sg", { device: "0000:03:00.0", addrs: [0x50000n], dir: 0, attrs: 0n }),
  ]);
  assert.deepEqual(t.requests.map((r) => [r.start, r.end, r.pages, r.source]), [[
    0xfee00000n,
    0xfee03000n,
    3n,
    "dma_unmap",
  ]]);
  assert.ok(t.statements.includes("1 dma_unmap_sg events without their dma_map_sg: no request"));
});

Deno.test("faults: io_page_fault and prq_report", () => {
  clock = 0n;
  const t = normalize([
    ev("iommu", "io_page_fault", {
      device: "0000:03:00.0",
      driver: "nvme",
      iova: 0xdead000n,
      flags: 1,
    }),
    // dw0: PASID 2 << 32 | RID 0x6a08 << 16 | PASID present 1 << 8 | type 1
    // dw1: address 0x7f0000001000 | PRG 5 << 3 | LPIG 1 << 2 | write 1 << 1 | read 1
    ev("intel_iommu", "prq_report", {
      dw0: 0x26a080101n,
      dw1: 0x7f000000102fn,
      dw2: 0n,
      dw3: 0n,
      seq: 1n,
      iommu: "dmar0",
      dev: "0000:6a:01.0",
      buff: "",
    }),
  ]);
  assert.deepEqual(t.faults, [
    {
      ts: 100n,
      iommu: null,
      device: "0000:03:00.0",
      pasid: null,
      addr: 0xdead000n,
      kind: "write",
      source: "io_page_fault",
    },
    {
      ts: 200n,
      iommu: "dmar0",
      device: "0000:6a:01.0",
      pasid: 2,
      addr: 0x7f0000001000n,
      kind: "page_request_rw",
      source: "prq_report",
    },
  ]);
  assert.deepEqual(t.devices[1], {
    device: "0000:6a:01.0",
    sid: 0x6a08,
    iommu: "dmar0",
    ats: null,
    pasid: true,
    qdep: null,
    source: "trace",
  });
});

Deno.test("cache tags: non-ATS attach, binding before the trace, 6.17 full range, DMA flush", () => {
  clock = 0n;
  const tag = (
    event: string,
    dev: string,
    type: number,
    did: number,
    pasid: number,
    extra: Record<string, FieldValue> = {},
  ) =>
    ev("intel_iommu", event, {
      iommu: "dmar0",
      dev,
      type,
      domain_id: did,
      pasid,
      users: 1,
      ...extra,
    }, { pid: 77, comm: "app" });
  const range = (start: bigint, end: bigint) => ({ start, end, addr: 0n, mask: 52n });
  const t = normalize([
    // a non-ATS device: IOTLB tag only
    tag("cache_tag_assign", "dmar0", 0, 1, 3),
    ev("sched", "sched_process_exec", { filename: "/x", pid: 77, old_pid: 77 }, {
      pid: 77,
      comm: "app",
    }),
    // 6.17+ full flush (no pages field) for an ATS device bound before the trace
    tag("cache_tag_flush_range", "dmar0", 0, 1, 5, range(0n, (1n << 64n) - 1n)),
    tag("cache_tag_flush_range", "0000:6a:01.0", 1, 1, 5, range(0n, (1n << 64n) - 1n)),
    // DMA domain (PASID 0, DID 7): not a request
    tag("cache_tag_flush_range", "dmar0", 0, 7, 0, range(0x1000n, 0x1fffn)),
    tag("cache_tag_unassign", "dmar0", 0, 1, 3),
  ]);
  assert.deepEqual(t.bindings, [
    {
      binding_id: 0,
      mm: "pid:77",
      pid: 77,
      comm: "app",
      pasid: 3,
      device: "?dmar0#1",
      iommu: "dmar0",
      domain_id: 1,
      from_ts: 100n,
      to_ts: 600n,
      source: "cache_tag",
    },
    {
      binding_id: 1,
      mm: null,
      pid: null,
      comm: null,
      pasid: 5,
      device: "0000:6a:01.0",
      iommu: "dmar0",
      domain_id: 1,
      from_ts: null,
      to_ts: null,
      source: "cache_tag_flush",
    },
  ]);
  assert.deepEqual(t.requests.map((r) => [r.ts, r.pasid, r.start, r.end, r.full, r.source]), [
    [300n, 5, 0n, (1n << 64n) - 1n, true, "cache_tag_flush_range"],
  ]);
  assert.ok(
    t.statements.includes(
      "1 IOTLB-only cache-tag attaches name no device (non-ATS): device shown as ?<iommu>#<n>",
    ),
  );
  assert.ok(t.statements.includes("1 bindings existed before the trace started (from_ts null)"));
  assert.ok(t.statements.includes("1 cache-tag flushes of PASID 0 (DMA domains) are not requests"));
});

Deno.test("AMD command probe: one submission per COMPLETION_WAIT, ivhd prefix", () => {
  clock = 0n;
  const cmd = (words: number[]) =>
    ev("iommu_replay", "amd_queue_command", {
      __probe_ip: 1n,
      iommu: 0,
      cmd: words.map(BigInt),
      sync: 0,
    });
  const t = normalize([
    // INV_IOMMU_PAGES domain 5, PASID 1, one page 0x7f0000001000 (S clear)
    cmd([1, (3 << 28) | 5, 0x1000 | 0x6, 0x7f00]),
    // INV_IOTLB_PAGES devid 0x0300, qdep 32, PASID 1 (low byte in data[1][23:16])
    cmd([(32 << 24) | 0x0300, (4 << 28) | (1 << 16) | 0x0300, 0x1000 | 0x4, 0x7f00]),
    cmd([0x1, 1 << 28, 0, 0]),
    cmd([0, 8 << 28, 0, 0]),
  ]);
  assert.deepEqual(t.iommus, [{ iommu: "ivhd0", vendor: "amd", source: "probe" }]);
  assert.deepEqual(
    t.observed_commands.map((
      c,
    ) => [c.submission_id, c.kind, c.domain_id, c.pasid, c.sid, c.device, c.addr, c.size]),
    [
      [0, "inv_iommu_pages", 5, 1, null, null, 0x7f0000001000n, 0x1000n],
      [0, "inv_iotlb_pages", null, 1, 0x300, "ivhd0/03:00.0", 0x7f0000001000n, 0x1000n],
      [0, "completion_wait", null, null, null, null, null, null],
      [1, "inv_all", null, null, null, null, null, null],
    ],
  );
});

Deno.test("malformed events: TraceError naming the event, or skipped and counted", () => {
  clock = 0n;
  const bad = ev("intel_iommu", "qi_submit", { qw0: 6n, iommu: "dmar0" });
  assert.throws(() => normalize([bad], { file: "t.dat" }), (e: unknown) => {
    assert.ok(e instanceof TraceError);
    assert.equal(e.message, "t.dat: intel_iommu:qi_submit at byte 0: event #1 field qw1: missing");
    return true;
  });
  assert.throws(
    () => normalize([ev("iommu", "unmap", { iova: "x", size: 1n })]),
    /<events>: iommu:unmap at byte 0: event #1 field iova: not an integer/,
  );
  const t = normalize([bad, ev("intel_iommu", "qi_submit", { qw0: 6n, qw1: 0n, iommu: "dmar0" })], {
    onMalformed: "skip",
  });
  assert.equal(t.observed_commands.length, 1);
  assert.ok(t.statements.includes("1 malformed intel_iommu:qi_submit events skipped"));
});

Deno.test("event keys, unknown events, misuse", () => {
  assert.equal(NORMALIZER_EVENT_KEYS.length, 31);
  const keys = wantedEventKeys();
  assert.equal(keys.length, 31 + SHIPPED_MAPPINGS.reduce((n, m) => n + m.probes.length, 0));
  assert.ok(keys.includes("iommu_replay:smmu_cmdq_issue"));
  assert.deepEqual(wantedEventKeys([]).length, 31);
  const t = normalize([ev("sched", "sched_switch", { prev_pid: 1 })]);
  assert.deepEqual(t.requests, []);
  const n = new Normalizer();
  n.finish();
  assert.throws(() => n.push(ev("tlb", "tlb_flush", { reason: 0, pages: 0n })), UsageError);
  assert.throws(() => n.finish(), UsageError);
  const dup = validateProbeMapping(
    {
      format: "iommu-replay-probes/1",
      name: "dup",
      probes: [{
        kind: "qi_submit_sync",
        type: "kprobe",
        function: "qi_submit_sync",
        system: "iommu_replay",
        event: "qi_submit_sync",
        fetch: "count=$arg3:u32",
        fields: { count: "count" },
      }],
    },
    "dup.json",
  );
  assert.throws(
    () => new Normalizer({ probeMappings: [...SHIPPED_MAPPINGS, dup] }),
    /dup\.json: probe event iommu_replay:qi_submit_sync is also defined by core\/probes\/intel\.json/,
  );
});

Deno.test("state stays bounded by live tasks", () => {
  clock = 0n;
  const n = new Normalizer({ whatIf: true });
  for (let i = 0; i < 5000; i++) {
    const pid = 1000 + i;
    n.push(
      ev("task", "task_newtask", { pid, comm: "w", clone_flags: 0x1200011n, oom_score_adj: 0 }, {
        pid: 1,
      }),
    );
    n.push(
      ev("syscalls", "sys_enter_munmap", { __syscall_nr: 11, addr: 0x1000n, len: 0x1000n }, {
        pid,
      }),
    );
    n.push(ev("sched", "sched_process_exit", { comm: "w", pid, prio: 120 }, { pid }));
    n.push(ev("sched", "sched_process_free", { comm: "w", pid, prio: 120 }, { pid: 0 }));
  }
  assert.ok(n.liveTasks <= 2, `live tasks ${n.liveTasks}`);
  const t = n.finish();
  assert.equal(t.requests.length, 5000);
  assert.equal(t.requests[4999]!.mm, "pid:5999");
});

Deno.test("probe domain pointers carry the mm to events that fetch only the domain", () => {
  clock = 0n;
  const m = validateProbeMapping(
    {
      format: "iommu-replay-probes/1",
      name: "custom",
      probes: [
        {
          kind: "set_dev_pasid",
          type: "kprobe",
          function: "f1",
          system: "x",
          event: "with_mm",
          fetch: "dev=$arg2:x64 pasid=$arg3:u32 domain=$arg1:x64 mm=+0($arg1):x64",
          fields: { device: "dev", pasid: "pasid", domain: "domain", mm: "mm" },
        },
        {
          kind: "set_dev_pasid",
          type: "kprobe",
          function: "f2",
          system: "x",
          event: "domain_only",
          fetch: "dev=$arg2:string pasid=$arg3:u32 domain=$arg1:x64",
          fields: { device: "dev", pasid: "pasid", domain: "domain" },
        },
      ],
    },
    "custom.json",
  );
  const t = normalize([
    ev("x", "with_mm", {
      __probe_ip: 0n,
      dev: 0xffff0000aa00n,
      pasid: 4,
      domain: 0xd0n,
      mm: 0xffff777n,
    }, { pid: 5 }),
    ev("x", "domain_only", { __probe_ip: 0n, dev: "0000:02:00.0", pasid: 4, domain: 0xd0n }, {
      pid: 6,
    }),
  ], { probeMappings: [m] });
  // a device fetched as a pointer is named dev@0x...; both bindings translate through mm 0xffff777
  assert.deepEqual(t.bindings.map((b) => [b.device, b.mm, b.pasid, b.pid, b.source]), [
    ["dev@0xffff0000aa00", "0xffff777", 4, 5, "set_dev_pasid"],
    ["0000:02:00.0", "0xffff777", 4, 6, "set_dev_pasid"],
  ]);
});

Deno.test("DMA-API bindings: cache tags of PASID 0 and iommu attach/detach events", () => {
  clock = 0n;
  const t = normalize([
    // 6.10+: a paging domain (DID 9) attached to a device: IOTLB + DEVTLB tags of PASID 0
    ev("intel_iommu", "cache_tag_assign", {
      iommu: "dmar0",
      dev: "dmar0",
      type: 0,
      domain_id: 9,
      pasid: 0,
      users: 1,
    }),
    ev("intel_iommu", "cache_tag_assign", {
      iommu: "dmar0",
      dev: "0000:03:00.0",
      type: 1,
      domain_id: 9,
      pasid: 0,
      users: 1,
    }),
    ev("iommu", "attach_device_to_domain", { device: "0000:03:00.0" }),
    // pre-6.3 style: attach, re-attach (domain change), detach of another device
    ev("iommu", "attach_device_to_domain", { device: "0000:04:00.0" }),
    ev("iommu", "attach_device_to_domain", { device: "0000:04:00.0" }),
    ev("iommu", "detach_device_from_domain", { device: "0000:04:00.0" }),
  ]);
  assert.deepEqual(
    t.bindings.map((b) => [b.device, b.mm, b.pasid, b.domain_id, b.from_ts, b.to_ts, b.source]),
    [
      ["0000:03:00.0", null, null, 9, 200n, null, "cache_tag"],
      ["0000:04:00.0", null, null, null, 400n, 500n, "attach_device_to_domain"],
      ["0000:04:00.0", null, null, null, 500n, 600n, "attach_device_to_domain"],
    ],
  );
  assert.ok(
    t.statements.includes(
      "2 DMA-API bindings from iommu:attach_device_to_domain (domain type unknown)",
    ),
  );
});
