import assert from "node:assert/strict";
import {
  buildCaptureCommand,
  kallsymsNames,
  pciCaps,
  runCapture,
  shellQuote,
  snapshotTopology,
  vendorOfUnit,
} from "./capture.ts";
import { parseTopology } from "./topology.ts";

/** A config space with ATS (queue depth field `q`, enable `en`) at 0x100 and PASID at 0x140. */
function config(q: number, en: boolean, size = 4096): Uint8Array {
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  if (size < 0x150) return b;
  // header: ID 0x000f | version 1 << 16 | next 0x140 << 20 = 0x1401000f
  dv.setUint32(0x100, 0x1401000f, true);
  dv.setUint16(0x104, q, true);
  dv.setUint16(0x106, en ? 0x8000 : 0, true);
  // PASID: ID 0x001b | version 1 << 16, no next
  dv.setUint32(0x140, 0x0001001b, true);
  return b;
}

async function fakeTree(readmeFprobe: boolean): Promise<string> {
  const root = await Deno.makeTempDir();
  const sys = `${root}/sys`;
  const mk = (p: string) => Deno.mkdir(p, { recursive: true });
  await mk(`${sys}/class/iommu/dmar0/intel-iommu`);
  await mk(`${sys}/class/iommu/dmar0/devices/0000:6a:01.0`);
  await mk(`${sys}/class/iommu/dmar1/devices`);
  await mk(`${sys}/bus/pci/devices/0000:6a:01.0`);
  await Deno.writeFile(`${sys}/bus/pci/devices/0000:6a:01.0/config`, config(0, true));
  await Deno.symlink("../../../../class/iommu/dmar0", `${sys}/bus/pci/devices/0000:6a:01.0/iommu`);
  await mk(`${sys}/bus/pci/devices/0000:e7:02.0`);
  await Deno.writeFile(`${sys}/bus/pci/devices/0000:e7:02.0/config`, config(0, false, 64));
  await Deno.symlink(
    "../../../../devices/virtual/iommu/dmar1",
    `${sys}/bus/pci/devices/0000:e7:02.0/iommu`,
  );
  await mk(`${sys}/bus/pci/devices/0000:00:1f.0`);
  await mk(`${sys}/kernel/iommu_groups/3/devices/ffd00000.npu`);
  await Deno.symlink(
    "../../../../../class/iommu/dmar1",
    `${sys}/kernel/iommu_groups/3/devices/ffd00000.npu/iommu`,
  );
  const tr = `${root}/tracing`;
  await mk(`${tr}/events/intel_iommu/qi_submit`);
  await mk(`${tr}/events/iommu/map`);
  await Deno.writeTextFile(`${tr}/kprobe_events`, "");
  await Deno.writeTextFile(`${tr}/dynamic_events`, "");
  await Deno.writeTextFile(
    `${tr}/README`,
    readmeFprobe
      ? "  Format: p[:[<group>/][<event>]] <place> [<args>]\n  f[:[<group>/][<event>]] <func-name>[%return] [<args>]\n"
      : "  Format: p[:[<group>/][<event>]] <place> [<args>]\n",
  );
  await Deno.writeTextFile(
    `${root}/kallsyms`,
    [
      "ffffffff81661570 T __mmu_notifier_arch_invalidate_secondary_tlbs",
      "ffffffff81a00000 T qi_submit_sync",
      "ffffffffc0a01000 t intel_svm_set_dev_pasid\t[intel_iommu]",
      "",
    ].join("\n"),
  );
  return root;
}

Deno.test("pciCaps: ATS enable and queue depth, PASID, short config space", () => {
  assert.deepEqual(pciCaps(config(0, true)), { ats: true, qdep: 32, pasid: true });
  assert.deepEqual(pciCaps(config(16, false)), { ats: false, qdep: 16, pasid: true });
  assert.deepEqual(pciCaps(config(0, true, 64)), { ats: null, qdep: null, pasid: null });
  // extended space readable but no capabilities: ATS and PASID known absent
  assert.deepEqual(pciCaps(new Uint8Array(4096)), { ats: false, qdep: null, pasid: false });
});

Deno.test("snapshotTopology reads units, devices, groups and capabilities", async () => {
  const root = await fakeTree(true);
  const snap = await snapshotTopology(`${root}/sys`);
  assert.deepEqual(snap.topology.iommus, [{ name: "dmar0", vendor: "intel" }, {
    name: "dmar1",
    vendor: "intel",
  }]);
  assert.deepEqual(snap.topology.devices, [
    { name: "0000:6a:01.0", iommu: "dmar0", sid: 0x6a08, ats: true, pasid: true, qdep: 32 },
    { name: "0000:e7:02.0", iommu: "dmar1", sid: 0xe710, ats: null, pasid: null, qdep: null },
    { name: "ffd00000.npu", iommu: "dmar1", sid: null, ats: null, pasid: null, qdep: null },
  ]);
  assert.deepEqual(snap.notes, [
    "1 PCI devices: extended config space not readable (run as root for ATS/PASID)",
  ]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("snapshotTopology on a machine without an IOMMU: valid empty topology and a note", async () => {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/class/iommu`, { recursive: true });
  const snap = await snapshotTopology(root);
  assert.deepEqual(snap.topology.iommus, []);
  assert.deepEqual(snap.topology.devices, []);
  assert.equal(snap.topology.note, "no IOMMU found at capture time");
  assert.deepEqual(snap.notes, [`no IOMMU found under ${root}/class/iommu: empty topology`]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("buildCaptureCommand: existing tracepoints and probes of present functions", async () => {
  const root = await fakeTree(true);
  const tr = `${root}/tracing`;
  const plan = await buildCaptureCommand({
    tracefs: tr,
    kallsyms: `${root}/kallsyms`,
    sysfs: `${root}/sys`,
  });
  assert.deepEqual(plan.setup, [
    `echo 'p:iommu_replay/mmu_notifier_invalidate __mmu_notifier_arch_invalidate_secondary_tlbs mm=$arg1:x64 start=$arg2:x64 end=$arg3:x64' >> ${tr}/kprobe_events`,
    `echo 'f:iommu_replay/qi_submit_sync qi_submit_sync iommu=iommu->name:string count=count:u32 options=options:x64' >> ${tr}/dynamic_events`,
    `echo 'f:iommu_replay/intel_svm_set_dev_pasid intel_svm_set_dev_pasid dev=dev->kobj.name:string pasid=pasid:u32 domain=domain:x64 mm=domain->mm:x64' >> ${tr}/dynamic_events`,
  ]);
  assert.deepEqual(plan.argv, [
    "trace-cmd",
    "record",
    "--no-filter",
    "-d",
    "-e",
    "intel_iommu:qi_submit",
    "-e",
    "iommu:map",
    "-e",
    "iommu_replay:mmu_notifier_invalidate",
    "-e",
    "iommu_replay:qi_submit_sync",
    "-e",
    "iommu_replay:intel_svm_set_dev_pasid",
  ]);
  assert.equal(
    plan.commandLine,
    "trace-cmd record --no-filter -d -e intel_iommu:qi_submit -e iommu:map -e iommu_replay:mmu_notifier_invalidate -e iommu_replay:qi_submit_sync -e iommu_replay:intel_svm_set_dev_pasid",
  );
  assert.equal(plan.missing.length, 29);
  assert.ok(plan.missing.includes("intel_iommu:cache_tag_flush_range"));
  assert.ok(
    plan.notes.includes(
      "no /sys/kernel/btf/vmlinux: probes that fetch BTF arguments (dev->kobj.name, ...) will be rejected",
    ),
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("buildCaptureCommand: fprobes fall back to kprobes when the kernel has no fprobe events", async () => {
  const root = await fakeTree(false);
  const plan = await buildCaptureCommand({
    tracefs: `${root}/tracing`,
    kallsyms: `${root}/kallsyms`,
    sysfs: `${root}/sys`,
    output: "x.dat",
  });
  assert.equal(
    plan.setup[1],
    `echo 'p:iommu_replay/qi_submit_sync qi_submit_sync iommu=iommu->name:string count=count:u32 options=options:x64' >> ${root}/tracing/kprobe_events`,
  );
  assert.ok(plan.notes.includes("no fprobe support: 2 fprobes defined as kprobes instead"));
  assert.deepEqual(plan.argv.slice(-2), ["-o", "x.dat"]);
  await Deno.remove(root, { recursive: true });
});

Deno.test("runCapture: writes the topology, prints notes, setup and command; flags", async () => {
  const root = await fakeTree(true);
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  const topo = `${root}/topo.json`;
  const code = await runCapture(
    [
      "--out",
      topo,
      "--sysfs",
      `${root}/sys`,
      "--tracefs",
      `${root}/tracing`,
      "--kallsyms",
      `${root}/kallsyms`,
    ],
    io,
  );
  assert.equal(code, 0);
  assert.deepEqual(err, []);
  assert.equal(parseTopology(await Deno.readTextFile(topo), topo).devices.length, 3);
  assert.equal(
    out[0],
    "# 1 PCI devices: extended config space not readable (run as root for ATS/PASID)",
  );
  assert.equal(out[1], `# topology: 2 IOMMU units, 3 devices -> ${topo}`);
  assert.ok(
    out[out.length - 1]!.startsWith("trace-cmd record --no-filter -d -e intel_iommu:qi_submit"),
  );
  assert.equal(out.filter((l) => l.startsWith("echo ")).length, 3);
  assert.equal(await runCapture(["--help"], io), 0);
  assert.ok(out[out.length - 1]!.startsWith("Usage: deno task capture"));
  assert.equal(await runCapture(["--bogus"], io), 2);
  assert.equal(err[err.length - 1], "capture: Unknown option '--bogus'");
  assert.equal(await runCapture(["extra"], io), 2);
  assert.equal(
    await runCapture([
      "--out",
      `${root}/no/such/dir/t.json`,
      "--sysfs",
      `${root}/sys`,
      "--tracefs",
      `${root}/tracing`,
      "--kallsyms",
      `${root}/kallsyms`,
    ], io),
    1,
  );
  await Deno.remove(root, { recursive: true });
});

Deno.test("helpers", () => {
  assert.equal(vendorOfUnit("smmu3.0x0000000009050000"), "arm-smmuv3");
  assert.equal(vendorOfUnit("foo"), "unknown");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.deepEqual([...kallsymsNames("1 T a\n2 t b\t[mod]\nbad\n")], ["a", "b"]);
});
