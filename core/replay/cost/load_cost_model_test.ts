import assert from "node:assert/strict";
import { UsageError } from "../../errors.ts";
import { costModel, costModelFromJson, loadCostModel, parseCostModel } from "./load_cost_model.ts";

function usage(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message));
}

Deno.test("built-in cost models by name", () => {
  assert.equal(costModel("bare-metal-vtd").submission_ns, 500);
  assert.equal(costModel("viommu-trap").trap_ns, 7000);
  assert.equal(costModel("smmuv3").descriptor_ns["atc_inv"], 500);
  assert.equal(costModel("amd").descriptor_ns["inv_iommu_pages"], 50);
  usage(() => costModel("nope"), /unknown cost model "nope"/);
});

Deno.test("override merges onto its base", () => {
  const m = parseCostModel(
    '{"base": "viommu-trap", "name": "g", "submission_ns": 400, "descriptor_ns": {"p_dev_tlb_inv": 900}}',
    "g.json",
  );
  assert.equal(m.name, "g");
  assert.equal(m.submission_ns, 400);
  assert.equal(m.trap_ns, 7000);
  assert.equal(m.descriptor_ns["p_dev_tlb_inv"], 900);
  assert.equal(m.descriptor_ns["p_iotlb_inv"], 50);
  assert.equal(costModelFromJson({}, "e.json").name, "bare-metal-vtd+e.json");
});

Deno.test("strict validation names the key", () => {
  usage(() => parseCostModel("{", "a.json"), /a\.json: not valid JSON/);
  usage(() => parseCostModel("[]", "a.json"), /must be a JSON object/);
  usage(() => costModelFromJson({ submision_ns: 1 }, "a.json"), /unknown key "submision_ns"/);
  usage(
    () => costModelFromJson({ trap_ns: -1 }, "a.json"),
    /"trap_ns" must be a finite number >= 0/,
  );
  usage(() => costModelFromJson({ submission_ns: "5" }, "a.json"), /"submission_ns"/);
  usage(
    () => costModelFromJson({ descriptor_ns: { p_iotlb: 1 } }, "a.json"),
    /unknown descriptor kind "descriptor_ns\.p_iotlb"/,
  );
  usage(
    () => costModelFromJson({ descriptor_ns: { atc_inv: Infinity } }, "a.json"),
    /"descriptor_ns\.atc_inv"/,
  );
  usage(() => costModelFromJson({ base: "x" }, "a.json"), /"base" names no cost model/);
  usage(() => costModelFromJson({ name: "" }, "a.json"), /"name" must be a non-empty string/);
});

Deno.test("loadCostModel reads a file or a name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/m.json`;
    await Deno.writeTextFile(f, '{"default_descriptor_ns": 7}');
    assert.equal((await loadCostModel(f)).default_descriptor_ns, 7);
    assert.equal((await loadCostModel("amd")).name, "amd");
    await assert.rejects(() => loadCostModel(`${dir}/missing.json`), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
