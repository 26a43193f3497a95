import assert from "node:assert/strict";
import { UsageError } from "../errors.ts";
import {
  loadProbeMapping,
  parseFetchArgs,
  parseProbeMapping,
  probeDefinition,
  validateProbeMapping,
} from "./mapping.ts";
import { SHIPPED_MAPPINGS } from "./shipped.ts";

const probe = {
  kind: "mm_invalidate",
  type: "kprobe",
  function: "__mmu_notifier_arch_invalidate_secondary_tlbs",
  system: "grp",
  event: "inv",
  fetch: "mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64",
  fields: { mm: "mm", start: "start", end: "end" },
};
const doc = (p: Record<string, unknown> = probe) => ({
  format: "iommu-replay-probes/1",
  name: "t",
  probes: [p],
});

function rejects(d: unknown, message: string): void {
  assert.throws(() => validateProbeMapping(d, "m.json"), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, message);
    return true;
  });
}

Deno.test("a valid mapping round-trips its fields", () => {
  const m = validateProbeMapping(doc(), "m.json");
  assert.equal(m.name, "t");
  assert.equal(m.file, "m.json");
  assert.equal(m.probes.length, 1);
  assert.deepEqual(m.probes[0]!.fields, { mm: "mm", start: "start", end: "end" });
  assert.deepEqual(probeDefinition(m.probes[0]!), {
    target: "kprobe_events",
    line:
      "p:grp/inv __mmu_notifier_arch_invalidate_secondary_tlbs mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64",
  });
});

Deno.test("definition lines per probe type", () => {
  const base = validateProbeMapping(doc(), "m.json").probes[0]!;
  assert.equal(probeDefinition({ ...base, type: "kretprobe" }).line.slice(0, 8), "r:grp/in");
  assert.deepEqual(probeDefinition({ ...base, type: "fprobe", function: "f" }), {
    target: "dynamic_events",
    line: "f:grp/inv f mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64",
  });
  assert.equal(
    probeDefinition({ ...base, type: "fexit", function: "f" }).line,
    "f:grp/inv f%return mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64",
  );
  assert.deepEqual(probeDefinition({ ...base, type: "uprobe", function: "/bin/x:0x4a0" }), {
    target: "uprobe_events",
    line: "p:grp/inv /bin/x:0x4a0 mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64",
  });
});

Deno.test("validation errors name the file, the JSON path and the problem", () => {
  rejects([], "m.json: $: must be a JSON object");
  rejects(
    { ...doc(), extra: 1 },
    "m.json: $.extra: unknown key (allowed: format, name, description, probes)",
  );
  rejects({ ...doc(), format: "v2" }, 'm.json: $.format: must be "iommu-replay-probes/1"');
  rejects({ format: "iommu-replay-probes/1", name: "t" }, "m.json: $.probes: missing required key");
  rejects(
    doc({ ...probe, colour: "red" }),
    "m.json: $.probes[0].colour: unknown key (allowed: kind, type, function, system, event, fetch, fields, where, prefix, kernels, doc)",
  );
  rejects(
    doc({ ...probe, kind: "bind" }),
    "m.json: $.probes[0].kind: must be one of sva_bind, sva_unbind, set_dev_pasid, remove_dev_pasid, mm_invalidate, qi_submit_sync, smmu_cmdq, amd_cmd",
  );
  rejects(
    doc({ ...probe, type: "tracepoint" }),
    "m.json: $.probes[0].type: must be one of kprobe, kretprobe, fprobe, fexit, uprobe",
  );
  rejects(
    doc({ ...probe, function: "bad name" }),
    'm.json: $.probes[0].function: "bad name" is not a kernel symbol name',
  );
  rejects(
    doc({ ...probe, type: "uprobe" }),
    'm.json: $.probes[0].function: "__mmu_notifier_arch_invalidate_secondary_tlbs" is not an absolute PATH:OFFSET',
  );
  rejects(
    doc({ ...probe, system: "my-grp" }),
    'm.json: $.probes[0].system: "my-grp" is not an identifier',
  );
  rejects(doc({ ...probe, fetch: "mm" }), 'm.json: $.probes[0].fetch: "mm" is not name=ARG');
  rejects(
    doc({ ...probe, fetch: "mm=$arg1 mm=$arg2" }),
    'm.json: $.probes[0].fetch: field "mm" defined twice',
  );
  rejects(
    doc({ ...probe, fetch: "common_pid=$arg1" }),
    'm.json: $.probes[0].fetch: "common_pid" is reserved',
  );
  rejects(
    doc({ ...probe, fields: { mm: "mm", start: "start" } }),
    "m.json: $.probes[0].fields.end: missing required role for kind mm_invalidate",
  );
  rejects(
    doc({ ...probe, fields: { ...probe.fields, pasid: "mm" } }),
    "m.json: $.probes[0].fields.pasid: role not used by kind mm_invalidate (roles: mm, start, end)",
  );
  rejects(
    doc({ ...probe, fields: { ...probe.fields, mm: "addr" } }),
    'm.json: $.probes[0].fields.mm: field "addr" is not defined in fetch',
  );
  rejects(
    doc({ ...probe, fields: { ...probe.fields, mm: 3 } }),
    "m.json: $.probes[0].fields.mm: must be a non-empty string",
  );
  rejects(
    doc({ ...probe, where: { type: 16 } }),
    'm.json: $.probes[0].where.type: field "type" is not defined in fetch',
  );
  rejects(
    doc({ ...probe, where: { mm: 1.5 } }),
    "m.json: $.probes[0].where.mm: must be an integer or a string",
  );
  rejects(
    doc({ ...probe, prefix: { iommu: "ivhd" } }),
    'm.json: $.probes[0].prefix.iommu: role "iommu" is not mapped in fields',
  );
  rejects(
    { ...doc(), probes: [probe, probe] },
    "m.json: $.probes[1].event: grp:inv is also defined by $.probes[0]",
  );
});

Deno.test("parseProbeMapping reports bad JSON; loadProbeMapping reads files", async () => {
  assert.throws(() => parseProbeMapping("{", "x.json"), /^UsageError: x\.json: \$: not valid JSON/);
  const dir = await Deno.makeTempDir();
  const p = `${dir}/m.json`;
  await Deno.writeTextFile(p, JSON.stringify(doc()));
  assert.equal((await loadProbeMapping(p)).probes[0]!.event, "inv");
  await assert.rejects(loadProbeMapping(`${dir}/missing.json`), UsageError);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("parseFetchArgs", () => {
  assert.deepEqual(parseFetchArgs(" a=$arg1  b=+0($arg2):x64[32] "), {
    names: ["a", "b"],
    args: ["$arg1", "+0($arg2):x64[32]"],
  });
  assert.deepEqual(parseFetchArgs(""), { error: "no fetch arguments" });
  assert.deepEqual(parseFetchArgs("1x=$arg1"), { error: '"1x" is not a valid field name' });
});

Deno.test("shipped mappings: valid, distinct events, the named functions", () => {
  const fns = SHIPPED_MAPPINGS.flatMap((m) => m.probes.map((p) => `${p.kind}:${p.function}`));
  assert.deepEqual(fns, [
    "sva_bind:iommu_attach_device_pasid",
    "sva_unbind:iommu_detach_device_pasid",
    "mm_invalidate:__mmu_notifier_arch_invalidate_secondary_tlbs",
    "mm_invalidate:__mmu_notifier_invalidate_range",
    "qi_submit_sync:qi_submit_sync",
    "set_dev_pasid:intel_svm_set_dev_pasid",
    "remove_dev_pasid:intel_iommu_remove_dev_pasid",
    "smmu_cmdq:arm_smmu_cmdq_issue_cmdlist",
    "set_dev_pasid:arm_smmu_sva_set_dev_pasid",
    "remove_dev_pasid:arm_smmu_remove_dev_pasid",
    "amd_cmd:__iommu_queue_command_sync",
    "set_dev_pasid:iommu_sva_set_dev_pasid",
    "remove_dev_pasid:amd_iommu_remove_dev_pasid",
  ]);
  const keys = SHIPPED_MAPPINGS.flatMap((m) => m.probes.map((p) => `${p.system}:${p.event}`));
  assert.equal(new Set(keys).size, keys.length);
  const smmu = SHIPPED_MAPPINGS[2]!.probes[0]!;
  assert.equal(
    probeDefinition(smmu).line,
    "f:iommu_replay/smmu_cmdq_issue arm_smmu_cmdq_issue_cmdlist smmu=smmu->iommu.dev->kobj.name:string cmds=+0($arg3):x64[32] n=$arg4:s32 sync=$arg5:u8",
  );
});
