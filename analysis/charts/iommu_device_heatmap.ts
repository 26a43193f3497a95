/**
 * Chart: invalidation commands per IOMMU and device under each policy (from the
 * `per_iommu_device` saved query).
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import type { QueryResult } from "../engine.ts";
import { type ChartRow, chartRows, VEGA_LITE_SCHEMA } from "./chart_data.ts";
import type { ChartOptions } from "./policy_comparison.ts";

/**
 * Heatmap: one row per `IOMMU · device`, one column per policy, colour and label = commands.
 *
 * @param r result of the `per_iommu_device` saved query
 * @param options title
 * @returns a Vega-Lite spec with inline data
 * @throws {UsageError} when a needed column is missing
 */
export function iommuDeviceHeatmap(r: QueryResult, options: ChartOptions = {}): TopLevelSpec {
  const rows: ChartRow[] = chartRows("per-IOMMU/device heatmap", r, [
    "policy",
    "iommu",
    "device",
    "commands",
  ]).map((row) => ({ ...row, target: `${row.iommu} · ${row.device}` }));
  // Labels on the darker half of the colour scale are drawn in white.
  const half = Math.max(0, ...rows.map((x) => Number(x.commands))) / 2;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title ?? "Invalidation commands per IOMMU and device",
    width: { step: 110 },
    height: { step: 26 },
    data: { values: rows },
    encoding: {
      x: { field: "policy", type: "nominal", title: null, axis: { orient: "top", labelAngle: 0 } },
      y: { field: "target", type: "nominal", title: "IOMMU · device" },
      tooltip: [
        { field: "policy", type: "nominal" },
        { field: "iommu", type: "nominal" },
        { field: "device", type: "nominal" },
        { field: "commands", type: "quantitative", format: "," },
      ],
    },
    layer: [
      {
        mark: "rect",
        encoding: {
          color: {
            field: "commands",
            type: "quantitative",
            title: "commands",
            scale: { scheme: "blues" },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: {
          text: { field: "commands", type: "quantitative", format: "," },
          color: {
            condition: { test: `datum.commands > ${half}`, value: "white" },
            value: "black",
          },
        },
      },
    ],
  };
}
