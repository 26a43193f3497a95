/**
 * The `--format` option of `ingest` and `replay` (which table copies to write beside the Arrow
 * files), kept apart from the writer (`table_copies.ts`) so that parsing it loads no DuckDB.
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";

/** A format a table can be copied to, besides Arrow IPC. */
export type CopyFormat = "parquet" | "csv";

/** Every value `--format` accepts. */
export const TABLE_FORMATS = ["arrow", "parquet", "csv"] as const;

/**
 * Parses a `--format` value: a comma list of `arrow`, `parquet`, `csv`. Arrow is always written;
 * the result lists the copies to make besides it.
 *
 * @param value the option's value (undefined: Arrow only)
 * @returns the copy formats, in the order given, without repeats
 * @throws {UsageError} on an unknown or empty format list
 * @example
 * ```ts
 * import { parseFormats } from "./table_formats.ts";
 * console.assert(parseFormats("arrow,csv,parquet,csv").join() === "csv,parquet");
 * ```
 */
export function parseFormats(value: string | undefined): CopyFormat[] {
  if (value === undefined) return [];
  const out: CopyFormat[] = [];
  const names = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  if (names.length === 0) {
    throw new UsageError(`--format needs one or more of ${TABLE_FORMATS.join(", ")}`);
  }
  for (const f of names) {
    if (f === "arrow") continue;
    if (f !== "parquet" && f !== "csv") {
      throw new UsageError(
        `--format: unknown format ${JSON.stringify(f)} (known: ${TABLE_FORMATS.join(", ")})`,
      );
    }
    if (!out.includes(f)) out.push(f);
  }
  return out;
}

/** The copy's path beside an `.arrows` file (relative to the directory). */
export function copyPath(arrowsFile: string, format: CopyFormat): string {
  return `${arrowsFile.replace(/\.arrows$/, "")}.${format}`;
}
