/**
 * Typed errors shared by every layer.
 *
 * A {@linkcode TraceError} always says which file, which section of it and which byte
 * offset was being read, so a user can find the damage with a hex dump. The command
 * line prints only its `message` (one line), never a stack trace.
 *
 * @module
 */

/** The kind of problem, stable for programs that match on it. */
export type TraceErrorCode =
  | "bad_magic"
  | "unsupported_version"
  | "truncated"
  | "bad_size"
  | "bad_value"
  | "unknown_compression"
  | "decompress_failed"
  | "parse_error"
  | "limit_exceeded"
  | "usage";

// C0 controls but tab, DEL, C1 controls and the Unicode line/paragraph separators.
// deno-lint-ignore no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Escapes the characters that would break a one-line message or drive a terminal (newlines,
 * escape sequences, other controls) as `\xNN` / `\uNNNN`. Error messages quote text taken from
 * inputs, which a hostile file controls.
 *
 * @param s any text
 * @returns the text with control characters escaped
 * @example
 * ```ts
 * import { escapeControl } from "./errors.ts";
 * console.assert(escapeControl("a\nb\u001b[31m") === "a\\x0ab\\x1b[31m");
 * ```
 */
export function escapeControl(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16)}`;
  });
}

/** Where in an input a problem was found. */
export interface TraceLocation {
  /** The file (or a label such as `<stdin>`) being read. */
  file: string;
  /** The logical section, e.g. `header_page`, `options`, `flyrecord cpu1`. */
  section: string;
  /** Byte offset in the file (or in the decompressed section, said in `section`). */
  offset: number;
}

/**
 * An input could not be read. The message names the file, section and byte offset.
 *
 * @example
 * ```ts
 * import { TraceError } from "./errors.ts";
 * const e = new TraceError("truncated", "needs 8 bytes, 3 left", {
 *   file: "t.dat",
 *   section: "options",
 *   offset: 1042,
 * });
 * console.assert(e.message === "t.dat: options at byte 1042: needs 8 bytes, 3 left");
 * ```
 */
export class TraceError extends Error {
  /** Machine-readable kind. */
  readonly code: TraceErrorCode;
  /** Where it happened. */
  readonly location: TraceLocation;
  /** The reason without the location prefix. */
  readonly reason: string;

  /**
   * Makes an error whose message is `<file>: <section> at byte <offset>: <reason>`.
   *
   * @param code the kind of problem
   * @param reason what is wrong, in a short phrase
   * @param location file, section and byte offset
   */
  constructor(code: TraceErrorCode, reason: string, location: TraceLocation) {
    super(
      escapeControl(`${location.file}: ${location.section} at byte ${location.offset}: ${reason}`),
    );
    this.name = "TraceError";
    this.code = code;
    this.location = location;
    this.reason = reason;
  }
}

/** A user-facing problem that is not about a file's bytes (bad flag, bad config value). */
export class UsageError extends Error {
  /**
   * Makes an error whose message is shown to the user as is.
   *
   * @param message one line, shown as is (control characters escaped)
   */
  constructor(message: string) {
    super(escapeControl(message));
    this.name = "UsageError";
  }
}

/** A recoverable oddity found while reading; collected, counted and reported, never thrown. */
export interface TraceWarning {
  /** Stable short name, e.g. `unknown_option`, `damaged_tail`, `lost_events`. */
  code: string;
  /** One line for humans. */
  message: string;
  /** Where, when known. */
  location?: TraceLocation;
}
