import assert from "node:assert/strict";
import { AnomalyCollector, checkLifecycle, checkObservedPasid } from "./checks.ts";
import type { ProcessEventRow } from "./process_event.ts";
import { replay } from "./run.ts";
import { BindingState } from "./state.ts";
import { bind, observed, req, topo } from "./testdata/fixtures.ts";

const t = topo({ dmar0: "intel" }, [["a", "dmar0", true], ["b", "dmar0", true]]);

function lifecycle(st: BindingState, events: ProcessEventRow[]) {
  const out = new AnomalyCollector();
  checkLifecycle(st, events, out);
  return out;
}

Deno.test("unbound_pasid_invalidation: outside the binding, beyond the grace", () => {
  const st = new BindingState({
    ...t,
    bindings: bind(t, "mm1", 5, ["a"], { from_ts: 1000n, to_ts: 2000n }),
  });
  const out = new AnomalyCollector();
  checkObservedPasid(st, observed(0, 1500n, "p_iotlb_inv"), out, 10n);
  checkObservedPasid(st, observed(1, 2005n, "p_iotlb_inv"), out, 10n); // teardown within the grace
  checkObservedPasid(st, observed(2, 2011n, "p_iotlb_inv"), out, 10n);
  checkObservedPasid(st, observed(3, 1500n, "p_iotlb_inv", { pasid: 6 }), out, 10n);
  checkObservedPasid(st, observed(4, 1500n, "p_iotlb_inv", { iommu: "dmar1" }), out, 10n);
  checkObservedPasid(st, observed(5, 9999n, "p_iotlb_inv", { pasid: 0 }), out, 10n); // RID_PASID: not SVA
  assert.deepEqual(out.rows.map((a) => a.detail.match(/command (\d+)/)![1]), ["2", "3", "4"]);
  assert.equal(out.rows[0]!.kind, "unbound_pasid_invalidation");
});

Deno.test("pasid_reused_early: before unbind, before exit; fine after both", () => {
  const old = bind(t, "mmA", 9, ["a"], { from_ts: 0n, to_ts: 500n, pid: 1 });
  const early = bind(t, "mmB", 9, ["b"], { firstId: 1, from_ts: 400n, pid: 2 });
  const st = new BindingState({ ...t, bindings: [...old, ...early] });
  const out = lifecycle(st, [{ ts: 300n, kind: "exit", pid: 1, child_pid: null, mm: "mmA" }]);
  assert.equal(out.counts.get("pasid_reused_early"), 1);
  assert.match(
    out.rows.find((a) => a.kind === "pasid_reused_early")!.detail,
    /was unbound only at 500/,
  );

  const late = bind(t, "mmB", 9, ["b"], { firstId: 1, from_ts: 600n, pid: 2 });
  const st2 = new BindingState({ ...t, bindings: [...old, ...late] });
  assert.equal(
    lifecycle(st2, [{ ts: 300n, kind: "exit", pid: 1, child_pid: null, mm: "mmA" }]).counts.get(
      "pasid_reused_early",
    ),
    undefined,
  );
  // exit after the reuse
  const out3 = lifecycle(st2, [{ ts: 700n, kind: "exit", pid: 1, child_pid: null, mm: null }]);
  assert.match(
    out3.rows.find((a) => a.kind === "pasid_reused_early")!.detail,
    /exited only at 700/,
  );
  // no process events at all: only the unbinds are checked
  assert.equal(lifecycle(st2, []).counts.get("pasid_reused_early"), undefined);
});

Deno.test("bound_after_exit: unbinding right after exit is normal, staying bound is not", () => {
  const bindings = [
    ...bind(t, "mm1", 5, ["a"], { from_ts: 0n, to_ts: 1_000_050n, pid: 7 }),
    ...bind(t, "mm1", 5, ["b"], { firstId: 1, from_ts: 0n, to_ts: null, pid: 7 }),
  ];
  const st = new BindingState({ ...t, bindings });
  const out = lifecycle(st, [{ ts: 1_000_000n, kind: "exit", pid: 7, child_pid: null, mm: null }]);
  assert.equal(out.counts.get("bound_after_exit"), 1);
  assert.equal(out.rows[0]!.device, "b");
  assert.match(out.rows[0]!.detail, /at the end of the trace/);
});

Deno.test("child_uses_parent_pasid: from requests and from bindings, once per child and PASID", () => {
  const bindings = [
    ...bind(t, "P", 5, ["a"], { from_ts: 0n, pid: 10 }),
    ...bind(t, "C", 5, ["b"], { firstId: 1, from_ts: 200n, pid: 11 }),
  ];
  const events: ProcessEventRow[] = [{ ts: 100n, kind: "fork", pid: 10, child_pid: 11, mm: null }];
  const r = replay({
    ...t,
    bindings,
    process_events: events,
    requests: [
      req(0, 300n, 0, 1, { mm: null, pid: 11, pasid: 5 }),
      req(1, 301n, 0, 1, { mm: null, pid: 11, pasid: 5 }),
      req(2, 302n, 0, 1, { mm: "P", pid: 10, pasid: 5 }), // the parent itself
    ],
  }, { policies: ["intel-batched"] });
  const kids = r.anomalies.filter((a) => a.kind === "child_uses_parent_pasid");
  // once per (child, PASID, fork): the first evidence is the request at 300 (bindings are checked at the end)
  assert.equal(kids.length, 1);
  assert.equal(kids[0]!.request_id, 0);
  assert.equal(kids[0]!.ts, 300n);
  // without requests, the child's binding is the evidence
  const st = new BindingState({ ...t, bindings });
  const out = lifecycle(st, events);
  assert.equal(out.counts.get("child_uses_parent_pasid"), 1);
  // (the same binding also shows PASID 5 held by two mms at once)
  assert.equal(out.counts.get("pasid_reused_early"), 1);
  assert.match(
    out.rows.find((a) => a.kind === "child_uses_parent_pasid")!.detail,
    /pid 11, forked from pid 10 at 100, is bound to b with its parent's PASID 5/,
  );
  // a child binding its own mm to a new PASID is fine
  const own = [
    ...bindings.slice(0, 1),
    ...bind(t, "C", 6, ["b"], { firstId: 1, from_ts: 200n, pid: 11 }),
  ];
  assert.equal(
    lifecycle(new BindingState({ ...t, bindings: own }), events).counts.get(
      "child_uses_parent_pasid",
    ),
    undefined,
  );
});

Deno.test("AnomalyCollector keeps the first N per kind and counts all", () => {
  const t1 = topo({ dmar0: "intel" }, [["a", "dmar0", true]]);
  const r = replay(
    {
      ...t1,
      bindings: bind(t1, "mm1", 5),
      requests: [0, 1, 2].map((i) => req(i, BigInt(i), 3, 2)),
    },
    { policies: ["intel-cache-tag-6.10.0"], maxAnomaliesPerKind: 2 },
  );
  assert.equal(r.anomalies.length, 2);
  assert.equal(r.anomaly_counts["uncovered_range"], 3);
  assert.equal(r.policies[0]!.uncovered, 3);
});
