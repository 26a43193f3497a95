/**
 * What-if replay: an mm trace (syscall ranges, `tlb:tlb_flush`) recorded on any machine, replayed
 * against hypothetical bindings of a topology ("what if this process had bound these 4 devices?").
 *
 * It is the same engine as {@linkcode replay}; this module only turns mm events into requests and
 * a binding wish into binding rows, and makes the entry point explicit: {@linkcode whatIf}.
 *
 * Range rules (iommu.md §1.6, §3.1). The syscall ranges are the user's intent; the kernel may flush
 * more (THP, reclaim, migration) or less, so these requests are an approximation:
 * - `munmap(addr, len)`: [addr, addr + len) rounded up to pages;
 * - `mprotect(start, len)`: the whole range (the arguments do not say whether permissions drop);
 * - `madvise(start, len, behavior)`: only behaviors that zap pages: `MADV_DONTNEED` (4),
 *   `MADV_FREE` (8), `MADV_REMOVE` (9), `MADV_PAGEOUT` (21), `MADV_DONTNEED_LOCKED` (24);
 * - `mremap(addr, old_len, new_len, flags)`: shrinking flushes [addr + new_len, addr + old_len);
 *   otherwise, with `MREMAP_MAYMOVE` (1) or `MREMAP_FIXED` (2), the old range is assumed moved and
 *   flushed whole; growing in place flushes nothing;
 * - `tlb_flush(reason, pages)`: only the initiating CPU's reasons, `TLB_LOCAL_SHOOTDOWN` (2) and
 *   `TLB_LOCAL_MM_SHOOTDOWN` (3) (remote shootdowns are the same flush seen by other CPUs, task
 *   switches are no invalidation); `pages` = -1 is a full flush; otherwise the address is not traced,
 *   so the request is `pages` pages at address 0 (naturally aligned: alignment-sensitive policies
 *   show their best case).
 * The CPU-side 33-page ceiling is not applied here: the policies apply it per kernel version, and
 * `ideal` keeps the raw range.
 *
 * @module
 */
import type { BindingRow, DeviceRow, IommuRow, RequestRow } from "../canonical.ts";
import { UsageError } from "../errors.ts";
import type { ReplayOptions } from "./engine.ts";
import type { ProcessEventRow } from "./process_event.ts";
import type { ReplayResult } from "./result.ts";
import { replay } from "./run.ts";

/** An mm event of a what-if trace. */
export interface MmRangeEvent {
  /** Time (ns). */
  ts: bigint;
  /** Event kind. */
  kind: "munmap" | "mprotect" | "madvise" | "mremap" | "tlb_flush";
  /** CPU, or null. */
  cpu: number | null;
  /** Process (tgid), or null. */
  pid: number | null;
  /** mm when known; otherwise requests use `pid:<pid>`. */
  mm: string | null;
  /** Start address (syscalls); ignored for `tlb_flush`. */
  addr: bigint;
  /** Length in bytes (`old_len` for mremap); ignored for `tlb_flush`. */
  len: bigint;
  /** mremap `new_len`. */
  new_len?: bigint;
  /** mremap `flags`. */
  flags?: bigint | number;
  /** madvise `behavior`. */
  behavior?: number;
  /** tlb_flush `pages` (-1 or 2^64 - 1 = all). */
  pages?: bigint | number;
  /** tlb_flush `reason`, as the number or the printed text (`local shootdown`). */
  reason?: number | string;
}

/** Options of {@linkcode requestsFromMmTrace}. */
export interface MmRequestOptions {
  /** Which events become requests. Default `syscalls` (tlb_flush repeats the same munmaps). */
  use?: "syscalls" | "tlb_flush" | "both";
  /** First `request_id`. Default 0. */
  firstId?: number;
}

const ZAP_ADVICE = new Set([4, 8, 9, 21, 24]);
const LOCAL_REASONS = new Set<number | string>([
  2,
  3,
  "local shootdown",
  "local mm shootdown",
  "TLB_LOCAL_SHOOTDOWN",
  "TLB_LOCAL_MM_SHOOTDOWN",
]);
const PAGE = 4096n;
const U64_MAX = (1n << 64n) - 1n;

function pageUp(x: bigint): bigint {
  return (x + PAGE - 1n) / PAGE * PAGE;
}

/**
 * Turns mm events into requests (see the module doc for the rules).
 *
 * @param events mm events in time order
 * @param options which events to use, first id
 * @returns the requests, lazily
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { requestsFromMmTrace } from "./whatif.ts";
 * const [r] = [...requestsFromMmTrace([{ ts: 1n, kind: "munmap", cpu: 0, pid: 7, mm: null,
 *   addr: 0x1000n, len: 0x1800n }])];
 * assert(r!.mm === "pid:7" && r!.end === 0x3000n && r!.pages === 2n);
 * ```
 */
export function* requestsFromMmTrace(
  events: Iterable<MmRangeEvent>,
  options: MmRequestOptions = {},
): Generator<RequestRow> {
  const use = options.use ?? "syscalls";
  let id = options.firstId ?? 0;
  for (const e of events) {
    let start: bigint, end: bigint, full = false;
    if (e.kind === "tlb_flush") {
      if (use === "syscalls") continue;
      if (e.reason === undefined || !LOCAL_REASONS.has(e.reason)) continue;
      const p = e.pages === undefined ? -1n : BigInt(e.pages);
      if (p < 0n || p === U64_MAX) {
        start = 0n;
        end = U64_MAX;
        full = true;
      } else {
        if (p === 0n) continue;
        start = 0n;
        end = p * PAGE;
      }
    } else {
      if (use === "tlb_flush") continue;
      if (e.addr < 0n || e.len < 0n) {
        throw new UsageError(`${e.kind} at ${e.ts}: negative address or length`);
      }
      start = e.addr / PAGE * PAGE;
      if (e.kind === "madvise") {
        if (e.behavior === undefined || !ZAP_ADVICE.has(e.behavior)) continue;
        end = pageUp(e.addr + e.len);
      } else if (e.kind === "mremap") {
        const newLen = e.new_len ?? e.len;
        const flags = BigInt(e.flags ?? 0);
        if (newLen < e.len) start = pageUp(e.addr + newLen);
        else if ((flags & 3n) === 0n) continue;
        end = pageUp(e.addr + e.len);
      } else end = pageUp(e.addr + e.len);
      if (end > U64_MAX) end = U64_MAX;
      if (end <= start) continue;
    }
    yield {
      request_id: id++,
      ts: e.ts,
      cpu: e.cpu,
      mm: e.mm ?? (e.pid !== null ? `pid:${e.pid}` : null),
      pid: e.pid,
      pasid: null,
      start,
      end,
      pages: full ? 1n << 52n : (end - start + PAGE - 1n) / PAGE,
      source: e.kind,
      full,
    };
  }
}

/** A hypothetical binding: this process's mm bound to these devices. */
export interface BindWish {
  /** The mm (default `pid:<pid>`). */
  mm?: string;
  /** The process. */
  pid?: number;
  /** The PASID it would get. Default 1 + its index in the list. */
  pasid?: number;
  /** Device names; default every PASID-capable device (or every device when none says). */
  devices?: readonly string[];
  /** Domain id; default 1 (VT-d SVA uses DID 1). */
  domain_id?: number;
  /** Bound from (ns); default the start of the trace. */
  from_ts?: bigint;
  /** Bound until (ns); default the end of the trace. */
  to_ts?: bigint;
}

/**
 * Binding rows for hypothetical binds.
 *
 * @param devices the topology's devices
 * @param wishes who binds what
 * @param firstId first `binding_id`
 * @returns binding rows (source `what-if`)
 * @throws {UsageError} when a wish names an unknown device or neither mm nor pid
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hypotheticalBindings } from "./whatif.ts";
 * const b = hypotheticalBindings(
 *   [{ device: "d0", sid: 1, iommu: "dmar0", ats: true, pasid: true, qdep: 0, source: "topology" }],
 *   [{ pid: 7 }],
 * );
 * assert(b.length === 1 && b[0]!.mm === "pid:7" && b[0]!.iommu === "dmar0");
 * ```
 */
export function hypotheticalBindings(
  devices: readonly DeviceRow[],
  wishes: readonly BindWish[],
  firstId = 0,
): BindingRow[] {
  const byName = new Map(devices.map((d) => [d.device, d]));
  const capable = devices.some((d) => d.pasid !== null)
    ? devices.filter((d) => d.pasid === true)
    : devices;
  const out: BindingRow[] = [];
  let id = firstId;
  wishes.forEach((w, i) => {
    const mm = w.mm ?? (w.pid !== undefined ? `pid:${w.pid}` : null);
    if (mm === null) throw new UsageError(`what-if bind #${i}: give an mm or a pid`);
    const names = w.devices ?? capable.map((d) => d.device);
    for (const name of names) {
      const d = byName.get(name);
      if (!d) throw new UsageError(`what-if bind #${i}: unknown device "${name}"`);
      out.push({
        binding_id: id++,
        mm,
        pid: w.pid ?? null,
        comm: null,
        pasid: w.pasid ?? i + 1,
        device: d.device,
        iommu: d.iommu,
        domain_id: w.domain_id ?? 1,
        from_ts: w.from_ts ?? null,
        to_ts: w.to_ts ?? null,
        source: "what-if",
      });
    }
  });
  return out;
}

/** Input of a what-if replay. */
export interface WhatIfInput {
  /** The topology: units, devices, and any bindings it describes. */
  topology: {
    iommus: Iterable<IommuRow>;
    devices: readonly DeviceRow[];
    bindings?: Iterable<BindingRow>;
  };
  /** The mm trace, in time order. */
  mm_events: Iterable<MmRangeEvent>;
  /** Hypothetical binds added to the topology's bindings. */
  bind?: readonly BindWish[];
  /** Process events for the checks. */
  process_events?: Iterable<ProcessEventRow>;
}

/**
 * Replays an mm trace against a topology and hypothetical bindings.
 *
 * @param input topology, mm events, binds
 * @param options replay options plus which mm events become requests
 * @returns the replay result (no fidelity: there is nothing observed to compare with)
 * @throws {UsageError} on bad binds, options or out-of-order events
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { whatIf } from "./whatif.ts";
 * const devices = [0, 1, 2, 3].map((i) => ({ device: `d${i}`, sid: i, iommu: "dmar0", ats: true,
 *   pasid: true, qdep: 0, source: "topology" }));
 * const r = whatIf({
 *   topology: { iommus: [{ iommu: "dmar0", vendor: "intel", source: "topology" }], devices },
 *   mm_events: [{ ts: 1n, kind: "munmap", cpu: 0, pid: 9, mm: null, addr: 0x10000n, len: 0x1000n }],
 *   bind: [{ pid: 9 }],
 * }, { policies: ["intel-per-device", "intel-batched"] });
 * assert(r.policies[0]!.descriptors["p_iotlb_inv"] === 4 && r.policies[1]!.descriptors["p_iotlb_inv"] === 1);
 * ```
 */
export function whatIf(
  input: WhatIfInput,
  options: ReplayOptions & { use?: MmRequestOptions["use"] } = {},
): ReplayResult {
  const base = [...(input.topology.bindings ?? [])];
  const firstId = base.reduce((m, b) => Math.max(m, b.binding_id + 1), 0);
  const bindings = [
    ...base,
    ...hypotheticalBindings(input.topology.devices, input.bind ?? [], firstId),
  ];
  const { use, ...rest } = options;
  return replay({
    iommus: input.topology.iommus,
    devices: input.topology.devices,
    bindings,
    requests: requestsFromMmTrace(input.mm_events, use === undefined ? {} : { use }),
    ...(input.process_events === undefined ? {} : { process_events: input.process_events }),
  }, { ...rest, fidelity: false });
}
