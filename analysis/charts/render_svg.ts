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
 * A vega / vega-lite logger that keeps errors, and the "Loading failed" warning vega logs (instead
 * of throwing) when data cannot be loaded. Other warnings go to `onWarning` when given, else to
 * stderr (as vega-lite's own logger would print them); those after an error are dropped.
 */
function collectingLogger(errors: string[], onWarning?: (message: string) => void) {
  let level = 2;
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
      const msg = text(args).join(" ");
      if (args[0] === "Loading failed") errors.push(msg);
      // after an error (which will be thrown) warnings are only its consequences
      else if (errors.length > 0) return logger;
      else if (onWarning) onWarning(msg);
      else if (level >= 2) console.warn(`WARN ${msg}`);
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

/** Options of {@linkcode renderSVG}. */
export interface RenderOptions {
  /**
   * Receives every warning of vega-lite's compiler and of vega (a spec the compiler had to
   * correct, say). Default: printed on stderr.
   */
  onWarning?: (message: string) => void;
}

/**
 * Renders a Vega-Lite spec to an SVG document.
 *
 * @param spec Vega-Lite spec with inline data
 * @param options where warnings go
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
export async function renderSVG(spec: TopLevelSpec, options: RenderOptions = {}): Promise<string> {
  const errors: string[] = [];
  const logger = collectingLogger(errors, options.onWarning);
  const vg = compile(spec, { logger: logger as never }).spec;
  if (errors.length) throw new Error(`chart compilation failed: ${errors.join("; ")}`);
  const view = new View(parse(vg, undefined, { ast: true }), {
    renderer: "none",
    expr: expressionInterpreter,
    loader: offlineLoader(),
    logger: logger as never,
  });
  try {
    const svg = await view.toSVG();
    if (errors.length) throw new Error(`chart rendering failed: ${errors.join("; ")}`);
    return svg;
  } finally {
    view.finalize();
  }
}
