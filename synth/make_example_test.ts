import assert from "node:assert/strict";
import { validateTopology } from "../core/topology.ts";
import {
  decodePrqDescriptor,
  EXAMPLE_FILES,
  exampleKernelText,
  exampleTopology,
  writeExamples,
} from "./make_example.ts";
import { runTraceCmd } from "./trace_cmd_check.ts";
import { exampleWorkload } from "./scenarios/example_workload.ts";

Deno.test("make_example: writes the three files and trace-cmd reads the trace.dat back", async () => {
  const dir = await Deno.makeTempDir({ prefix: "make_example_" });
  try {
    const r = await writeExamples(dir);
    assert.equal(r.checkedEvents, r.events);
    assert.deepEqual(r.files.map((f) => f.slice(dir.length + 1)), [
      EXAMPLE_FILES.dat,
      EXAMPLE_FILES.text,
      EXAMPLE_FILES.topology,
    ]);
    const text = await runTraceCmd(["report", `${dir}/${EXAMPLE_FILES.dat}`]);
    // trace-cmd's own rendering of the first batched p_iotlb of dsa_copy (PASID 2, DID 1, PSI)
    assert.match(
      text,
      /dsa_copy-4001 +\[001\] +\d+\.\d+: qi_submit: +p_iotlb_inv dmar0: 0x200010036 /,
    );
    assert.match(text, /cache_tag_flush_all: +dmar1\/dmar1 type 0x0 did 4 pasid 0 ref 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("make_example: decode_prq_descriptor text", () => {
  // PASID 2 present, RID 6a:01.0, exec + privileged; read, last, PRG 5; private data flag
  const dw0 = (2n << 32n) | (0x6a08n << 16n) | (1n << 53n) | (1n << 52n) | (1n << 9n) | 0x101n;
  const dw1 = 0x7f1c2a000n | (5n << 3n) | 0x5n;
  assert.equal(
    decodePrqDescriptor(dw0, dw1, 0x11n, 0x22n),
    "rid=0x6a08 addr=0x7f1c2a r-xpl pasid=0x2 index=0x5 private=0x11/0x22\n",
  );
});

Deno.test("make_example: kernel text shows prq_report as the kernel prints it", () => {
  const w = exampleWorkload();
  const lines = exampleKernelText(w).split("\n");
  assert.equal(lines.length, w.events.length + 12 + 1); // header, events, final newline
  const prq = lines.filter((l) => l.includes(" prq_report: "));
  assert.equal(prq.length, 12);
  for (const l of prq) {
    assert.match(
      l,
      /prq_report: dmar[01]\/0000:[0-9a-f:.]+ seq# \d+: rid=0x[0-9a-f]+ addr=0x[0-9a-f]+ [r-][w-]--l pasid=0x[234] index=0x[0-9a-f]+$/,
    );
  }
});

Deno.test("make_example: the topology is valid and binds only ATS devices", () => {
  const t = validateTopology(JSON.parse(JSON.stringify(exampleTopology())), "topology.json");
  assert.equal(t.iommus.length, 2);
  assert.equal(t.devices.filter((d) => d.ats).length, 4);
  const ats = new Set(t.devices.filter((d) => d.ats).map((d) => d.name));
  for (const b of t.bindings) for (const d of b.devices) assert(ats.has(d), d);
  assert.equal(t.devices.find((d) => d.name === "0000:e7:02.0")!.sid, 0xe710);
});
