/**
 * The HTML report: one self-contained, offline file with interactive charts and summary tables.
 *
 * vega, vega-lite and vega-embed are inlined from the npm packages' browser bundles (read from
 * Deno's npm cache when the report is built), chart specs travel as JSON in a
 * `<script type="application/json">` block, and a Content-Security-Policy forbids every network
 * request and `eval`: charts run with vega's expression interpreter (`ast: true`). Every string
 * that reaches the page (titles, notes, column names, cell values) is escaped; control
 * characters are shown as visible symbols (U+2400 block) rather than passed through.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { TopLevelSpec } from "vega-lite";

/** A table shown in the report. */
export interface ReportTable {
  /** Heading. */
  title: string;
  /** One line under the heading (e.g. the saved query's doc). */
  doc?: string;
  /** Column names. */
  columns: readonly string[];
  /** Rows of values (bigint, number, string, boolean, null, arrays, objects). */
  rows: readonly (readonly unknown[])[];
}

/** A chart shown in the report. */
export interface ReportChart {
  /** Heading. */
  title: string;
  /** One line under the heading. */
  doc?: string;
  /** Vega-Lite spec with inline data. */
  spec: TopLevelSpec;
}

/** What a report holds. */
export interface ReportInput {
  /** Page title. */
  title: string;
  /** Tables, in order (shown after the charts). */
  summaryTables: readonly ReportTable[];
  /** Charts, in order. */
  charts: readonly ReportChart[];
  /** Paragraphs of plain text shown under the title. */
  notes?: readonly string[];
  /** Rows shown per table at most (default 500); the rest is counted, not shown. */
  maxRows?: number;
}

/**
 * Escapes text for HTML element content and quoted attribute values. Control characters
 * become visible symbols (C0 -> U+2400..U+241F, DEL -> U+2421, C1 -> `\u0080`-style text),
 * lone surrogates become U+FFFD.
 *
 * @param s any text
 * @returns text safe inside elements and `"`/`'`-quoted attributes
 * @example
 * ```ts
 * import { escapeHTML } from "./report.ts";
 * console.assert(escapeHTML(`<a href="x">'&'\u0007`) === "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;\u2407");
 * ```
 */
export function escapeHTML(s: string): string {
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => {
      switch (c) {
        case "&":
          return "&amp;";
        case "<":
          return "&lt;";
        case ">":
          return "&gt;";
        case '"':
          return "&quot;";
        case "'":
          return "&#39;";
      }
      const code = c.charCodeAt(0);
      if (code <= 0x1f) return String.fromCharCode(0x2400 + code);
      if (code === 0x7f) return "\u2421";
      if (code <= 0x9f) return `\\u${code.toString(16).padStart(4, "0")}`;
      return "\ufffd";
    },
  );
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&`, U+2028 and U+2029 are
 * `\u` escaped so no text can close the script element; bigints become numbers when exact,
 * strings otherwise.
 *
 * @param value JSON-able value
 * @returns JSON text safe inside a script element
 * @example
 * ```ts
 * import { scriptJSON } from "./report.ts";
 * console.assert(scriptJSON({ a: "</script>" }) === '{"a":"\\u003c/script\\u003e"}');
 * ```
 */
export function scriptJSON(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      typeof v === "bigint"
        ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString())
        : v,
  )
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Makes library code safe to inline in a `<script>` element. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

function cellText(v: unknown): { text: string; cls: string } {
  if (v === null || v === undefined) return { text: "NULL", cls: "null" };
  switch (typeof v) {
    case "bigint":
      return { text: v.toString(), cls: "num" };
    case "number":
      return {
        text: Number.isInteger(v) || !Number.isFinite(v)
          ? String(v)
          : String(Number(v.toPrecision(6))),
        cls: "num",
      };
    case "boolean":
      return { text: String(v), cls: "bool" };
    case "string":
      return { text: v, cls: "" };
  }
  if (v instanceof Date) return { text: v.toISOString(), cls: "" };
  return {
    text: JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)) ?? String(v),
    cls: "json",
  };
}

function tableHTML(t: ReportTable, index: number, maxRows: number): string {
  const head = t.columns.map((c) => `<th>${escapeHTML(c)}</th>`).join("");
  const shown = t.rows.slice(0, maxRows);
  const body = shown.map((r) =>
    `<tr>${
      t.columns.map((_, i) => {
        const { text, cls } = cellText(r[i]);
        return cls ? `<td class="${cls}">${escapeHTML(text)}</td>` : `<td>${escapeHTML(text)}</td>`;
      }).join("")
    }</tr>`
  ).join("\n");
  const more = t.rows.length > shown.length
    ? `<p class="more">${
      t.rows.length - shown.length
    } more rows not shown (${t.rows.length} in all).</p>`
    : "";
  const empty = t.rows.length === 0 ? `<p class="more">No rows.</p>` : "";
  return `<section class="table" id="table-${index}">
<h2>${escapeHTML(t.title)}</h2>${t.doc ? `\n<p class="doc">${escapeHTML(t.doc)}</p>` : ""}
<div class="scroll"><table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>${more}${empty}
</section>`;
}

function chartHTML(c: ReportChart, index: number): string {
  return `<figure class="chart-figure" id="figure-${index}">
<figcaption><h2>${escapeHTML(c.title)}</h2>${
    c.doc ? `<p class="doc">${escapeHTML(c.doc)}</p>` : ""
  }</figcaption>
<div class="chart" id="chart-${index}" data-chart="${index}"></div>
</figure>`;
}

interface Libraries {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
}

let libraries: Libraries | null = null;

/** Reads a browser bundle next to a package's resolved entry point. */
function bundle(pkg: string, file: string): string {
  const entry = import.meta.resolve(pkg);
  if (!entry.startsWith("file:")) throw new Error(`${pkg} must come from a local npm cache`);
  const path = fileURLToPath(new URL(file, entry));
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(
      `cannot read ${pkg}'s browser bundle at ${path} (run \`deno install\`): ${
        (e as Error).message
      }`,
    );
  }
}

function loadLibraries(): Libraries {
  libraries ??= {
    vega: bundle("vega", "./vega.min.js"),
    vegaLite: bundle("vega-lite", "./vega-lite.min.js"),
    vegaEmbed: bundle("vega-embed", "./vega-embed.min.js"),
  };
  return libraries;
}

const CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "img-src data: blob:",
  "font-src data:",
].join("; ");

const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f;
  background: #fafafa; }
header { background: #24364b; color: #fff; padding: 18px 32px; }
header h1 { margin: 0; font-size: 22px; overflow-wrap: anywhere; }
header p { margin: 4px 0 0; opacity: .8; font-size: 12px; }
main { padding: 16px 32px 48px; max-width: 1200px; }
.notes p { background: #fff8e1; border-left: 4px solid #f0b429; padding: 8px 12px; margin: 8px 0;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.chart-figure, section.table { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px;
  margin: 16px 0; padding: 12px 16px; }
.chart-figure { margin-left: 0; margin-right: 0; }
h2 { font-size: 16px; margin: 0 0 4px; overflow-wrap: anywhere; }
p.doc { margin: 0 0 8px; color: #555; font-size: 13px; }
.chart { min-height: 40px; overflow-x: auto; }
.chart[data-error] { color: #b00020; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #eee; padding: 3px 10px; text-align: left; vertical-align: top;
  white-space: pre-wrap; }
th { background: #f3f5f8; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.null { color: #aaa; font-style: italic; }
td.json { font-family: ui-monospace, monospace; font-size: 12px; }
p.more { color: #777; font-size: 12px; margin: 6px 0 0; }
`;

const BOOT = `
(function () {
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  specs.forEach(function (spec, i) {
    var el = document.getElementById("chart-" + i);
    vegaEmbed(el, spec, {
      renderer: "svg",
      ast: true,
      actions: { export: true, source: false, compiled: false, editor: false },
      downloadFileName: "chart-" + i
    }).then(function () {
      el.setAttribute("data-rendered", "true");
    }).catch(function (err) {
      el.setAttribute("data-error", "true");
      el.textContent = "This chart could not be drawn: " + (err && err.message ? err.message : err);
      console.error(err);
    });
  });
})();
`;

/**
 * Builds the report: a complete offline HTML document.
 *
 * @param input title, tables, charts and notes
 * @returns HTML text
 * @throws {Error} when the vega bundles are not in the npm cache
 * @example
 * ```ts
 * import { buildReport } from "./report.ts";
 * const html = buildReport({
 *   title: "demo <1>",
 *   summaryTables: [{ title: "t", columns: ["a"], rows: [[1n]] }],
 *   charts: [],
 * });
 * console.assert(html.includes("<title>demo &lt;1&gt;</title>"));
 * ```
 */
export function buildReport(input: ReportInput): string {
  const libs = loadLibraries();
  const maxRows = input.maxRows ?? 500;
  const notes = (input.notes ?? []).map((n) => `<p>${escapeHTML(n)}</p>`).join("\n");
  const charts = input.charts.map((c, i) => chartHTML(c, i)).join("\n");
  const tables = input.summaryTables.map((t, i) => tableHTML(t, i, maxRows)).join("\n");
  const specs = scriptJSON(input.charts.map((c) => c.spec));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="iommu-replay">
<title>${escapeHTML(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${
    escapeHTML(input.title)
  }</h1><p>iommu-replay report · ${input.charts.length} chart(s), ${input.summaryTables.length} table(s) · works offline</p></header>
<main>
${notes ? `<section class="notes">\n${notes}\n</section>` : ""}
<section class="charts">
${charts}
</section>
<section class="tables">
${tables}
</section>
</main>
<script type="application/json" id="chart-specs">${specs}</script>
<script>${inlineScript(libs.vega)}</script>
<script>${inlineScript(libs.vegaLite)}</script>
<script>${inlineScript(libs.vegaEmbed)}</script>
<script>${BOOT}</script>
</body>
</html>
`;
}
