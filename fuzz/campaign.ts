/**
 * A fuzz campaign: generated inputs (or saved regression files) run in child processes
 * ({@linkcode ./runner.ts}) under a watchdog. An input that does not end within the time bound
 * is a hang (the child is killed and replaced); a child that dies is a crash of the process
 * (out of memory); the child itself flags inputs that made the heap grow past a limit.
 *
 * @module
 */
import { inputFor } from "./inputs.ts";
import type { RunnerJob } from "./runner.ts";
import { loadSeeds, type Seed, TARGET_NAMES, type TargetName } from "./seeds.ts";
import { type AnyTarget, isFailure, type Outcome } from "./targets.ts";

/** Options of {@linkcode runCampaign}. */
export interface CampaignOptions {
  /** Targets to fuzz (self-test targets only run in replays). */
  targets: readonly AnyTarget[];
  /** Master seed. */
  seed: number;
  /** Inputs per target; when absent, the campaign runs until `seconds` have passed. */
  inputsPerTarget?: number;
  /** Time budget in seconds (for campaigns without `inputsPerTarget`). */
  seconds?: number;
  /** Child processes (default 2). */
  workers?: number;
  /** Time bound of one input in ms (default 2000). */
  timeoutMs?: number;
  /** Inputs per job sent to a child (default 250). */
  chunk?: number;
  /** Use `../shared/fixtures` seeds too. */
  shared?: boolean;
  /** Use the large recorded trace.dat seeds (default true). */
  large?: boolean;
  /** Heap growth over one input that counts as a finding, bytes (default 256 MiB). */
  memLimit?: number;
  /** V8 old-space limit of a child in MiB (default 1024). */
  heapMb?: number;
  /** Let the children run the self-test targets (`_hang`, `_die`, `_grow`) in replays. */
  selftest?: boolean;
  /** Called with each finding as it is found. */
  onFinding?: (f: Finding) => void;
  /** Called about once a second with the inputs run so far. */
  onProgress?: (inputs: number) => void;
}

/** An input that did not end in a result or a typed error. */
export interface Finding {
  /** The target that was fed the input. */
  target: AnyTarget;
  /** Input index (generated inputs; in replays, the index in the job). */
  index: number;
  /** The regression file (replays). */
  file?: string;
  /** How the input ended. */
  outcome: Outcome;
  /** Seed name (generated inputs). */
  seed?: string;
  /** Mutations applied (generated inputs). */
  ops?: string[];
  /** The input (generated inputs). */
  bytes?: Uint8Array;
}

/** Counts per target. */
export interface TargetStats {
  /** Inputs run. */
  inputs: number;
  /** Inputs that ended in a result. */
  ok: number;
  /** Inputs that ended in a typed error. */
  typed: number;
  /** Findings. */
  failures: number;
  /** Typed error codes seen, with counts. */
  codes: Record<string, number>;
  /** Time spent running the inputs (in the children), ms. */
  ms: number;
  /** Slowest input, ms. */
  maxMs: number;
  /** Largest heap growth (JS heap + external) over one input, bytes. */
  maxHeapGrowth: number;
}

/** What a campaign did. */
export interface CampaignResult {
  /** Inputs run. */
  inputs: number;
  /** Wall time. */
  seconds: number;
  /** Counts per target. */
  byTarget: Map<AnyTarget, TargetStats>;
  /** Every finding, in the order found. */
  findings: Finding[];
}

const RUNNER = new URL("./runner.ts", import.meta.url);
const STARTUP_MS = 120_000;

class LineReader {
  private buf = "";
  private reader: ReadableStreamDefaultReader<string>;
  private pending: Promise<ReadableStreamReadResult<string>> | null = null;
  constructor(stream: ReadableStream<Uint8Array>) {
    // Some npm type packages in the same check widen TextDecoderStream's writable side to
    // BufferSource; bytes in, text out is what it does.
    const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
    this.reader = stream.pipeThrough(decoder).getReader();
  }
  /** Next line, null at the end, "timeout" when `ms` passed first. */
  async next(ms: number): Promise<string | null | "timeout"> {
    for (;;) {
      const nl = this.buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return line;
      }
      this.pending ??= this.reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const t = new Promise<"timeout">((res) => {
        timer = setTimeout(() => res("timeout"), ms);
      });
      const r = await Promise.race([this.pending, t]);
      clearTimeout(timer);
      if (r === "timeout") return "timeout";
      this.pending = null;
      if (r.done) return null;
      this.buf += r.value;
    }
  }
  cancel(): void {
    this.reader.cancel().catch(() => {});
  }
}

class Child {
  readonly proc: Deno.ChildProcess;
  readonly lines: LineReader;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  stderrTail = "";
  private stderrDone: Promise<void>;

  constructor(args: string[]) {
    const proc = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.proc = proc;
    this.lines = new LineReader(proc.stdout);
    this.writer = proc.stdin.getWriter();
    this.stderrDone = (async () => {
      const dec = new TextDecoder();
      for await (const c of proc.stderr) {
        this.stderrTail = (this.stderrTail + dec.decode(c)).slice(-4000);
      }
    })().catch(() => {});
  }

  async send(job: RunnerJob): Promise<void> {
    await this.writer.write(new TextEncoder().encode(JSON.stringify(job) + "\n"));
  }

  async kill(): Promise<Deno.CommandStatus> {
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // already exited
    }
    return await this.close();
  }

  async close(): Promise<Deno.CommandStatus> {
    try {
      await this.writer.close();
    } catch {
      // the child is gone
    }
    this.lines.cancel();
    const st = await this.proc.status;
    await this.stderrDone;
    return st;
  }
}

function emptyStats(): TargetStats {
  return { inputs: 0, ok: 0, typed: 0, failures: 0, codes: {}, ms: 0, maxMs: 0, maxHeapGrowth: 0 };
}

/**
 * Runs a campaign.
 *
 * @param opts what to run
 * @param replay instead of generated inputs, these files per target (regression inputs)
 * @returns counts and findings
 */
export async function runCampaign(
  opts: CampaignOptions,
  replay?: ReadonlyMap<AnyTarget, readonly string[]>,
): Promise<CampaignResult> {
  const workers = Math.max(1, opts.workers ?? 2);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const chunk = Math.max(1, opts.chunk ?? 250);
  const args = [
    "run",
    "-A",
    `--v8-flags=--max-old-space-size=${opts.heapMb ?? 1024}`,
    RUNNER.href,
    `--mem-limit=${opts.memLimit ?? 256 << 20}`,
    ...(opts.shared ? ["--shared"] : []),
    ...(opts.large === false ? ["--no-large"] : []),
    ...(opts.selftest ? ["--selftest"] : []),
  ];
  let seeds: Map<TargetName, Seed[]> | null = null;
  const seedsOf = (t: TargetName) => {
    seeds ??= loadSeeds({ shared: opts.shared ?? false, large: opts.large ?? true });
    return seeds.get(t)!;
  };
  const byTarget = new Map<AnyTarget, TargetStats>(opts.targets.map((t) => [t, emptyStats()]));
  const findings: Finding[] = [];
  const t0 = performance.now();
  const deadline = opts.seconds !== undefined ? t0 + opts.seconds * 1000 : Infinity;
  let total = 0;
  let nextId = 1;

  // The job queue: explicit jobs first (re-queued remainders), then generated ones.
  const queue: RunnerJob[] = [];
  const genTargets = opts.targets.filter((t): t is TargetName =>
    (TARGET_NAMES as readonly string[]).includes(t)
  );
  const nextStart = new Map<TargetName, number>(genTargets.map((t) => [t, 0]));
  let rr = 0;
  if (replay) {
    for (const [target, paths] of replay) {
      for (let i = 0; i < paths.length; i += chunk) {
        queue.push({ id: nextId++, mode: "files", target, paths: paths.slice(i, i + chunk) });
      }
    }
  }
  const takeJob = (): RunnerJob | null => {
    const q = queue.shift();
    if (q) return q;
    if (replay || performance.now() > deadline) return null;
    for (let k = 0; k < genTargets.length; k++) {
      const target = genTargets[(rr++) % genTargets.length]!;
      const start = nextStart.get(target)!;
      const limit = opts.inputsPerTarget ?? Infinity;
      if (start >= limit) continue;
      const count = Math.min(chunk, limit - start);
      nextStart.set(target, start + count);
      return { id: nextId++, mode: "gen", target, master: opts.seed, start, count };
    }
    return null;
  };

  const record = (job: RunnerJob, i: number, o: Outcome, ms = 0, grew = 0) => {
    total++;
    const st = byTarget.get(job.target) ?? emptyStats();
    byTarget.set(job.target, st);
    st.inputs++;
    st.ms += ms;
    if (ms > st.maxMs) st.maxMs = ms;
    if (grew > st.maxHeapGrowth) st.maxHeapGrowth = grew;
    if (o.kind === "ok") st.ok++;
    else if (o.kind === "typed") {
      st.typed++;
      st.codes[o.code] = (st.codes[o.code] ?? 0) + 1;
    } else {
      st.failures++;
      const f: Finding = { target: job.target, index: i, outcome: o };
      if (job.mode === "files") f.file = job.paths[i]!;
      else {
        const inp = inputFor(job.target, seedsOf(job.target), job.master, i);
        f.seed = inp.seed;
        f.ops = inp.ops;
        f.bytes = inp.bytes;
      }
      findings.push(f);
      opts.onFinding?.(f);
    }
  };

  /** The part of a job after input `i`, or null. */
  const rest = (job: RunnerJob, i: number): RunnerJob | null => {
    if (job.mode === "gen") {
      const end = job.start + job.count;
      return i + 1 < end ? { ...job, id: nextId++, start: i + 1, count: end - i - 1 } : null;
    }
    return i + 1 < job.paths.length
      ? { ...job, id: nextId++, paths: job.paths.slice(i + 1) }
      : null;
  };

  /** A job of input `i` of `job` only. */
  const one = (job: RunnerJob, i: number): RunnerJob =>
    job.mode === "gen"
      ? { ...job, id: nextId++, start: i, count: 1 }
      : { ...job, id: nextId++, paths: [job.paths[i]!] };
  const retried = new Set<string>();

  const worker = async () => {
    let child: Child | null = null;
    try {
      for (;;) {
        const job = takeJob();
        if (!job) break;
        child ??= new Child(args);
        await child.send(job);
        let current = -1;
        let running = false;
        let started = 0;
        for (;;) {
          const line = await child.lines.next(running ? timeoutMs : STARTUP_MS);
          if (line === "timeout" || line === null) {
            const hung = line === "timeout";
            const status = hung ? await child.kill() : await child.close();
            const tail = child.stderrTail;
            child = null;
            if (current < 0) {
              throw new Error(
                `fuzz runner failed to start or answer (status ${status.code}): ${tail}`,
              );
            }
            const r = rest(job, current);
            if (r) queue.unshift(r);
            const key = `${job.target}:${job.mode === "gen" ? current : job.paths[current]}`;
            if (hung && !retried.has(key)) {
              // A busy machine can stall one run: a hang counts only when a fresh process
              // stalls on the same input again.
              retried.add(key);
              queue.unshift(one(job, current));
              break;
            }
            const o: Outcome = hung
              ? { kind: "hang", ms: Math.round(performance.now() - started) }
              : {
                kind: "died",
                status: `exit ${status.code} ${status.signal ?? ""} ${tail.slice(-300)}`,
              };
            record(job, current, o);
            break;
          }
          if (line.startsWith("S ")) {
            current = Number(line.split(" ")[2]);
          } else if (line.startsWith("X ")) {
            running = true;
            started = performance.now();
          } else if (line.startsWith("R ")) {
            const [, , i, ms, grew] = line.split(" ", 5);
            const at = line.indexOf("{");
            record(job, Number(i), JSON.parse(line.slice(at)) as Outcome, Number(ms), Number(grew));
            current = -1;
            running = false;
          } else if (line.startsWith("D ")) {
            break;
          }
        }
      }
    } finally {
      if (child) await child.close();
    }
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  if (opts.onProgress) timer = setInterval(() => opts.onProgress!(total), 1000);
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    clearInterval(timer);
  }
  return { inputs: total, seconds: (performance.now() - t0) / 1000, byTarget, findings };
}

/**
 * A short signature of a finding, to group duplicates: outcome kind, the error text with
 * numbers blanked, and the first stack frame.
 *
 * @param f the finding
 * @returns the signature
 */
export function findingSignature(f: Finding): string {
  const o = f.outcome;
  switch (o.kind) {
    case "crash": {
      const frame = o.stack.split("\n")[0]?.trim().replace(/:\d+:\d+\)?$/, "") ?? "";
      return `${f.target} crash ${o.error.replace(/\d+/g, "N").slice(0, 120)} @ ${frame}`;
    }
    case "bad_error":
      return `${f.target} bad_error ${o.error.replace(/\d+/g, "N").slice(0, 80)}`;
    default:
      return `${f.target} ${o.kind}`;
  }
}

export { isFailure };
