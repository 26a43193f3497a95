import assert from "node:assert/strict";
import { atsRange, decodeVtdDescriptor, psiRange, vtdFieldsText } from "./vtd_descriptor.ts";

// Every expected value below is computed by hand from the VT-d field layout in
// research/iommu.md §2 (the kernel's QI_* macros); the arithmetic is in the comments.

Deno.test("type 1 cc_inv: device-selective context-cache invalidation", () => {
  // qw0 = SID 0x6a08 << 32 | DID 5 << 16 | GRAN 3 << 4 | type 1
  //     = 0x6a0800000000 + 0x50000 + 0x30 + 0x1 = 0x6a0800050031
  const d = decodeVtdDescriptor(0x6a0800050031n, 0n);
  assert.equal(d.type, 1);
  assert.equal(d.kind, "cc_inv");
  assert.equal(d.granularity, "device");
  assert.equal(d.did, 5);
  assert.equal(d.sid, 0x6a08);
  assert.equal(d.addr, null);
  assert.equal(vtdFieldsText(d), "fm=0");
});

Deno.test("type 2 iotlb_inv: the qi_submit patch samples", () => {
  // 0x100e2: type 2; bits 5:4 of 0xe2 (1110 0010) = 10b = 2 -> domain; DW bit 6 = 1, DR bit 7 = 1;
  // DID = 0x100e2 >> 16 = 1
  const dsi = decodeVtdDescriptor(0x100e2n, 0n);
  assert.equal(dsi.kind, "iotlb_inv");
  assert.equal(dsi.granularity, "domain");
  assert.equal(dsi.did, 1);
  assert.equal(dsi.addr, null);
  assert.equal(dsi.size, null);
  assert.equal(vtdFieldsText(dsi), "dw=1 dr=1 am=0 ih=0");
  // 0x800f2 0xf9a00005: GRAN = 0xf & 3 = 3 -> page; DID = 8; AM = 5, IH = bit 6 of 0x05 = 0;
  // range = 4 KiB << 5 = 0x20000 at 0xf9a00000 (already aligned to 0x20000)
  const psi = decodeVtdDescriptor(0x800f2n, 0xf9a00005n);
  assert.equal(psi.granularity, "page");
  assert.equal(psi.did, 8);
  assert.equal(psi.am, 5);
  assert.equal(psi.ih, false);
  assert.equal(psi.addr, 0xf9a00000n);
  assert.equal(psi.size, 0x20000n);
  // global: GRAN 1 -> qw0 = 1 << 4 | 2 = 0x12
  assert.equal(decodeVtdDescriptor(0x12n, 0n).granularity, "global");
});

Deno.test("type 3 dev_tlb_inv: whole device TLB and a 16 KiB range", () => {
  // patch sample 0x1000000003 0x7ffffffffffff001: SID = 0x10 (00:02.0), QDEP field 0 -> 32,
  // S = 1, address bits 62..12 set, bit 63 clear -> N = 63 -> 2^64 bytes: the whole space
  const all = decodeVtdDescriptor(0x1000000003n, 0x7ffffffffffff001n);
  assert.equal(all.kind, "dev_tlb_inv");
  assert.equal(all.sid, 0x10);
  assert.equal(all.qdep, 32);
  assert.equal(all.pfsid, 0);
  assert.equal(all.s, true);
  assert.equal(all.whole, true);
  assert.equal(all.addr, null);
  assert.equal(all.size, null);
  assert.equal(all.granularity, "all");
  // qw0 = PFSID high (0x6a08 >> 4 = 0x6a0) << 52 | SID 0x6a08 << 32 | QDEP 16 << 16
  //       | PFSID low (0x6a08 & 0xf = 8) << 12 | type 3
  //     = 0x6a00000000000000 + 0x6a0800000000 + 0x100000 + 0x8000 + 3 = 0x6a006a0800108003
  // qw1 = 0x7f0000001001: S = 1; ADDR 0x7f0000001000 has bit 12 set, bit 13 clear -> N = 13
  //       -> 2^14 = 0x4000 bytes at 0x7f0000001000 & ~0x3fff = 0x7f0000000000
  const r = decodeVtdDescriptor(0x6a006a0800108003n, 0x7f0000001001n);
  assert.equal(r.sid, 0x6a08);
  assert.equal(r.pfsid, 0x6a08);
  assert.equal(r.qdep, 16);
  assert.equal(r.granularity, "range");
  assert.equal(r.addr, 0x7f0000000000n);
  assert.equal(r.size, 0x4000n);
  assert.equal(vtdFieldsText(r), "s=1 qdep_field=16 pfsid=0x6a08");
  // S = 0: exactly the 4 KiB page at ADDR
  const one = decodeVtdDescriptor(0x1000000003n, 0x7f0000005000n);
  assert.equal(one.granularity, "page");
  assert.equal(one.addr, 0x7f0000005000n);
  assert.equal(one.size, 0x1000n);
});

Deno.test("type 4 iec_inv: index-selective interrupt entry cache", () => {
  // qw0 = IIDX 0x25 << 32 | IM 3 << 27 | G 1 << 4 | type 4 = 0x2500000000 + 0x18000000 + 0x10 + 4
  //     = 0x2518000014
  const d = decodeVtdDescriptor(0x2518000014n, 0n);
  assert.equal(d.kind, "iec_inv");
  assert.equal(d.granularity, "index");
  assert.equal(vtdFieldsText(d), "iidx=37 im=3");
  assert.equal(decodeVtdDescriptor(0x4n, 0n).granularity, "global");
});

Deno.test("type 5 inv_wait: the drain's fenced wait and a status-write wait with PD", () => {
  // drain: QI_IWD_STATUS_DATA(QI_DONE = 2) = 2 << 32 | FENCE 1 << 6 | type 5 = 0x200000045
  const f = decodeVtdDescriptor(0x200000045n, 0n);
  assert.equal(f.kind, "inv_wait");
  assert.equal(vtdFieldsText(f), "if=0 sw=0 fn=1 pd=0 status_data=0x2 status_addr=0x0");
  // 1 << 32 | PD 1 << 7 | SW 1 << 5 | 5 = 0x1000000a5, status address 0x12345678
  const w = decodeVtdDescriptor(0x1000000a5n, 0x12345678n);
  assert.equal(vtdFieldsText(w), "if=0 sw=1 fn=0 pd=1 status_data=0x1 status_addr=0x12345678");
  assert.equal(w.addr, null);
});

Deno.test("type 6 p_iotlb_inv: page-selective, PASID-selective, unaligned and whole", () => {
  // qw0 = PASID 2 << 32 | DID 1 << 16 | GRAN 3 << 4 | 6 = 0x200000000 + 0x10000 + 0x30 + 6
  //     = 0x200010036; qw1 = 0x7f0000000000 | IH 1 << 6 | AM 2 = 0x7f0000000042
  // range = 4 KiB << 2 = 0x4000 at 0x7f0000000000
  const p = decodeVtdDescriptor(0x200010036n, 0x7f0000000042n);
  assert.equal(p.kind, "p_iotlb_inv");
  assert.equal(p.granularity, "page");
  assert.equal(p.did, 1);
  assert.equal(p.pasid, 2);
  assert.equal(p.am, 2);
  assert.equal(p.ih, true);
  assert.equal(p.addr, 0x7f0000000000n);
  assert.equal(p.size, 0x4000n);
  assert.equal(vtdFieldsText(p), "am=2 ih=1");
  // GRAN 2: 0x200010026 -> PASID-selective, no address
  const all = decodeVtdDescriptor(0x200010026n, 0n);
  assert.equal(all.granularity, "pasid");
  assert.equal(all.addr, null);
  // AM 3 (0x8000 bytes) at 0x7f0000003000: aligned down to 0x7f0000000000, flagged unaligned
  const u = decodeVtdDescriptor(0x200010036n, 0x7f0000003003n);
  assert.equal(u.addr, 0x7f0000000000n);
  assert.equal(u.size, 0x8000n);
  assert.equal(vtdFieldsText(u), "am=3 ih=0 unaligned=0x7f0000003000");
  // AM 52: 4 KiB << 52 = 2^64 -> whole space
  const w = decodeVtdDescriptor(0x200010036n, 52n);
  assert.equal(w.whole, true);
  assert.equal(w.addr, null);
  assert.equal(w.size, null);
});

Deno.test("type 7 pc_inv: PASID-selective PASID-cache invalidation", () => {
  // PASID 2 << 32 | DID 1 << 16 | GRAN 1 << 4 | 7 = 0x200010017
  const d = decodeVtdDescriptor(0x200010017n, 0n);
  assert.equal(d.kind, "pc_inv");
  assert.equal(d.granularity, "pasid");
  assert.equal(d.did, 1);
  assert.equal(d.pasid, 2);
  // GRAN 0: all PASIDs of the DID; GRAN 3: global
  assert.equal(decodeVtdDescriptor(0x10007n, 0n).granularity, "all_pasids");
  assert.equal(decodeVtdDescriptor(0x37n, 0n).granularity, "global");
});

Deno.test("type 8 p_dev_tlb_inv: 16 KiB range with QDEP 32 encoded as 0", () => {
  // qw0 = PFSID high 0x6a0 << 52 | PASID 2 << 32 | SID 0x6a08 << 16 | QDEP (32 & 0x1f = 0) << 4
  //       | PFSID low 8 << 12 | 8
  //     = 0x6a00000000000000 + 0x200000000 + 0x6a080000 + 0x8000 + 8 = 0x6a0000026a088008
  // qw1: size order 2 -> bits 13..12 set then bit 13 cleared -> 0x1000; S = bit 11 -> 0x800
  //      = 0x7f0000000000 | 0x1000 | 0x800 = 0x7f0000001800
  // range: ADDR 0x7f0000001000, lowest 0 bit at or above 12 is 13 -> 2^14 at 0x7f0000000000
  const d = decodeVtdDescriptor(0x6a0000026a088008n, 0x7f0000001800n);
  assert.equal(d.kind, "p_dev_tlb_inv");
  assert.equal(d.sid, 0x6a08);
  assert.equal(d.pasid, 2);
  assert.equal(d.pfsid, 0x6a08);
  assert.equal(d.qdep, 32);
  assert.equal(d.s, true);
  assert.equal(d.addr, 0x7f0000000000n);
  assert.equal(d.size, 0x4000n);
  assert.equal(d.granularity, "range");
  assert.equal(vtdFieldsText(d), "s=1 g=0 qdep_field=0 pfsid=0x6a08");
  // whole: 0x7ffffffffffff000 | S 0x800 -> bits 62..12 set -> N = 63 -> 2^64
  const w = decodeVtdDescriptor(0x6a0000026a088008n, 0x7ffffffffffff800n);
  assert.equal(w.whole, true);
  assert.equal(w.granularity, "all");
});

Deno.test("type 9 page_grp_resp: success response with last-in-group", () => {
  // qw0 = PASID 2 << 32 | RID 0x6a08 << 16 | RESP 0 << 12 | PASID_P 1 << 4 | 9 = 0x26a080019
  // qw1 = PRG index 5 << 3 | LPIG 1 << 2 = 0x28 + 0x4 = 0x2c
  const d = decodeVtdDescriptor(0x26a080019n, 0x2cn);
  assert.equal(d.kind, "page_grp_resp");
  assert.equal(d.sid, 0x6a08);
  assert.equal(d.pasid, 2);
  assert.equal(vtdFieldsText(d), "pasid_p=1 pdp=0 resp_code=0 lpig=1 prg_index=5");
  // without PASID_P the PASID field is not meaningful
  assert.equal(decodeVtdDescriptor(0x26a080009n, 0n).pasid, null);
});

Deno.test("unknown type and raw words", () => {
  const d = decodeVtdDescriptor(0xfn, 1n, 2n, 3n);
  assert.equal(d.kind, "type_15");
  assert.equal(d.raw, "0xf 0x1 0x2 0x3");
});

Deno.test("psiRange and atsRange edge cases", () => {
  // AM 0 is one page
  assert.deepEqual(psiRange(0x5000n, 0), {
    addr: 0x5000n,
    size: 0x1000n,
    whole: false,
    unaligned: false,
  });
  // AM 51: 4 KiB << 51 = 2^63 bytes, the last range that fits
  assert.equal(psiRange(0n, 51).size, 1n << 63n);
  // S with bit 12 clear: 8 KiB
  assert.deepEqual(atsRange(0x6000n, true), {
    addr: 0x6000n,
    size: 0x2000n,
    whole: false,
    unaligned: false,
  });
  // the svm.c comment example: 0x12345f000 -> 0x123440000..0x12347ffff
  const r = atsRange(0x12345f000n, true);
  assert.equal(r.addr, 0x123440000n);
  assert.equal(r.addr + r.size! - 1n, 0x12347ffffn);
});
