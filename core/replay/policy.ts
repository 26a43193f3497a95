/**
 * The policy interface: how an invalidation policy turns one request into commands.
 *
 * ## Writing your own policy
 *
 * A policy is a module exporting a {@linkcode PolicyFactory}. The engine calls
 * `factory.create(options)` once per replay run, then, for every request in time order,
 * `policy.advance?.(tsNs, sink)` and `policy.evaluate(request, view, sink)`:
 *
 * - `request` ({@linkcode RequestInfo}) is the mm range in 4 KiB page frames (`startPfn`,
 *   `endPfn` exclusive, `pages`) plus `full` for a whole-address-space flush. The object is reused:
 *   read it, do not keep it.
 * - `view` ({@linkcode BindingView}) lists what is bound at that instant: IOMMU slots, IOTLB tag
 *   groups (one per (IOMMU, domain id, PASID)) and device slots, contiguous so loops need no lookups.
 * - `sink` ({@linkcode CommandSink}) counts what the policy issues: `sink.cmd(kind, iommu, group,
 *   device, addrPfn, pages)` for one command (`kind` is an index into `policy.kinds`, `pages` is
 *   `FULL` (-1) for a full-scope command such as a PASID-selective flush), `sink.cmdRun(...)` for a
 *   run of same-sized consecutive commands (per-page TLBIs), and `sink.wait(iommu)` to
 *   end the current submission on that IOMMU (this counts one wait descriptor of `policy.waitKind`,
 *   one submission, and one trap under a trapping cost model). Descriptors left without a wait at the
 *   end of `evaluate` are closed with an implicit wait.
 *
 * Which cache a command invalidates comes from its kind's class: an `iotlb` command covers its
 * `group` (or, with `group` = -1, every group on `iommu`); a `devtlb` command covers `device`'s ATC.
 * That is what the coverage check and the over-invalidation counters use, so a policy only has to
 * say what it would issue. The hot path must not allocate: compute with numbers, emit with `cmd`.
 * A stateless policy can also declare `shape(req)` (see {@linkcode shapeKey}): requests of a shape
 * already replayed against the same bindings are then counted without calling `evaluate`.
 *
 * ```ts
 * import type { PolicyFactory } from "./policy.ts";
 * import { FULL } from "./policy.ts";
 * import { kind } from "./kinds.ts";
 * // One exact-range IOTLB command per IOMMU and one wait: a toy policy.
 * export const toy: PolicyFactory = {
 *   name: "toy",
 *   description: "one p_iotlb_inv per IOMMU",
 *   vendor: "intel",
 *   defaultKernel: null,
 *   create: () => ({
 *     name: "toy",
 *     description: "one p_iotlb_inv per IOMMU",
 *     kinds: [kind("p_iotlb_inv"), kind("inv_wait")],
 *     waitKind: 1,
 *     parallelIommus: false,
 *     implicitIotlb: false,
 *     deferred: false,
 *     evaluate(req, view, out) {
 *       for (let i = 0; i < view.iommuCount; i++) {
 *         out.cmd(0, i, -1, -1, req.startPfn, req.full ? FULL : req.pages);
 *         out.wait(i);
 *       }
 *     },
 *   }),
 * };
 * ```
 *
 * @module
 */
import type { IommuVendor } from "../canonical.ts";
import { atLeast, type KernelVersion, parseKernelVersion } from "./kernel_version.ts";
import type { KindSpec } from "./kinds.ts";
import type { BindingView } from "./state.ts";

export type { BindingView } from "./state.ts";

/** `pages` value for a full-scope command (whole PASID / ASID / domain / ATC). */
export const FULL: number = -1;

/** One request as policies see it (page-frame numbers; reused between calls). */
export interface RequestInfo {
  /** `request_id` of the canonical row. */
  id: number;
  /** Time (ns). */
  ts: bigint;
  /** Time (ns) as a number, for timers (exact below 2^53 ns, about 104 days). May be a getter. */
  readonly tsNs: number;
  /** CPU, or -1 when unknown. */
  cpu: number;
  /** First page frame (start >> 12). */
  startPfn: number;
  /** One past the last page frame (ceil(end / 4096)). */
  endPfn: number;
  /** `endPfn - startPfn`. */
  pages: number;
  /** The kernel asked for a whole-address-space flush. */
  full: boolean;
  /** A DMA-API request (no mm, and no PASID or an `iommu_unmap` / `dma_unmap` source): no CPU-side ceiling. */
  dma: boolean;
  /** Where the range came from (`cache_tag_flush_range`, `munmap`, ...). */
  source: string;
}

/** What policies emit commands into. */
export interface CommandSink {
  /**
   * Counts one command.
   *
   * @param kind index into the policy's `kinds`
   * @param iommu IOMMU slot in the view
   * @param group IOTLB group slot, or -1 (for an `iotlb` kind: all groups on `iommu`)
   * @param device device slot, or -1
   * @param addrPfn first page frame the command covers
   * @param pages pages covered, or {@linkcode FULL}
   */
  cmd(
    kind: number,
    iommu: number,
    group: number,
    device: number,
    addrPfn: number,
    pages: number,
  ): void;
  /**
   * Counts `count` commands of one kind over consecutive ranges of `pagesEach` pages starting at
   * `addrPfn` (per-page TLBIs, say): the same as `count` calls of `cmd` with `addrPfn`,
   * `addrPfn + pagesEach`, ..., but constant-time when only counting.
   *
   * @param kind index into the policy's `kinds`
   * @param iommu IOMMU slot
   * @param group IOTLB group slot, or -1
   * @param device device slot, or -1
   * @param addrPfn first page frame of the first command
   * @param pagesEach pages per command (>= 1)
   * @param count number of commands
   */
  cmdRun(
    kind: number,
    iommu: number,
    group: number,
    device: number,
    addrPfn: number,
    pagesEach: number,
    count: number,
  ): void;
  /**
   * Ends the current submission on an IOMMU (one wait descriptor, one submission).
   *
   * @param iommu IOMMU slot
   * @param kind the wait descriptor's kind index, when not the policy's `waitKind`
   */
  wait(iommu: number, kind?: number): void;
  /**
   * Starts commands that do not belong to the current request's latency (a timer-driven flush),
   * attributed to `requestId` and addressed in `view`'s slots.
   *
   * @param requestId the request they are attributed to
   * @param view the view whose slots the commands use
   */
  beginAsync(requestId: number, view: BindingView): void;
  /** Ends {@linkcode CommandSink.beginAsync}. */
  endAsync(): void;
}

/** Which requests a policy models: see {@linkcode ReplayPolicy.scope}. */
export type PolicyScope = "sva" | "dma" | "any";

/** A policy instance (one per replay run; may keep state between requests). */
export interface ReplayPolicy {
  /** Name as shown in results (`intel-cache-tag`, or `intel-per-device@5.10` with options). */
  readonly name: string;
  /** One line. */
  readonly description: string;
  /** Kinds it emits; `cmd`'s `kind` argument indexes this array. */
  readonly kinds: readonly KindSpec[];
  /** Index in `kinds` of the wait descriptor (`inv_wait`, `cmd_sync`, `completion_wait`). */
  readonly waitKind: number;
  /** IOMMUs are waited for in parallel (request time = slowest IOMMU) instead of one after another. */
  readonly parallelIommus: boolean;
  /** The IOTLB is invalidated implicitly (SMMUv3 broadcast TLB maintenance): only ATCs need commands. */
  readonly implicitIotlb: boolean;
  /** Invalidation is deferred by design (flush queue): skip the per-request coverage check. */
  readonly deferred: boolean;
  /**
   * Which requests the policy models (default `"any"`): `"sva"` for the mm-side (SVA, mmu-notifier)
   * invalidation paths, `"dma"` for DMA-API unmaps (IOVA ranges of a DMA domain). A request outside
   * the scope is not replayed by the policy; a policy with no request in its scope is reported as
   * not applicable to the trace instead of as a row of zeros.
   */
  readonly scope?: PolicyScope;
  /**
   * Emits the commands for one request.
   *
   * @param req the request (reused object)
   * @param view what is bound at `req.ts`
   * @param out the sink
   */
  evaluate(req: RequestInfo, view: BindingView, out: CommandSink): void;
  /**
   * Optional, for speed: a key of the request's shape, such that two requests with the same key
   * replayed against the same view get the same commands, except that every address is shifted by
   * the difference of their `startPfn`. The engine then counts a request whose key it has seen
   * from the remembered outcome instead of evaluating it (the results are identical). Return -1
   * for a request that must be evaluated. Only used for policies without `advance` and `finish`
   * whose output depends on nothing but the request and the view; build keys with
   * {@linkcode shapeKey}.
   *
   * @param req the request
   * @returns a key >= 0, or -1
   */
  shape?(req: RequestInfo): number;
  /**
   * Called before `evaluate` with the new request's time: fire timers that expired.
   *
   * @param tsNs current time (ns)
   * @param out the sink
   */
  advance?(tsNs: number, out: CommandSink): void;
  /**
   * Called at the end of the trace: fire pending timers.
   *
   * @param out the sink
   */
  finish?(out: CommandSink): void;
}

/**
 * A {@linkcode ReplayPolicy.shape} key: the request's page count, the offset of its first page in
 * the naturally aligned block of `2^order` pages around it, `order` itself, and up to 3 flag bits
 * (whatever else the policy's commands depend on: a full flush, a DMA-API request, ...). A policy
 * whose commands depend on the start only through its low `order` bits passes the largest order it
 * aligns to. The key fits a small integer (30 bits, fast as a `Map` key); -1 (evaluate) when the
 * request is too large to key: 2048 pages (8 MiB) or more, or an order above 12.
 *
 * @param req the request
 * @param order alignment order the commands depend on (0 for none)
 * @param flags 0..7
 * @returns the key, or -1
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapeKey, type RequestInfo } from "./policy.ts";
 * const r = (startPfn: number, pages: number): RequestInfo => ({ id: 0, ts: 0n, tsNs: 0, cpu: 0,
 *   startPfn, endPfn: startPfn + pages, pages, full: false, dma: false, source: "x" });
 * assert(shapeKey(r(0x1003, 2), 3, 0) === shapeKey(r(0x2003, 2), 3, 0)); // same offset in 8 pages
 * assert(shapeKey(r(0x1003, 2), 3, 0) !== shapeKey(r(0x1004, 2), 3, 0));
 * assert(shapeKey(r(0, 4096), 0, 0) === -1);
 * ```
 */
export function shapeKey(req: RequestInfo, order: number, flags: number): number {
  const pages = req.pages;
  if (!(pages >= 0 && pages < 2048) || !(order >= 0 && order <= 12)) return -1;
  const size = POW2_12[order]!;
  const off = req.startPfn - Math.floor(req.startPfn / size) * size;
  // pages: 11 bits, offset: 12, order: 4, flags: 3 -> below 2^30
  return ((pages * 4096 + off) * 16 + order) * 8 + (flags & 7);
}

const POW2_12 = new Float64Array(13).map((_, i) => 2 ** i);

/** Options shared by the built-in policies; each reads the ones that apply to it. */
export interface PolicyOptions {
  /** Kernel version whose rules apply (`6.9`, `5.10.0`); each built-in has a default. */
  kernel?: string;
  /**
   * x86 CPU-side ceiling in pages (`tlb_single_page_flush_ceiling`): requests of more pages reach the
   * IOMMU as a full flush. Default 33 for x86 policies on kernels >= 6.6, else none; null = none.
   */
  cpuCeilingPages?: number | null;
  /** SMMUv3 has range invalidation (`FEAT_RANGE_INV`, RIL). Default false. */
  ril?: boolean;
  /** VT-d batch size (v6.12 `QI_MAX_BATCHED_DESC_COUNT`). Default 16. */
  maxBatch?: number;
  /**
   * SMMUv3 `ARM_SMMU_OPT_CMDQ_FORCE_SYNC` (MMU-600/700 erratum): a `cmd_sync` every 63 commands
   * instead of one per command set. Default false.
   */
  smmuForceSync?: boolean;
  /** DMA flush-queue slots per CPU (`IOVA_DEFAULT_FQ_SIZE`). Default 256. */
  fqSize?: number;
  /** DMA flush-queue timeout in ns (`IOVA_DEFAULT_FQ_TIMEOUT`). Default 10 ms. */
  fqTimeoutNs?: number;
  /** VT-d MAMV (cap[53:48]) for second-level PSI; larger masks become a domain flush. Default none. */
  mamv?: number | null;
}

/** Makes policy instances; what a policy module exports. */
export interface PolicyFactory {
  /** Stable name (`intel-cache-tag`). */
  readonly name: string;
  /** One line. */
  readonly description: string;
  /** Which IOMMU family it models (`unknown` = any). */
  readonly vendor: IommuVendor;
  /** Kernel whose rules apply when `options.kernel` is absent (null = not version-dependent). */
  readonly defaultKernel: string | null;
  /**
   * Makes a fresh instance (one per replay run).
   *
   * @param options policy options
   * @returns a fresh instance
   */
  create(options: PolicyOptions): ReplayPolicy;
}

/**
 * The kernel version a policy instance should follow.
 *
 * @param options the options
 * @param fallback the policy's default kernel
 * @returns the parsed version
 * @throws {UsageError} on a malformed version string
 */
export function policyKernel(options: PolicyOptions, fallback: string): KernelVersion {
  return parseKernelVersion(options.kernel ?? fallback);
}

/**
 * The x86 CPU-side flush ceiling that applies (iommu.md §3.1, C11: `tlb_single_page_flush_ceiling`
 * = 33 pages, from `arch/x86/mm/tlb.c`; the secondary-TLB notifier runs after that check since
 * v6.6, Popple series).
 *
 * @param options the options (`cpuCeilingPages` overrides)
 * @param kernel the kernel version
 * @returns the ceiling in pages, or 0 for none
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { x86Ceiling } from "./policy.ts";
 * import { parseKernelVersion } from "./kernel_version.ts";
 * assert(x86Ceiling({}, parseKernelVersion("6.9")) === 33);
 * assert(x86Ceiling({}, parseKernelVersion("6.5")) === 0);
 * assert(x86Ceiling({ cpuCeilingPages: null }, parseKernelVersion("6.9")) === 0);
 * ```
 */
export function x86Ceiling(options: PolicyOptions, kernel: KernelVersion): number {
  if (options.cpuCeilingPages !== undefined) return options.cpuCeilingPages ?? 0;
  return atLeast(kernel, 6, 6) ? 33 : 0;
}

/**
 * Request sources whose ranges the kernel computed on the IOMMU side of the CPU flush: the
 * secondary-TLB notifier (`mmu_notifier`, a probe on `__mmu_notifier_arch_invalidate_secondary_tlbs`),
 * the VT-d cache-tag flush events and ranges decoded from `qi_submit` descriptors. On x86 6.6+ the
 * notifier runs after `flush_tlb_mm_range` has applied the CPU-side ceiling (iommu.md §3.1), so a
 * range that went over it already arrived as `(0, ULONG_MAX)`: applying the ceiling again would
 * turn a kernel's 2 MiB THP flush (512 pages, one 2 MiB stride) into a full flush it never issued.
 */
export const KERNEL_RANGE_SOURCES: ReadonlySet<string> = new Set([
  "mmu_notifier",
  "cache_tag_flush_range",
  "cache_tag_flush_all",
  "cache_tag_flush_range_np",
  "qi_submit",
]);

/**
 * Whether a request reaches the IOMMU as a full flush under a CPU-side ceiling.
 *
 * The ceiling applies only to ranges that have not been through the kernel's CPU flush: what-if
 * requests built from syscall ranges (`munmap`, `mprotect`, `madvise`, `mremap`, `tlb_flush`) and
 * any source not in {@linkcode KERNEL_RANGE_SOURCES}. DMA-API requests (IOVA ranges) never get it.
 *
 * @param req the request
 * @param ceiling pages (0 = none)
 * @returns true for a full flush
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reachesAsFull, type RequestInfo } from "./policy.ts";
 * const r = (source: string): RequestInfo => ({ id: 0, ts: 0n, tsNs: 0, cpu: 0, startPfn: 0,
 *   endPfn: 512, pages: 512, full: false, dma: false, source });
 * assert(reachesAsFull(r("munmap"), 33)); // a what-if syscall range over the ceiling
 * assert(!reachesAsFull(r("cache_tag_flush_range"), 33)); // the kernel's own (THP) range
 * assert(!reachesAsFull(r("munmap"), 0)); // no ceiling (before 6.6)
 * ```
 */
export function reachesAsFull(req: RequestInfo, ceiling: number): boolean {
  return req.full ||
    (ceiling > 0 && !req.dma && req.pages > ceiling && !KERNEL_RANGE_SOURCES.has(req.source));
}
