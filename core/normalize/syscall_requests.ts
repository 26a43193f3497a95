/**
 * What-if requests from an mm trace: syscall ranges and CPU TLB flushes, for replaying a trace
 * recorded on a machine without SVA hardware (with the bindings from a topology file).
 *
 * Used only when the normalizer's `whatIf` option is on; otherwise these events are counted.
 *
 * - `syscalls:sys_enter_munmap` (`addr`, `len`) -> `[addr, addr + len)`.
 * - `syscalls:sys_enter_mprotect` (`start`, `len`) -> `[start, start + len)`.
 * - `syscalls:sys_enter_madvise` (`start`, `len_in`, `behavior`) -> `[start, start + len_in)` for
 *   the behaviours that zap or reclaim pages (`MADV_DONTNEED` 4, `MADV_FREE` 8, `MADV_REMOVE` 9,
 *   `MADV_PAGEOUT` 21, `MADV_DONTNEED_LOCKED` 24); others are counted and skipped.
 * - `syscalls:sys_enter_mremap` (`addr`, `old_len`, `new_len`, ...): a shrink in place drops
 *   `[addr + new_len, addr + old_len)`; anything else may move the mapping, so the whole old range
 *   `[addr, addr + old_len)` is requested.
 * - `tlb:tlb_flush` (`reason`, `pages`): only the initiator's flush counts: `remote ipi send` (4),
 *   or a `local shootdown` (2) / `local mm shootdown` (3) that does not directly follow a
 *   `remote ipi send` on the same CPU. Task-switch (0) and received remote shootdowns (1, 5) are
 *   not mm invalidations. The event has no address: the request is `[0, pages * 4 KiB)` (a size,
 *   not a place) and `pages == -1` is a full flush.
 *
 * The mm is the calling task's current mm (see `mm_tracker.ts`); the PASID is the one currently
 * bound to that mm, if any.
 *
 * @module
 */
import type { TraceEvent } from "../event.ts";
import { type CanonicalBuilder, END_ALL } from "./builder.ts";
import { type EventSite, int, u64, U64_MAX } from "./fields.ts";
import type { MmTracker } from "./mm_tracker.ts";

/** madvise behaviours that invalidate translations. */
export const ZAPPING_MADVISE = new Set([4, 8, 9, 21, 24]);

/** The decoder; one instance per normalization. */
export class SyscallRequestDecoder {
  #b: CanonicalBuilder;
  #mm: MmTracker;
  #lastIpi = new Set<string>();
  /** madvise calls skipped because their behaviour does not zap. */
  skippedMadvise = 0;
  /** Requests made. */
  requests = 0;

  /**
   * Creates the decoder.
   *
   * @param b the collector
   * @param mm the mm tracker
   */
  constructor(b: CanonicalBuilder, mm: MmTracker) {
    this.#b = b;
    this.#mm = mm;
  }

  /**
   * Another event on this CPU (ends a pending remote-IPI pairing).
   *
   * @param cpuKey per-CPU key
   */
  interrupt(cpuKey: string): void {
    this.#lastIpi.delete(cpuKey);
  }

  /**
   * Handles one syscall or tlb_flush event.
   *
   * @param site stream location
   * @param ev the event
   * @param cpuKey per-CPU key
   */
  onEvent(site: EventSite, ev: TraceEvent, cpuKey: string): void {
    if (ev.system === "tlb") {
      const reason = int(site, ev, ["reason"]);
      const pages = u64(site, ev, ["pages"]);
      const afterIpi = this.#lastIpi.delete(cpuKey);
      if (reason === 4) this.#lastIpi.add(cpuKey);
      const initiator = reason === 4 || ((reason === 2 || reason === 3) && !afterIpi);
      if (!initiator) return;
      const full = pages === U64_MAX;
      this.#add(ev, 0n, full ? END_ALL : pages << 12n, "tlb_flush", full);
      return;
    }
    this.#lastIpi.delete(cpuKey);
    switch (ev.event) {
      case "sys_enter_munmap": {
        const a = u64(site, ev, ["addr"]);
        this.#add(ev, a, a + u64(site, ev, ["len"]), "munmap", false);
        return;
      }
      case "sys_enter_mprotect": {
        const a = u64(site, ev, ["start"]);
        this.#add(ev, a, a + u64(site, ev, ["len"]), "mprotect", false);
        return;
      }
      case "sys_enter_madvise": {
        const behavior = Number(BigInt.asIntN(32, u64(site, ev, ["behavior"])));
        if (!ZAPPING_MADVISE.has(behavior)) {
          this.skippedMadvise++;
          return;
        }
        const a = u64(site, ev, ["start"]);
        this.#add(ev, a, a + u64(site, ev, ["len_in", "len"]), "madvise", false);
        return;
      }
      case "sys_enter_mremap": {
        const a = u64(site, ev, ["addr"]);
        const oldLen = u64(site, ev, ["old_len"]);
        const newLen = u64(site, ev, ["new_len"]);
        if (newLen < oldLen) this.#add(ev, a + newLen, a + oldLen, "mremap", false);
        else this.#add(ev, a, a + oldLen, "mremap", false);
        return;
      }
    }
  }

  #add(ev: TraceEvent, start: bigint, endRaw: bigint, source: string, full: boolean): void {
    const end = endRaw > END_ALL ? END_ALL : endRaw;
    if (!full && end <= start) return;
    const mm = this.#mm.of(ev.pid);
    this.#b.request({
      ts: ev.ts,
      cpu: ev.cpu,
      mm,
      pid: ev.pid,
      pasid: this.#b.pasidOfMm(mm),
      start: full ? 0n : start,
      end: full ? END_ALL : end,
      source,
      full,
    });
    this.requests++;
  }
}
