/**
 * Shared command-line plumbing: argument parsing with `node:util` `parseArgs` (JSR's @std/cli
 * is not reachable from this project's registries), one-line errors, progress on stderr.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { TraceError, UsageError } from "../core/errors.ts";
import { openFileSource } from "../ingest/file_source.ts";

/** Parsed arguments. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parses arguments strictly (unknown flags are an error).
 *
 * @param args argv after the subcommand
 * @param options flag declarations
 * @returns values and positionals
 * @throws {UsageError} on an unknown flag or a missing value
 */
export function parse(args: string[], options: ParseArgsConfig["options"]): Parsed {
  try {
    const r = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: r.values as Parsed["values"], positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!);
  }
}

/** True when stderr is a terminal (progress is shown only then). */
export function stderrIsTty(): boolean {
  try {
    return Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/** What one progress line shows. */
export interface ProgressView {
  /** The command (`replay`, `ingest`). */
  label: string;
  /** The stage (`ingest`, `normalize`, `replay`, `csv`, ...) or a free text. */
  stage: string;
  /** Units done in this stage (null: a stage without a count). */
  done: number | null;
  /** Units in all, when known (a percentage, a bar and an ETA are shown then). */
  total: number | null;
  /** What is counted (`events`, `tables`). */
  unit: string;
  /** Milliseconds since the stage started. */
  elapsedMs: number;
  /** Terminal columns; the line is cut to fit. */
  columns: number;
}

/** `1234` -> `1.23k`, `5600000` -> `5.6M`. */
function compact(n: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [f, u] of units) if (n >= f) return `${Number((n / f).toPrecision(3))}${u}`;
  return String(Math.round(n));
}

/** Whole seconds as `m:ss` or `h:mm:ss`. */
function clock(secs: number): string {
  const s = Math.max(0, secs);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const ss = String(r).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * Renders one progress line: the stage, and with a count its rate; with a known total also a bar,
 * the percentage and the time left. Pure (no terminal access), cut to `columns - 1` characters.
 *
 * @param v what to show
 * @returns the line, without a line break or escape sequences
 * @example
 * ```ts
 * import { renderProgress } from "./common.ts";
 * const line = renderProgress({
 *   label: "replay", stage: "normalize", done: 500_000, total: 2_000_000, unit: "events",
 *   elapsedMs: 1000, columns: 80,
 * });
 * console.assert(line.includes(" 25% ") && line.includes("ETA 0:03"));
 * ```
 */
export function renderProgress(v: ProgressView): string {
  const head = `${v.label}: ${v.stage}`;
  const secs = v.elapsedMs / 1000;
  let line: string;
  if (v.done === null) {
    line = `${head}  ${clock(Math.floor(secs))}`;
  } else {
    const rate = secs > 0 ? v.done / secs : 0;
    const rateText = secs >= 0.05 ? `  ${compact(rate)} ${v.unit}/s` : "";
    if (v.total !== null && v.total > 0) {
      const frac = Math.min(1, Math.max(0, v.done / v.total));
      const pct = `${Math.floor(frac * 100)}%`.padStart(4);
      const left = rate > 0
        ? clock(Math.ceil((v.total - Math.min(v.done, v.total)) / rate))
        : "-:--";
      const tail = `${pct}  ${compact(v.done)}/${
        compact(v.total)
      } ${v.unit}${rateText}  ETA ${left}`;
      // room kept for the longest usual tail, so the bar does not come and go as numbers grow
      const barWidth = Math.min(30, v.columns - 1 - head.length - Math.max(tail.length, 56) - 4);
      if (barWidth >= 10) {
        const full = Math.floor(frac * barWidth);
        const bar = "=".repeat(full) + (full < barWidth ? ">" : "") +
          " ".repeat(Math.max(0, barWidth - full - 1));
        line = `${head} [${bar}] ${tail}`;
      } else line = `${head} ${tail}`;
    } else {
      line = `${head}  ${v.done.toLocaleString("en-US")} ${v.unit}${rateText}  ${
        clock(Math.floor(secs))
      }`;
    }
  }
  return line.length > v.columns - 1 ? line.slice(0, Math.max(0, v.columns - 1)) : line;
}

/** Where a {@linkcode Progress} draws (tests pass their own). */
export interface ProgressTerminal {
  /** Writes text to the terminal. */
  write(text: string): void;
  /** The terminal's width in columns. */
  columns(): number;
  /** Milliseconds from a monotonic clock. */
  now(): number;
}

function stderrTerminal(): ProgressTerminal {
  const enc = new TextEncoder();
  return {
    write: (t) => void Deno.stderr.writeSync(enc.encode(t)),
    columns: () => {
      try {
        const c = Deno.consoleSize().columns;
        return c > 0 ? c : 80; // 0: a terminal that does not say
      } catch {
        return 80;
      }
    },
    now: () => performance.now(),
  };
}

/** The progress line on screen, cleared before an error is printed. */
let active: Progress | null = null;

/**
 * A progress line on stderr: stage, bar and percentage when the total is known, rate, time left.
 * Drawn only when stderr is a terminal and not quiet; redrawn at most every 100 ms however often
 * it is told (the hot path pays a clock read and a few stores); cleared by `done()`.
 */
export class Progress {
  /** Minimum time between two redraws (ms). */
  static readonly INTERVAL_MS = 100;
  readonly #on: boolean;
  readonly #term: ProgressTerminal;
  #lastDraw = -Infinity;
  #shown = false;
  #stage = "";
  #stageStart = 0;
  #done: number | null = null;
  #total: number | null = null;
  #unit = "events";

  /**
   * @param label what is being done (the command)
   * @param quiet force silence
   * @param terminal where to draw (default: stderr, and only if it is a terminal)
   */
  constructor(readonly label: string, quiet = false, terminal?: ProgressTerminal) {
    this.#on = !quiet && (terminal !== undefined || stderrIsTty());
    this.#term = terminal ?? stderrTerminal();
  }

  /**
   * Records a count (cheap: call it as often as convenient).
   *
   * @param stage stage name
   * @param done units done in the stage
   * @param total units in the stage, when known
   * @param unit what is counted
   */
  count(stage: string, done: number, total: number | null = null, unit = "events"): void {
    if (!this.#on) return;
    const now = this.#term.now();
    if (stage !== this.#stage) {
      this.#stage = stage;
      this.#stageStart = now;
    }
    this.#done = done;
    this.#total = total;
    this.#unit = unit;
    if (now - this.#lastDraw >= Progress.INTERVAL_MS) this.#draw(now);
  }

  /**
   * Starts a stage without a count (drawn at once).
   *
   * @param text what is being done
   */
  update(text: string): void {
    if (!this.#on) return;
    const now = this.#term.now();
    this.#stage = text;
    this.#stageStart = now;
    this.#done = null;
    this.#total = null;
    this.#draw(now);
  }

  #draw(now: number): void {
    this.#lastDraw = now;
    this.#shown = true;
    active = this;
    const line = renderProgress({
      label: this.label,
      stage: this.#stage,
      done: this.#done,
      total: this.#total,
      unit: this.#unit,
      elapsedMs: now - this.#stageStart,
      columns: this.#term.columns(),
    });
    this.#term.write(`\r\x1b[K${line}`);
  }

  /** Clears the line. */
  done(): void {
    if (this.#on && this.#shown) this.#term.write("\r\x1b[K");
    this.#shown = false;
    if (active === this) active = null;
  }
}

/**
 * Checks an output directory argument before anything is written: it may be missing (it is
 * created) or a directory, nothing else.
 *
 * @param path the directory
 * @param flag the option that named it, for the message
 * @throws {UsageError} when `path` is an existing file, or a parent of it is a file
 */
export function checkOutDir(path: string, flag = "--out"): void {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    if (e instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`${flag} ${path}: a parent of it is a file, not a directory`);
    }
    throw e;
  }
  if (!st.isDirectory) {
    throw new UsageError(`${flag} ${path} exists and is not a directory`);
  }
}

/**
 * Checks an output file argument: it may be missing or a file, not a directory.
 *
 * @param path the file
 * @param flag the option that named it, for the message
 * @throws {UsageError} when `path` is a directory
 */
export function checkOutFile(path: string, flag = "--out"): void {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch {
    return; // missing, or an unreachable parent: the write names it
  }
  if (st.isDirectory) throw new UsageError(`${flag} ${path} is a directory, not a file`);
}

/**
 * Checks that a trace argument names a file that exists, before anything is created (the same
 * checks as `openFileSource`, which makes them).
 *
 * @param path the trace
 * @throws {TraceError} when it does not exist or is a directory
 */
export function checkTraceFile(path: string): void {
  openFileSource(path).close();
}

/** Prints one line to stderr. */
export function warn(msg: string): void {
  console.error(msg);
}

/**
 * Runs a command body: typed errors become one line on stderr and an exit code, never a stack.
 *
 * @param name command name for messages
 * @param body the command
 * @returns exit code
 */
export async function guarded(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    active?.done();
    if (e instanceof UsageError) {
      console.error(`${name}: ${e.message} (see --help)`);
      return 2;
    }
    if (e instanceof TraceError) {
      console.error(`${name}: error: ${e.message}`);
      return 1;
    }
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.IsADirectory ||
      e instanceof Deno.errors.NotADirectory
    ) {
      console.error(`${name}: error: ${(e as Error).message}`);
      return 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`${name}: internal error: ${msg.split("\n")[0]}`);
    if (Deno.env.get("IOMMU_REPLAY_DEBUG")) console.error(e);
    return 70;
  }
}
