import assert from "node:assert/strict";
import { encodeRecord } from "./record_encoder.ts";
import type { FieldValue, TraceEvent } from "../core/event.ts";
import { UsageError } from "../core/errors.ts";
import { parseFormatFile } from "../ingest/format/format_file.ts";
import { compileDecoder } from "../ingest/format/field_decoder.ts";
import { knownFormat } from "../ingest/known_formats/known_formats.ts";

function fmt(kernel: string, system: string, name: string, longSize = 8) {
  const k = knownFormat(kernel, system, name, longSize === 4 ? { abi: { longSize: 4 } } : {});
  assert.ok(k, `${system}:${name}`);
  return parseFormatFile(k.text, system, longSize);
}

function ev(system: string, event: string, fields: Record<string, FieldValue>): TraceEvent {
  return {
    ts: 1000n,
    cpu: 0,
    pid: 0x1234,
    comm: "x",
    system,
    event,
    buffer: "",
    flags: 0x05,
    preempt_count: 0x21,
    fields,
  };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("tlb_flush: common fields and fixed fields at their offsets, little endian", () => {
  const rec = encodeRecord(
    ev("tlb", "tlb_flush", { reason: 3, pages: -1 }),
    fmt("6.18", "tlb", "tlb_flush"),
  );
  // id 1401 = 0x0579; flags 05; preempt 21; pid 0x1234; reason 3; pad; pages all ones.
  assert.equal(
    hex(rec),
    "7905" + "05" + "21" + "34120000" + "03000000" + "00000000" + "ffffffffffffffff",
  );
});

Deno.test("big endian writes every integer the other way round", () => {
  const rec = encodeRecord(
    ev("tlb", "tlb_flush", { reason: 3, pages: 2n }),
    fmt("6.18", "tlb", "tlb_flush"),
    { littleEndian: false },
  );
  assert.equal(
    hex(rec),
    "0579" + "05" + "21" + "00001234" + "00000003" + "00000000" + "0000000000000002",
  );
});

Deno.test("qi_submit: __data_loc string appended at offsetof(__data), record padded to struct", () => {
  const rec = encodeRecord(
    ev("intel_iommu", "qi_submit", { qw0: 0x100e2n, qw1: 0n, qw2: 0n, qw3: 0n, iommu: "dmar1" }),
    fmt("6.18", "intel_iommu", "qi_submit"),
  );
  // Fixed part ends at 44 (data_loc at 40); struct aligned to 8 -> 48; string is 6 bytes.
  assert.equal(rec.length, 48 + 6);
  const v = new DataView(rec.buffer);
  assert.equal(v.getUint32(40, true), (6 << 16) | 44);
  assert.equal(new TextDecoder().decode(rec.subarray(44, 50)), "dmar1\0");
  assert.equal(v.getBigUint64(8, true), 0x100e2n);
});

Deno.test("several dynamic fields follow each other without padding", () => {
  const rec = encodeRecord(
    ev("intel_iommu", "cache_tag_flush_range", {
      iommu: "dmar0",
      dev: "0000:00:02.0",
      type: 0,
      domain_id: 1,
      pasid: 2,
      start: 0x1000n,
      end: 0x1fffn,
      addr: 0x1000n,
      pages: 1n,
      mask: 0n,
    }),
    fmt("6.18", "intel_iommu", "cache_tag_flush_range"),
  );
  const v = new DataView(rec.buffer);
  assert.equal(v.getUint32(8, true), (6 << 16) | 64);
  assert.equal(v.getUint32(12, true), (13 << 16) | 70);
  assert.equal(rec.length, 64 + 6 + 13);
});

Deno.test("round trip through the shared field decoder for every 6.18 event shape", () => {
  const cases: [string, string, Record<string, FieldValue>][] = [
    ["dma", "dma_map_sg", {
      device: "0000:01:00.0",
      full_nents: 2,
      full_ents: 1,
      truncated: 0,
      phys_addrs: [0x1000n, 0x2000n],
      dma_addrs: [0xfff000n],
      lengths: [8192],
      dir: 1,
      attrs: 0n,
    }],
    ["sched", "sched_switch", {
      prev_comm: "a-very-long-command-name",
      prev_pid: 7,
      prev_prio: 120,
      prev_state: -1n,
      next_comm: "swapper/0",
      next_pid: 0,
      next_prio: 120,
    }],
    ["sched", "sched_process_fork", {
      parent_comm: "bash",
      parent_pid: 10,
      child_comm: "bash",
      child_pid: 11,
    }],
    ["syscalls", "sys_enter_madvise", {
      __syscall_nr: 28,
      start: 0x7f0000000000n,
      len_in: 4096n,
      behavior: 4n,
    }],
    ["kprobes", "qi_submit_sync", {
      __probe_ip: 0xffffffff81000000n,
      iommu: 0xffff888100000000n,
      desc: 1n,
      count: 3,
      options: 0,
    }],
  ];
  for (const [system, name, fields] of cases) {
    const format = fmt("6.18", system, name);
    const rec = encodeRecord(ev(system, name, fields), format);
    const got = compileDecoder(format, true).decode(new DataView(rec.buffer), rec, 0, rec.length);
    for (const [k, want] of Object.entries(fields)) {
      let expected: unknown = want;
      // A fixed char[16] takes the first 16 bytes, as the kernel's memcpy of TASK_COMM_LEN does.
      if (k === "prev_comm") expected = "a-very-long-comm";
      else if (typeof want === "number" && typeof got[k] === "bigint") expected = BigInt(want);
      assert.deepEqual(got[k], expected, `${name}.${k}`);
    }
  }
});

Deno.test("32-bit formats: unsigned long is 4 bytes", () => {
  const format = fmt("6.18", "tlb", "tlb_flush", 4);
  const rec = encodeRecord(ev("tlb", "tlb_flush", { reason: 1, pages: 0xffffffff }), format, {
    maxAlign: 4,
  });
  assert.equal(rec.length, 16);
  assert.equal(hex(rec.subarray(12)), "ffffffff");
});

Deno.test("bad values are typed errors", () => {
  const format = fmt("6.18", "tlb", "tlb_flush");
  assert.throws(() => encodeRecord(ev("tlb", "tlb_flush", { reason: 3 }), format), UsageError);
  assert.throws(
    () => encodeRecord(ev("tlb", "tlb_flush", { reason: 1n << 40n, pages: 0 }), format),
    /does not fit in 4 bytes/,
  );
  assert.throws(
    () => encodeRecord(ev("tlb", "tlb_flush", { reason: 1.5, pages: 0 }), format),
    /not an integer/,
  );
  assert.throws(
    () => encodeRecord(ev("tlb", "tlb_flush", { reason: "3", pages: 0 }), format),
    /expected an integer/,
  );
  const rec = encodeRecord(ev("tlb", "tlb_flush", { reason: 3 }), format, { allowMissing: true });
  assert.equal(hex(rec.subarray(16)), "0000000000000000");
});

Deno.test("8-byte fields: plain numbers and bigints encode to the same bytes", () => {
  const format = fmt("6.18", "tlb", "tlb_flush");
  for (const v of [-5, 2 ** 53 - 1, -(2 ** 53) + 1, 0x1_0000_0000, 7]) {
    for (const littleEndian of [true, false]) {
      const a = encodeRecord(ev("tlb", "tlb_flush", { reason: -2, pages: v }), format, {
        littleEndian,
      });
      const b = encodeRecord(ev("tlb", "tlb_flush", { reason: -2n, pages: BigInt(v) }), format, {
        littleEndian,
      });
      assert.deepEqual(a, b, `${v} ${littleEndian}`);
    }
  }
  const rec = encodeRecord(ev("tlb", "tlb_flush", { reason: 0, pages: -5 }), format);
  assert.equal(hex(rec.subarray(16)), "fbffffffffffffff");
});
