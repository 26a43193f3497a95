/**
 * The kernel-text version of the committed example (`examples/sva_two_iommus.txt`, the `trace`
 * file of the same events as `sva_two_iommus.dat`) reads back as the generator's events: same
 * context, timestamps rounded to the printed µs, same typed field values. The text names no
 * kernel, so the reader must pick each event's format by what fits (6.12's `cache_tag_flush_range`
 * has `pages`, the newest bundled one does not), read enum-keyed symbols (`type iotlb`) and the
 * unhashed `exit_mmap` pointer, and restore `exit_mmap`'s unprinted `mm`.
 */
import assert from "node:assert/strict";
import { openFileSource } from "../ingest/file_source.ts";
import { defaultPayloadParser } from "../ingest/ftrace_text/register.ts";
import { FtraceTextReader } from "../ingest/ftrace_text/text_reader.ts";
import { EXAMPLE_FILES } from "../synth/make_example.ts";
import { exampleWorkload } from "../synth/scenarios/example_workload.ts";

const txt = new URL(`../examples/${EXAMPLE_FILES.text}`, import.meta.url).pathname;

/** Fields the kernel's text does not print, so they stay null. */
const UNPRINTED: Record<string, readonly string[]> = {
  // the kernel prints syscall arguments by name, not the syscall number
  "syscalls:sys_enter_munmap": ["__syscall_nr"],
  "syscalls:sys_enter_mprotect": ["__syscall_nr"],
  "syscalls:sys_enter_madvise": ["__syscall_nr"],
  // prq_report prints decode_prq_descriptor()'s summary, from which dw0 cannot be rebuilt
  "intel_iommu:prq_report": ["dw0", "dw1", "dw2", "dw3", "buff"],
};

Deno.test("example text: every event reads back as generated (µs timestamps, typed fields)", async () => {
  const w = exampleWorkload();
  const src = await openFileSource(txt);
  try {
    const r = new FtraceTextReader(src, {
      flavor: "kernel",
      payloadParser: defaultPayloadParser("kernel"),
    });
    let i = 0;
    const unprinted = new Map<string, number>();
    for (const e of r.events()) {
      const g = w.events[i++]!;
      const key = `${g.system}:${g.event}`;
      const where = `line ${e.line} (${key})`;
      assert.equal(`${e.system}:${e.event}`, key, where);
      assert.deepEqual([e.cpu, e.pid, e.comm], [g.cpu, g.pid, g.comm], where);
      assert.deepEqual([e.flags, e.preempt], [g.flags, g.preempt_count], where);
      assert.equal(e.ts, (g.ts + 500n) / 1000n * 1000n, where);
      assert(e.how === "print_fmt" || e.how === "syscall", `${where}: ${e.how}`);
      const skip = UNPRINTED[key] ?? [];
      for (const [k, v] of Object.entries(g.fields)) {
        if (skip.includes(k)) {
          assert.equal(e.values[k], undefined, `${where}: ${k}`);
          unprinted.set(key, (unprinted.get(key) ?? 0) + 1);
          continue;
        }
        // bigint for 8-byte fields, number for smaller ones: compare the values
        assert.equal(String(e.values[k]), String(v), `${where}: ${k}`);
      }
      assert.deepEqual(Object.keys(e.values).filter((k) => !(k in g.fields)), [], where);
    }
    assert.equal(i, w.events.length);
    const count = (s: string, ev: string) =>
      w.events.filter((e) => e.system === s && e.event === ev).length;
    assert.deepEqual(Object.fromEntries(unprinted), {
      "syscalls:sys_enter_munmap": count("syscalls", "sys_enter_munmap"),
      "syscalls:sys_enter_mprotect": count("syscalls", "sys_enter_mprotect"),
      "syscalls:sys_enter_madvise": count("syscalls", "sys_enter_madvise"),
      "intel_iommu:prq_report": 5 * w.faults,
    });
    const codes = r.warnings().map((x) => x.code).sort();
    assert.deepEqual(codes, ["restored_fields", "rounded_timestamps"]);
  } finally {
    src.close();
  }
});
