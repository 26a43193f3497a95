/**
 * Synthetic traces: encode {@linkcode TraceEvent}s into ring-buffer records and write them as
 * trace.dat v6/v7 (in memory or streamed to disk) or as the kernel's `trace` text file.
 *
 * @module
 */

export { type EncodeOptions, encodeRecord } from "./record_encoder.ts";
export { type PageWriterOptions, recordSpan, RingBufferPageWriter } from "./ring_buffer_page.ts";
export {
  compressBlock,
  type Compression,
  decompressBlock,
  DEFAULT_COMPRESSION_VERSION,
} from "./compression.ts";
export {
  type ByteStore,
  CpuDataStream,
  type CpuDataStreamOptions,
  FileByteStore,
  MemoryByteStore,
} from "./cpu_data_store.ts";
export {
  type FilePart,
  partSize,
  type StoreFactory,
  TraceDatBuilder,
  type TraceDatHeader,
  type TraceDatOptions,
} from "./tracedat_builder.ts";
export {
  concatParts,
  type TraceDatInput,
  writeTraceDat,
  writeTraceDatFile,
} from "./tracedat_writer.ts";
export {
  type StreamResult,
  type TraceDatStreamOptions,
  TraceDatStreamWriter,
} from "./tracedat_stream.ts";
export {
  formatTraceTime,
  ftraceLine,
  type FtraceTextOptions,
  kernelLatencyFlags,
  keyValuePayload,
  renderFtraceText,
  syscallBody,
} from "./ftrace_text_writer.ts";
export {
  type CheckOptions,
  type CheckResult,
  checkWithTraceCmd,
  parseRawReport,
  printedValueMatches,
  type RawReport,
  type RawReportLine,
  runTraceCmd,
  tepLatencyFlags,
} from "./trace_cmd_check.ts";
export {
  decodePrqDescriptor,
  EXAMPLE_FILES,
  exampleKernelText,
  exampleTopology,
  exampleTraceDat,
  writeExamples,
  type WrittenExamples,
} from "./make_example.ts";
export {
  EXAMPLE_WORKLOAD_PARAMS,
  type ExampleFlush,
  type ExampleWorkload,
  exampleWorkload,
  type ExampleWorkloadParams,
} from "./scenarios/example_workload.ts";
export type { FieldValue, TraceEvent } from "../core/event.ts";
export type { EventFormat, FieldFormat } from "../ingest/format/types.ts";
