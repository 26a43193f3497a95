/**
 * Chart: modeled invalidation time per policy (from the `policy_comparison` saved query).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { QueryResult } from "../engine.ts";
import { chartRows, VEGA_LITE_SCHEMA } from "./chart_data.ts";

/** Options of a chart builder. */
export interface ChartOptions {
  /** Chart title (a default describes the chart). */
  title?: string;
}

/**
 * Horizontal bars of total modeled time per policy, cheapest first, labelled with the ratio to
 * the baseline policy; the tooltip adds submissions, descriptors and anomalies.
 *
 * @param r result of the `policy_comparison` saved query
 * @param options title
 * @returns a Vega-Lite spec with inline data
 * @throws {UsageError} when a needed column is missing
 * @example
 * ```ts
 * import { policyComparisonChart } from "./policy_comparison.ts";
 * const spec = policyComparisonChart({
 *   columns: ["policy", "modeled_ns", "ratio_to_baseline", "submissions", "descriptors", "anomalies"],
 *   rows: [["a", 10, 1, 1n, 2n, 0n]],
 * });
 * console.assert(JSON.stringify(spec).includes('"modeled_ns"'));
 * ```
 */
export function policyComparisonChart(r: QueryResult, options: ChartOptions = {}): TopLevelSpec {
  const rows = chartRows("policy comparison", r, [
    "policy",
    "modeled_ns",
    "ratio_to_baseline",
    "submissions",
    "descriptors",
    "anomalies",
  ]).map((row) => ({
    ...row,
    ratio_label: typeof row.ratio_to_baseline === "number"
      ? `×${Number(row.ratio_to_baseline.toFixed(2))}`
      : "",
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Modeled invalidation time per policy",
    width: 480,
    height: { step: 28 },
    data: { values: rows },
    encoding: {
      // One explicit sort for both layers: `sort: "x"` resolves to a different sort in the bar
      // layer (stacked x) and the text layer, which vega-lite reports as a conflict.
      y: {
        field: "policy",
        type: "nominal",
        sort: { field: "modeled_ns", op: "sum", order: "ascending" },
        title: null,
      },
      x: {
        field: "modeled_ns",
        type: "quantitative",
        title: "modeled time (ns)",
        axis: { format: "~s" },
      },
      tooltip: [
        { field: "policy", type: "nominal" },
        { field: "modeled_ns", type: "quantitative", title: "modeled ns", format: ",.0f" },
        { field: "ratio_to_baseline", type: "quantitative", title: "ratio", format: ".3f" },
        { field: "submissions", type: "quantitative", format: "," },
        { field: "descriptors", type: "quantitative", format: "," },
        { field: "anomalies", type: "quantitative", format: "," },
      ],
    },
    layer: [
      { mark: { type: "bar", color: "#4c78a8" } },
      {
        mark: { type: "text", align: "left", dx: 4 },
        encoding: { text: { field: "ratio_label", type: "nominal" } },
      },
    ],
  };
}
