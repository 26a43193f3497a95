import assert from "node:assert/strict";
import {
  KNOWN_FORMAT_VERSIONS,
  knownFormat,
  knownFormats,
  knownHeaderPage,
} from "./known_formats.ts";
import { HEADER_EVENT_TEXT } from "./render_format.ts";
import { UsageError } from "../../core/errors.ts";

const TESTDATA = new URL("./testdata/tracefs_6.18/", import.meta.url);

/** Replaces the boot-specific `ID:` line so texts can be compared. */
function withoutId(text: string): string {
  return text.replace(/^ID: \d+$/m, "ID: _");
}

Deno.test("6.18 bundle equals the format files captured from a 6.18.44 tracefs", async () => {
  const formats = knownFormats("6.18.44-fc-v595");
  let compared = 0;
  for await (const sys of Deno.readDir(TESTDATA)) {
    if (!sys.isDirectory) continue;
    for await (const file of Deno.readDir(new URL(`${sys.name}/`, TESTDATA))) {
      const name = file.name.replace(/\.format$/, "");
      const captured = await Deno.readTextFile(new URL(`${sys.name}/${file.name}`, TESTDATA));
      const ours = formats.find((f) => f.system === sys.name && f.name === name);
      assert.ok(ours, `${sys.name}:${name} is bundled for 6.18`);
      assert.equal(withoutId(ours.text), withoutId(captured), `${sys.name}:${name}`);
      compared++;
    }
  }
  assert.equal(compared, 27);
});

Deno.test("header_page and header_event match the 6.18 tracefs files", async () => {
  assert.equal(knownHeaderPage("6.18"), await Deno.readTextFile(new URL("header_page", TESTDATA)));
  assert.equal(HEADER_EVENT_TEXT, await Deno.readTextFile(new URL("header_event", TESTDATA)));
});

Deno.test("6.1 texts: char is signed on x86, comm arrays, lower-case tlb reasons", () => {
  const fork = knownFormat("6.1", "sched", "sched_process_fork")!;
  assert.equal(
    fork.text,
    "name: sched_process_fork\nID: 1601\nformat:\n" +
      "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n" +
      "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n" +
      "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n" +
      "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n" +
      "\tfield:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:1;\n" +
      "\tfield:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;\n" +
      "\tfield:char child_comm[16];\toffset:28;\tsize:16;\tsigned:1;\n" +
      "\tfield:pid_t child_pid;\toffset:44;\tsize:4;\tsigned:1;\n\n" +
      'print fmt: "comm=%s pid=%d child_comm=%s child_pid=%d", REC->parent_comm, ' +
      "REC->parent_pid, REC->child_comm, REC->child_pid\n",
  );
  const tlb = knownFormat("6.1", "tlb", "tlb_flush")!;
  assert.match(tlb.text, /\{ 4, "remote ipi send" \}\), REC->reason\n$/);
  assert.doesNotMatch(tlb.text, /wrong CPU/);
  const qi = knownFormat("6.1", "intel_iommu", "qi_submit")!;
  assert.match(qi.text, /\tfield:__data_loc char\[\] iommu;\toffset:40;\tsize:4;\tsigned:1;\n/);
  assert.match(
    qi.text,
    /__print_symbolic\(REC->qw0 & 0xf, \{ 0x1, "cc_inv" \}, \{ 0x2, "iotlb_inv" \},/,
  );
  assert.match(knownHeaderPage("6.1"), /char data;\toffset:16;\tsize:4080;\tsigned:1;/);
});

Deno.test("6.1 exit_mmap print fmt carries the real newline of its TP_printk", () => {
  const f = knownFormat("6.1", "mmap", "exit_mmap")!;
  assert.ok(f.text.endsWith('print fmt: "mt_mod %p, DESTROY\n", REC->mt\n'));
  assert.ok(knownFormat("6.4", "mmap", "exit_mmap")!.text.endsWith('DESTROY", REC->mt\n'));
  assert.equal(knownFormat("5.15", "mmap", "exit_mmap"), undefined);
});

Deno.test("variant selection follows the documented kernel boundaries", () => {
  const names = (k: string, sys: string) =>
    knownFormats(k, { systems: [sys] }).map((f) => f.name).sort();
  assert.deepEqual(names("6.9", "intel_iommu"), ["prq_report", "qi_submit"]);
  assert.deepEqual(names("6.16", "intel_iommu"), [
    "cache_tag_assign",
    "cache_tag_flush_all",
    "cache_tag_flush_range",
    "cache_tag_flush_range_np",
    "cache_tag_unassign",
    "prq_report",
    "qi_submit",
  ]);
  assert.ok(!names("6.17", "intel_iommu").includes("cache_tag_flush_all"));
  assert.ok(names("6.2", "iommu").includes("detach_device_from_domain"));
  assert.ok(!names("6.3", "iommu").includes("detach_device_from_domain"));
  assert.deepEqual(names("6.11", "dma"), []);
  assert.deepEqual(names("6.12", "dma"), ["dma_map_page", "dma_unmap_page"]);
  assert.deepEqual(names("6.18", "dma"), [
    "dma_map_phys",
    "dma_map_sg",
    "dma_unmap_phys",
    "dma_unmap_sg",
  ]);
  // map/unmap print the iova range from 5.17 on.
  assert.doesNotMatch(knownFormat("5.16", "iommu", "map")!.text, / - 0x%016llx/);
  assert.match(knownFormat("5.17", "iommu", "map")!.text, / - 0x%016llx/);
  // cache_tag_flush_range: pages at offset 48 until 7.1, gone afterwards.
  assert.match(
    knownFormat("6.10", "intel_iommu", "cache_tag_flush_range")!.text,
    /unsigned long pages;\toffset:48;.*\n.*unsigned long mask;\toffset:56;/,
  );
  const v71 = knownFormat("7.1", "intel_iommu", "cache_tag_flush_range")!.text;
  assert.doesNotMatch(v71, /pages/);
  assert.match(v71, /unsigned long mask;\toffset:48;/);
  // One variant per event at every covered version.
  for (const k of KNOWN_FORMAT_VERSIONS) {
    const keys = knownFormats(k).map((f) => `${f.system}:${f.name}`);
    assert.equal(new Set(keys).size, keys.length, `duplicate at ${k}`);
  }
});

Deno.test("covered versions are ascending and start at 5.15; older kernels are refused", () => {
  assert.equal(KNOWN_FORMAT_VERSIONS[0], "5.15");
  assert.ok(KNOWN_FORMAT_VERSIONS.includes("6.10"));
  assert.ok(KNOWN_FORMAT_VERSIONS.includes("7.1"));
  assert.throws(() => knownFormats("5.10"), UsageError);
  assert.throws(() => knownFormats("banana"), UsageError);
});

Deno.test("32-bit ABI: longs shrink, syscall args start at offset 12, kprobe args pack", () => {
  const abi = { longSize: 4 as const, int64Align: 4 as const };
  const tlb = knownFormat("6.18", "tlb", "tlb_flush", { abi })!;
  assert.match(tlb.text, /\tfield:unsigned long pages;\toffset:12;\tsize:4;\tsigned:0;\n/);
  const munmap = knownFormat("6.18", "syscalls", "sys_enter_munmap", { abi })!;
  assert.match(munmap.text, /\tfield:unsigned long addr;\toffset:12;\tsize:4;/);
  assert.match(munmap.text, /"addr: 0x%04lx, len: 0x%04lx"/);
  const qi = knownFormat("6.18", "kprobes", "qi_submit_sync")!;
  assert.match(
    qi.text,
    /__probe_ip;\toffset:8;\tsize:8;.*\n.*u64 iommu;\toffset:16;.*\n.*u64 desc;\toffset:24;.*\n.*u32 count;\toffset:32;\tsize:4;.*\n.*u32 options;\toffset:36;/,
  );
  assert.match(
    qi.text,
    /print fmt: "\(%lx\) iommu=0x%Lx desc=0x%Lx count=%u options=%u", REC->__probe_ip, REC->iommu, REC->desc, REC->count, REC->options\n$/,
  );
  assert.equal(
    knownHeaderPage("6.18", abi),
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
      "\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n" +
      "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
      "\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n",
  );
});
