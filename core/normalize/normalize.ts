/**
 * The IOMMU semantic layer: turns decoded trace events into the canonical IOMMU tables.
 *
 * ```
 * TraceEvent stream (time order) ──▶ decoders per tracepoint family ──▶ iommus, devices, bindings,
 *                                     (+ probe mappings, topology)       requests, observed_commands,
 *                                                                        faults, statements
 * ```
 *
 * Decoders: `qi_submit.ts` (VT-d descriptors and submissions), `cache_tag.ts` (6.10+ cache tags),
 * `prq_report.ts`, `iommu_events.ts`, `dma_events.ts`, `mm_tracker.ts` (task/sched/mmap
 * lifecycle), `syscall_requests.ts` (what-if), `probe_events.ts` (probe mappings).
 *
 * It streams: the state kept between events is bounded by live objects (tasks, open bindings,
 * in-flight submissions, live scatterlist mappings), not by the trace length. What the trace
 * cannot tell stays null; `statements` say what the trace supports and which inference was used.
 *
 * Process events (for the replay checks): `fork` for `task_newtask` without `CLONE_VM` (threads are
 * not forks; a `sched_process_fork` alone is not reported), `exec` with the new mm, `exit` once
 * per mm at its `exit_mmap` or at a `sched_process_exit` with `group_dead` (6.16+).
 *
 * Request sources, one kernel invalidation = one request:
 * - SVA (PASID) requests use the best source present, in this order: the mmu-notifier probe
 *   (`mmu_notifier`, exact mm ranges), cache tags (`cache_tag_flush_range`, `_all`, `_np`;
 *   the kernel's range), VT-d descriptors (`qi_submit`; aligned ranges, kernels before 6.10).
 * - DMA requests (`dma_unmap`, `iommu_unmap`) are always kept.
 * - With `whatIf`, syscall ranges and CPU TLB flushes (`munmap`, `mprotect`, `madvise`,
 *   `mremap`, `tlb_flush`) are the mm requests instead of the kernel's SVA ones.
 *
 * @module
 */
import { TraceError, UsageError } from "../errors.ts";
import type { TraceEvent } from "../event.ts";
import type { ProbeMapping, ProbeSpec } from "../probes/mapping.ts";
import { SHIPPED_MAPPINGS } from "../probes/shipped.ts";
import type { Topology } from "../topology.ts";
import {
  CanonicalBuilder,
  type CanonicalBuilder as Builder,
  type CanonicalSink,
  type CanonicalTables,
  type StreamResolver,
} from "./builder.ts";
import { CacheTagDecoder } from "./cache_tag.ts";
import { DmaEventDecoder } from "./dma_events.ts";
import { type EventSite, hex, int, optInt, str, u64 } from "./fields.ts";
import { IommuEventDecoder } from "./iommu_events.ts";
import { CLONE_VM, type MmRef, MmTracker } from "./mm_tracker.ts";
import { indexProbes, ProbeEventDecoder } from "./probe_events.ts";
import { onPrqReport } from "./prq_report.ts";
import { QiSubmitDecoder } from "./qi_submit.ts";
import { SyscallRequestDecoder } from "./syscall_requests.ts";

export type { CanonicalSink, CanonicalTables, StreamResolver } from "./builder.ts";

/** Options of {@linkcode normalize}. */
export interface NormalizeOptions {
  /** Label of the input in error messages (default `<events>`). */
  file?: string;
  /** What-if mode: syscall ranges and TLB flushes become the mm requests (default false). */
  whatIf?: boolean;
  /** Probe mappings to apply (default: the shipped ones). */
  probeMappings?: readonly ProbeMapping[];
  /** A topology: its units and devices are added, and its bindings are applied to the trace's processes. */
  topology?: Topology;
  /** Max gap inside an inferred VT-d submission run, ns (default 2000); a run ends after it. */
  qiGapNs?: bigint;
  /** Max descriptors per batched VT-d submission (default 16). */
  qiMaxBatch?: number;
  /** VT-d batching: `auto` (on once cache tags are seen), true or false. */
  qiBatching?: "auto" | boolean;
  /** Max gap between p_iotlb descriptors of one inferred request, ns (default 20000). */
  qiRequestGapNs?: bigint;
  /** On a malformed event: throw a {@linkcode TraceError} (default) or skip and count it. */
  onMalformed?: "throw" | "skip";
  /** How long an `iommu:unmap` waits for the DMA unmap event that absorbs it, ns (default 1 ms). */
  unmapAbsorbNs?: bigint;
  /**
   * Stream requests, observed commands and faults to this sink in their final order instead of
   * keeping them (see {@linkcode CanonicalSink}); finish with {@linkcode Normalizer.finishStream}.
   */
  sink?: CanonicalSink;
  /** With a sink: events between two hand-overs to it (default 1024; 1 hands over after each). */
  releaseEvery?: number;
}

/** What a streamed normalization leaves: the tables kept in memory and the sink's resolver. */
export interface StreamedCanonical {
  /** The canonical tables; `requests`, `observed_commands` and `faults` went to the sink (empty). */
  tables: CanonicalTables;
  /** Final names of the sink's keys, the request filter and the row counts. */
  resolver: StreamResolver;
}

/** Tracepoints the normalizer reads, as `system:event`. */
export const NORMALIZER_EVENT_KEYS: readonly string[] = Object.freeze([
  "intel_iommu:qi_submit",
  "intel_iommu:prq_report",
  "intel_iommu:cache_tag_assign",
  "intel_iommu:cache_tag_unassign",
  "intel_iommu:cache_tag_flush_all",
  "intel_iommu:cache_tag_flush_range",
  "intel_iommu:cache_tag_flush_range_np",
  "iommu:add_device_to_group",
  "iommu:remove_device_from_group",
  "iommu:attach_device_to_domain",
  "iommu:detach_device_from_domain",
  "iommu:map",
  "iommu:unmap",
  "iommu:io_page_fault",
  "dma:dma_map_sg",
  "dma:dma_unmap_sg",
  "dma:dma_unmap_page",
  "dma:dma_unmap_phys",
  "dma:dma_unmap_resource",
  "dma:dma_free",
  "task:task_newtask",
  "sched:sched_process_fork",
  "sched:sched_process_exec",
  "sched:sched_process_exit",
  "sched:sched_process_free",
  "mmap:exit_mmap",
  "syscalls:sys_enter_munmap",
  "syscalls:sys_enter_mprotect",
  "syscalls:sys_enter_madvise",
  "syscalls:sys_enter_mremap",
  "tlb:tlb_flush",
]);

/**
 * Every event key the normalizer wants: the tracepoints plus the probe events of the mappings,
 * so readers can skip the rest.
 *
 * @param mappings probe mappings (default: the shipped ones)
 * @returns `system:event` keys
 * @example
 * ```ts
 * import { wantedEventKeys } from "./normalize.ts";
 * const keys = wantedEventKeys();
 * console.assert(keys.includes("intel_iommu:qi_submit") && keys.includes("iommu_replay:qi_submit_sync"));
 * ```
 */
export function wantedEventKeys(mappings: readonly ProbeMapping[] = SHIPPED_MAPPINGS): string[] {
  const keys = new Set(NORMALIZER_EVENT_KEYS);
  for (const m of mappings) for (const p of m.probes) keys.add(`${p.system}:${p.event}`);
  return [...keys];
}

/**
 * The event keys that can yield requests outside what-if mode (SVA and DMA sources): a trace
 * without rows of any of them has no such request, so a what-if replay can be chosen before
 * normalizing.
 *
 * @param mappings probe mappings (default: the shipped ones); their `mm_invalidate` probes count
 * @returns `system:event` keys
 * @example
 * ```ts
 * import { requestEventKeys } from "./normalize.ts";
 * const keys = requestEventKeys();
 * console.assert(keys.includes("intel_iommu:cache_tag_flush_range") && !keys.includes("tlb:tlb_flush"));
 * ```
 */
export function requestEventKeys(mappings: readonly ProbeMapping[] = SHIPPED_MAPPINGS): string[] {
  const keys = NORMALIZER_EVENT_KEYS.filter((k) =>
    k === "intel_iommu:qi_submit" || k.startsWith("intel_iommu:cache_tag_flush") ||
    k === "iommu:unmap" || (k.startsWith("dma:") && /unmap|free/.test(k))
  );
  for (const m of mappings) {
    for (const p of m.probes) if (p.kind === "mm_invalidate") keys.push(`${p.system}:${p.event}`);
  }
  return [...new Set(keys)];
}

const KNOWN_KEYS: ReadonlySet<string> = new Set(NORMALIZER_EVENT_KEYS);

const SVA_CLASSES: ReadonlyArray<readonly string[]> = [
  ["mmu_notifier"],
  ["cache_tag_flush_range", "cache_tag_flush_all", "cache_tag_flush_range_np"],
  ["qi_submit"],
];
const DMA_SOURCES = new Set(["dma_unmap", "iommu_unmap"]);
/** Events between two releases of streamed rows. */
const RELEASE_EVERY = 1024;
const WHAT_IF = new Set(["munmap", "mprotect", "madvise", "mremap", "tlb_flush"]);

/** What the dispatch needs to know about an event type, worked out once per type. */
interface KeyInfo {
  /** `system:event`. */
  key: string;
  probe: ProbeSpec | undefined;
  /** A tracepoint the normalizer reads, or a mapped probe. */
  known: boolean;
  /** `intel_iommu:qi_submit`. */
  qiSubmit: boolean;
  /** A qi_submit or a qi_submit_sync probe (sits inside a cache-tag flush). */
  qi: boolean;
  /** `intel_iommu:cache_tag_*`. */
  ct: boolean;
  /** `intel_iommu:cache_tag_flush*`. */
  ctFlush: boolean;
  /** `iommu:unmap` or a DMA unmap/free (absorbs pending unmaps). */
  unmap: boolean;
  /** A probe that reports binds (no binding inference from descriptors then). */
  bindProbe: boolean;
  /** Events of this type seen. */
  seen: number;
}

/**
 * The streaming normalizer: `push` events in time order, then `finish`.
 *
 * @example
 * ```ts
 * import { Normalizer } from "./normalize.ts";
 * const n = new Normalizer();
 * n.push({ ts: 1n, cpu: 0, pid: 7, comm: "a", system: "intel_iommu", event: "qi_submit", buffer: "",
 *   flags: 0, preempt_count: 0,
 *   fields: { qw0: 0x200000016n, qw1: 0x7f0000000000n, qw2: 0n, qw3: 0n, iommu: "dmar0" } });
 * const t = n.finish();
 * console.assert(t.observed_commands[0]!.kind === "p_iotlb_inv" && t.observed_commands[0]!.pasid === 2);
 * ```
 */
export class Normalizer {
  #o: NormalizeOptions;
  #site: EventSite;
  #b: Builder;
  #mm = new MmTracker();
  #qi: QiSubmitDecoder;
  #ct: CacheTagDecoder;
  #iommu: IommuEventDecoder;
  #dma: DmaEventDecoder;
  #sys: SyscallRequestDecoder;
  #probes: ProbeEventDecoder;
  #info = new Map<string, Map<string, KeyInfo>>();
  #cpuKeys = new Map<string, string[]>();
  #malformed = new Map<string, number>();
  #topoComm = new Map<string, { pasid: number | null; devices: string[]; bound: Set<MmRef> }>();
  #finished = false;
  #exited = new WeakSet<MmRef>();
  #streaming: boolean;
  #sinceRelease = 0;
  #releaseEvery: number;

  /**
   * Creates a normalizer.
   *
   * @param opts options
   */
  constructor(opts: NormalizeOptions = {}) {
    this.#o = opts;
    this.#site = { file: opts.file ?? "<events>", index: 0 };
    this.#b = new CanonicalBuilder(opts.sink ?? null);
    this.#streaming = opts.sink !== undefined;
    this.#releaseEvery = Math.max(1, opts.releaseEvery ?? RELEASE_EVERY);
    this.#qi = new QiSubmitDecoder(this.#b, {
      gapNs: opts.qiGapNs ?? 2000n,
      maxBatch: opts.qiMaxBatch ?? 16,
      batching: opts.qiBatching ?? "auto",
      requestGapNs: opts.qiRequestGapNs ?? 20000n,
    });
    this.#ct = new CacheTagDecoder(this.#b, this.#mm);
    this.#iommu = new IommuEventDecoder(this.#b, opts.unmapAbsorbNs ?? 1_000_000n);
    this.#dma = new DmaEventDecoder(this.#b, this.#iommu);
    this.#sys = new SyscallRequestDecoder(this.#b, this.#mm);
    this.#probes = new ProbeEventDecoder(
      this.#b,
      this.#mm,
      this.#qi,
      indexProbes(opts.probeMappings ?? SHIPPED_MAPPINGS),
    );
    if (opts.topology) this.#seedTopology(opts.topology);
  }

  #seedTopology(t: Topology): void {
    const b = this.#b;
    for (const u of t.iommus) b.iommu(u.name, u.vendor, "topology");
    const iommuOf = new Map<string, string | null>();
    for (const d of t.devices) {
      const rec = b.deviceByName(d.name, d.iommu, "topology");
      if (d.sid !== null) rec.sid = d.sid;
      rec.ats = d.ats;
      rec.pasid = d.pasid;
      rec.qdep = d.qdep;
      iommuOf.set(d.name, d.iommu);
    }
    for (const tb of t.bindings) {
      let mm: MmRef | null = null;
      if (tb.mm !== null) mm = this.#mm.byPointer(tb.mm, null, false);
      else if (tb.pid !== null) mm = this.#mm.of(tb.pid);
      if (mm === null) {
        const cur = this.#topoComm.get(tb.comm!);
        if (cur) cur.devices.push(...tb.devices);
        else {this.#topoComm.set(tb.comm!, {
            pasid: tb.pasid,
            devices: [...tb.devices],
            bound: new Set(),
          });}
        continue;
      }
      for (const dev of tb.devices) {
        b.openBinding({
          mm,
          pid: tb.pid,
          comm: tb.comm,
          pasid: tb.pasid,
          device: b.deviceByName(dev, null, "topology"),
          iommu: iommuOf.get(dev) ?? null,
          domain_id: null,
          from_ts: null,
          to_ts: null,
          source: "topology",
        });
      }
    }
  }

  #bindByComm(ev: TraceEvent): void {
    if (ev.pid === 0) return;
    const entry = this.#topoComm.get(ev.comm);
    if (!entry) return;
    const mm = this.#mm.of(ev.pid);
    if (entry.bound.has(mm) || mm.exitTs !== null) return;
    entry.bound.add(mm);
    for (const dev of entry.devices) {
      const d = this.#b.deviceByName(dev, null, "topology");
      this.#b.openBinding({
        mm,
        pid: ev.pid,
        comm: ev.comm,
        pasid: entry.pasid,
        device: d,
        iommu: d.iommu,
        domain_id: null,
        from_ts: ev.ts,
        to_ts: null,
        source: "topology",
      });
    }
  }

  /**
   * Tasks currently tracked (live state: grows with live tasks, shrinks at `sched_process_free`).
   *
   * @returns the number of tracked pids
   */
  get liveTasks(): number {
    return this.#mm.size;
  }

  /**
   * Rows held back from the sink (streaming): bounded by what decoders hold open and by the
   * release interval, not by the trace length.
   *
   * @returns the number of requests, observed commands and faults not yet streamed
   */
  get pendingRows(): number {
    return this.#b.pending;
  }

  /**
   * Feeds one event (events must come in time order).
   *
   * @param ev the event
   * @throws {TraceError} on a malformed event (unless `onMalformed` is `skip`)
   */
  push(ev: TraceEvent): void {
    if (this.#finished) throw new UsageError("Normalizer: push after finish");
    const info = this.#infoOf(ev.system, ev.event);
    this.#site.index++;
    try {
      this.#dispatch(ev, info);
    } catch (e) {
      if (!(e instanceof TraceError && this.#o.onMalformed === "skip")) throw e;
      this.#malformed.set(info.key, (this.#malformed.get(info.key) ?? 0) + 1);
    }
    if (this.#streaming && ++this.#sinceRelease >= this.#releaseEvery) this.#release(ev.ts);
  }

  /** Streams the rows no decoder can still add to or change: older than `now` and than any held. */
  #release(now: bigint): void {
    this.#sinceRelease = 0;
    let w = now;
    const q = this.#qi.pendingSince(now);
    if (q !== null && q < w) w = q;
    const u = this.#iommu.pendingSince();
    if (u !== null && u < w) w = u;
    this.#b.release(w);
  }

  #infoOf(system: string, event: string): KeyInfo {
    let bySystem = this.#info.get(system);
    if (!bySystem) this.#info.set(system, bySystem = new Map());
    let info = bySystem.get(event);
    if (info) return info;
    const key = `${system}:${event}`;
    const probe = this.#probes.probeFor(key);
    const ct = system === "intel_iommu" && event.startsWith("cache_tag_");
    info = {
      key,
      probe,
      known: probe !== undefined || KNOWN_KEYS.has(key),
      qiSubmit: key === "intel_iommu:qi_submit",
      qi: key === "intel_iommu:qi_submit" || probe?.kind === "qi_submit_sync",
      ct,
      ctFlush: ct && event.startsWith("cache_tag_flush"),
      unmap: key === "iommu:unmap" || (system === "dma" && /unmap|free/.test(event)),
      bindProbe: probe !== undefined && probe.kind !== "mm_invalidate" &&
        probe.kind !== "qi_submit_sync" && !probe.kind.endsWith("_cmd") &&
        probe.kind !== "smmu_cmdq",
      seen: 0,
    };
    bySystem.set(event, info);
    return info;
  }

  /** `<buffer>|<cpu>`, the key of per-CPU decoder state. */
  #cpuKey(buffer: string, cpu: number): string {
    let keys = this.#cpuKeys.get(buffer);
    if (!keys) this.#cpuKeys.set(buffer, keys = []);
    return keys[cpu] ??= `${buffer}|${cpu}`;
  }

  #dispatch(ev: TraceEvent, info: KeyInfo): void {
    const site = this.#site;
    if (!info.known) return;
    info.seen++;
    const cpuKey = this.#cpuKey(ev.buffer, ev.cpu);
    const probe = info.probe;
    if (info.ct) this.#qi.cacheTagsSeen = true;
    // Time: runs and pending unmaps that nothing can continue any more end now.
    this.#qi.expire(ev.ts);
    this.#iommu.expire(ev.ts);
    // Per-CPU sequencing: anything else on this CPU ends in-flight groups.
    if (!info.qiSubmit) this.#qi.interrupt(cpuKey, info.ctFlush);
    if (!info.ct) this.#ct.interrupt(cpuKey, info.qi);
    if (!info.unmap) this.#iommu.interrupt(cpuKey);
    if (ev.system !== "tlb") this.#sys.interrupt(cpuKey);
    if (this.#topoComm.size > 0 && !this.#mm.has(ev.pid)) this.#bindByComm(ev);

    if (probe) {
      if (info.bindProbe) this.#qi.bindEventsSeen = true;
      this.#probes.onEvent(site, ev, probe, cpuKey);
      return;
    }
    switch (ev.system) {
      case "intel_iommu":
        if (ev.event === "qi_submit") this.#qi.onQiSubmit(site, ev, cpuKey);
        else if (ev.event === "prq_report") onPrqReport(this.#b, site, ev);
        else if (info.ctFlush) this.#ct.onFlush(site, ev, cpuKey);
        else this.#ct.onAssign(site, ev, cpuKey);
        return;
      case "iommu":
        this.#iommu.onEvent(site, ev, cpuKey);
        return;
      case "dma":
        this.#dma.onEvent(site, ev, cpuKey);
        return;
      case "task": {
        const child = int(site, ev, ["pid"]);
        const flags = u64(site, ev, ["clone_flags"]);
        this.#mm.newTask(ev.pid, child, flags);
        if ((flags & CLONE_VM) === 0n) {
          this.#b.processEvent({
            ts: ev.ts,
            kind: "fork",
            pid: ev.pid,
            child_pid: child,
            mm: this.#mm.of(ev.pid),
          });
        }
        return;
      }
      case "sched":
        this.#sched(site, ev);
        return;
      case "mmap": {
        const mm = this.#mm.exitMmap(ev.pid, hex(u64(site, ev, ["mm"])), ev.ts);
        this.#b.closeBindingsOfMm(mm, ev.ts, "topology");
        this.#exit(ev.ts, ev.pid, mm);
        return;
      }
      case "syscalls":
      case "tlb":
        if (this.#o.whatIf) this.#sys.onEvent(site, ev, cpuKey);
        else this.#b.count("what_if_events");
        return;
    }
  }

  #sched(site: EventSite, ev: TraceEvent): void {
    switch (ev.event) {
      case "sched_process_fork":
        this.#mm.fork(int(site, ev, ["parent_pid"]), int(site, ev, ["child_pid"]));
        return;
      case "sched_process_exec": {
        const pid = int(site, ev, ["pid"]);
        const mm = this.#mm.exec(pid, optInt(site, ev, ["old_pid"]) ?? pid);
        this.#b.processEvent({ ts: ev.ts, kind: "exec", pid, child_pid: null, mm });
        if (this.#topoComm.size > 0) this.#bindByComm({ ...ev, pid });
        return;
      }
      case "sched_process_exit": {
        const pid = int(site, ev, ["pid"]);
        // group_dead (6.16+): the last thread left, the mm goes away; older kernels: exit_mmap only
        if (optInt(site, ev, ["group_dead"]) === 1) this.#exit(ev.ts, pid, this.#mm.of(pid));
        return;
      }
      case "sched_process_free":
        this.#mm.free(int(site, ev, ["pid"]));
        str(site, ev, ["comm"]);
        return;
    }
  }

  /** One `exit` process event per mm (exit_mmap and a group-dead exit may both report it). */
  #exit(ts: bigint, pid: number, mm: MmRef): void {
    if (this.#exited.has(mm)) return;
    this.#exited.add(mm);
    this.#b.processEvent({ ts, kind: "exit", pid, child_pid: null, mm });
  }

  /**
   * Ends the stream and returns the tables.
   *
   * @returns the canonical tables
   */
  finish(): CanonicalTables {
    return this.#finish().tables;
  }

  /**
   * Ends a streamed normalization (one with a `sink`): the remaining rows go to the sink.
   *
   * @returns the tables kept in memory and the resolver of the sink's keys
   * @throws {UsageError} without a sink
   */
  finishStream(): StreamedCanonical {
    if (!this.#streaming) throw new UsageError("Normalizer: finishStream needs a sink");
    const r = this.#finish();
    return { tables: r.tables, resolver: r.resolver! };
  }

  #finish(): { tables: CanonicalTables; resolver: StreamResolver | null } {
    if (this.#finished) throw new UsageError("Normalizer: finish called twice");
    this.#finished = true;
    this.#qi.finish();
    this.#ct.finish();
    this.#iommu.finish();
    const b = this.#b;
    b.release(null);
    const sources = b.requestSources;
    const present = new Set(sources.keys());
    const whatIf = this.#o.whatIf === true;
    let svaClass: readonly string[] = [];
    if (!whatIf) svaClass = SVA_CLASSES.find((c) => c.some((s) => present.has(s))) ?? [];
    const keep = (r: { source: string }) =>
      DMA_SOURCES.has(r.source) || (whatIf ? WHAT_IF.has(r.source) : svaClass.includes(r.source));
    let dropped = 0;
    for (const [source, n] of sources) if (!keep({ source })) dropped += n;
    const tables = b.finish(keep, this.#statements(present, svaClass, dropped));
    return { tables, resolver: this.#streaming ? b.resolver(keep) : null };
  }

  #statements(present: Set<string>, svaClass: readonly string[], dropped: number): string[] {
    const s: string[] = [];
    const b = this.#b;
    const seen = (k: string) => {
      const i = k.indexOf(":");
      return (this.#info.get(k.slice(0, i))?.get(k.slice(i + 1))?.seen ?? 0) > 0;
    };
    const c = (k: string) => b.counts.get(k) ?? 0;
    const probeKinds = this.#probes.seen;
    const pk = (k: string) => (probeKinds.get(k) ?? 0) > 0;
    // Bindings.
    const bindSources = new Set(b.bindingRecs.map((r) => r.source));
    if (pk("sva_bind") || pk("set_dev_pasid")) {
      s.push("bindings from SVA bind / set_dev_pasid probe events");
    } else if (bindSources.has("cache_tag") || bindSources.has("cache_tag_flush")) {
      s.push("no bind events: bindings inferred from cache tags");
    } else if (bindSources.has("qi_submit")) {
      s.push(
        "no bind events: bindings inferred from p_dev_tlb_inv descriptors (device by SID, bind and unbind times unknown, non-ATS devices invisible)",
      );
    } else if (bindSources.has("topology")) {
      s.push("bindings from the topology only (what-if)");
    } else s.push("no bindings in the trace");
    if (c("unnamed_bindings") > 0) {
      s.push(
        `${
          c("unnamed_bindings")
        } IOTLB-only cache-tag attaches name no device (non-ATS): device shown as ?<iommu>#<n>`,
      );
    }
    if (c("attach_bindings") > 0) {
      s.push(
        `${
          c("attach_bindings")
        } DMA-API bindings from iommu:attach_device_to_domain (domain type unknown)`,
      );
    }
    if (c("bindings_before_trace") > 0) {
      s.push(
        `${c("bindings_before_trace")} bindings existed before the trace started (from_ts null)`,
      );
    }
    // Requests.
    if (this.#o.whatIf) {
      s.push(
        "what-if mode: requests from syscall ranges and CPU TLB flushes (tlb_flush: page count only, no address)",
      );
      if (this.#sys.skippedMadvise > 0) {
        s.push(`${this.#sys.skippedMadvise} madvise calls skipped (behaviour does not zap pages)`);
      }
    } else if (svaClass.includes("mmu_notifier")) {
      s.push("SVA requests from the mmu-notifier probe (exact mm ranges)");
    } else if (
      svaClass.includes("cache_tag_flush_range") || svaClass.includes("cache_tag_flush_all") ||
      svaClass.includes("cache_tag_flush_range_np")
    ) {
      s.push(
        "SVA requests from cache_tag_flush events (the kernel's ranges, one request per flush, per-tag fan-out merged)",
      );
    } else if (svaClass.includes("qi_submit")) {
      s.push(
        "SVA requests reconstructed from p_iotlb_inv descriptors (aligned ranges, may over-cover the mm range; per-device repeats merged)",
      );
    } else s.push("no SVA invalidation requests in the trace");
    if (dropped > 0) {
      s.push(
        `${dropped} requests from lower-priority sources dropped as duplicates of the chosen source`,
      );
    }
    if (!this.#o.whatIf && c("what_if_events") > 0) {
      s.push(`${c("what_if_events")} syscall/tlb_flush events not used as requests (what-if off)`);
    }
    if (present.has("dma_unmap")) {
      s.push(
        "DMA requests from dma:* unmap events (no mm, no PASID; the unmapping device is not in the row)",
      );
    }
    if (present.has("iommu_unmap")) {
      s.push("iommu:unmap events without a DMA event are requests with no device");
    }
    if (this.#ct.dmaFlushes > 0) {
      s.push(`${this.#ct.dmaFlushes} cache-tag flushes of PASID 0 (DMA domains) are not requests`);
    }
    // Submissions.
    if (this.#qi.descriptors > 0) {
      if (this.#qi.inferredSubmissions === 0) {
        s.push("VT-d submission boundaries from the qi_submit_sync probe (exact)");
      } else {
        s.push(
          `VT-d submission boundaries inferred for ${this.#qi.inferredSubmissions} submissions (same CPU and IOMMU, back to back; batched after cache-tag flushes; see qi_submit.ts)`,
        );
      }
      s.push(
        "the inv_wait descriptor qi_submit_sync appends to every submission is not traced: one per submission",
      );
    }
    if (this.#probes.uncapturedSmmu > 0) {
      s.push(
        `${this.#probes.uncapturedSmmu} SMMUv3 commands beyond the probe's captured array were not decoded`,
      );
    }
    // mm identity.
    if (this.#mm.pointersLearned > 0) {
      s.push("mm ids are kernel pointers where exit_mmap or probes named them, else pid:<pid>");
    } else if (
      seen("task:task_newtask") || seen("sched:sched_process_exec") ||
      seen("sched:sched_process_fork")
    ) {
      s.push(
        "mm ids are synthetic (pid:<pid>, /exec<n> after exec); threads share their creator's mm",
      );
    }
    if (this.#mm.assumedForks > 0) {
      s.push(
        `${this.#mm.assumedForks} children seen only via sched_process_fork: assumed forks (new mm)`,
      );
    }
    if (this.#dma.unmatchedSg > 0) {
      s.push(`${this.#dma.unmatchedSg} dma_unmap_sg events without their dma_map_sg: no request`);
    }
    for (const [k, n] of this.#malformed) s.push(`${n} malformed ${k} events skipped`);
    if (c("nesting_tags") > 0) {
      s.push(`${c("nesting_tags")} nesting cache-tag events not used for bindings`);
    }
    if (this.#probes.filtered > 0) {
      s.push(`${this.#probes.filtered} probe events filtered out by their mapping's where clause`);
    }
    return s;
  }
}

/**
 * Normalizes a stream of decoded events into the canonical IOMMU tables.
 *
 * @param events events in time order
 * @param opts options
 * @returns the canonical tables and the support statements
 * @throws {TraceError} on a malformed event (unless `onMalformed` is `skip`)
 * @example
 * ```ts
 * import { normalize } from "./normalize.ts";
 * const t = normalize([]);
 * console.assert(t.requests.length === 0 && t.statements.includes("no bindings in the trace"));
 * ```
 */
export function normalize(
  events: Iterable<TraceEvent>,
  opts: NormalizeOptions = {},
): CanonicalTables {
  const n = new Normalizer(opts);
  for (const ev of events) n.push(ev);
  return n.finish();
}
