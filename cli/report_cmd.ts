/**
 * `deno task report <DIR> --out report.html`, and the report/chart writer `replay --out` uses.
 *
 * @module
 */
import { renderSVG } from "../analysis/charts/render_svg.ts";
import { buildReport } from "../analysis/report.ts";
import { standardReport } from "../analysis/standard_report.ts";
import { UsageError } from "../core/errors.ts";
import { checkOutDir, checkOutFile, parse } from "./common.ts";
import { openDataset } from "./dataset.ts";

/** Help text. */
export const REPORT_HELP =
  `Usage: deno task report <DIR> --out report.html [--svg DIR] [--title TEXT]

Writes one self-contained HTML file (no network access needed: vega, vega-lite and vega-embed are
inlined) with the interactive charts and summary tables of a replay output directory
(deno task replay <trace> --out DIR), or of an ingest directory (tables only), or of a fleet of
directories (comma list or glob).

Options:
  -o, --out FILE     the HTML file to write (required)
      --svg DIR      also render every chart as a static SVG file into DIR
      --title TEXT   page title
  -h, --help         this help
`;

/**
 * Renders the standard report of a dataset directory (or fleet) to HTML and optional SVG files.
 *
 * @param target directory, comma list or glob
 * @param out HTML file
 * @param opts SVG directory, title
 * @returns the chart file names written
 */
export async function writeReport(
  target: string,
  out: string,
  opts: { svgDir?: string; title?: string; notes?: string[] } = {},
): Promise<string[]> {
  const ds = await openDataset(target);
  try {
    const input = await standardReport(ds.engine, {
      ...(opts.title ? { title: opts.title } : {}),
      ...(opts.notes ? { notes: opts.notes } : {}),
    });
    await Deno.writeTextFile(out, buildReport(input));
    const files: string[] = [];
    if (opts.svgDir) {
      await Deno.mkdir(opts.svgDir, { recursive: true });
      for (const c of input.charts) {
        const name = c.title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "") +
          ".svg";
        await Deno.writeTextFile(`${opts.svgDir}/${name}`, await renderSVG(c.spec));
        files.push(name);
      }
    }
    return files;
  } finally {
    await ds.close();
  }
}

/**
 * Runs the report command.
 *
 * @param args arguments after `report`
 * @returns exit code
 */
export async function reportCommand(args: string[]): Promise<number> {
  const p = parse(args, {
    out: { type: "string", short: "o" },
    svg: { type: "string" },
    title: { type: "string" },
  });
  if (p.values.help) {
    console.log(REPORT_HELP);
    return 0;
  }
  if (p.positionals.length !== 1) throw new UsageError("expected one directory");
  if (typeof p.values.out !== "string") throw new UsageError("--out FILE is required");
  checkOutFile(p.values.out);
  if (typeof p.values.svg === "string") checkOutDir(p.values.svg, "--svg");
  const files = await writeReport(p.positionals[0]!, p.values.out, {
    ...(typeof p.values.svg === "string" ? { svgDir: p.values.svg } : {}),
    ...(typeof p.values.title === "string" ? { title: p.values.title } : {}),
  });
  console.error(`report: ${p.values.out}${files.length ? ` and ${files.length} SVG charts` : ""}`);
  return 0;
}
