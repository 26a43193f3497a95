/**
 * The analysis layer: the SQL engine (duckdb-wasm behind the {@linkcode Engine} interface),
 * loading ingest/replay directories, saved queries, Vega-Lite charts and the HTML report.
 *
 * @module
 */
export type { Engine, ExportFormat, IPCSource, QueryResult } from "./engine.ts";
export { isTableName, quoteIdent, quoteLiteral, stripTerminator } from "./engine.ts";
export { openDuckDBWasm, resultToJSON } from "./duckdb_wasm.ts";
export type { DuckDBWasmOptions } from "./duckdb_wasm.ts";
export {
  expandDatasetPaths,
  loadDataset,
  loadFleet,
  loadStreams,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  readManifest,
} from "./dataset.ts";
export type {
  DatasetManifest,
  FleetEntry,
  LoadedDataset,
  LoadedTable,
  LoadOptions,
  ManifestTableEntry,
  TableFilter,
} from "./dataset.ts";
export {
  needsTable,
  sqlTableNeeds,
  statementCount,
  tableFilterForSQL,
  tokenizeSQL,
} from "./sql_tables.ts";
export type { SQLToken, SQLTokenKind, TableNeeds } from "./sql_tables.ts";
export {
  IPCStreamSplitter,
  ipcStreamStats,
  readIPCStreams,
  splitIPCStreams,
} from "./ipc_streams.ts";
export type { IPCStreamPiece } from "./ipc_streams.ts";
export { ipcToParquet, parquetToIPC } from "./parquet.ts";
export { SAVED_QUERIES, savedQuery, savedQuerySQL } from "./queries.ts";
export type { QueryParam, SavedQuery } from "./queries.ts";
export type { TopLevelSpec } from "vega-lite";
export { renderSVG } from "./charts/render_svg.ts";
export type { RenderOptions } from "./charts/render_svg.ts";
export { chartRows, durationLabel } from "./charts/chart_data.ts";
export type { ChartRow } from "./charts/chart_data.ts";
export { policyComparisonChart } from "./charts/policy_comparison.ts";
export type { ChartOptions } from "./charts/policy_comparison.ts";
export { cumulativeTimeChart } from "./charts/cumulative_time.ts";
export { latencyDistributionChart } from "./charts/latency_distribution.ts";
export { iommuDeviceHeatmap } from "./charts/iommu_device_heatmap.ts";
export { overInvalidationHistogram } from "./charts/over_invalidation_histogram.ts";
export { buildReport, escapeHTML, scriptJSON } from "./report.ts";
export type { ReportChart, ReportInput, ReportTable } from "./report.ts";
export { STANDARD_CHARTS, STANDARD_TABLES, standardReport } from "./standard_report.ts";
export type { StandardReportOptions } from "./standard_report.ts";
