/**
 * Chart: distribution of modeled time per request, per policy (from the
 * `request_latency_histogram` saved query).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { QueryResult } from "../engine.ts";
import { chartRows, durationLabel, VEGA_LITE_SCHEMA } from "./chart_data.ts";
import type { ChartOptions } from "./policy_comparison.ts";

/**
 * Grouped bars: requests per power-of-two bin of modeled time, one bar per policy in each bin.
 *
 * @param r result of the `request_latency_histogram` saved query
 * @param options title
 * @returns a Vega-Lite spec with inline data
 * @throws {UsageError} when a needed column is missing
 */
export function latencyDistributionChart(
  r: QueryResult,
  options: ChartOptions = {},
): TopLevelSpec {
  const rows = chartRows("request latency", r, ["policy", "lo_ns", "requests"]).map((row) => ({
    ...row,
    bin: `≥ ${durationLabel(Number(row.lo_ns))}`,
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Modeled time per request",
    width: { step: 48 },
    height: 260,
    data: { values: rows },
    params: [{ name: "pick", select: { type: "point", fields: ["policy"] }, bind: "legend" }],
    mark: "bar",
    encoding: {
      x: {
        field: "bin",
        type: "ordinal",
        sort: { field: "lo_ns", op: "min" },
        title: "modeled time per request",
        axis: { labelAngle: 0 },
      },
      xOffset: { field: "policy", type: "nominal" },
      y: { field: "requests", type: "quantitative", title: "requests" },
      color: { field: "policy", type: "nominal", title: "policy" },
      opacity: { condition: { param: "pick", value: 1 }, value: 0.2 },
      tooltip: [
        { field: "policy", type: "nominal" },
        { field: "bin", type: "ordinal", title: "bin" },
        { field: "requests", type: "quantitative", format: "," },
      ],
    },
  };
}
