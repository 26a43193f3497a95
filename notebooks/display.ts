/**
 * Rich output for the Deno Jupyter notebooks: query results as HTML tables (with a plain-text
 * twin), Vega-Lite charts (with an SVG fallback for front ends without a Vega-Lite renderer),
 * Markdown, and {@linkcode show}, which displays them.
 *
 * Why {@linkcode show} pauses after displaying: in the Deno kernel (2.9) a display sent by the
 * cell can reach the front end after the cell's `idle` status unless the kernel's event loop turns
 * once more before the cell ends, and `nbclient` (behind `jupyter nbconvert --execute`, used in
 * CI) stops collecting a cell's outputs at `idle`: late ones are dropped. Measured here: a 4-cell
 * notebook of bare `await Deno.jupyter.display(...)` cells lost outputs in 4 of 8 runs, and none
 * in 8 runs with a timer awaited after the display. A cell's last-expression value
 * (`execute_result`) is sent after the cell ends and is lost the same way, so the notebooks show
 * everything through {@linkcode show} and never rely on that value.
 *
 * Everything here turns toolkit results into MIME bundles; nothing reads traces.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { isAbsolute } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import type { Engine, QueryResult } from "../mod.ts";
import { renderSVG } from "../mod.ts";

export type { Engine, QueryResult };

/** A Jupyter MIME bundle: MIME type -> data. */
export type MimeBundle = Record<string, unknown>;

/** A Vega-Lite spec, as the toolkit's chart builders return it. */
export type ChartSpec = TopLevelSpec;

/** The MIME type JupyterLab renders Vega-Lite with. */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/** How long {@linkcode show} keeps the cell alive after its last display (ms). */
export const SETTLE_MS = 50;

/** Options of {@linkcode table}. */
export interface TableOptions {
  /** Caption shown above the table. */
  title?: string;
  /** Rows shown at most (default 50); a line says how many were left out. */
  maxRows?: number;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * The text of one table cell: integers (bigint or number) in full, other numbers rounded to 3
 * decimals (4 significant digits below 1), `null` for SQL NULL, JSON for lists and structs.
 *
 * @param v a value of a query result
 * @returns its text
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cellText } from "./display.ts";
 * assert(cellText(18446744073709551615n) === "18446744073709551615");
 * assert(cellText(2.34567) === "2.346" && cellText(0.000123456) === "0.0001235");
 * assert(cellText(null) === "null" && cellText([1n, "a"]) === '["1","a"]');
 * ```
 */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    return String(Math.abs(v) < 1 ? Number(v.toPrecision(4)) : Number(v.toFixed(3)));
  }
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

function isNumeric(v: unknown): boolean {
  return typeof v === "bigint" || typeof v === "number";
}

/**
 * A query result as a table: `text/html` for the notebook and aligned `text/plain` for consoles
 * and diffs (no colour codes).
 *
 * @param r query result (column names and rows)
 * @param options caption and row limit
 * @returns MIME bundle with `text/html` and `text/plain`
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./display.ts";
 * const b = table({ columns: ["policy", "submissions"], rows: [["ideal", 3n]] });
 * assert.equal(b["text/plain"], "policy  submissions\n------  -----------\nideal             3");
 * assert(String(b["text/html"]).includes("<td>ideal</td>"));
 * ```
 */
export function table(r: QueryResult, options: TableOptions = {}): MimeBundle {
  const max = options.maxRows ?? 50;
  const shown = r.rows.slice(0, Math.max(0, max));
  const left = r.rows.length - shown.length;
  const numeric = r.columns.map((_, i) =>
    shown.length > 0 && shown.every((row) => row[i] === null || isNumeric(row[i]))
  );
  const cells = shown.map((row) => r.columns.map((_, i) => cellText(row[i])));
  const more = left > 0 ? `(${left} more row${left === 1 ? "" : "s"} not shown)` : "";

  const widths = r.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const pad = (s: string, i: number) => numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!);
  const line = (row: string[]) => row.map(pad).join("  ").trimEnd();
  const text = [
    ...(options.title ? [options.title] : []),
    line(r.columns),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map(line),
    ...(more ? [more] : []),
  ].join("\n");

  const right = ' style="text-align:right"';
  const html = [
    "<div>",
    options.title ? `<p><b>${escapeHtml(options.title)}</b></p>` : "",
    "<table>",
    `<thead><tr>${
      r.columns.map((c, i) => `<th${numeric[i] ? right : ""}>${escapeHtml(c)}</th>`).join("")
    }</tr></thead>`,
    "<tbody>",
    ...cells.map((row) =>
      `<tr>${
        row.map((s, i) => `<td${numeric[i] ? right : ""}>${escapeHtml(s)}</td>`).join("")
      }</tr>`
    ),
    "</tbody>",
    "</table>",
    more ? `<p><i>${more}</i></p>` : "",
    "</div>",
  ].filter((s) => s !== "").join("\n");
  return { "text/html": html, "text/plain": text };
}

/**
 * One row of a result as a two-column (field, value) result, for wide one-row tables such as
 * `main.trace_info`.
 *
 * @param r query result
 * @param row row index (default 0)
 * @returns columns `field` and `value`, one row per column of `r`
 * @throws {RangeError} when the row does not exist
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transposeRow } from "./display.ts";
 * const t = transposeRow({ columns: ["format", "cpus"], rows: [["tracedat", 2]] });
 * assert(JSON.stringify(t.rows) === '[["format","tracedat"],["cpus",2]]');
 * ```
 */
export function transposeRow(r: QueryResult, row = 0): QueryResult {
  const values = r.rows[row];
  if (!values) throw new RangeError(`no row ${row} (the result has ${r.rows.length})`);
  return { columns: ["field", "value"], rows: r.columns.map((c, i) => [c, values[i]]) };
}

/** One row of inline chart data. */
export type DataRow = Record<string, string | number | boolean | null>;

/**
 * A query result as Vega-Lite inline data: one object per row, integers as numbers (charts plot
 * magnitudes; exact values stay in the tables), nested values as JSON text.
 *
 * @param r query result
 * @returns row objects
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataRows } from "./display.ts";
 * const rows = dataRows({ columns: ["policy", "n"], rows: [["ideal", 4n]] });
 * assert(rows[0]!.policy === "ideal" && rows[0]!.n === 4);
 * ```
 */
export function dataRows(r: QueryResult): DataRow[] {
  return r.rows.map((row) => {
    const o: DataRow = {};
    r.columns.forEach((c, i) => {
      const v = row[i];
      o[c] = v === null || v === undefined
        ? null
        : typeof v === "bigint"
        ? Number(v)
        : typeof v === "number" || typeof v === "string" || typeof v === "boolean"
        ? v
        : cellText(v);
    });
    return o;
  });
}

/**
 * A Vega-Lite chart: the spec for JupyterLab's Vega-Lite renderer, the same chart rendered to
 * SVG (offline, see `renderSVG`) for other front ends and static views, and its title as text.
 *
 * @param spec Vega-Lite spec with inline data
 * @returns MIME bundle with {@linkcode VEGA_LITE_MIME}, `image/svg+xml` and `text/plain`
 * @throws {Error} when the spec cannot be rendered (e.g. it asks for external data)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chart, VEGA_LITE_MIME } from "./display.ts";
 * const b = await chart({
 *   title: "demo",
 *   data: { values: [{ a: "x", b: 1 }] },
 *   mark: "bar",
 *   encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
 * });
 * assert(String(b["image/svg+xml"]).startsWith("<svg") && VEGA_LITE_MIME in b);
 * ```
 */
export async function chart(spec: ChartSpec): Promise<MimeBundle> {
  const svg = await renderSVG(spec);
  const t = (spec as { title?: unknown }).title;
  const title = typeof t === "string"
    ? t
    : typeof t === "object" && t !== null && typeof (t as { text?: unknown }).text === "string"
    ? (t as { text: string }).text
    : "chart";
  return { [VEGA_LITE_MIME]: spec, "image/svg+xml": svg, "text/plain": `[chart: ${title}]` };
}

/**
 * Markdown text as a bundle (`text/markdown`, and the same text as `text/plain`).
 *
 * @param md Markdown
 * @returns MIME bundle
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdown } from "./display.ts";
 * assert(markdown("**x**")["text/markdown"] === "**x**");
 * ```
 */
export function markdown(md: string): MimeBundle {
  return { "text/markdown": md, "text/plain": md };
}

/** Sends one bundle to the front end. */
export type DisplayFn = (bundle: MimeBundle) => Promise<void> | void;

/**
 * Displays bundles in order with `display`, then waits `settleMs` so the kernel publishes them
 * before the cell ends (see the module documentation). {@linkcode show} is this with the kernel's
 * `Deno.jupyter.display`.
 *
 * @param display where bundles go
 * @param items bundles, or promises of bundles (awaited in order)
 * @param settleMs pause after the last display (ms)
 * @returns when every bundle is displayed and the pause is over
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdown, showWith } from "./display.ts";
 * const seen: string[] = [];
 * await showWith((b) => void seen.push(String(b["text/plain"])), [markdown("a"), markdown("b")], 0);
 * assert(seen.join() === "a,b");
 * ```
 */
export async function showWith(
  display: DisplayFn,
  items: readonly (MimeBundle | Promise<MimeBundle>)[],
  settleMs: number = SETTLE_MS,
): Promise<void> {
  for (const item of items) await display(await item);
  await new Promise((resolve) => setTimeout(resolve, settleMs));
}

/**
 * Displays bundles in the notebook (only inside the Deno Jupyter kernel). End every cell that
 * shows something with `await show(...)` rather than a bare expression.
 *
 * @param items bundles from {@linkcode table}, {@linkcode chart}, {@linkcode markdown}
 * @returns when they are displayed
 * @throws {Error} outside `deno jupyter` (Deno.jupyter is unavailable)
 * @example
 * ```ts ignore
 * await show(markdown("## Policies"), table(await engine.query("SELECT 1 AS one")));
 * ```
 */
export async function show(...items: (MimeBundle | Promise<MimeBundle>)[]): Promise<void> {
  await showWith((b) => Deno.jupyter.display(b, { raw: true }), items);
}

/** The repository root (the parent of `notebooks/`). */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/**
 * Resolves a path given to a notebook: absolute paths are kept, relative ones are taken from the
 * repository root (so `examples/x.dat` works whatever directory the kernel runs in).
 *
 * @param p a path
 * @returns an absolute path
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { REPO_ROOT, repoPath } from "./display.ts";
 * assert(repoPath("examples/a.dat") === REPO_ROOT + "examples/a.dat");
 * assert(repoPath("/tmp/a.dat") === "/tmp/a.dat");
 * ```
 */
export function repoPath(p: string): string {
  return isAbsolute(p) ? p : fileURLToPath(new URL(p, new URL("../", import.meta.url)));
}

/**
 * The tables an engine holds, as `schema.table` names.
 *
 * @param engine a loaded engine
 * @returns the set of names
 * @example
 * ```ts ignore
 * if ((await tableNames(ds.engine)).has("tlb.tlb_flush")) { ... }
 * ```
 */
export async function tableNames(engine: Engine): Promise<Set<string>> {
  const r = await engine.query(
    "SELECT table_schema || '.' || table_name FROM information_schema.tables",
  );
  return new Set(r.rows.map((row) => String(row[0])));
}
