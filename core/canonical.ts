/**
 * The canonical IOMMU tables: what the normalizer builds from raw events and what the replay
 * core and analysis read. Declared once here; row interfaces mirror the declarations.
 *
 * Unknown facts are `null`, never guessed. Addresses are `bigint` (UInt64), times `bigint` ns.
 *
 * @module
 */
import { defineTable, type TableSpec } from "./schema.ts";

/** IOMMU hardware vendor / architecture. */
export type IommuVendor = "intel" | "arm-smmuv3" | "amd" | "unknown";

/** One IOMMU unit (`dmar0`, an SMMUv3 instance, an AMD-Vi unit). */
export interface IommuRow {
  /** Unit name, e.g. `dmar0`, `smmu3.0x...`, `ivhd0`. */
  iommu: string;
  /** Vendor / architecture: `intel`, `arm-smmuv3`, `amd` or `unknown`. */
  vendor: IommuVendor;
  /** Where this row came from: `trace`, `topology`, `sysfs`. */
  source: string;
}

/** One device behind an IOMMU. */
export interface DeviceRow {
  /** Device name as the kernel prints it (`0000:6a:01.0`). */
  device: string;
  /** PCI requester id (bus<<8|devfn), null if unknown. */
  sid: number | null;
  /** IOMMU unit the device sits behind, null if unknown. */
  iommu: string | null;
  /** ATS enabled (device TLB present); null if the trace cannot tell. */
  ats: boolean | null;
  /** PASID capable; null if unknown. */
  pasid: boolean | null;
  /** Invalidation queue depth for ATS (QDEP), null if unknown. */
  qdep: number | null;
  /** Where this row came from: `trace`, `topology` or `sysfs`. */
  source: string;
}

/** A binding: an address space (mm) attached through a PASID to a device. */
export interface BindingRow {
  /** Row id. */
  binding_id: number;
  /** mm pointer from the trace, or a synthetic id (`pid:<tgid>`) when the trace has none. */
  mm: string | null;
  /** Process id (tgid) that bound the mm, null if unknown. */
  pid: number | null;
  /** Process name, null if unknown. */
  comm: string | null;
  /** PASID the mm is bound through, null if unknown. */
  pasid: number | null;
  /** Device the mm is bound to (kernel name). */
  device: string;
  /** IOMMU unit of the device, null if unknown. */
  iommu: string | null;
  /** Domain id (VT-d DID; for SVA usually 1), null if unknown. */
  domain_id: number | null;
  /** Start of the binding (ns); null if bound before the trace started. */
  from_ts: bigint | null;
  /** End of the binding (ns); null if still bound at the end of the trace. */
  to_ts: bigint | null;
  /** How it was learned: `sva_bind`, `cache_tag`, `topology`, ... */
  source: string;
}

/** An mm range that needed invalidating (one kernel invalidation = one request). */
export interface RequestRow {
  /** Row id. */
  request_id: number;
  /** Time of the invalidation (ns). */
  ts: bigint;
  /** CPU that issued it, null if unknown. */
  cpu: number | null;
  /** mm pointer or synthetic id (`pid:<tgid>`), null if unknown. */
  mm: string | null;
  /** Process id, null if unknown. */
  pid: number | null;
  /** PASID, null if unknown (or not an SVA request). */
  pasid: number | null;
  /** First byte (inclusive). */
  start: bigint;
  /** Last byte + 1 (exclusive). `start === 0n && end === 2n**64n - 1n` means "whole address space". */
  end: bigint;
  /** Pages covered (4 KiB). */
  pages: bigint;
  /** `cache_tag_flush_range`, `mmu_notifier`, `munmap`, `tlb_flush`, `iommu_unmap`, `dma_unmap`, ... */
  source: string;
  /** True when the kernel asked for a full address-space flush. */
  full: boolean;
}

/** A decoded hardware invalidation command that the traced kernel really issued. */
export interface ObservedCommandRow {
  /** Row id. */
  command_id: number;
  /** Time of the command (ns). */
  ts: bigint;
  /** CPU that submitted it, null if unknown. */
  cpu: number | null;
  /** IOMMU unit it was submitted to, null if unknown. */
  iommu: string | null;
  /** Submission this command belongs to (one wait); inferred or from a probe. */
  submission_id: number;
  /** Kernel's descriptor/command name: `p_iotlb_inv`, `p_dev_tlb_inv`, `iotlb_inv`, `tlbi_nh_va`, ... */
  kind: string;
  /** Domain id (VT-d DID, SMMUv3 ASID or VMID, AMD domain id), null if the command has none. */
  domain_id: number | null;
  /** PASID, null if the command has none. */
  pasid: number | null;
  /** PCI requester (source) id, null if the command has none. */
  sid: number | null;
  /** Device targeted (device-TLB commands), null if none or unknown. */
  device: string | null;
  /** First byte covered (inclusive), null for global/domain-wide commands. */
  addr: bigint | null;
  /** Bytes covered, null for global/domain-wide commands. */
  size: bigint | null;
  /** Granularity text (`page`, `pasid`, `domain`, `global`, ...). */
  granularity: string | null;
  /** Raw descriptor words (hex) for auditing. */
  raw: string | null;
  /**
   * Every other decoded field as space-separated `key=value` pairs (VT-d `am=3 ih=0 qdep=0 pfsid=0x10 s=1`,
   * SMMUv3 `num=3 scale=1 tg=1`, ...); null when the command has none. Optional so that older producers
   * that do not fill it stay valid (absent reads as null).
   */
  fields?: string | null;
}

/** A DMA/IOMMU fault or page request. */
export interface FaultRow {
  /** Time of the fault or page request (ns). */
  ts: bigint;
  /** IOMMU unit that reported it, null if unknown. */
  iommu: string | null;
  /** Faulting device, null if unknown. */
  device: string | null;
  /** PASID of the request, null if none or unknown. */
  pasid: number | null;
  /** Faulting address, null if unknown. */
  addr: bigint | null;
  /** Fault kind: `read`/`write` (`io_page_fault`) or `page_request_<rwx>` (`prq_report`). */
  kind: string;
  /** Tracepoint it came from: `io_page_fault` or `prq_report`. */
  source: string;
}

/** A command a policy would issue for a request. */
export interface ReplayedCommandRow {
  /** Policy name. */
  policy: string;
  /** Request (`requests.request_id`) the command serves. */
  request_id: number;
  /** Submission number within the policy (commands closed by one wait share it). */
  submission: number;
  /** IOMMU unit the command goes to (`unknown` when the binding's unit is unknown). */
  iommu: string;
  /** Device targeted (device-TLB commands), null for IOMMU-wide commands. */
  device: string | null;
  /** Command kind as the policy names it (the kernel's descriptor/command name). */
  kind: string;
  /** First byte covered, null for a whole-address-space (full) flush. */
  addr: bigint | null;
  /** Bytes covered, null for a whole-address-space (full) flush. */
  size: bigint | null;
}

/** A correctness problem found by the checks. */
export interface AnomalyRow {
  /** `uncovered_range`, `unbound_pasid_invalidation`, `pasid_reused_early`, `bound_after_exit`, `child_uses_parent_pasid`. */
  kind: string;
  /** Time of the request or event that triggered the check (ns). */
  ts: bigint;
  /** Policy, when policy-specific; null for trace-level checks. */
  policy: string | null;
  /** Request (`requests.request_id`) involved, null if none. */
  request_id: number | null;
  /** Device involved, null if none. */
  device: string | null;
  /** PASID involved, null if none. */
  pasid: number | null;
  /** mm involved, null if none. */
  mm: string | null;
  /** What is wrong, in words. */
  detail: string;
}

/** Declarations of the canonical tables (DuckDB schema `main`). */
export const CANONICAL_TABLES: readonly TableSpec[] = [
  defineTable({
    schema: "main",
    name: "iommus",
    doc: "One row per IOMMU unit seen in the trace or the topology.",
    columns: [
      { name: "iommu", type: "utf8", doc: "unit name (dmar0, smmu instance, AMD unit)" },
      { name: "vendor", type: "utf8", doc: "intel, arm-smmuv3, amd or unknown" },
      { name: "source", type: "utf8", doc: "trace, topology or sysfs" },
    ],
  }),
  defineTable({
    schema: "main",
    name: "devices",
    doc: "One row per device behind an IOMMU.",
    columns: [
      { name: "device", type: "utf8", doc: "device name as the kernel prints it" },
      { name: "sid", type: "u32", doc: "PCI requester id", nullable: true },
      { name: "iommu", type: "utf8", doc: "IOMMU unit", nullable: true },
      { name: "ats", type: "bool", doc: "ATS (device TLB) enabled", nullable: true },
      { name: "pasid", type: "bool", doc: "PASID capable", nullable: true },
      { name: "qdep", type: "u32", doc: "ATS invalidate queue depth", nullable: true },
      { name: "source", type: "utf8", doc: "trace, topology or sysfs" },
    ],
  }),
  defineTable({
    schema: "main",
    name: "bindings",
    doc: "One row per (mm, PASID, device) binding interval.",
    columns: [
      { name: "binding_id", type: "u32", doc: "row id" },
      { name: "mm", type: "utf8", doc: "mm pointer or synthetic id", nullable: true },
      { name: "pid", type: "i32", doc: "process id", nullable: true },
      { name: "comm", type: "utf8", doc: "process name", nullable: true },
      { name: "pasid", type: "u32", doc: "PASID", nullable: true },
      { name: "device", type: "utf8", doc: "device" },
      { name: "iommu", type: "utf8", doc: "IOMMU unit", nullable: true },
      { name: "domain_id", type: "u32", doc: "domain id (VT-d DID)", nullable: true },
      { name: "from_ts", type: "i64", doc: "bound at (ns)", nullable: true },
      { name: "to_ts", type: "i64", doc: "unbound at (ns)", nullable: true },
      { name: "source", type: "utf8", doc: "how it was learned" },
    ],
  }),
  defineTable({
    schema: "main",
    name: "requests",
    doc: "One row per mm range that needed invalidating (one kernel invalidation).",
    columns: [
      { name: "request_id", type: "u32", doc: "row id" },
      { name: "ts", type: "i64", doc: "time (ns)" },
      { name: "cpu", type: "u32", doc: "CPU", nullable: true },
      { name: "mm", type: "utf8", doc: "mm", nullable: true },
      { name: "pid", type: "i32", doc: "process id", nullable: true },
      { name: "pasid", type: "u32", doc: "PASID", nullable: true },
      { name: "start", type: "u64", doc: "first byte" },
      { name: "end", type: "u64", doc: "last byte + 1" },
      { name: "pages", type: "u64", doc: "4 KiB pages" },
      { name: "source", type: "utf8", doc: "where the range came from" },
      { name: "full", type: "bool", doc: "whole address space flush" },
    ],
  }),
  defineTable({
    schema: "main",
    name: "observed_commands",
    doc: "One row per invalidation command the traced kernel issued, decoded.",
    columns: [
      { name: "command_id", type: "u32", doc: "row id" },
      { name: "ts", type: "i64", doc: "time (ns)" },
      { name: "cpu", type: "u32", doc: "CPU", nullable: true },
      { name: "iommu", type: "utf8", doc: "IOMMU unit", nullable: true },
      { name: "submission_id", type: "u32", doc: "submission (one wait)" },
      { name: "kind", type: "utf8", doc: "descriptor/command name as the kernel names it" },
      { name: "domain_id", type: "u32", doc: "domain id", nullable: true },
      { name: "pasid", type: "u32", doc: "PASID", nullable: true },
      { name: "sid", type: "u32", doc: "source id", nullable: true },
      { name: "device", type: "utf8", doc: "device", nullable: true },
      { name: "addr", type: "u64", doc: "first byte covered", nullable: true },
      { name: "size", type: "u64", doc: "bytes covered", nullable: true },
      { name: "granularity", type: "utf8", doc: "granularity", nullable: true },
      { name: "raw", type: "utf8", doc: "raw descriptor words (hex)", nullable: true },
      {
        name: "fields",
        type: "utf8",
        doc: "other decoded fields as key=value pairs (am, ih, s, qdep, pfsid, drain bits, ...)",
        nullable: true,
      },
    ],
  }),
  defineTable({
    schema: "main",
    name: "faults",
    doc: "One row per IOMMU fault or page request.",
    columns: [
      { name: "ts", type: "i64", doc: "time (ns)" },
      { name: "iommu", type: "utf8", doc: "IOMMU unit", nullable: true },
      { name: "device", type: "utf8", doc: "device", nullable: true },
      { name: "pasid", type: "u32", doc: "PASID", nullable: true },
      { name: "addr", type: "u64", doc: "faulting address", nullable: true },
      { name: "kind", type: "utf8", doc: "fault kind" },
      { name: "source", type: "utf8", doc: "tracepoint" },
    ],
  }),
  defineTable({
    schema: "main",
    name: "replayed_commands",
    doc: "One row per command a policy would issue.",
    columns: [
      { name: "policy", type: "utf8", doc: "policy name" },
      { name: "request_id", type: "u32", doc: "request" },
      { name: "submission", type: "u32", doc: "submission number within the policy" },
      { name: "iommu", type: "utf8", doc: "IOMMU unit" },
      { name: "device", type: "utf8", doc: "device", nullable: true },
      { name: "kind", type: "utf8", doc: "command kind" },
      { name: "addr", type: "u64", doc: "first byte", nullable: true },
      { name: "size", type: "u64", doc: "bytes", nullable: true },
    ],
  }),
  defineTable({
    schema: "main",
    name: "anomalies",
    doc: "One row per correctness problem found.",
    columns: [
      { name: "kind", type: "utf8", doc: "check that fired" },
      { name: "ts", type: "i64", doc: "time (ns)" },
      { name: "policy", type: "utf8", doc: "policy, when policy-specific", nullable: true },
      { name: "request_id", type: "u32", doc: "request", nullable: true },
      { name: "device", type: "utf8", doc: "device", nullable: true },
      { name: "pasid", type: "u32", doc: "PASID", nullable: true },
      { name: "mm", type: "utf8", doc: "mm", nullable: true },
      { name: "detail", type: "utf8", doc: "what is wrong" },
    ],
  }),
];
