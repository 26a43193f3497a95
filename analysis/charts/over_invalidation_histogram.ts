/**
 * Chart: how much more than requested each policy invalidates, per target cache (from the
 * `over_invalidation_histogram` saved query).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { QueryResult } from "../engine.ts";
import { chartRows, VEGA_LITE_SCHEMA } from "./chart_data.ts";
import type { ChartOptions } from "./policy_comparison.ts";

/**
 * Grouped bars: (request, target cache) pairs per over-invalidation bin (`exact` ... `full`),
 * one bar per policy in each bin.
 *
 * @param r result of the `over_invalidation_histogram` saved query
 * @param options title
 * @returns a Vega-Lite spec with inline data
 * @throws {UsageError} when a needed column is missing
 */
export function overInvalidationHistogram(
  r: QueryResult,
  options: ChartOptions = {},
): TopLevelSpec {
  const rows = chartRows("over-invalidation histogram", r, [
    "policy",
    "bin_order",
    "bin",
    "targets",
  ]);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Over-invalidation per request and target cache",
    width: { step: 56 },
    height: 260,
    data: { values: rows },
    params: [{ name: "pick", select: { type: "point", fields: ["policy"] }, bind: "legend" }],
    mark: "bar",
    encoding: {
      x: {
        field: "bin",
        type: "ordinal",
        sort: { field: "bin_order", op: "min" },
        title: "pages invalidated / pages requested",
        axis: { labelAngle: 0 },
      },
      xOffset: { field: "policy", type: "nominal" },
      y: { field: "targets", type: "quantitative", title: "(request, cache) pairs" },
      color: { field: "policy", type: "nominal", title: "policy" },
      opacity: { condition: { param: "pick", value: 1 }, value: 0.2 },
      tooltip: [
        { field: "policy", type: "nominal" },
        { field: "bin", type: "ordinal" },
        { field: "targets", type: "quantitative", format: "," },
      ],
    },
  };
}
