/**
 * Chart: modeled time accumulated over trace time, one line per policy (from the
 * `invalidations_over_time` saved query).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { QueryResult } from "../engine.ts";
import { chartRows, VEGA_LITE_SCHEMA } from "./chart_data.ts";
import type { ChartOptions } from "./policy_comparison.ts";

/**
 * Lines of cumulative modeled time against time since the first request; clicking a legend
 * entry highlights that policy.
 *
 * @param r result of the `invalidations_over_time` saved query
 * @param options title
 * @returns a Vega-Lite spec with inline data
 * @throws {UsageError} when a needed column is missing
 */
export function cumulativeTimeChart(r: QueryResult, options: ChartOptions = {}): TopLevelSpec {
  const rows = chartRows("cumulative modeled time", r, ["policy", "t_ns", "cumulative_ns"]);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Cumulative modeled time over the trace",
    width: 560,
    height: 280,
    data: { values: rows },
    params: [{ name: "pick", select: { type: "point", fields: ["policy"] }, bind: "legend" }],
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "t_ns",
        type: "quantitative",
        title: "time since first request (ns)",
        axis: { format: "~s" },
      },
      y: {
        field: "cumulative_ns",
        type: "quantitative",
        title: "cumulative modeled time (ns)",
        axis: { format: "~s" },
      },
      color: { field: "policy", type: "nominal", title: "policy" },
      opacity: { condition: { param: "pick", value: 1 }, value: 0.2 },
      tooltip: [
        { field: "policy", type: "nominal" },
        { field: "t_ns", type: "quantitative", title: "t (ns)", format: "," },
        { field: "cumulative_ns", type: "quantitative", title: "cumulative ns", format: ",.0f" },
      ],
    },
  };
}
