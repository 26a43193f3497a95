/**
 * Shared command-line plumbing: argument parsing with `node:util` `parseArgs` (JSR's @std/cli
 * is not reachable from this project's registries), one-line errors, progress on stderr.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { TraceError, UsageError } from "../core/errors.ts";

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

/** A one-line progress indicator on stderr (silent when stderr is not a terminal). */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly on: boolean;

  /**
   * @param label what is being done
   * @param quiet force silence
   */
  constructor(readonly label: string, quiet = false) {
    this.on = !quiet && stderrIsTty();
  }

  /** Updates the line (at most 10 times a second). */
  update(text: string): void {
    if (!this.on) return;
    const now = performance.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    Deno.stderr.writeSync(new TextEncoder().encode(`\r\x1b[K${this.label}: ${text}`));
  }

  /** Clears the line. */
  done(): void {
    if (this.on && this.shown) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
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
 * Checks that a trace argument names a file that exists, before anything is created.
 *
 * @param path the trace
 * @throws {TraceError} when it does not exist or is a directory
 */
export function checkTraceFile(path: string): void {
  const at = { file: path, section: "open", offset: 0 };
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      throw new TraceError("usage", "no such file", at);
    }
    throw e;
  }
  if (st.isDirectory) throw new TraceError("usage", "is a directory, not a trace file", at);
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
