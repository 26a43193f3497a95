/**
 * `dma-lazy`: DMA-API lazy mode, the IOVA flush queue (iommu.md §3.5, `drivers/iommu/dma-iommu.c`).
 *
 * Unmaps are queued per CPU in a ring of `IOVA_DEFAULT_FQ_SIZE` = 256 slots (option `fqSize`); the
 * ring keeps one slot free, so it holds 255 entries and the 256th unmap since the last flush finds it
 * full and flushes the whole domain synchronously before queueing. The first queued unmap arms a
 * per-domain timer of `IOVA_DEFAULT_FQ_TIMEOUT` = 10 ms (option `fqTimeoutNs`); when it fires the
 * domain is flushed and every CPU's queue emptied. A synchronous flush does not disarm the timer.
 * A flush is domain-wide (`flush_iotlb_all`): domain-selective `iotlb_inv` per (IOMMU, DID) plus a
 * whole-range `dev_tlb_inv` per ATS device, batched per IOMMU from v6.12.
 *
 * Timer flushes are not on any unmap's path: they count in the totals but not in per-request
 * latency, and their commands are attributed to the request that armed the timer. Invalidation is
 * deferred by design, so the per-request coverage check does not apply.
 *
 * @module
 */
import { atLeast } from "../kernel_version.ts";
import { FULL, type PolicyFactory, policyKernel, type ReplayPolicy } from "../policy.ts";
import type { BindingView } from "../state.ts";
import { DMA_KINDS, emitDomainFlush, WAIT } from "./_dma_vtd_common.ts";

const DESCRIPTION =
  "DMA-API lazy: per-CPU flush queue of 256 slots / 10 ms timer, domain-wide flush (iotlb_inv + dev_tlb_inv)";

interface DomainQueue {
  view: BindingView;
  /** Entries queued per CPU since the last flush. */
  perCpu: Map<number, number>;
  /** Timer deadline (ns), or -1 when not armed. */
  deadline: number;
  /** Request that armed the timer. */
  armedBy: number;
}

/**
 * The `dma-lazy` policy factory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dmaLazy } from "./dma_lazy.ts";
 * assert(dmaLazy.create({ fqSize: 4 }).deferred);
 * ```
 */
export const dmaLazy: PolicyFactory = {
  name: "dma-lazy",
  description: DESCRIPTION,
  vendor: "intel",
  defaultKernel: "6.12",
  create(options): ReplayPolicy {
    const batch = atLeast(policyKernel(options, "6.12"), 6, 12) ? options.maxBatch ?? 16 : 1;
    const capacity = (options.fqSize ?? 256) - 1;
    const timeout = options.fqTimeoutNs ?? 10_000_000;
    const queues = new Map<string, DomainQueue>();
    const flushAll = (q: DomainQueue, out: Parameters<ReplayPolicy["evaluate"]>[2]) => {
      emitDomainFlush(q.view, out, 0, FULL, FULL, batch);
      q.perCpu.clear();
    };
    const fire = (q: DomainQueue, out: Parameters<ReplayPolicy["evaluate"]>[2]) => {
      out.beginAsync(q.armedBy, q.view);
      flushAll(q, out);
      out.endAsync();
      q.deadline = -1;
    };
    return {
      name: "dma-lazy",
      description: DESCRIPTION,
      kinds: DMA_KINDS,
      waitKind: WAIT,
      parallelIommus: false,
      implicitIotlb: false,
      deferred: true,
      scope: "dma",
      advance(tsNs, out) {
        for (const q of queues.values()) if (q.deadline >= 0 && q.deadline <= tsNs) fire(q, out);
      },
      evaluate(req, view, out) {
        let q = queues.get(view.key);
        if (!q) queues.set(view.key, q = { view, perCpu: new Map(), deadline: -1, armedBy: -1 });
        q.view = view;
        const n = q.perCpu.get(req.cpu) ?? 0;
        if (n >= capacity) {
          flushAll(q, out);
          q.perCpu.set(req.cpu, 1);
        } else q.perCpu.set(req.cpu, n + 1);
        if (q.deadline < 0) {
          q.deadline = req.tsNs + timeout;
          q.armedBy = req.id;
        }
      },
      finish(out) {
        for (const q of queues.values()) if (q.deadline >= 0) fire(q, out);
      },
    };
  },
};
