/**
 * Correctness checks that produce {@linkcode AnomalyRow}s.
 *
 * | kind | fires when |
 * |---|---|
 * | `uncovered_range` | a policy's commands for a request leave requested pages of a bound device's IOTLB or ATC not invalidated (found in `policy_run.ts`) |
 * | `unbound_pasid_invalidation` | an observed command names a PASID that no binding holds at that time (on that IOMMU, when known), give or take `unbindGraceNs` |
 * | `pasid_reused_early` | a PASID is bound to a new mm before its previous mm's unbinds completed and (when process events are given) before that mm exited |
 * | `bound_after_exit` | a binding of an mm is still active `exitGraceNs` after its process exited (unbinding right after exit is normal: `exit_mm` runs before `exit_files`) |
 * | `child_uses_parent_pasid` | after a fork, the child (its pid, with an mm other than the parent's) binds or invalidates with a PASID of its parent's mm |
 *
 * Kernel facts behind them: iommu.md §3.6 (PASID lives until the last mmdrop after all unbinds;
 * a forked or exec'd mm starts with no PASID).
 *
 * @module
 */
import type { AnomalyRow, BindingRow, ObservedCommandRow, RequestRow } from "../canonical.ts";
import type { ProcessEventRow } from "./process_event.ts";
import type { BindingState } from "./state.ts";

/** Tolerances of the checks. */
export interface CheckOptions {
  /** Commands this close (ns) to a binding's start or end still count as bound. Default 1 ms. */
  unbindGraceNs?: bigint;
  /** A binding may outlive its process's exit by this much (ns). Default 100 ms. */
  exitGraceNs?: bigint;
}

/** Default {@linkcode CheckOptions.unbindGraceNs}: 1 ms (an inference: teardown runs inside unbind). */
export const DEFAULT_UNBIND_GRACE_NS = 1_000_000n;
/** Default {@linkcode CheckOptions.exitGraceNs}: 100 ms (an inference: fds close right after exit_mm). */
export const DEFAULT_EXIT_GRACE_NS = 100_000_000n;

/**
 * Collects anomalies, keeping at most `maxPerKind` rows of each kind but counting all.
 *
 * Each kept row remembers the collector's `seq` at the time it was kept: the engine gives every
 * check and every policy run its own collector and sets `seq` to the position of the work in the
 * sequential replay order, so {@linkcode AnomalyCollector.merge} can rebuild the rows a single
 * collector would have kept, whatever order (or thread) the work actually ran in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AnomalyCollector } from "./checks.ts";
 * const c = new AnomalyCollector(1);
 * const a = { kind: "x", ts: 0n, policy: null, request_id: null, device: null, pasid: null, mm: null, detail: "" };
 * c.add(a); c.add(a);
 * assert(c.rows.length === 1 && c.counts.get("x") === 2);
 * ```
 */
export class AnomalyCollector {
  /** Kept rows, in the order found. */
  readonly rows: AnomalyRow[] = [];
  /** The `seq` each kept row was found at (parallel to `rows`). */
  readonly seqs: number[] = [];
  /** Total found, by kind. */
  readonly counts: Map<string, number> = new Map();
  /** Position in the sequential replay order of what is being checked (set by the owner). */
  seq = 0;
  readonly #max: number;

  /**
   * Creates an empty collector.
   *
   * @param maxPerKind rows kept per kind
   */
  constructor(maxPerKind = 1000) {
    this.#max = maxPerKind;
  }

  /** Rows kept per kind. */
  get maxPerKind(): number {
    return this.#max;
  }

  /**
   * Counts one anomaly of a kind without building its row, and says whether the row is wanted
   * (so hot paths format rows only while they are kept).
   *
   * @param kind the anomaly kind
   * @returns true when the caller should `keep` the row
   */
  count(kind: string): boolean {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    return n <= this.#max;
  }

  /**
   * Counts anomalies of a kind whose rows are not wanted any more (the kind already has
   * `maxPerKind` rows).
   *
   * @param kind the anomaly kind
   * @param n how many
   */
  countMore(kind: string, n: number): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  /**
   * Keeps a row already counted with {@linkcode AnomalyCollector.count}.
   *
   * @param a the row
   */
  keep(a: AnomalyRow): void {
    this.rows.push(a);
    this.seqs.push(this.seq);
  }

  /**
   * Records one anomaly.
   *
   * @param a the row
   */
  add(a: AnomalyRow): void {
    if (this.count(a.kind)) this.keep(a);
  }

  /**
   * Merges collectors: counts add up, and the rows kept are the first `maxPerKind` of each kind in
   * `seq` order (rows with equal `seq` keep their collector's order). When each collector kept the
   * first rows of its own work and `seq`s of different collectors never tie, that is exactly what
   * one collector fed in `seq` order would hold.
   *
   * @param parts the collectors (or their rows, seqs and counts)
   * @param maxPerKind rows kept per kind
   * @returns the merged collector
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AnomalyCollector } from "./checks.ts";
   * const r = (detail: string) => ({ kind: "x", ts: 0n, policy: null, request_id: null, device: null,
   *   pasid: null, mm: null, detail });
   * const a = new AnomalyCollector(2), b = new AnomalyCollector(2);
   * a.seq = 3; a.add(r("a3")); b.seq = 1; b.add(r("b1")); b.seq = 5; b.add(r("b5"));
   * const m = AnomalyCollector.merge([a, b], 2);
   * assert.deepEqual(m.rows.map((x) => x.detail), ["b1", "a3"]);
   * assert(m.counts.get("x") === 3);
   * ```
   */
  static merge(
    parts: readonly Pick<AnomalyCollector, "rows" | "seqs" | "counts">[],
    maxPerKind: number,
  ): AnomalyCollector {
    const out = new AnomalyCollector(maxPerKind);
    const all: { seq: number; part: number; i: number }[] = [];
    parts.forEach((p, part) => {
      for (const [k, n] of p.counts) out.counts.set(k, (out.counts.get(k) ?? 0) + n);
      for (let i = 0; i < p.rows.length; i++) all.push({ seq: p.seqs[i]!, part, i });
    });
    all.sort((a, b) => a.seq - b.seq || a.part - b.part || a.i - b.i);
    const kept = new Map<string, number>();
    for (const x of all) {
      const row = parts[x.part]!.rows[x.i]!;
      const n = (kept.get(row.kind) ?? 0) + 1;
      kept.set(row.kind, n);
      if (n > maxPerKind) continue;
      out.rows.push(row);
      out.seqs.push(x.seq);
    }
    return out;
  }
}

function row(
  kind: string,
  ts: bigint,
  fields: {
    device?: string | null;
    pasid?: number | null;
    mm?: string | null;
    request_id?: number | null;
  },
  detail: string,
): AnomalyRow {
  return {
    kind,
    ts,
    policy: null,
    request_id: fields.request_id ?? null,
    device: fields.device ?? null,
    pasid: fields.pasid ?? null,
    mm: fields.mm ?? null,
    detail,
  };
}

/**
 * Checks an observed command's PASID against the bindings. PASID 0 (`IOMMU_NO_PASID`, used by
 * scalable-mode DMA domains) is not an SVA binding and is not checked.
 *
 * @param state the binding state
 * @param cmd the observed command
 * @param out where anomalies go
 * @param graceNs tolerance around bind/unbind
 */
export function checkObservedPasid(
  state: BindingState,
  cmd: ObservedCommandRow,
  out: AnomalyCollector,
  graceNs: bigint = DEFAULT_UNBIND_GRACE_NS,
): void {
  if (cmd.pasid === null || cmd.pasid === 0) return;
  if (state.isPasidBound(cmd.pasid, cmd.ts, cmd.iommu, graceNs)) return;
  out.add(row(
    "unbound_pasid_invalidation",
    cmd.ts,
    { device: cmd.device, pasid: cmd.pasid },
    `${cmd.kind} on ${
      cmd.iommu ?? "?"
    } for PASID ${cmd.pasid}, which no binding holds at ${cmd.ts} (command ${cmd.command_id})`,
  ));
}

interface Fork {
  ts: bigint;
  parent: number;
  parentMm: string | null;
  pasids: Set<number>;
}

function startsBy(b: BindingRow, ts: bigint): boolean {
  return b.from_ts === null || b.from_ts <= ts;
}

/**
 * Lifecycle checks over the whole binding set and the process events: `pasid_reused_early`,
 * `bound_after_exit`, and `child_uses_parent_pasid` for bindings. Requests are checked as they
 * stream by a {@linkcode ChildPasidChecker}.
 *
 * @param state the binding state
 * @param events process events, in any order
 * @param out where anomalies go
 * @param options tolerances
 * @param children the checker to use for forks (share it with the request stream to report once)
 */
export function checkLifecycle(
  state: BindingState,
  events: readonly ProcessEventRow[],
  out: AnomalyCollector,
  options: CheckOptions = {},
  children?: ChildPasidChecker,
): void {
  const exitGrace = options.exitGraceNs ?? DEFAULT_EXIT_GRACE_NS;
  const sorted = [...events].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  const exits = sorted.filter((e) => e.kind === "exit");
  const bindings = state.bindings;

  // bound_after_exit
  for (const e of exits) {
    for (const b of bindings) {
      const mine = e.mm !== null ? b.mm === e.mm : b.pid === e.pid;
      if (!mine || !startsBy(b, e.ts)) continue;
      if (b.to_ts !== null && b.to_ts <= e.ts) continue;
      if (b.to_ts !== null && b.to_ts - e.ts <= exitGrace) continue;
      out.add(row(
        "bound_after_exit",
        e.ts,
        { device: b.device, pasid: b.pasid, mm: b.mm },
        `${b.device} still bound (binding ${b.binding_id}, PASID ${b.pasid}) ${
          b.to_ts === null ? "at the end of the trace" : `until ${b.to_ts}, ${b.to_ts - e.ts} ns`
        } after pid ${e.pid} exited at ${e.ts}`,
      ));
    }
  }

  // pasid_reused_early
  const exitOf = (mm: string, after: bigint | null): bigint | null => {
    const pids = new Set(bindings.filter((b) => b.mm === mm && b.pid !== null).map((b) => b.pid));
    for (const e of exits) {
      if (after !== null && e.ts < after) continue;
      if (e.mm === mm || (e.mm === null && pids.has(e.pid))) return e.ts;
    }
    return null;
  };
  const byPasid = new Map<number, BindingRow[]>();
  for (const b of bindings) {
    if (b.pasid === null || b.mm === null) continue;
    let l = byPasid.get(b.pasid);
    if (!l) byPasid.set(b.pasid, l = []);
    l.push(b);
  }
  const reported = new Set<string>();
  for (const [pasid, list] of byPasid) {
    for (const b of list) {
      if (b.from_ts === null) continue;
      for (const old of list) {
        if (old.mm === b.mm || (old.from_ts !== null && old.from_ts >= b.from_ts)) continue;
        const key = `${pasid}\u0000${old.mm}\u0000${b.mm}`;
        if (reported.has(key)) continue;
        const oldBindings = list.filter((x) => x.mm === old.mm);
        let unbound: bigint | null = 0n; // null = never
        let first: bigint | null = null;
        for (const x of oldBindings) {
          if (x.to_ts === null) unbound = null;
          else if (unbound !== null && x.to_ts > unbound) unbound = x.to_ts;
          if (x.from_ts !== null && (first === null || x.from_ts < first)) first = x.from_ts;
        }
        const reasons: string[] = [];
        if (unbound === null) reasons.push("was never unbound");
        else if (unbound > b.from_ts) reasons.push(`was unbound only at ${unbound}`);
        if (events.length > 0) {
          const ex = exitOf(old.mm!, first);
          if (ex === null) reasons.push("had not exited");
          else if (ex > b.from_ts) reasons.push(`exited only at ${ex}`);
        }
        if (reasons.length === 0) continue;
        reported.add(key);
        out.add(row(
          "pasid_reused_early",
          b.from_ts,
          { device: b.device, pasid, mm: b.mm },
          `PASID ${pasid} bound to mm ${b.mm} at ${b.from_ts} while its previous mm ${old.mm} ${
            reasons.join(" and ")
          }`,
        ));
      }
    }
  }

  // child_uses_parent_pasid (bindings)
  const checker = children ?? new ChildPasidChecker(state, sorted);
  for (const b of bindings) checker.checkBinding(b, out);
}

/**
 * Finds children that use a PASID of their parent's mm after a fork.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BindingState } from "./state.ts";
 * import { AnomalyCollector, ChildPasidChecker } from "./checks.ts";
 * const st = new BindingState({ iommus: [], devices: [], bindings: [{
 *   binding_id: 0, mm: "P", pid: 1, comm: null, pasid: 7, device: "d", iommu: "dmar0",
 *   domain_id: 1, from_ts: 0n, to_ts: null, source: "t" }] });
 * const c = new ChildPasidChecker(st, [{ ts: 10n, kind: "fork", pid: 1, child_pid: 2, mm: "P" }]);
 * const out = new AnomalyCollector();
 * c.checkRequest({ request_id: 0, ts: 20n, cpu: 0, mm: "C", pid: 2, pasid: 7, start: 0n, end: 4096n,
 *   pages: 1n, source: "x", full: false }, out);
 * assert(out.counts.get("child_uses_parent_pasid") === 1);
 * ```
 */
export class ChildPasidChecker {
  readonly #byChild = new Map<number, Fork[]>();
  readonly #reported = new Set<string>();

  /**
   * Indexes the forks and the parents' PASIDs.
   *
   * @param state the binding state (for the parents' PASIDs)
   * @param events process events (only forks are used)
   */
  constructor(state: BindingState, events: readonly ProcessEventRow[]) {
    for (const e of events) {
      if (e.kind !== "fork" || e.child_pid === null) continue;
      let parentMm = e.mm;
      if (parentMm === null) {
        parentMm = state.bindings.find((b) =>
          b.pid === e.pid && b.mm !== null && startsBy(b, e.ts)
        )?.mm ??
          null;
      }
      const pasids = new Set<number>();
      for (const b of state.bindings) {
        if (b.pasid === null || !startsBy(b, e.ts)) continue;
        if (parentMm !== null ? b.mm === parentMm : b.pid === e.pid) pasids.add(b.pasid);
      }
      if (pasids.size === 0) continue;
      let l = this.#byChild.get(e.child_pid);
      if (!l) this.#byChild.set(e.child_pid, l = []);
      l.push({ ts: e.ts, parent: e.pid, parentMm, pasids });
    }
    for (const l of this.#byChild.values()) {
      l.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    }
  }

  #fork(pid: number | null, ts: bigint | null): Fork | null {
    if (pid === null || ts === null) return null;
    const l = this.#byChild.get(pid);
    if (!l) return null;
    let f: Fork | null = null;
    for (const x of l) if (x.ts <= ts) f = x;
    return f;
  }

  /**
   * Checks a request.
   *
   * @param r the request
   * @param out where anomalies go
   */
  checkRequest(r: RequestRow, out: AnomalyCollector): void {
    if (r.pasid === null || this.#byChild.size === 0) return;
    const f = this.#fork(r.pid, r.ts);
    if (!f || !f.pasids.has(r.pasid) || (r.mm !== null && r.mm === f.parentMm)) return;
    const key = `${r.pid}\u0000${r.pasid}\u0000${f.ts}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    out.add(row(
      "child_uses_parent_pasid",
      r.ts,
      { pasid: r.pasid, mm: r.mm, request_id: r.request_id },
      `pid ${r.pid}, forked from pid ${f.parent} at ${f.ts}, invalidates with its parent's PASID ${r.pasid} (request ${r.request_id})`,
    ));
  }

  /**
   * Checks a binding.
   *
   * @param b the binding
   * @param out where anomalies go
   */
  checkBinding(b: BindingRow, out: AnomalyCollector): void {
    if (b.pasid === null) return;
    const f = this.#fork(b.pid, b.from_ts);
    if (!f || !f.pasids.has(b.pasid) || (b.mm !== null && b.mm === f.parentMm)) return;
    const key = `${b.pid}\u0000${b.pasid}\u0000${f.ts}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    out.add(row(
      "child_uses_parent_pasid",
      b.from_ts!,
      { device: b.device, pasid: b.pasid, mm: b.mm },
      `pid ${b.pid}, forked from pid ${f.parent} at ${f.ts}, is bound to ${b.device} with its parent's PASID ${b.pasid}`,
    ));
  }
}
