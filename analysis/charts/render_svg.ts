/**
 * Headless, deterministic SVG rendering of Vega-Lite specs.
 *
 * The spec is compiled with vega-lite, parsed to an AST and run by vega with the expression
 * *interpreter* (no code generation from strings) and a loader that refuses every external
 * fetch. Text widths come from vega's estimator (no canvas in Deno), which makes the output
 * byte-identical across runs and machines: it is what the golden files hold.
 *
 * @module
 */
import { loader as vegaLoader, parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { expressionInterpreter } from "vega-interpreter";

function offlineLoader() {
  const l = vegaLoader();
  const refuse = (uri: string) =>
    Promise.reject(new Error(`charts load no external data (${uri})`));
  l.load = refuse;
  l.sanitize = refuse as never;
  return l;
}

/**
 * A vega logger that keeps errors, and the "Loading failed" warning vega logs (instead of
 * throwing) when data cannot be loaded.
 */
function collectingLogger(errors: string[]) {
  let level = 1;
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a)));
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      errors.push(text(args).join(" "));
      return logger;
    },
    warn(...args: unknown[]) {
      if (args[0] === "Loading failed") errors.push(text(args).join(" "));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger;
}

/**
 * Renders a Vega-Lite spec to an SVG document.
 *
 * @param spec Vega-Lite spec with inline data
 * @returns SVG text
 * @throws {Error} when vega reports an error (e.g. the spec asks for external data)
 * @example
 * ```ts
 * import { renderSVG } from "./render_svg.ts";
 * const svg = await renderSVG({
 *   data: { values: [{ a: "x", b: 1 }] },
 *   mark: "bar",
 *   encoding: { x: { field: "a", type: "nominal" }, y: { field: "b", type: "quantitative" } },
 * });
 * console.assert(svg.startsWith("<svg"));
 * ```
 */
export async function renderSVG(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const errors: string[] = [];
  const view = new View(parse(vg, undefined, { ast: true }), {
    renderer: "none",
    expr: expressionInterpreter,
    loader: offlineLoader(),
    logger: collectingLogger(errors) as never,
  });
  try {
    const svg = await view.toSVG();
    if (errors.length) throw new Error(`chart rendering failed: ${errors.join("; ")}`);
    return svg;
  } finally {
    view.finalize();
  }
}
