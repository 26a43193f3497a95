import assert from "node:assert/strict";
import type { ReplayedCommandRow } from "../canonical.ts";
import { AnomalyCollector } from "./checks.ts";
import { bareMetalVtd } from "./cost/bare_metal_vtd.ts";
import { viommuTrap } from "./cost/viommu_trap.ts";
import { kind } from "./kinds.ts";
import { FULL, type ReplayPolicy } from "./policy.ts";
import { PolicyRun } from "./policy_run.ts";
import { BindingState } from "./state.ts";
import { bind, topo } from "./testdata/fixtures.ts";
import { info } from "./testdata/recording_sink.ts";

const t = topo({ dmar0: "intel" }, [["a", "dmar0", true], ["b", "dmar0", false]]);
const view = new BindingState({ ...t, bindings: bind(t, "mm1", 5) }).viewFor({
  mm: "mm1",
  pasid: null,
}, 0n);

/** A policy that replays a fixed script of (kind, group, device, addr, pages) per request. */
function scripted(
  script: [number, number, number, number, number][],
  extra: Partial<ReplayPolicy> = {},
): ReplayPolicy {
  return {
    name: "scripted",
    description: "",
    kinds: [kind("p_iotlb_inv"), kind("p_dev_tlb_inv"), kind("inv_wait")],
    waitKind: 2,
    parallelIommus: false,
    implicitIotlb: false,
    deferred: false,
    evaluate(_q, _v, out) {
      for (const [k, g, d, a, p] of script) out.cmd(k, 0, g, d, a, p);
      out.wait(0);
    },
    ...extra,
  };
}

function run1(policy: ReplayPolicy, startPfn: number, pages: number, model = bareMetalVtd) {
  const anomalies = new AnomalyCollector();
  const rows: ReplayedCommandRow[] = [];
  const run = new PolicyRun("p", policy, model, { anomalies, onCommand: (r) => rows.push(r) });
  const q = info(startPfn, pages);
  run.begin(q, view);
  policy.evaluate(q, view, run);
  run.end();
  return { run, anomalies, rows };
}

Deno.test("coverage: a gap inside the range is uncovered even if later pieces reach the end", () => {
  const { run, anomalies } = run1(
    scripted([[0, 0, -1, 0, 1], [0, 0, -1, 2, 2], [1, 0, 0, 0, 4]]),
    0,
    4,
  );
  assert.equal(run.uncovered, 1);
  assert.match(
    anomalies.rows[0]!.detail,
    /IOTLB of dmar0 \(domain 1\): request needs pfn 0x0-0x3, commands covered pfn 0x0-0x0, 0x2-0x3/,
  );
  assert.equal(anomalies.rows[0]!.device, "a");
});

Deno.test("coverage: pieces in any order and duplicates; union counted once per cache", () => {
  const { run } = run1(
    scripted([[0, 0, -1, 2, 2], [0, 0, -1, 0, 2], [0, 0, -1, 0, 2], [1, 0, 0, 0, 8]]),
    0,
    4,
  );
  assert.equal(run.uncovered, 0);
  assert.equal(run.pagesRequested.value(), 8n); // 2 caches (IOTLB group, ATC of a) x 4
  assert.equal(run.pagesInvalidated.value(), 4n + 8n);
});

Deno.test("coverage: a missing ATC invalidation is a stale ATC; non-ATS devices need none", () => {
  const { run, anomalies } = run1(scripted([[0, 0, -1, 0, 4], [1, 0, 1, 0, 4]]), 0, 4);
  assert.equal(run.uncovered, 1);
  assert.equal(anomalies.rows[0]!.device, "a");
  assert.match(anomalies.rows[0]!.detail, /ATC of a: .*covered nothing \(stale ATC entries\)/);
});

Deno.test("implicit IOTLB (BTM): only ATCs are checked and counted", () => {
  const { run } = run1(scripted([[1, 0, 0, 0, 4]], { implicitIotlb: true }), 0, 4);
  assert.equal(run.uncovered, 0);
  assert.equal(run.pagesRequested.value(), 4n);
});

Deno.test("full-scope commands: counted as full flushes, not as pages", () => {
  const { run, rows } = run1(
    scripted([[0, -1, -1, 0, FULL], [1, 0, 0, 0, FULL]]),
    0,
    4,
    viommuTrap,
  );
  assert.equal(run.fullFlushes, 2);
  assert.equal(run.pagesRequested.value(), 0n);
  assert.equal(run.uncovered, 0);
  assert.equal(run.traps, 1);
  assert.equal(run.modeledNs, 500 + 7000 + 50 + 500);
  assert.deepEqual(rows.map((r) => [r.kind, r.addr, r.size, r.submission]), [
    ["p_iotlb_inv", null, null, 1],
    ["p_dev_tlb_inv", null, null, 1],
    ["inv_wait", null, null, 1],
  ]);
});
