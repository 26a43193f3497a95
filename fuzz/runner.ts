/**
 * The fuzzer's child process: runs inputs one at a time and reports each start and end on
 * stdout, so that the parent ({@linkcode ./campaign.ts}) can kill it when an input hangs, and
 * notice when it dies (out of memory).
 *
 * Jobs arrive on stdin, one JSON object per line:
 * - `{"id":1,"mode":"gen","target":"tracedat","master":1,"start":0,"count":100}`
 * - `{"id":2,"mode":"files","target":"topology","paths":["fuzz/regressions/topology/x.bin"]}`
 *
 * Reports, one per line: `S <job> <i>` (input being made), `X <job> <i>` (its run starts),
 * `R <job> <i> <ms> <heap growth bytes> <outcome JSON>`,
 * `D <job>` (job done).
 *
 * Run by the parent as `deno run -A --v8-flags=--max-old-space-size=N fuzz/runner.ts [--shared]
 * [--no-large] [--mem-limit BYTES]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { inputFor } from "./inputs.ts";
import { loadSeeds, TARGET_NAMES, type TargetName } from "./seeds.ts";
import {
  type AnyTarget,
  classify,
  type Outcome,
  runTarget,
  SELFTEST_TARGETS,
  type SelfTestTarget,
} from "./targets.ts";

/** A job for the runner. */
export type RunnerJob =
  | { id: number; mode: "gen"; target: TargetName; master: number; start: number; count: number }
  | { id: number; mode: "files"; target: AnyTarget; paths: string[] };

const ENC = new TextEncoder();

function say(line: string): void {
  const b = ENC.encode(line + "\n");
  let off = 0;
  while (off < b.length) off += Deno.stdout.writeSync(b.subarray(off));
}

function heapAndExternal(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shared: { type: "boolean", default: false },
      "no-large": { type: "boolean", default: false },
      "mem-limit": { type: "string", default: String(256 << 20) },
      selftest: { type: "boolean", default: false },
    },
    strict: true,
  });
  const memLimit = Number(values["mem-limit"]);
  const seeds = loadSeeds({ shared: values.shared, large: !values["no-large"] });
  const tmpPath = Deno.makeTempFileSync({ prefix: "iommu-replay-fuzz-" });
  const ctx = { tmpPath };
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buf = "";
  try {
    for await (const chunk of lines) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === "") continue;
        const job = JSON.parse(line) as RunnerJob;
        const selftest = values.selftest && job.target in SELFTEST_TARGETS;
        if (!selftest && !(TARGET_NAMES as readonly string[]).includes(job.target)) {
          throw new Error(`unknown target ${job.target}`);
        }
        const n = job.mode === "gen" ? job.count : job.paths.length;
        for (let k = 0; k < n; k++) {
          const i = job.mode === "gen" ? job.start + k : k;
          say(`S ${job.id} ${i}`);
          const bytes = job.mode === "gen"
            ? inputFor(job.target, seeds.get(job.target)!, job.master, i).bytes
            : Deno.readFileSync(job.paths[k]!);
          say(`X ${job.id} ${i}`);
          const before = heapAndExternal();
          const t0 = performance.now();
          let o: Outcome;
          if (selftest) {
            try {
              SELFTEST_TARGETS[job.target as SelfTestTarget]();
              o = classify();
            } catch (e) {
              o = classify(e);
            }
          } else o = await runTarget(job.target as TargetName, bytes, ctx);
          const ms = performance.now() - t0;
          const grew = heapAndExternal() - before;
          if (grew > memLimit && o.kind !== "crash") o = { kind: "memory", bytes: grew };
          say(`R ${job.id} ${i} ${ms.toFixed(2)} ${Math.max(0, grew)} ${JSON.stringify(o)}`);
        }
        say(`D ${job.id}`);
      }
    }
  } finally {
    try {
      Deno.removeSync(tmpPath);
    } catch {
      // already gone
    }
  }
}

if (import.meta.main) await main();
