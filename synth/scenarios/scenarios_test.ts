import assert from "node:assert/strict";
import { normalize } from "../../core/normalize/normalize.ts";
import { allScenarios } from "./scenarios.ts";

Deno.test("every scenario is in time order and normalizes with its options", () => {
  const all = allScenarios();
  assert.deepEqual(all.map((s) => [s.name, s.kernel, s.events.length]), [
    ["sva_4dev_6.9", "6.9.0", 62],
    ["sva_4dev_6.12", "6.12.0", 76],
    ["two_iommus_6.12", "6.12.0", 21],
    ["pasid_reuse_6.12", "6.12.0", 36],
    ["smmuv3_probes_6.12", "6.12.0", 11],
    ["fork_exec_6.12", "6.12.0", 20],
  ]);
  for (const s of all) {
    for (let i = 1; i < s.events.length; i++) {
      assert.ok(s.events[i]!.ts >= s.events[i - 1]!.ts, `${s.name}: event ${i} goes back in time`);
    }
    const t = normalize(s.events, s.options);
    assert.ok(t.requests.length > 0, s.name);
  }
});
