/**
 * iommu-replay: read Linux kernel traces of IOMMU activity, rebuild mm -> PASID -> domain -> device
 * -> IOMMU state, replay every IOTLB and device-TLB invalidation under other policies, and compare
 * the outcomes in SQL, charts and reports.
 *
 * The public API, in data-flow order: ingest (any trace -> Arrow tables), core (canonical IOMMU
 * tables, replay, policies, cost models, checks), analysis (DuckDB, charts, report).
 *
 * @example Replay a trace and print each policy's modeled time
 * ```ts ignore
 * import { replayTrace } from "./mod.ts";
 * const r = await replayTrace("examples/sva_two_iommus.dat");
 * for (const p of r.result.policies) console.log(p.name, p.submissions, p.modeled_ns);
 * ```
 *
 * @example SQL over a trace
 * ```ts ignore
 * import { openDataset } from "./mod.ts";
 * const ds = await openDataset("examples/sva_two_iommus.dat");
 * console.log(await ds.engine.queryCSV("SELECT system, event, count(*) FROM main.events GROUP BY ALL"));
 * await ds.close();
 * ```
 *
 * @module
 */

// Pipeline (what the commands run).
export { kernelFromUname, replayTrace } from "./cli/pipeline.ts";
export type { ReplayTraceOptions, ReplayTraceResult } from "./cli/pipeline.ts";
export { openDataset } from "./cli/dataset.ts";
export type { OpenDataset } from "./cli/dataset.ts";
export { writeReport } from "./cli/report_cmd.ts";
export { summaryText } from "./cli/replay_cmd.ts";

// Ingest.
export { ingestToDir, ingestToMemory, registerIngester } from "./ingest/ingest.ts";
export type { IngestOptions, Manifest, ManifestTable, MemoryIngest } from "./ingest/ingest.ts";
export { sniffFormat } from "./ingest/sniff.ts";
export type { TraceFormat } from "./ingest/sniff.ts";
export { memorySource, openFileSource } from "./ingest/file_source.ts";
export type { FileSource } from "./ingest/file_source.ts";
export { openTraceDat } from "./ingest/tracedat/tracedat_file.ts";
export type { TraceDat } from "./ingest/tracedat/tracedat_file.ts";
export { readRecords } from "./ingest/tracedat/events.ts";
export type { ReadStats, RecordCursor, RecordReader } from "./ingest/tracedat/events.ts";
export { traceDatEvents } from "./ingest/tracedat/tracedat_events.ts";
export { readEventsInOrder } from "./ingest/arrow/read_events.ts";
export { parseFormatFile, parseHeaderPage } from "./ingest/format/format_file.ts";
export { compileDecoder } from "./ingest/format/field_decoder.ts";
export type { EventFormat, FieldFormat, HeaderPage } from "./ingest/format/types.ts";
export { knownFormats } from "./ingest/known_formats/known_formats.ts";

// Core: shared types, tables, normalizer, topology, replay.
export { TraceError, UsageError } from "./core/errors.ts";
export type { TraceErrorCode, TraceLocation, TraceWarning } from "./core/errors.ts";
export type { FieldValue, TraceEvent } from "./core/event.ts";
export { defineTable, duckdbType, tablesMarkdown } from "./core/schema.ts";
export type { ColumnSpec, ColumnType, TableSpec } from "./core/schema.ts";
export { CANONICAL_TABLES } from "./core/canonical.ts";
export type {
  AnomalyRow,
  BindingRow,
  DeviceRow,
  FaultRow,
  IommuRow,
  ObservedCommandRow,
  ReplayedCommandRow,
  RequestRow,
} from "./core/canonical.ts";
export { EVENTS_TABLE, RAW_EVENT_COMMON_COLUMNS, TRACE_INFO_TABLE } from "./core/trace_info.ts";
export type { TraceInfoRow } from "./core/trace_info.ts";
export { arrowSchemaFor, rowsToIPC, SpecBatchWriter } from "./core/arrow.ts";
export { normalize, Normalizer, wantedEventKeys } from "./core/normalize/normalize.ts";
export type { CanonicalTables, NormalizeOptions } from "./core/normalize/normalize.ts";
export {
  loadTopology,
  parseTopology,
  topologyToCanonical,
  validateTopology,
} from "./core/topology.ts";
export type { Topology } from "./core/topology.ts";
export * from "./core/replay/mod.ts";

// Analysis.
export {
  buildReport,
  cumulativeTimeChart,
  iommuDeviceHeatmap,
  latencyDistributionChart,
  loadDataset,
  loadFleet,
  openDuckDBWasm,
  overInvalidationHistogram,
  policyComparisonChart,
  renderSVG,
  SAVED_QUERIES,
  savedQuery,
  savedQuerySQL,
  standardReport,
  tableFilterForSQL,
} from "./analysis/mod.ts";
export type {
  Engine,
  LoadOptions,
  QueryResult,
  ReportInput,
  SavedQuery,
  TableFilter,
} from "./analysis/mod.ts";
