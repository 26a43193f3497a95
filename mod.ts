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
export type { CanonicalCounts, ReplayTraceOptions, ReplayTraceResult } from "./cli/pipeline.ts";
export { openDataset } from "./cli/dataset.ts";
export type { OpenDataset, OpenDatasetOptions } from "./cli/dataset.ts";
export { writeReport } from "./cli/report_cmd.ts";
export { summaryText } from "./cli/replay_cmd.ts";

// Ingest.
export { ingestToDir, ingestToMemory, registerIngester } from "./ingest/ingest.ts";
export type {
  IngestOptions,
  Manifest,
  ManifestTable,
  MemoryIngest,
  SourceIngester,
} from "./ingest/ingest.ts";
export type { WorkerSinkOptions } from "./ingest/arrow/worker_sink.ts";
export { RawTables, TableBuilder } from "./ingest/arrow/raw_tables.ts";
export { RecordRows } from "./ingest/arrow/record_rows.ts";
export { IntColumn, StringColumn, TsColumn } from "./ingest/arrow/columns.ts";
export type { ColumnBuilder, ColumnParts, IntArray } from "./ingest/arrow/columns.ts";
export type {
  BatchParts,
  ColumnInfo,
  CommonColumns,
  EventTable,
  IpcSink,
  RecordPlan,
} from "./ingest/arrow/raw_tables.ts";
export { sniffFormat } from "./ingest/sniff.ts";
export type { TraceFormat } from "./ingest/sniff.ts";
export { memorySource, openFileSource } from "./ingest/file_source.ts";
export type { FileSource } from "./ingest/file_source.ts";
export { openTraceDat } from "./ingest/tracedat/tracedat_file.ts";
export type { BufferWithData, TraceDat } from "./ingest/tracedat/tracedat_file.ts";
export type { HeaderInfo } from "./ingest/tracedat/metadata.ts";
export type { BufferDesc, CpuData, TimeShiftCpu, TraceOptions } from "./ingest/tracedat/options.ts";
export type { TimestampCorrector } from "./ingest/tracedat/timestamps.ts";
export { readRecords } from "./ingest/tracedat/events.ts";
export type {
  ReadOptions,
  ReadStats,
  RecordCursor,
  RecordReader,
} from "./ingest/tracedat/events.ts";
export { traceDatEvents } from "./ingest/tracedat/tracedat_events.ts";
export type { EventOptions } from "./ingest/tracedat/tracedat_events.ts";
export { readEventsInOrder } from "./ingest/arrow/read_events.ts";
export type { ReadableTable, TableSource } from "./ingest/arrow/read_events.ts";
export { parseFormatFile, parseHeaderPage } from "./ingest/format/format_file.ts";
export { compileDecoder } from "./ingest/format/field_decoder.ts";
export type { EventDecoder, FieldGetter } from "./ingest/format/field_decoder.ts";
export type { EventFormat, FieldFormat, FieldKind, HeaderPage } from "./ingest/format/types.ts";
export { knownFormats } from "./ingest/known_formats/known_formats.ts";
export type { KnownFormat, KnownFormatsOptions } from "./ingest/known_formats/known_formats.ts";
export type { Abi } from "./ingest/known_formats/render_format.ts";

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
  IommuVendor,
  ObservedCommandRow,
  ReplayedCommandRow,
  RequestRow,
} from "./core/canonical.ts";
export { EVENTS_TABLE, RAW_EVENT_COMMON_COLUMNS, TRACE_INFO_TABLE } from "./core/trace_info.ts";
export type { TraceInfoRow } from "./core/trace_info.ts";
export { arrowSchemaFor, rowsToIPC, SpecBatchWriter } from "./core/arrow.ts";
export type { IPCSink } from "./core/arrow.ts";
export { normalize, Normalizer, wantedEventKeys } from "./core/normalize/normalize.ts";
export type {
  CanonicalTables,
  NormalizeOptions,
  StreamedCanonical,
} from "./core/normalize/normalize.ts";
export type {
  CanonicalSink,
  DeviceRec,
  MmLike,
  ObservedRec,
  RequestRec,
  StreamResolver,
} from "./core/normalize/builder.ts";
export { MmRef } from "./core/normalize/mm_tracker.ts";
export { PROBE_FORMAT, PROBE_KINDS, PROBE_TYPES } from "./core/probes/mapping.ts";
export type { ProbeKind, ProbeMapping, ProbeSpec, ProbeType } from "./core/probes/mapping.ts";
export {
  loadTopology,
  parseTopology,
  TOPOLOGY_FORMAT,
  topologyToCanonical,
  validateTopology,
} from "./core/topology.ts";
export type {
  Topology,
  TopologyBinding,
  TopologyDevice,
  TopologyIommu,
  TopologyRows,
} from "./core/topology.ts";
export * from "./core/replay/mod.ts";

// Analysis.
export {
  buildReport,
  cumulativeTimeChart,
  iommuDeviceHeatmap,
  latencyDistributionChart,
  loadDataset,
  loadFleet,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
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
  ChartOptions,
  DatasetManifest,
  DuckDBWasmOptions,
  Engine,
  ExportFormat,
  FleetEntry,
  IPCSource,
  LoadedDataset,
  LoadedTable,
  LoadOptions,
  ManifestTableEntry,
  QueryParam,
  QueryResult,
  RenderOptions,
  ReportChart,
  ReportInput,
  ReportTable,
  SavedQuery,
  StandardReportOptions,
  TableFilter,
} from "./analysis/mod.ts";
