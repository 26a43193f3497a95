/**
 * What each fuzz target runs on an input, and how an input's end is judged: a result or a typed
 * error ({@linkcode TraceError}, {@linkcode UsageError}) is fine; anything else is a finding.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import { TraceError, type TraceWarning, UsageError } from "../core/errors.ts";
import { parseTopology, topologyToCanonical, topologyToJson } from "../core/topology.ts";
import { parseProbeMapping, probeDefinition } from "../core/probes/mapping.ts";
import { memorySource } from "../ingest/file_source.ts";
import { ingestToMemory } from "../ingest/ingest.ts";
import { traceDatEvents } from "../ingest/tracedat/tracedat_events.ts";
import { openTraceDat } from "../ingest/tracedat/tracedat_file.ts";
import type { TargetName } from "./seeds.ts";

/** How one input ended. */
export type Outcome =
  | { kind: "ok" }
  | { kind: "typed"; code: string }
  | { kind: "crash"; error: string; stack: string }
  | { kind: "bad_error"; error: string }
  | { kind: "memory"; bytes: number }
  | { kind: "hang"; ms: number }
  | { kind: "died"; status: string };

/** Outcomes that are findings (everything but a result or a well-formed typed error). */
export function isFailure(o: Outcome): boolean {
  return o.kind !== "ok" && o.kind !== "typed";
}

/** Per-process context of the targets. */
export interface TargetContext {
  /** A scratch file the ingest targets write each input to. */
  tmpPath: string;
}

const DEC = new TextDecoder("utf-8", { fatal: false });

// Control characters other than tab: a message printed on a terminal must not carry them.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Checks that a typed error is well formed: a one-line message without control characters and,
 * for a {@linkcode TraceError}, a location with a file, a section and a non-negative integer
 * offset.
 *
 * @param e the error
 * @returns null when well formed, else what is wrong
 */
export function typedErrorProblem(e: TraceError | UsageError): string | null {
  if (CONTROL.test(e.message)) {
    return `message has control characters: ${JSON.stringify(e.message)}`;
  }
  if (e instanceof TraceError) {
    const l = e.location;
    if (typeof l.file !== "string" || l.file === "") return "location has no file";
    if (typeof l.section !== "string" || l.section === "") return "location has no section";
    if (!Number.isSafeInteger(l.offset) || l.offset < 0) return `bad offset ${l.offset}`;
  }
  return null;
}

/**
 * Classifies how a run ended.
 *
 * @param e the thrown value, or undefined when the run returned
 * @returns the outcome
 */
export function classify(e?: unknown): Outcome {
  if (e === undefined) return { kind: "ok" };
  if (e instanceof TraceError || e instanceof UsageError) {
    const p = typedErrorProblem(e);
    if (p) return { kind: "bad_error", error: p };
    return { kind: "typed", code: e instanceof TraceError ? e.code : "usage" };
  }
  if (e instanceof BadResult) return { kind: "bad_error", error: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    kind: "crash",
    error: `${err.name}: ${err.message}`.slice(0, 500),
    stack: (err.stack ?? "").split("\n").slice(1, 8).join("\n"),
  };
}

/**
 * Checks the warnings of a result like typed errors: one line, no control characters, and a
 * location (when given) with a non-negative integer offset.
 *
 * @param warnings the warnings
 * @returns null when all are well formed, else what is wrong with the first bad one
 */
export function warningProblem(warnings: readonly TraceWarning[]): string | null {
  for (const w of warnings) {
    if (CONTROL.test(w.message)) {
      return `warning ${w.code} has control characters: ${JSON.stringify(w.message.slice(0, 200))}`;
    }
    const l = w.location;
    if (l && (!Number.isSafeInteger(l.offset) || l.offset < 0)) {
      return `warning ${w.code} has a bad offset ${l.offset}`;
    }
  }
  return null;
}

/** A result that is not well formed (bad warnings); reported as a `bad_error` outcome. */
export class BadResult extends Error {
  /**
   * Wraps what is wrong with a result.
   *
   * @param why what is wrong
   */
  constructor(why: string) {
    super(why);
    this.name = "BadResult";
  }
}

async function ingestTarget(bytes: Uint8Array, ctx: TargetContext): Promise<void> {
  Deno.writeFileSync(ctx.tmpPath, bytes);
  const r = await ingestToMemory(ctx.tmpPath);
  if (r.manifest.tables.length === 0) throw new Error("ingest returned no tables");
  const p = warningProblem(r.manifest.warnings);
  if (p) throw new BadResult(p);
}

function tracedatEventsTarget(bytes: Uint8Array): void {
  const t = openTraceDat(memorySource(bytes, "fuzz.dat"));
  const { reader, events } = traceDatEvents(t);
  for (const e of events) {
    if (typeof e.ts !== "bigint") throw new Error("event without a bigint ts");
  }
  const p = warningProblem([...t.warnings, ...reader.warnings]);
  if (p) throw new BadResult(p);
}

function topologyTarget(bytes: Uint8Array): void {
  const t = parseTopology(DEC.decode(bytes), "fuzz.json");
  topologyToCanonical(t);
  const again = parseTopology(topologyToJson(t), "fuzz.json");
  if (!isDeepStrictEqual(again, t)) throw new Error("topology does not survive a JSON round trip");
}

function probesTarget(bytes: Uint8Array): void {
  const m = parseProbeMapping(DEC.decode(bytes), "fuzz.json");
  for (const p of m.probes) probeDefinition(p);
}

/** The function each target runs on an input. */
export const TARGETS: Readonly<
  Record<TargetName, (bytes: Uint8Array, ctx: TargetContext) => void | Promise<void>>
> = Object.freeze({
  tracedat: ingestTarget,
  tracedat_events: (b) => tracedatEventsTarget(b),
  perf_data: ingestTarget,
  ftrace_text: ingestTarget,
  report_text: ingestTarget,
  perf_script: ingestTarget,
  topology: (b) => topologyTarget(b),
  probes: (b) => probesTarget(b),
});

/** Targets that misbehave on purpose, to prove the watchdog (runner `--selftest` only). */
export type SelfTestTarget = "_hang" | "_die" | "_grow";

/** A real target or a self-test one. */
export type AnyTarget = TargetName | SelfTestTarget;

/** What the self-test targets do: loop forever, exit the process, keep 512 MiB alive. */
export const SELFTEST_TARGETS: Readonly<Record<SelfTestTarget, () => void>> = Object.freeze({
  _hang: () => {
    for (let i = 0; i >= 0; i = (i + 1) % 1000) {
      // spins until the watchdog kills the process
    }
  },
  _die: () => Deno.exit(3),
  _grow: () => {
    kept.push(new Uint8Array(512 << 20).fill(1));
  },
});
const kept: Uint8Array[] = [];

/**
 * Runs one input through a target and classifies the end (without a time bound: the runner's
 * parent process is the watchdog).
 *
 * @param target the target
 * @param bytes the input
 * @param ctx per-process context
 * @returns the outcome
 * @example
 * ```ts
 * import { runTarget } from "./targets.ts";
 * const o = await runTarget("topology", new TextEncoder().encode("{"), { tmpPath: "" });
 * console.assert(o.kind === "typed");
 * ```
 */
export async function runTarget(
  target: TargetName,
  bytes: Uint8Array,
  ctx: TargetContext,
): Promise<Outcome> {
  try {
    await TARGETS[target](bytes, ctx);
    return classify();
  } catch (e) {
    return classify(e);
  }
}
