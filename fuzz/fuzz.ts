/**
 * `deno task fuzz`: the seeded mutation fuzzer of every reader.
 *
 * ```
 * deno task fuzz [--seconds 60] [--seed N] [--target all|a,b] [--workers 2] [--timeout-ms 2000]
 *                [--inputs N] [--shared] [--no-large] [--no-save] [--replay] [--index I]
 * ```
 *
 * - default: fuzz the targets for `--seconds` (or `--inputs` per target) and save each new kind
 *   of finding under `fuzz/regressions/<target>/` (an input and a note);
 * - `--replay`: run the saved regression inputs only;
 * - `--index I` (with `--seed` and one `--target`): run that one input in this process and print
 *   the outcome and stack, to debug a finding.
 *
 * Exits 1 when something was found.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "../core/errors.ts";
import { type Finding, findingSignature, runCampaign } from "./campaign.ts";
import { inputFor } from "./inputs.ts";
import { listRegressions, saveFinding } from "./regressions.ts";
import { loadSeeds, TARGET_NAMES, type TargetName } from "./seeds.ts";
import { runTarget } from "./targets.ts";

const HELP = `deno task fuzz: seeded mutation fuzzing of every reader

Options:
  --seconds N      time budget (default 60; ignored with --inputs)
  --inputs N       inputs per target instead of a time budget
  --seed N         master seed (default: random, printed)
  --target LIST    all (default) or a comma list of: ${TARGET_NAMES.join(", ")}
  --workers N      child processes (default 2)
  --timeout-ms N   time bound of one input (default 2000)
  --shared         add ../shared/fixtures to the seeds when present
  --no-large       leave out the large recorded trace.dat seeds
  --no-save        do not write findings to fuzz/regressions/
  --replay         only replay fuzz/regressions/
  --index I        run input I of --seed/--target in this process and print the result
  --dump FILE      with --index: also write the input to FILE
  --help           this text`;

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`--${name}: not a whole number: ${v}`);
  }
  return n;
}

function targetsOf(v: string): TargetName[] {
  if (v === "all") return [...TARGET_NAMES];
  const out: TargetName[] = [];
  for (const t of v.split(",")) {
    if (!(TARGET_NAMES as readonly string[]).includes(t)) {
      throw new UsageError(`--target: unknown target ${t} (known: ${TARGET_NAMES.join(", ")})`);
    }
    out.push(t as TargetName);
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string" },
      inputs: { type: "string" },
      seed: { type: "string" },
      target: { type: "string", default: "all" },
      workers: { type: "string" },
      "timeout-ms": { type: "string" },
      shared: { type: "boolean", default: false },
      "no-large": { type: "boolean", default: false },
      "no-save": { type: "boolean", default: false },
      replay: { type: "boolean", default: false },
      index: { type: "string" },
      dump: { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const targets = targetsOf(values.target);
  const seed = int(values.seed, "seed", (Math.random() * 0x7fffffff) >>> 0);
  const large = !values["no-large"];
  if (values.index !== undefined) {
    if (targets.length !== 1) throw new UsageError("--index needs exactly one --target");
    const target = targets[0]!;
    const seeds = loadSeeds({ shared: values.shared, large }).get(target)!;
    const inp = inputFor(target, seeds, seed, int(values.index, "index", 0));
    console.log(
      `seed file ${inp.seed}, mutations ${inp.ops.join(", ")}, ${inp.bytes.length} bytes`,
    );
    if (values.dump) Deno.writeFileSync(values.dump, inp.bytes);
    const tmpPath = Deno.makeTempFileSync({ prefix: "iommu-replay-fuzz-" });
    try {
      const t0 = performance.now();
      try {
        const { TARGETS } = await import("./targets.ts");
        await TARGETS[target](inp.bytes, { tmpPath });
        console.log(`ok in ${(performance.now() - t0).toFixed(1)} ms`);
      } catch (e) {
        console.log(`threw after ${(performance.now() - t0).toFixed(1)} ms:`);
        console.log(e);
        console.log(JSON.stringify(await runTarget(target, inp.bytes, { tmpPath })));
      }
    } finally {
      Deno.removeSync(tmpPath);
    }
    return 0;
  }
  const seen = new Map<string, number>();
  const onFinding = async (f: Finding) => {
    const sig = findingSignature(f);
    const n = (seen.get(sig) ?? 0) + 1;
    seen.set(sig, n);
    if (n > 1) return;
    console.log(`FOUND ${sig} (input ${f.file ?? f.index})`);
    if (!values["no-save"] && !values.replay) {
      const p = await saveFinding(f, undefined, seed);
      if (p) console.log(`  saved ${p}`);
    }
  };
  const pending: Promise<void>[] = [];
  const inputs = values.inputs !== undefined ? int(values.inputs, "inputs", 0) : undefined;
  console.log(
    values.replay
      ? "replaying fuzz/regressions/"
      : `fuzzing ${targets.join(", ")} with seed ${seed}`,
  );
  const res = await runCampaign(
    {
      targets,
      seed,
      ...(inputs !== undefined
        ? { inputsPerTarget: inputs }
        : { seconds: int(values.seconds, "seconds", 60) }),
      workers: int(values.workers, "workers", 2),
      timeoutMs: int(values["timeout-ms"], "timeout-ms", 2000),
      shared: values.shared,
      large,
      onFinding: (f) => pending.push(onFinding(f)),
      onProgress: (n) => {
        if (Deno.stdout.isTerminal()) {
          Deno.stdout.writeSync(new TextEncoder().encode(`\r${n} inputs`));
        }
      },
    },
    values.replay ? listRegressions() : undefined,
  );
  await Promise.all(pending);
  if (Deno.stdout.isTerminal()) console.log();
  for (const [t, s] of res.byTarget) {
    const codes = Object.entries(s.codes).map(([k, v]) => `${k}:${v}`).join(" ");
    const avg = (s.ms / Math.max(1, s.inputs)).toFixed(1);
    const heap = (s.maxHeapGrowth / 2 ** 20).toFixed(0);
    console.log(
      `${t.padEnd(16)} ${String(s.inputs).padStart(7)} inputs  ${avg} ms avg, ` +
        `${s.maxMs.toFixed(0)} ms max, heap +${heap} MiB max  ok ${s.ok}  typed ${s.typed} ` +
        `(${codes})  failures ${s.failures}`,
    );
  }
  console.log(
    `${res.inputs} inputs in ${res.seconds.toFixed(1)} s (${
      (res.inputs / res.seconds).toFixed(0)
    }/s), ` +
      `${res.findings.length} findings, ${seen.size} distinct`,
  );
  for (const [sig, n] of seen) console.log(`  ${n} x ${sig}`);
  return res.findings.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (
      e instanceof UsageError ||
      (e instanceof TypeError && /ERR_PARSE_ARGS/.test(String((e as { code?: string }).code)))
    ) {
      console.error(`fuzz: ${(e as Error).message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
