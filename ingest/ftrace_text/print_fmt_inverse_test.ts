import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { FieldValue } from "../../core/event.ts";
import { parseFormatFile } from "../format/format_file.ts";
import { renderPayload, renderRaw } from "../format/print_render.ts";
import type { EventFormat, FieldFormat } from "../format/types.ts";
import { KNOWN_FORMAT_VERSIONS, knownFormat, knownFormats } from "../known_formats/mod.ts";
import { PayloadDecoder } from "./payload_decoder.ts";
import { compilePrintFmtInverse } from "./print_fmt_inverse.ts";
import { defaultPayloadParser } from "./register.ts";

function fmtOf(kernel: string, system: string, name: string): EventFormat {
  const k = knownFormat(kernel, system, name);
  if (!k) throw new Error(`${system}:${name} not bundled for ${kernel}`);
  return parseFormatFile(k.text, system);
}

Deno.test("print fmt inverse: tlb_flush as the kernel prints it", () => {
  const inv = compilePrintFmtInverse(fmtOf("6.18", "tlb", "tlb_flush"), "kernel")!;
  assertEquals(inv("pages:-1 reason:local MM shootdown (3)"), {
    pages: 0xffffffffffffffffn,
    reason: 3,
  });
  assertEquals(inv("pages:1 reason:remote wrong CPU (5)"), { pages: 1n, reason: 5 });
  // Not this event's text.
  assertEquals(inv("pages=1 reason=local mm shootdown (3)"), null);
});

Deno.test("print fmt inverse: __get_str, symbolic and flags, iova ranges", () => {
  const fork = compilePrintFmtInverse(fmtOf("6.18", "sched", "sched_process_fork"), "kernel")!;
  assertEquals(fork("comm=Web Content pid=2711 child_comm=a b child_pid=2712"), {
    parent_comm: "Web Content",
    parent_pid: 2711,
    child_comm: "a b",
    child_pid: 2712,
  });
  const map = compilePrintFmtInverse(fmtOf("6.18", "iommu", "map"), "tep")!;
  assertEquals(
    map("IOMMU: iova=0x00000000fee00000 - 0x00000000fee01000 paddr=0x0000000123456000 size=4096"),
    { iova: 0xfee00000n, paddr: 0x123456000n, size: 4096n },
  );
  const dma = compilePrintFmtInverse(fmtOf("6.18", "dma", "dma_map_phys"), "kernel")!;
  const v = dma(
    "0000:00:02.0 dir=FROM_DEVICE dma_addr=fff00000 size=4096 phys_addr=123000 attrs=WEAK_ORDERING|SKIP_CPU_SYNC",
  )!;
  assertEquals(v.device, "0000:00:02.0");
  assertEquals(v.dir, 2);
  assertEquals(v.dma_addr, 0xfff00000n);
  assertEquals(v.size, 4096n);
  assertEquals(v.phys_addr, 0x123000n);
  assertEquals(v.attrs, (1n << 1n) | (1n << 5n));
});

Deno.test("print fmt inverse: IS_ERR_VALUE split of vm_unmapped_area", () => {
  const inv = compilePrintFmtInverse(fmtOf("6.18", "mmap", "vm_unmapped_area"), "tep")!;
  const ok = inv(
    "addr=0x7f4429861000 err=0 total_vm=0x161 flags=0x1 len=0x35000 lo=0x1000 hi=0x7f4429896000 mask=0x0 ofs=0x0",
  )!;
  assertEquals(ok.addr, 0x7f4429861000n);
  assertEquals(ok.length, 0x35000n);
  const err = inv(
    "addr=0x0 err=-12 total_vm=0x1 flags=0x1 len=0x1 lo=0x1 hi=0x2 mask=0x0 ofs=0x0",
  )!;
  assertEquals(err.addr, 0xfffffffffffffff4n);
});

Deno.test("print fmt inverse: a format ending in a newline (before 6.4) and kernel %p", () => {
  const old = fmtOf("6.1", "mmap", "vm_unmapped_area");
  assert(old.printFmt.includes("\\n") || old.printFmt.includes("\n"));
  const inv = compilePrintFmtInverse(old, "kernel")!;
  assertEquals(
    inv("addr=0x3 err=0 total_vm=0x6 flags=0x9 len=0xc lo=0xf hi=0x12 mask=0x15 ofs=0x18")?.length,
    0xcn,
  );
  // The kernel hashes %p: the text matches, the pointer is not taken.
  const exit = compilePrintFmtInverse(fmtOf("6.18", "mmap", "exit_mmap"), "kernel")!;
  assertEquals(exit("mt_mod 000000003f8a6b1c, DESTROY"), {});
  const exitTep = compilePrintFmtInverse(fmtOf("6.18", "mmap", "exit_mmap"), "tep")!;
  assertEquals(exitTep("mt_mod 0xffff88813ea48040, DESTROY"), { mt: 0xffff88813ea48040n });
});

Deno.test("print fmt inverse: unhashed kernel %p is taken; enum-keyed symbolic tables", () => {
  const exit = compilePrintFmtInverse(fmtOf("6.18", "mmap", "exit_mmap"), "kernel")!;
  // hash-ptr off: the real address (above 2^32) is printed
  assertEquals(exit("mt_mod ffff888134bb5740, DESTROY"), { mt: 0xffff888134bb5740n });
  assertEquals(exit("mt_mod 00000000ffffffff, DESTROY"), {});
  // __print_symbolic(REC->type, { CACHE_TAG_IOTLB, "iotlb" }, ...): no TRACE_DEFINE_ENUM
  const ct = compilePrintFmtInverse(fmtOf("6.12", "intel_iommu", "cache_tag_assign"), "kernel")!;
  const type = (t: string) => ct(`dmar0/dmar0 type ${t} did 1 pasid 2 ref 1`)?.type;
  assertEquals(
    ["iotlb", "devtlb", "nesting_iotlb", "nesting_devtlb", "0x1", "7"].map(type),
    [0, 1, 2, 3, 1, 7],
  );
  assertEquals(type("bogus"), undefined);
});

/** A value a field can hold, distinct per field, valid for bool-like one-byte fields. */
function sample(f: FieldFormat, i: number): FieldValue {
  // No spaces: "%s %s" of strings with spaces is ambiguous in any reading.
  if (f.isString) return `dev${i}:x-y`;
  if (f.kind === "int") {
    if (f.size === 1) return 1;
    const v = BigInt(i + 1) * 0x1003n;
    return f.size === 8 ? v : Number(v);
  }
  return f.elemSize === 8 ? [0x1000n, 0x2000n] : [1, 2];
}

/** Fields the printed text does not hold (or holds only hashed). */
const NOT_PRINTED = new Set([
  "__syscall_nr",
  "sched_switch.prev_state",
  "exit_mmap.mm",
  "kernel:exit_mmap.mt",
]);

Deno.test("print fmt inverse: every bundled format round-trips through the renderer", () => {
  const seen = new Set<string>();
  let formats = 0;
  let fields = 0;
  for (const ver of KNOWN_FORMAT_VERSIONS) {
    for (const k of knownFormats(ver)) {
      if (k.system === "kprobes") continue;
      const key = k.text.replace(/^ID: \d+$/m, "");
      if (seen.has(key)) continue;
      seen.add(key);
      const fmt = parseFormatFile(k.text, k.system);
      const vals: Record<string, FieldValue> = {};
      fmt.ownFields.forEach((f, i) => (vals[f.name] = sample(f, i)));
      formats++;
      for (const flavor of ["kernel", "report"] as const) {
        const text = renderPayload(fmt, vals, {
          flavor: flavor === "kernel" ? "kernel" : "trace-cmd",
        });
        const d = new PayloadDecoder(defaultPayloadParser(flavor)).decode(fmt, "event", text);
        const where = `${ver} ${k.system}:${k.name} (${flavor}) "${text}"`;
        assert(d.how === "print_fmt" || d.how === "raw_fields", `${where}: ${d.how}`);
        for (const f of fmt.ownFields) {
          if (
            NOT_PRINTED.has(f.name) || NOT_PRINTED.has(`${k.name}.${f.name}`) ||
            NOT_PRINTED.has(`${flavor}:${k.name}.${f.name}`)
          ) continue;
          fields++;
          assertEquals(String(d.values[f.name]), String(vals[f.name]), `${where}: ${f.name}`);
        }
      }
      // trace-cmd report -R of the same values.
      const raw = renderRaw(fmt, vals).slice(1);
      const r = new PayloadDecoder(null).decode(fmt, "event", raw);
      assertEquals(r.how, "raw_fields", `${k.name} -R: ${raw}`);
      for (const f of fmt.ownFields) {
        assertEquals(String(r.values[f.name]), String(vals[f.name]), `${k.name} -R ${f.name}`);
      }
    }
  }
  assert(formats > 40, `${formats} formats`);
  assert(fields > 300, `${fields} fields`);
});
