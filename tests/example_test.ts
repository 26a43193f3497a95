/**
 * The committed examples (`examples/`): regenerating them gives the same bytes, replaying the
 * synthetic SVA trace gives the counts the generator's own record of its flushes implies (worked
 * out here by hand from the kernel's rules, not taken from the tool), the kernel-text version
 * replays the same, and the real mm recording gives a what-if replay from the topology.
 */
import assert from "node:assert/strict";
import { replayTrace, type ReplayTraceResult } from "../cli/pipeline.ts";
import type { PolicySummary } from "../core/replay/mod.ts";
import { loadTopology } from "../core/topology.ts";
import {
  EXAMPLE_FILES,
  exampleKernelText,
  exampleTopology,
  exampleTraceDat,
} from "../synth/make_example.ts";
import { topologyToJson } from "../core/topology.ts";
import {
  type ExampleFlush,
  exampleWorkload,
  TLB_CEILING,
} from "../synth/scenarios/example_workload.ts";

const dir = new URL("../examples/", import.meta.url).pathname;
const dat = `${dir}${EXAMPLE_FILES.dat}`;
const txt = `${dir}${EXAMPLE_FILES.text}`;
const topo = `${dir}${EXAMPLE_FILES.topology}`;
const mm = `${dir}${EXAMPLE_FILES.mmWorkload}`;

const w = exampleWorkload();
let datReplay: ReplayTraceResult | null = null;
async function replayDat(): Promise<ReplayTraceResult> {
  datReplay ??= await replayTrace(dat);
  return datReplay;
}

function policy(r: ReplayTraceResult, name: string): PolicySummary {
  const p = r.result.policies.find((x) => x.name === name);
  assert(p, `no policy ${name}`);
  return p;
}

const iommusOf = (f: ExampleFlush) => new Set(f.tags.map((t) => t.iommu)).size;
const devtlbsOf = (f: ExampleFlush) => f.tags.filter((t) => t.type === 1).length;
const pagesOf = (f: ExampleFlush) => (f.end + 1n - f.start) / 4096n;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * `intel_flush_svm_range_dev` (v5.11+) chunks per device: the range widened to blocks of
 * roundup_pow2(pages), one chunk per block; one PASID-wide flush above the 33-page ceiling.
 */
function perDeviceChunks(f: ExampleFlush): number {
  const pages = pagesOf(f);
  if (f.full || pages > TLB_CEILING) return 1;
  let size = 1n;
  while (size < pages) size <<= 1n;
  const pfn = f.start / 4096n;
  const first = (pfn / size) * size;
  const end = ((pfn + pages + size - 1n) / size) * size;
  return Number((end - first) / size);
}

Deno.test("example: regenerating gives the committed bytes (trace.dat, text, topology)", async () => {
  const again = exampleWorkload();
  assert.deepEqual(again.events, w.events);
  const { bytes } = exampleTraceDat(again);
  const committed = await Deno.readFile(dat);
  assert.equal(bytes.length, committed.length);
  assert.deepEqual(bytes, committed);
  assert(committed.length < 1_500_000, `${EXAMPLE_FILES.dat} is ${committed.length} bytes`);
  assert.equal(exampleKernelText(again), await Deno.readTextFile(txt));
  assert.equal(topologyToJson(exampleTopology()), await Deno.readTextFile(topo));
});

Deno.test("example: the workload has the shape it promises", () => {
  // a few thousand ranges, most of them flushed through both units at some point
  assert(w.syscalls > 3000, `${w.syscalls} syscalls`);
  assert(w.flushes.length > 2500, `${w.flushes.length} flushes`);
  assert(w.flushes.some((f) => iommusOf(f) === 2) && w.flushes.some((f) => iommusOf(f) === 1));
  assert(w.flushes.some((f) => f.full) && w.flushes.some((f) => f.thp));
  assert(w.flushes.some((f) => !f.full && (f.start / 4096n) % pagesOf(f) !== 0n), "unaligned");
  // PASIDs from 2; the second iaa_comp reuses the first one's after it exited
  assert.deepEqual(w.lives.map((l) => [l.comm, l.pasid]), [
    ["dsa_copy", 2],
    ["iaa_comp", 3],
    ["db_worker", 4],
    ["db_worker", null],
    ["iaa_comp", 3],
  ]);
  assert.equal(w.binds.length, 8);
  assert(w.binds.every((b) => !b.device.startsWith("0000:6b") && !b.device.startsWith("0000:e8")));
  assert.equal(w.faults, 12);
  assert.equal(w.dmaFlushes, 48);
});

Deno.test("example replay: requests, bindings and units match the generator", async () => {
  const r = await replayDat();
  assert.equal(r.whatIf, false);
  assert.equal(r.kernel, "6.12.11");
  assert.equal(r.canonical.requests.length, w.flushes.length);
  assert.deepEqual(r.canonical.iommus.map((u) => u.iommu).sort(), ["dmar0", "dmar1"]);
  // only the ATS accelerators appear by name: the non-ATS devices never bind an mm
  assert.deepEqual(
    r.canonical.devices.map((d) => d.device).sort(),
    ["0000:6a:01.0", "0000:6a:02.0", "0000:e7:01.0", "0000:e7:02.0"],
  );
  assert.equal(r.canonical.bindings.length, w.binds.length);
  const bound = r.canonical.bindings.map((b) => `${b.pid}|${b.device}|${b.pasid}`).sort();
  assert.deepEqual(bound, w.binds.map((b) => `${b.pid}|${b.device}|${b.pasid}`).sort());
  assert.equal(r.canonical.faults.length, w.faults);
});

Deno.test("example replay K1: per-device vs per-IOMMU IOTLB invalidations", async () => {
  const r = await replayDat();
  const perDev = policy(r, "intel-per-device");
  const batched = policy(r, "intel-batched");
  const cacheTag = policy(r, "intel-cache-tag");
  // per device: one p_iotlb per bound device per chunk; cache tags: one per unit per flush
  const devices = (f: ExampleFlush) => devtlbsOf(f); // every bound device has ATS
  const perDevIotlb = sum(w.flushes.map((f) => devices(f) * perDeviceChunks(f)));
  const perIommu = sum(w.flushes.map(iommusOf));
  assert.equal(perDev.descriptors["p_iotlb_inv"], perDevIotlb);
  assert.equal(cacheTag.descriptors["p_iotlb_inv"], perIommu);
  assert.equal(batched.descriptors["p_iotlb_inv"], perIommu);
  assert(perDevIotlb > 1.5 * perIommu, `${perDevIotlb} vs ${perIommu}`);
  // device TLBs: one per ATS device per chunk (per device) or per flush (cache tags); a
  // cache_tag_flush_all (6.10 - 6.16) flushes each device TLB with a non-PASID dev_tlb_inv
  assert.equal(perDev.descriptors["p_dev_tlb_inv"], perDevIotlb);
  const ranged = sum(w.flushes.filter((f) => !f.full).map(devtlbsOf));
  const whole = sum(w.flushes.filter((f) => f.full).map(devtlbsOf));
  assert(ranged > 0 && whole > 0);
  for (const p of [batched, cacheTag]) {
    assert.equal(p.descriptors["p_dev_tlb_inv"], ranged);
    assert.equal(p.descriptors["dev_tlb_inv"], whole);
  }
});

Deno.test("example replay K2: submissions per policy", async () => {
  const r = await replayDat();
  const descs = sum(w.flushes.map((f) => iommusOf(f) + devtlbsOf(f)));
  const perDevDescs = sum(w.flushes.map((f) => 2 * devtlbsOf(f) * perDeviceChunks(f)));
  // before 6.12 every descriptor is its own qi_submit_sync
  assert.equal(policy(r, "intel-per-device").submissions, perDevDescs);
  assert.equal(policy(r, "intel-cache-tag").submissions, descs);
  // 6.12: one submission per unit per flush (no flush here has 16 descriptors on one unit)
  assert(w.flushes.every((f) => f.tags.length < 16));
  assert.equal(policy(r, "intel-batched").submissions, sum(w.flushes.map(iommusOf)));
  assert.equal(policy(r, "intel-batched").descriptors["inv_wait"], sum(w.flushes.map(iommusOf)));
  // the lower bound has the batched command count, with the units waited for in parallel
  const ideal = policy(r, "ideal");
  assert.equal(ideal.submissions, sum(w.flushes.map(iommusOf)));
  assert(ideal.modeled_ns < policy(r, "intel-batched").modeled_ns);
  assert(policy(r, "intel-batched").modeled_ns < policy(r, "intel-cache-tag").modeled_ns);
  assert(policy(r, "intel-cache-tag").modeled_ns < policy(r, "intel-per-device").modeled_ns);
});

Deno.test("example replay: fidelity of intel-batched@6.12 against the traced commands", async () => {
  const r = await replayDat();
  const f = r.result.fidelity;
  assert(f);
  assert.equal(f.policy, "intel-batched@6.12.11");
  assert.equal(f.requests, w.flushes.length);
  // every tag of every flush queued exactly one descriptor, and the policy replays each of them:
  // range flushes (THP ones included) and flush_all alike; one submission per unit per flush
  assert.equal(f.matched, sum(w.flushes.map((x) => x.tags.length)));
  assert.equal(f.missing, 0);
  assert.equal(f.extra, 0);
  assert.equal(f.requests_matched, w.flushes.length);
  assert.equal(f.submissions_replayed, sum(w.flushes.map(iommusOf)));
  assert.equal(f.submissions_observed, f.submissions_replayed);
  // Everything else the kernel submitted belongs to no mm-invalidation request. Every binding ends
  // in the trace (unbind, or exit then file close) with one teardown (pc_inv + p_iotlb + p_dev_tlb,
  // three submissions) and one PRQ drain (inv_wait + p_iotlb + p_dev_tlb, one submission); each
  // fault gets one page_grp_resp; each DMA flush-queue flush one PASID-0 p_iotlb.
  assert(w.binds.every((b) => b.until > b.ts));
  const binds = w.binds.length;
  assert.equal(w.otherSubmissions, 3 * binds + binds + w.faults + w.dmaFlushes);
  assert.deepEqual(f.ignored_by_reason, {
    outside_request: w.dmaFlushes, // PASID 0 while the CPU's latest request is an SVA PASID's
    kind: binds + binds + w.faults, // pc_inv, the drain's inv_wait, page_grp_resp
    teardown: 2 * binds,
    prq_drain: 2 * binds,
  });
  assert.equal(f.ignored, 6 * binds + w.faults + w.dmaFlushes);
  assert.equal(r.canonical.observed_commands.length, f.matched + f.ignored);
});

Deno.test("example replay: the kernel-text version replays the same", async () => {
  const a = await replayDat();
  const b = await replayTrace(txt, { kernel: "6.12.11" });
  assert.equal(b.manifest.info.format, "ftrace_text");
  assert.equal(b.manifest.info.events, w.events.length);
  assert.equal(b.canonical.requests.length, a.canonical.requests.length);
  const strip = (r: ReplayTraceResult) =>
    r.result.policies.map((p) => ({ ...p, modeled_ns_per_request: null }));
  assert.deepEqual(strip(b), strip(a));
  const { first_differences: _x, ...fa } = a.result.fidelity!;
  const { first_differences: _y, ...fb } = b.result.fidelity!;
  assert.deepEqual(fb, fa);
});

Deno.test("example: what-if replay of the real mm recording against the topology", async () => {
  const t = await loadTopology(topo);
  const r = await replayTrace(mm, { topology: t });
  assert.equal(r.manifest.info.format, "tracedat");
  assert.equal(r.whatIf, true);
  assert(r.canonical.requests.length > 0);
  assert.equal(r.canonical.observed_commands.length, 0);
  const bindings = r.canonical.bindings;
  assert(bindings.length > 0);
  const wanted = new Map(t.bindings.map((b) => [b.comm!, new Set(b.devices)]));
  for (const b of bindings) {
    assert.equal(b.source, "topology");
    assert(b.comm !== null && wanted.get(b.comm)?.has(b.device), `${b.comm} ${b.device}`);
  }
  // every program of the recording got its devices (db_child renamed itself: not bound)
  assert.deepEqual(
    [...new Set(bindings.map((b) => b.comm))].sort(),
    ["db_worker", "dsa_copy", "iaa_comp"],
  );
  const batched = policy(r, "intel-batched");
  assert(batched.requests > 0 && batched.submissions > 0);
  assert(policy(r, "intel-per-device").submissions > batched.submissions);
});
