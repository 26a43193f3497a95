/**
 * Writes a large IOMMU trace for the end-to-end replay benchmark: the bundled example's 6.12 VT-d SVA
 * workload (synth/scenarios/example_workload.ts) run as a series of jobs, one after the other, each
 * with its own pids, 10x the example's operations, streamed to disk with bounded memory.
 *
 *   deno run -A bench/make_e2e_trace.ts <out.dat> <events>
 */
import type { ExampleWorkloadParams } from "../synth/scenarios/example_workload.ts";
import { EXAMPLE_WORKLOAD_PARAMS, exampleWorkload } from "../synth/scenarios/example_workload.ts";
import { exampleFormats } from "../synth/make_example.ts";
import { TraceDatStreamWriter } from "../synth/tracedat_stream.ts";

/** The example's parameters for job `k`: shifted in time and pid space, 10x the operations. */
export function jobParams(k: number): ExampleWorkloadParams {
  const p = EXAMPLE_WORKLOAD_PARAMS;
  const shift = 100_000 * (k + 1);
  const scale = 10;
  return {
    ...p,
    seed: p.seed + k,
    startNs: p.startNs + BigInt(k) * (p.durationNs * BigInt(scale) + 1_000_000_000n),
    durationNs: p.durationNs * BigInt(scale),
    launcher: { ...p.launcher, pid: p.launcher.pid + shift },
    faults: p.faults * scale,
    dmaFlushes: p.dmaFlushes * scale,
    processes: p.processes.map((proc) => ({
      ...proc,
      pid: proc.pid + shift,
      ops: proc.ops * scale,
      ...(proc.thread
        ? { thread: { ...proc.thread, pid: proc.thread.pid + shift, ops: proc.thread.ops * scale } }
        : {}),
      ...(proc.child
        ? { child: { ...proc.child, pid: proc.child.pid + shift, ops: proc.child.ops * scale } }
        : {}),
    })),
  } as ExampleWorkloadParams;
}

/**
 * Writes jobs until at least `target` events are in the file.
 *
 * @param path output trace.dat
 * @param target minimum number of events
 * @returns events written and jobs
 */
export async function makeE2eTrace(
  path: string,
  target: number,
): Promise<{ events: number; jobs: number }> {
  let w = exampleWorkload(jobParams(0));
  const writer = new TraceDatStreamWriter(path, {
    version: 7,
    compression: "zstd",
    kernel: w.kernel,
    cpus: w.cpus,
    formats: exampleFormats(w),
  });
  let jobs = 0;
  for (;;) {
    writer.addAll(w.events);
    jobs++;
    if (writer.events >= target) break;
    w = exampleWorkload(jobParams(jobs));
  }
  const r = await writer.close();
  void r;
  return { events: writer.events, jobs };
}

if (import.meta.main) {
  const [out, n] = Deno.args;
  if (!out || !n) {
    console.error("usage: make_e2e_trace.ts <out.dat> <events>");
    Deno.exit(2);
  }
  const r = await makeE2eTrace(out, Number(n));
  console.log(`${out}: ${r.events} events in ${r.jobs} jobs`);
}
