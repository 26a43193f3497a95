/**
 * The decoded trace event: what every reader (trace.dat, ftrace text, trace-cmd report text,
 * perf.data, perf script) produces and what the IOMMU normalizer consumes.
 *
 * Readers know nothing about IOMMUs; the normalizer knows nothing about file formats. This
 * interface is the seam between them.
 *
 * @module
 */

/** A decoded field value, typed from the event's format file. */
export type FieldValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | readonly number[]
  | readonly bigint[];

/** One trace event with its fields decoded. */
export interface TraceEvent {
  /** Timestamp in ns after trace-cmd's corrections (or raw counts for a non-ns clock). */
  ts: bigint;
  /** CPU that recorded it. */
  cpu: number;
  /** `common_pid`. */
  pid: number;
  /** Command name of `pid` (from saved cmdlines / COMM records), `<...>` when unknown. */
  comm: string;
  /** Trace system, e.g. `intel_iommu`. */
  system: string;
  /** Event name, e.g. `qi_submit`. */
  event: string;
  /** Buffer instance name, `""` for the top-level buffer. */
  buffer: string;
  /** `common_flags` (irqs-off, need-resched, hardirq, ...). */
  flags: number;
  /** `common_preempt_count`. */
  preempt_count: number;
  /** The event's own fields under their format-file names. */
  fields: Readonly<Record<string, FieldValue>>;
}

/** Key of an event type, `system:event`. */
export function eventKey(system: string, event: string): string {
  return `${system}:${event}`;
}
