import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { TraceError } from "../../core/errors.ts";
import { RawTables } from "../arrow/raw_tables.ts";
import { type FileSource, memorySource } from "../file_source.ts";
import { defaultPayloadParser } from "./register.ts";
import { ingestText } from "./text_ingest.ts";
import { type FtraceTextOptions, FtraceTextReader, type TextFlavor } from "./text_reader.ts";

function src(text: string | Uint8Array, name = "t.txt"): FileSource {
  return memorySource(typeof text === "string" ? new TextEncoder().encode(text) : text, name);
}

function read(
  text: string | Uint8Array,
  flavor: TextFlavor,
  opts: Partial<FtraceTextOptions> = {},
) {
  const r = new FtraceTextReader(src(text), {
    flavor,
    payloadParser: defaultPayloadParser(flavor),
    ...opts,
  });
  const events = [...r.events()];
  const warnings = r.warnings();
  return { r, events, warnings, info: r.info(warnings.length) };
}

const HEADER = "# tracer: nop\n#\n# entries-in-buffer/entries-written: 3/5   #P:4\n#\n" +
  "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n" +
  "#              | |         |   |||||     |         |\n";

Deno.test("reader: kernel file with bookkeeping lines, garbage counted with line numbers", () => {
  const text = HEADER +
    "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:-1 reason:local MM shootdown (3)\n" +
    "##### CPU 2 buffer started ####\n" +
    "CPU:2 [LOST 7 EVENTS]\n" +
    "this line is not an event\n" +
    "\n" +
    "         python3-9397    [002] .....   383.903320: sys_munmap(addr: 0x7f5f00038000, len: 0x8c5f)\n" +
    "         python3-9397    [002] .....   383.903330: sys_munmap -> 0xfffffffffffffff4\n" +
    " => __x64_sys_munmap\n";
  const { events, warnings, info } = read(text, "kernel");
  assertEquals(events.map((e) => `${e.system}.${e.event}`), [
    "tlb.tlb_flush",
    "syscalls.sys_enter_munmap",
    "syscalls.sys_exit_munmap",
  ]);
  assertEquals(events[2]!.values, { ret: -12n });
  assertEquals(events.map((e) => e.line), [7, 12, 13]);
  assertEquals(info.unparsed_lines, 1n);
  assertEquals(info.lost_events, 7n);
  assertEquals(info.cpus, 4);
  const un = warnings.find((w) => w.code === "unparsed_lines")!;
  assert(un.message.includes("lines 10"), un.message);
  assert(warnings.some((w) => w.code === "lost_events"));
  // entries-in-buffer says 3: equal to what was read, no mismatch warning.
  assertEquals(warnings.filter((w) => w.code === "entries_mismatch"), []);
  assertEquals(info.format, "ftrace_text");
});

Deno.test("reader: trace-cmd report bookkeeping, instance prefixes, dropped events", () => {
  const text = "version = 6\nCPU 3 is empty\ncpus=4\n" +
    "inst2:        trace-cmd-9176  [001]   362.963423: tlb_flush:            pages=1 reason=local mm shootdown (3)\n" +
    "       trace-cmd-7373  [000]   250.672888: sys_enter_munmap:     addr: 0x7fb193413000, len: 0x00008c5f\n" +
    "inst2: CPU:1 [12 EVENTS DROPPED]\n" +
    "     kworker/1:2-50    [001]   250.700000: mm_page_alloc:        page=0x16a0ef order=0 gfp_flags=GFP_KERNEL|__GFP_ZERO\n" +
    "     kworker/1:2-50    [001]   250.700001: mm_page_alloc:        page=0x16a0f0 order=1\n";
  const { events, info, warnings } = read(text, "report");
  assertEquals(events.map((e) => e.buffer), ["inst2", "", "", ""]);
  assertEquals(events[0]!.values, { pages: 1n, reason: 3 });
  assertEquals(events[1]!.values, { addr: 0x7fb193413000n, len: 0x8c5fn });
  assertEquals(events[2]!.system, "kmem");
  assertEquals(events[2]!.keys, ["page", "order", "gfp_flags"]);
  assertEquals(events[2]!.values.gfp_flags, "GFP_KERNEL|__GFP_ZERO");
  assertEquals(info.version, "6");
  assertEquals(info.cpus, 4);
  assertEquals(info.lost_events, 12n);
  assertEquals(info.buffers.split(",").sort(), ["", "inst2"]);
  assertEquals(info.unparsed_lines, 0n);
  assertEquals(warnings.filter((w) => w.code === "unparsed_lines"), []);
});

Deno.test("reader: the latency banner's kernel picks the bundled formats", () => {
  const line = "  gen.sh-9484      0..... 17636us : sched_process_fork: " +
    "comm=gen.sh pid=9484 child_comm=gen.sh child_pid=9485\n";
  const old = read(
    "# tracer: nop\n# nop latency trace v1.1.5 on 6.1.0-18-amd64\n" + line,
    "kernel",
  );
  assertEquals(old.info.kernel, "6.1.0-18-amd64");
  assertEquals(old.events[0]!.format!.ownFields[0]!.kind, "array");
  assertEquals(old.events[0]!.values.parent_comm, "gen.sh");
  const recent = read("# tracer: nop\n# nop latency trace v1.1.5 on 6.18.4\n" + line, "kernel");
  assertEquals(recent.events[0]!.format!.ownFields[0]!.kind, "data_loc");
  // An explicit kernel option wins over the header.
  const forced = read("# nop latency trace v1.1.5 on 6.18.4\n" + line, "kernel", { kernel: "6.1" });
  assertEquals(forced.events[0]!.format!.ownFields[0]!.kind, "array");
});

Deno.test("reader: nocontext lines only where no column header was printed", () => {
  const lines =
    "tlb_flush: pages:1 reason:local MM shootdown (3)\nsys_munmap(addr: 0x1, len: 0x2)\n";
  const nc = read("# tracer: nop\n#\n" + lines, "kernel");
  assertEquals(nc.events.length, 2);
  assertEquals(nc.events[0]!.pid, -1);
  assert(nc.warnings.some((w) => w.code === "no_context"));
  const withHeader = read(HEADER + lines, "kernel");
  assertEquals(withHeader.events.length, 0);
  assertEquals(withHeader.info.unparsed_lines, 2n);
  const report = read("cpus=1\n" + lines, "report");
  assertEquals(report.events.length, 0);
});

Deno.test("reader: garbage text and binary junk give a typed error, never a hang", () => {
  const garbage = Array.from({ length: 1500 }, (_, i) => `garbage line ${i}`).join("\n");
  throws(() => read(garbage, "kernel"), (e: unknown) => {
    assert(e instanceof TraceError);
    assertEquals(e.code, "parse_error");
    assertEquals(e.location.section, "line 1000");
    return true;
  });
  // Deterministic pseudo-random bytes, newlines included.
  const junk = new Uint8Array(2 << 20);
  let x = 12345;
  for (let i = 0; i < junk.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    junk[i] = x >> 16 & 0xff;
  }
  throws(() => read(junk, "report"), TraceError);
  // A small junk file is counted, not thrown.
  const few = read(junk.subarray(0, 2000), "kernel");
  assertEquals(few.events.length, 0);
  assert(few.info.unparsed_lines > 0n);
});

Deno.test("reader: truncated lines and overlong lines are counted, the rest is read", () => {
  const good =
    "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:1 reason:x (3)\n";
  const huge = "          gen.sh-9396    [001] d..1.   383.902512: tlb_flush: " +
    "y".repeat(300000);
  const text = good + huge + "\n" + good +
    "          gen.sh-9396    [001] d..1.   383.9025" + // cut in the timestamp
    "\n" + good + "          gen.sh-9396    [001] d..1.   383.902513: tlb_flush: pages:"; // cut payload
  const { events, info, warnings, r } = read(text, "kernel", { chunkBytes: 4096 });
  assertEquals(events.length, 4);
  assertEquals(r.overlongLines, 1);
  assertEquals(info.unparsed_lines, 2n);
  const un = warnings.find((w) => w.code === "unparsed_lines")!;
  assert(un.message.includes("longer than the line cap (lines 2)"), un.message);
  // The payload cut short still lands in the table, with what could be read.
  assertEquals(events[3]!.how === "none" || events[3]!.how === "partial", true);
  assert(warnings.some((w) => w.code === "payload_mismatch" || w.code === "payload_partial"));
});

Deno.test("reader: reads in bounded chunks, never the whole file", () => {
  const line =
    "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:1 reason:x (3)\n";
  const bytes = new TextEncoder().encode(line.repeat(40000)); // ~3.4 MB
  const inner = memorySource(bytes, "big.txt");
  let biggest = 0;
  let reads = 0;
  const spy: FileSource = {
    name: inner.name,
    size: inner.size,
    readAt(o, n, s) {
      reads++;
      biggest = Math.max(biggest, n);
      return inner.readAt(o, n, s);
    },
    close() {},
  };
  const r = new FtraceTextReader(spy, { flavor: "kernel", chunkBytes: 65536 });
  let n = 0;
  for (const _ of r.events()) n++;
  assertEquals(n, 40000);
  assert(biggest <= 65536, `read ${biggest} bytes at once`);
  assert(reads >= bytes.length / 65536, `${reads} reads`);
});

Deno.test("ingest: tables, payload column, progress", () => {
  const text = "cpus=2\n" +
    "       trace-cmd-7373  [000]   250.672888: tlb_flush:            pages=1 reason=local mm shootdown (3)\n" +
    "     kworker/1:2-50    [001]   250.700000: mm_page_alloc:        page=0x1 order=0 pid=7\n" +
    "     kworker/1:2-50    [001]   250.700001: mm_page_alloc:        order=1 extra=2\n";
  const written: string[] = [];
  const rt = new RawTables({ write: (s, t) => written.push(`${s}.${t}`) });
  const progress: number[] = [];
  const { info } = ingestText(
    src(text),
    rt,
    { flavor: "report", payloadParser: defaultPayloadParser("report") },
    (n) => progress.push(n),
  );
  rt.finish();
  assertEquals(info.events, 3n);
  assertEquals(progress, [3]);
  assertEquals(written.sort(), ["kmem.mm_page_alloc", "main.events", "tlb.tlb_flush"]);
  const kmem = rt.all.find((t) => t.builder.name === "mm_page_alloc")!;
  // Columns from the first line's keys (pid renamed: it collides with the common column).
  assertEquals(kmem.builder.info.slice(7).map((c) => c.name), [
    "page",
    "order",
    "f_pid",
    "payload",
  ]);
  const tlb = rt.all.find((t) => t.builder.name === "tlb_flush")!;
  assertEquals(tlb.builder.info.slice(7).map((c) => `${c.name}:${c.type}`), [
    "reason:Int32",
    "pages:Uint64",
  ]);
});

/** Three lines of a 6.12 kernel's `trace` file that does not name its kernel. */
const CACHE_TAG_TEXT = "# tracer: nop\n" +
  "        dsa_copy-4001    [001] d..1.   812.137020: cache_tag_flush_range: dmar0 dmar0[2] " +
  "type iotlb did 1 [0x7f1c21a7c000-0x7f1c21a7cfff] addr 0x7f1c21a7c000 pages 0x1 mask 0x0\n" +
  "        dsa_copy-4001    [001] d..1.   812.137021: cache_tag_flush_range: dmar0 0000:6a:01.0[2] " +
  "type devtlb did 1 [0x7f1c21a7c000-0x7f1c21a7cfff] addr 0x7f1c21a7c000 pages 0x1 mask 0x0\n" +
  "        dsa_copy-4001    [001] .....   812.137022: cache_tag_assign: dmar1/0000:e7:01.0 " +
  "type 0x1 did 1 pasid 2 ref 1\n" +
  "        dsa_copy-4001    [001] .....   812.150000: exit_mmap: mt_mod ffff888134bb5740, DESTROY\n";

Deno.test("reader: cache-tag types read back by name or number; 6.12 payloads keep `pages`", () => {
  const { events, warnings } = read(CACHE_TAG_TEXT, "kernel");
  const [iotlb, devtlb, assign] = events;
  // the newest bundled format has no `pages`: the 6.10-7.0 format that fits is used instead
  assert(iotlb!.format!.ownFields.some((f) => f.name === "pages"));
  assertEquals(iotlb!.how, "print_fmt");
  assertEquals(iotlb!.values, {
    iommu: "dmar0",
    dev: "dmar0",
    pasid: 2,
    type: 0, // "iotlb": CACHE_TAG_IOTLB
    domain_id: 1,
    start: 0x7f1c21a7c000n,
    end: 0x7f1c21a7cfffn,
    addr: 0x7f1c21a7c000n,
    pages: 1n,
    mask: 0n,
  });
  assertEquals(devtlb!.values.type, 1); // "devtlb": CACHE_TAG_DEVTLB
  assertEquals(devtlb!.format, iotlb!.format);
  assertEquals(assign!.values.type, 1); // trace-cmd prints an unresolved key's value in hex
  assertEquals(warnings.filter((w) => w.code.startsWith("payload")), []);
});

Deno.test("reader: exit_mmap's unhashed mt is read and its mm restored (layout by kernel)", () => {
  const mt = 0xffff888134bb5740n;
  const newest = read(CACHE_TAG_TEXT, "kernel").events[3]!;
  assertEquals(newest.values, { mt, mm: mt - 0x40n });
  const old = read(CACHE_TAG_TEXT, "kernel", { kernel: "6.1.0-18-amd64" });
  assertEquals(old.events[3]!.values, { mt, mm: mt }); // mm_mt was the first member before 6.5
  assert(old.warnings.some((w) => w.code === "restored_fields" && w.message.includes("0x0")));
  // a hashed pointer (the default hash-ptr option) is not an address: both stay unknown
  const hashed = CACHE_TAG_TEXT.replace("ffff888134bb5740", "000000003f8a6b1c");
  const h = read(hashed, "kernel");
  assertEquals(h.events[3]!.values, {});
  assertEquals(h.warnings.filter((w) => w.code === "restored_fields"), []);
});
