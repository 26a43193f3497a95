/**
 * Query results as Vega-Lite inline data.
 *
 * @module
 */
import { UsageError } from "../../core/errors.ts";
import type { QueryResult } from "../engine.ts";

/** One row of inline chart data. */
export type ChartRow = Record<string, string | number | boolean | null>;

function plain(v: unknown): string | number | boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

/**
 * Turns a query result into row objects for a chart, checking the columns it needs.
 * Integers become numbers (charts plot magnitudes; exact values stay in the tables), nested
 * values become JSON text.
 *
 * @param chart chart name, for the error message
 * @param r query result
 * @param needs columns the chart reads
 * @returns inline data rows
 * @throws {UsageError} when a needed column is missing
 * @example
 * ```ts
 * import { chartRows } from "./chart_data.ts";
 * const rows = chartRows("demo", { columns: ["a"], rows: [[5n]] }, ["a"]);
 * console.assert(rows[0]!.a === 5);
 * ```
 */
export function chartRows(chart: string, r: QueryResult, needs: readonly string[]): ChartRow[] {
  const missing = needs.filter((c) => !r.columns.includes(c));
  if (missing.length) {
    throw new UsageError(`chart ${chart} needs column(s) ${missing.join(", ")}`);
  }
  return r.rows.map((row) => {
    const o: ChartRow = {};
    r.columns.forEach((c, i) => (o[c] = plain(row[i])));
    return o;
  });
}

/** The Vega-Lite schema URL the specs declare (informative; nothing is fetched). */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * A readable label of a duration in ns (`512 ns`, `2 µs`, `1.5 ms`, `3 s`).
 *
 * @param ns nanoseconds
 * @returns label
 * @example
 * ```ts
 * import { durationLabel } from "./chart_data.ts";
 * console.assert(durationLabel(2048) === "2.05 µs");
 * ```
 */
export function durationLabel(ns: number): string {
  const units: [number, string][] = [[1e9, "s"], [1e6, "ms"], [1e3, "µs"]];
  for (const [f, u] of units) {
    if (Math.abs(ns) >= f) return `${Number((ns / f).toPrecision(3))} ${u}`;
  }
  return `${Number(ns.toPrecision(3))} ns`;
}
