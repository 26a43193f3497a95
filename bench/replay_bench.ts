/**
 * Replay hot-path benchmark: request-policy evaluations per second (target >= 5M/s).
 *
 * One evaluation = one request run through one policy, counting only (no row callbacks, which is
 * how `deno task replay trace.dat` runs without `--out`): the policy computes its commands, the
 * sink counts kinds, submissions, modeled time, page coverage and runs the coverage check. Setup:
 * 2 VT-d units, 4 ATS devices + 1 without ATS, one mm bound; requests of mixed sizes and
 * alignments (aligned, unaligned, above the 33-page ceiling).
 *
 * A round is one replay of `REQUESTS` requests by a fresh engine, as the CLI runs it: with the
 * engine's default worker threads (built-in policies spread over up to 2 threads once a replay
 * passes 32k requests; the threads are started once per process and reused, so the first round
 * pays for starting them). Each group is also measured on one thread (`workers: 0`).
 *
 * `deno bench bench/replay_bench.ts` reports time per iteration (one iteration = `REQUESTS` requests
 * x the policies in the group); `deno run bench/replay_bench.ts` prints evaluations per second.
 *
 * @module
 */
import type { BindingRow, DeviceRow, IommuRow, RequestRow } from "../core/canonical.ts";
import { ReplayEngine } from "../core/replay/engine.ts";
import { BUILTIN_POLICY_NAMES } from "../core/replay/registry.ts";
import { closeReplayWorkers } from "../core/replay/replay_workers.ts";
import { xorshift32 } from "../synth/xorshift.ts";

const REQUESTS = 200_000;

const iommus: IommuRow[] = [
  { iommu: "dmar0", vendor: "intel", source: "bench" },
  { iommu: "dmar1", vendor: "intel", source: "bench" },
];
const devices: DeviceRow[] = [
  "0000:6a:01.0",
  "0000:6a:02.0",
  "0000:6a:03.0",
  "0000:e7:01.0",
  "0000:e7:02.0",
]
  .map((device, i) => ({
    device,
    sid: 0x100 + i,
    iommu: i < 3 ? "dmar0" : "dmar1",
    ats: i !== 4,
    pasid: true,
    qdep: 0,
    source: "bench",
  }));
const svaBindings: BindingRow[] = devices.map((d, i) => ({
  binding_id: i,
  mm: "mm1",
  pid: 1,
  comm: "bench",
  pasid: 5,
  device: d.device,
  iommu: d.iommu,
  domain_id: 1,
  from_ts: null,
  to_ts: null,
  source: "bench",
}));
// The same devices also in a DMA domain (no mm, no PASID): the DMA-API policies' requests.
const bindings: BindingRow[] = [
  ...svaBindings,
  ...svaBindings.map((b, i) => ({
    ...b,
    binding_id: devices.length + i,
    mm: null,
    pid: null,
    comm: null,
    pasid: null,
    domain_id: 2,
  })),
];

/**
 * Deterministic mixed requests: 1-8 pages mostly, some unaligned, some above the ceiling; every
 * tenth a DMA-API unmap (no mm, no PASID), the rest SVA flushes.
 */
function makeRequests(n: number): RequestRow[] {
  const rnd = xorshift32(0x2545f491);
  const out: RequestRow[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const pages = r % 10 === 0 ? 40 + (r % 200) : 1 + (r % 8);
    const pfn = 0x7f0000000 + (rnd() % 0x100000);
    const start = BigInt(pfn) * 4096n;
    const dma = i % 10 === 9;
    out.push({
      request_id: i,
      ts: 0n,
      cpu: i % 4,
      mm: dma ? null : "mm1",
      pid: dma ? null : 1,
      pasid: dma ? null : 5,
      start,
      end: start + BigInt(pages) * 4096n,
      pages: BigInt(pages),
      source: dma ? "dma_unmap" : "cache_tag_flush_range",
      full: false,
    });
  }
  return out;
}

const requests = makeRequests(REQUESTS);
requests.forEach((r, i) => r.ts = BigInt(i));

/**
 * One iteration: a fresh engine replays every request under the policies, counting only.
 * Returns the request-policy evaluations done (a policy does not evaluate requests outside its
 * scope: SVA policies skip the DMA-API unmaps and the other way round).
 */
function looper(policies: readonly string[], workers?: number) {
  return () => {
    const engine = new ReplayEngine(
      { iommus, devices, bindings },
      workers === undefined ? { policies } : { policies, workers },
    );
    for (let i = 0; i < requests.length; i++) engine.pushRequest(requests[i]!);
    const r = engine.finish();
    let n = 0;
    for (const p of r.policies) n += p.requests + p.requests_skipped;
    return n;
  };
}

const GROUPS: Record<string, readonly string[]> = {
  "intel-batched": ["intel-batched"],
  "intel-per-device": ["intel-per-device"],
  "x86 SVA policies (4)": [
    "intel-per-device",
    "intel-cache-tag",
    "intel-cache-tag-6.10.0",
    "intel-batched",
  ],
  "all built-ins (10)": BUILTIN_POLICY_NAMES,
};

for (const [name, policies] of Object.entries(GROUPS)) {
  const step = looper(policies);
  Deno.bench({
    name: `${name}: ${REQUESTS} requests / iter`,
    group: "replay",
    fn: () => void step(),
  });
}

if (import.meta.main) {
  // Under `deno run`: for each group, rounds with the default threads and rounds on one thread
  // alternate (the machine's speed drifts over minutes; alternating keeps the comparison fair).
  // Printed: the rate of the fastest round (other work only slows rounds down, so the fastest is
  // the closest to what the code costs), the rate over all rounds by wall time, and by CPU time
  // of all threads of this process.
  const { cpuUsage } = await import("node:process");
  const rounds = 10;
  for (const [name, policies] of Object.entries(GROUPS)) {
    const modes = [undefined, 0].map((workers) => ({
      label: `${name}${workers === 0 ? " 1 thread" : ""}`,
      step: looper(policies, workers),
      n: 0,
      best: 0,
      wall: 0,
      cpu: 0,
    }));
    for (const m of modes) m.step(); // warm up (and start the worker threads once)
    for (let i = 0; i < rounds; i++) {
      for (const m of modes) {
        const c0 = cpuUsage();
        const r0 = performance.now();
        const k = m.step();
        const dt = (performance.now() - r0) / 1000;
        const c = cpuUsage(c0);
        m.n += k;
        m.wall += dt;
        m.cpu += (c.user + c.system) / 1e6;
        if (k / dt > m.best) m.best = k / dt;
      }
    }
    for (const m of modes) {
      console.log(
        `${m.label.padEnd(32)} ${(m.best / 1e6).toFixed(2)} M/s best round, ${
          (m.n / m.wall / 1e6).toFixed(2)
        } M/s wall, ${(m.n / m.cpu / 1e6).toFixed(2)} M/s CPU`,
      );
    }
  }
  closeReplayWorkers();
}
