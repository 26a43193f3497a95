/**
 * The `intel_iommu:qi_submit` family: every VT-d invalidation descriptor the kernel queued,
 * grouped into submissions, plus what the descriptors reveal about devices, bindings and (on
 * kernels without cache tags) the invalidated ranges.
 *
 * ## Submission boundaries
 *
 * `qi_submit` fires once per caller descriptor inside `qi_submit_sync()`, under the queue lock
 * with interrupts off; the wait descriptor the function appends is not traced. So:
 *
 * - **Exact** (a `qi_submit_sync` probe event, see `core/probes/intel.json`): the next `count`
 *   `qi_submit` events on that CPU are one submission.
 * - **Inferred** otherwise. A *run* is a maximal sequence of `qi_submit` events on one CPU, for
 *   one IOMMU, with no other normalizer event on that CPU in between, each within `gapNs`
 *   (default 2000 ns) of the previous. A run ends at the first event (on any CPU) more than
 *   `gapNs` after its last descriptor, so an idle CPU does not hold it open (and the rows after it
 *   can stream out). A run is split into submissions by these rules:
 *   1. A traced `inv_wait` starts a submission that takes the (at most two) IOTLB / dev-TLB
 *      descriptors after it: the kernel's PRQ drain submits `[inv_wait(fence), p_iotlb,
 *      p_dev_tlb]` in one call with `QI_OPT_WAIT_DRAIN`.
 *   2. IOTLB / dev-TLB descriptors of a run that directly follows `cache_tag_flush_*` events on
 *      its CPU, while batching is on (option `batching`; `"auto"` = on once any cache-tag event
 *      was seen, i.e. a 6.10+ kernel), are one batched submission, split every `maxBatch` (16).
 *      On 6.10/6.11 such runs hold one descriptor anyway: the kernel traces each tag before
 *      submitting it.
 *   3. Every other descriptor is its own submission (callers outside the cache-tag flush path,
 *      and every caller before 6.12, submit one descriptor per call).
 *   Known ambiguity: callers that batch outside the cache-tag path, or several single calls
 *   made right after a cache-tag flush, cannot be told apart without the probe.
 *
 * ## Requests from descriptors (kernels without cache tags)
 *
 * Pre-6.10 kernels flush per device: for each bound device, the p_iotlb chunk(s) then the
 * p_dev_tlb chunk(s). One request groups, on one CPU and PASID, p_iotlb descriptors within
 * `requestGapNs` (default 20 µs) of each other: the first device pass may add at most two
 * adjacent, equal-size chunks (the v5.11 alignment split); later passes must repeat chunks
 * already seen. A PASID-selective p_iotlb is a full request. The range is the aligned range the
 * hardware was asked to drop, not the exact mm range, and the source is `qi_submit`; the
 * normalizer keeps these only when the trace has no better source (cache tags, mmu-notifier probe).
 * Not requests: the PASID teardown (`pc_inv` followed by p_iotlb / p_dev_tlb of that PASID, at
 * unbind or mm release) and the PRQ drain submission. Their rows carry `ctx=teardown` /
 * `ctx=prq_drain` in `fields`, so consumers can tell them from request-driven invalidations.
 *
 * ## Bindings from descriptors (when there are no cache tags and no bind probes)
 *
 * A p_dev_tlb for (IOMMU, SID, PASID) shows the device bound to the PASID (`from_ts` null: the
 * bind itself is not traced); the device's teardown p_dev_tlb ends the binding.
 *
 * @module
 */
import type { TraceEvent } from "../event.ts";
import { type CanonicalBuilder, END_ALL, type RequestRec } from "./builder.ts";
import { type EventSite, str, u64 } from "./fields.ts";
import { decodeVtdDescriptor, type VtdDescriptor, vtdFieldsText } from "./vtd_descriptor.ts";

/** Options of the qi_submit decoder. */
export interface QiSubmitOptions {
  /** Max gap between descriptors of one inferred run (ns). */
  gapNs: bigint;
  /** Max descriptors per batched submission (`QI_MAX_BATCHED_DESC_COUNT`). */
  maxBatch: number;
  /** Whether runs after cache-tag flushes are batched; `auto` = once cache tags are seen. */
  batching: "auto" | boolean;
  /** Max gap between p_iotlb descriptors of one inferred request (ns). */
  requestGapNs: bigint;
}

interface Item {
  ts: bigint;
  cpu: number;
  pid: number;
  iommu: string;
  desc: VtdDescriptor;
}

interface Run {
  iommu: string | null;
  items: Item[];
  lastTs: bigint;
  /** Remaining descriptors of an exact (probe) submission, null when inferred. */
  explicit: number | null;
  /** The run started right after cache-tag flush events on its CPU. */
  afterCacheTag: boolean;
}

interface ReqGroup {
  pasid: number;
  chunks: string[];
  repeated: boolean;
  lastTs: bigint;
  rec: RequestRec;
  chunkSize: bigint | null;
}

const BATCHABLE = new Set(["iotlb_inv", "dev_tlb_inv", "p_iotlb_inv", "p_dev_tlb_inv"]);

/** The decoder; one instance per normalization. */
export class QiSubmitDecoder {
  #b: CanonicalBuilder;
  #o: QiSubmitOptions;
  #runs = new Map<string, Run>();
  #afterCt = new Set<string>();
  #groups = new Map<string, ReqGroup>();
  #teardown = new Map<string, number>();
  /** Set by the normalizer once any cache-tag event was seen. */
  cacheTagsSeen = false;
  /** Set by the normalizer once a bind/unbind probe event was seen (no binding inference then). */
  bindEventsSeen = false;
  /** Number of exact submissions (from the probe). */
  exactSubmissions = 0;
  /** Number of inferred submissions. */
  inferredSubmissions = 0;
  /** Number of descriptors seen. */
  descriptors = 0;

  /**
   * Creates the decoder.
   *
   * @param b the collector
   * @param o options
   */
  constructor(b: CanonicalBuilder, o: QiSubmitOptions) {
    this.#b = b;
    this.#o = o;
  }

  /**
   * Handles one `intel_iommu:qi_submit` event.
   *
   * @param site stream location for errors
   * @param ev the event
   * @param cpuKey per-CPU state key (buffer + CPU)
   */
  onQiSubmit(site: EventSite, ev: TraceEvent, cpuKey: string): void {
    const qw0 = u64(site, ev, ["qw0"]);
    const qw1 = u64(site, ev, ["qw1"]);
    const qw2 = ev.fields["qw2"] === undefined ? 0n : u64(site, ev, ["qw2"]);
    const qw3 = ev.fields["qw3"] === undefined ? 0n : u64(site, ev, ["qw3"]);
    const iommu = str(site, ev, ["iommu"]);
    this.#b.iommu(iommu, "intel", "trace");
    this.descriptors++;
    const item: Item = {
      ts: ev.ts,
      cpu: ev.cpu,
      pid: ev.pid,
      iommu,
      desc: decodeVtdDescriptor(qw0, qw1, qw2, qw3),
    };
    let run = this.#runs.get(cpuKey);
    if (run && run.explicit !== null) {
      if (run.iommu === null || run.iommu === iommu) {
        run.iommu = iommu;
        run.items.push(item);
        run.lastTs = ev.ts;
        run.explicit--;
        if (run.explicit <= 0) this.#close(cpuKey, run);
        return;
      }
      this.#close(cpuKey, run);
      run = undefined;
    }
    if (run) {
      const cont = run.iommu === iommu && ev.ts - run.lastTs <= this.#o.gapNs;
      if (!cont) {
        this.#close(cpuKey, run);
        run = undefined;
      }
    }
    if (!run) {
      run = {
        iommu,
        items: [],
        lastTs: ev.ts,
        explicit: null,
        afterCacheTag: this.#afterCt.has(cpuKey),
      };
      this.#runs.set(cpuKey, run);
    }
    run.items.push(item);
    run.lastTs = ev.ts;
  }

  /**
   * A `qi_submit_sync` probe event: the next `count` descriptors on this CPU are one submission.
   *
   * @param cpuKey per-CPU key
   * @param count descriptors the caller passed
   * @param iommu the unit, when the probe fetched it
   */
  onSubmitSync(cpuKey: string, count: number, iommu: string | null): void {
    const run = this.#runs.get(cpuKey);
    if (run) this.#close(cpuKey, run);
    this.#afterCt.delete(cpuKey);
    if (count <= 0) return;
    if (iommu !== null) this.#b.iommu(iommu, "intel", "probe");
    this.#runs.set(cpuKey, {
      iommu,
      items: [],
      lastTs: 0n,
      explicit: count,
      afterCacheTag: false,
    });
  }

  /**
   * Another normalizer event happened on this CPU: an inferred run ends there.
   *
   * @param cpuKey per-CPU key
   * @param isCacheTagFlush whether that event was a `cache_tag_flush_*` event
   */
  interrupt(cpuKey: string, isCacheTagFlush: boolean): void {
    if (
      !isCacheTagFlush && this.#runs.size === 0 && this.#afterCt.size === 0 &&
      this.#groups.size === 0 && this.#teardown.size === 0
    ) return;
    const run = this.#runs.get(cpuKey);
    if (run && run.explicit === null) this.#close(cpuKey, run);
    if (isCacheTagFlush) this.#afterCt.add(cpuKey);
    else {
      this.#afterCt.delete(cpuKey);
      this.#groups.delete(cpuKey);
      this.#teardown.delete(cpuKey);
    }
  }

  /**
   * The time of the oldest row this decoder may still emit or change: the first descriptor of an
   * open run, or an open request group's request while a later descriptor could still extend it.
   *
   * @param now the current event's time (later descriptors come no earlier)
   * @returns that time, or null when nothing is held
   */
  pendingSince(now: bigint): bigint | null {
    let m: bigint | null = null;
    for (const run of this.#runs.values()) {
      const first = run.items[0];
      if (first !== undefined && (m === null || first.ts < m)) m = first.ts;
    }
    if (this.#groups.size > 0) {
      // descriptors still to be emitted are no older than `floor`
      const floor = m !== null && m < now ? m : now;
      for (const g of this.#groups.values()) {
        if (g.lastTs + this.#o.requestGapNs < floor) continue;
        if (m === null || g.rec.ts < m) m = g.rec.ts;
      }
    }
    return m;
  }

  /**
   * Ends the inferred runs that no descriptor can continue any more: the last one is more than
   * `gapNs` before `now` (the time of the event about to be handled).
   *
   * @param now the current event's time
   */
  expire(now: bigint): void {
    if (this.#runs.size === 0) return;
    const gap = this.#o.gapNs;
    for (const [k, run] of this.#runs) {
      if (run.explicit === null && now - run.lastTs > gap) this.#close(k, run);
    }
  }

  /** Closes every open run (end of stream). */
  finish(): void {
    for (const [k, run] of [...this.#runs]) this.#close(k, run);
  }

  #close(cpuKey: string, run: Run): void {
    if (this.#runs.get(cpuKey) === run) this.#runs.delete(cpuKey);
    this.#afterCt.delete(cpuKey);
    if (run.items.length === 0) return;
    const groups: Item[][] = [];
    if (run.explicit !== null) {
      groups.push(run.items);
      this.exactSubmissions++;
    } else {
      const batching = this.#o.batching === "auto" ? this.cacheTagsSeen : this.#o.batching;
      const items = run.items;
      let i = 0;
      while (i < items.length) {
        const it = items[i]!;
        if (it.desc.kind === "inv_wait") {
          const g: Item[] = [items[i++]!];
          while (i < items.length && g.length < 3 && BATCHABLE.has(items[i]!.desc.kind)) {
            g.push(items[i++]!);
          }
          groups.push(g);
          continue;
        }
        if (batching && run.afterCacheTag && BATCHABLE.has(it.desc.kind)) {
          const g: Item[] = [];
          while (
            i < items.length && g.length < this.#o.maxBatch && BATCHABLE.has(items[i]!.desc.kind)
          ) g.push(items[i++]!);
          groups.push(g);
          continue;
        }
        groups.push([it]);
        i++;
      }
      this.inferredSubmissions += groups.length;
    }
    for (const g of groups) {
      const sub = this.#b.newSubmission();
      const drain = g[0]!.desc.kind === "inv_wait";
      for (const it of g) this.#emit(cpuKey, it, sub, drain);
    }
  }

  /** True when this descriptor belongs to a PASID teardown (pc_inv, then p_iotlb/p_dev_tlb). */
  #teardownStep(cpuKey: string, d: VtdDescriptor): boolean {
    if (d.kind === "pc_inv" && d.pasid !== null) {
      this.#teardown.set(cpuKey, d.pasid);
      return true;
    }
    const td = this.#teardown.get(cpuKey);
    if (
      td !== undefined && d.pasid === td && (d.kind === "p_iotlb_inv" || d.kind === "p_dev_tlb_inv")
    ) {
      return true;
    }
    this.#teardown.delete(cpuKey);
    return false;
  }

  #emit(cpuKey: string, it: Item, sub: number, drain: boolean): void {
    const d = it.desc;
    const b = this.#b;
    const inTeardown = this.#teardownStep(cpuKey, d);
    const teardown = inTeardown || drain;
    let device = null;
    if (
      d.sid !== null && (d.type === 3 || d.type === 8 || d.type === 9 ||
        (d.type === 1 && d.granularity === "device"))
    ) {
      device = b.deviceBySid(it.iommu, d.sid, "trace");
      if (d.type === 3 || d.type === 8) {
        device.ats = true;
        if (d.qdep !== null) device.qdep = d.qdep;
      }
      if (d.type === 8) device.pasid = true;
      const infer = !this.cacheTagsSeen && !this.bindEventsSeen;
      if (d.type === 8 && d.pasid !== null && infer) {
        const open = b.openBindingOf(device, d.pasid);
        if (teardown) {
          if (open && open.source === "qi_submit") {
            b.closeBinding(device, d.pasid, it.ts, open);
          }
        } else if (!open) {
          b.openBinding({
            mm: b.pasidOwner.get(d.pasid) ?? null,
            pid: null,
            comm: null,
            pasid: d.pasid,
            device,
            iommu: it.iommu,
            domain_id: d.did,
            from_ts: null,
            to_ts: null,
            source: "qi_submit",
          });
          b.count("bindings_from_qi");
        }
      }
    }
    b.observed({
      ts: it.ts,
      cpu: it.cpu,
      iommu: it.iommu,
      submission: sub,
      kind: d.kind,
      domain_id: d.did,
      pasid: d.pasid,
      sid: d.sid,
      device,
      addr: d.addr,
      size: d.size,
      granularity: d.granularity,
      raw: d.raw,
      fields: [vtdFieldsText(d), drain ? "ctx=prq_drain" : inTeardown ? "ctx=teardown" : null]
        .filter((x) => x !== null).join(" ") || null,
    });
    if (teardown) this.#groups.delete(cpuKey);
    else this.#request(cpuKey, it);
  }

  #request(cpuKey: string, it: Item): void {
    const d = it.desc;
    if (d.kind === "p_dev_tlb_inv") return;
    if (d.kind !== "p_iotlb_inv" || d.pasid === null) {
      this.#groups.delete(cpuKey);
      return;
    }
    const full = d.granularity !== "page" || d.whole;
    const chunk = full ? "all" : `${d.addr}+${d.size}`;
    const g = this.#groups.get(cpuKey);
    if (g && g.pasid === d.pasid && it.ts - g.lastTs <= this.#o.requestGapNs) {
      if (g.chunks.includes(chunk)) {
        g.repeated = true;
        g.lastTs = it.ts;
        return;
      }
      const adjacent = !full && !g.repeated && g.chunks.length < 2 && !g.rec.full &&
        d.addr === g.rec.end && d.size === g.chunkSize;
      if (adjacent) {
        g.chunks.push(chunk);
        g.rec.end = d.addr! + d.size!;
        g.lastTs = it.ts;
        return;
      }
    }
    const start = full ? 0n : d.addr!;
    const end = full ? END_ALL : d.addr! + d.size!;
    const rec = this.#b.request({
      ts: it.ts,
      cpu: it.cpu,
      mm: this.#b.pasidOwner.get(d.pasid) ?? null,
      pid: it.pid,
      pasid: d.pasid,
      start,
      end,
      source: "qi_submit",
      full,
    });
    this.#groups.set(cpuKey, {
      pasid: d.pasid,
      chunks: [chunk],
      repeated: false,
      lastTs: it.ts,
      rec,
      chunkSize: full ? null : d.size,
    });
  }
}
