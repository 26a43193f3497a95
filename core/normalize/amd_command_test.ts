import assert from "node:assert/strict";
import { decodeAmdCommand } from "./amd_command.ts";
import { fieldsText } from "./decoded_command.ts";

// Expected values are computed by hand from build_inv_iommu_pages / build_inv_iotlb_pages /
// build_completion_wait (drivers/iommu/amd/iommu.c): opcode in data[1][31:28].

Deno.test("INV_IOMMU_PAGES: GN with PASID, S-encoded 16 KiB range", () => {
  // build_inv_address(0x7f0000001000, 0x2000): end = 0x7f0000002fff, msb_diff = fls(0x1000 ^
  // 0x2fff = 0x3fff) - 1 = 13; address |= (1 << 13) - 1 -> 0x7f0000001fff, & PAGE_MASK ->
  // 0x7f0000001000, | S -> data[2] = low 32 bits 0x00001001 | PDE 2 | GN 4 = 0x1007,
  // data[3] = high 32 bits 0x7f00
  // data[0] = PASID 2, data[1] = 3 << 28 | domain 0x12
  const c = decodeAmdCommand([2, (3 << 28) | 0x12, 0x1007, 0x7f00]);
  assert.equal(c.kind, "inv_iommu_pages");
  assert.equal(c.domainId, 0x12);
  assert.equal(c.pasid, 2);
  // ADDR 0x7f0000001000: bit 12 set, bit 13 clear -> 2^14 bytes at 0x7f0000000000
  assert.equal(c.addr, 0x7f0000000000n);
  assert.equal(c.size, 0x4000n);
  assert.equal(fieldsText(c.extra), "s=1 pde=1 gn=1");
});

Deno.test("INV_IOMMU_PAGES: all pages (0x7ffffffffffff000 with S)", () => {
  const c = decodeAmdCommand([0, (3 << 28) | 1, 0xfffff003, 0x7fffffff]);
  assert.equal(c.whole, true);
  assert.equal(c.granularity, "all");
  assert.equal(c.addr, null);
  assert.equal(c.size, null);
  assert.equal(c.pasid, null); // GN clear
});

Deno.test("INV_IOTLB_PAGES: device id, qdep and the split PASID", () => {
  // PASID 0x1234: high byte 0x12 in data[0][23:16], low byte 0x34 in data[1][23:16]
  // data[0] = qdep 32 << 24 | 0x12 << 16 | devid 0x6a08 = 0x20126a08
  // data[1] = 4 << 28 | 0x34 << 16 | devid 0x6a08 = 0x40346a08
  // data[2] = address 0x5000 (S clear: one page) | GN 4 = 0x5004
  const c = decodeAmdCommand([0x20126a08, 0x40346a08, 0x5004, 0]);
  assert.equal(c.kind, "inv_iotlb_pages");
  assert.equal(c.sid, 0x6a08);
  assert.equal(c.pasid, 0x1234);
  assert.equal(c.addr, 0x5000n);
  assert.equal(c.size, 0x1000n);
  assert.equal(c.granularity, "page");
  assert.equal(fieldsText(c.extra), "s=0 gn=1 qdep=32");
});

Deno.test("COMPLETION_WAIT ends a submission; other opcodes", () => {
  // data[0] = low address 0x12345678 | store 1; data[1] = 1 << 28 | high 0x0f
  const w = decodeAmdCommand([0x12345679, (1 << 28) | 0xf, 0xdead, 0]);
  assert.equal(w.kind, "completion_wait");
  assert.equal(w.isSync, true);
  assert.equal(fieldsText(w.extra), "store=1 int=0 store_addr=0xf12345678 store_data=0xdead");
  assert.equal(decodeAmdCommand([0x6a08, 2 << 28, 0, 0]).sid, 0x6a08);
  assert.equal(decodeAmdCommand([0, 8 << 28, 0, 0]).granularity, "global");
  assert.equal(decodeAmdCommand([0, 6 << 28, 0, 0]).kind, "op_6");
  assert.throws(() => decodeAmdCommand([1, 2]), RangeError);
});
