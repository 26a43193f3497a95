import assert from "node:assert/strict";
import { fieldsText } from "./decoded_command.ts";
import { decodeSmmuCommand } from "./smmu_command.ts";

// Expected values are computed by hand from the CMDQ_* field layout (arm-smmu-v3.h).

Deno.test("TLBI_NH_VA without range: one 4 KiB granule (assumed)", () => {
  // cmd0 = ASID 3 << 48 | opcode 0x12 = 0x3000000000012; cmd1 = VA 0x7f0000001000
  const c = decodeSmmuCommand(0x3000000000012n, 0x7f0000001000n);
  assert.equal(c.kind, "tlbi_nh_va");
  assert.equal(c.domainId, 3);
  assert.equal(c.granularity, "va");
  assert.equal(c.addr, 0x7f0000001000n);
  assert.equal(c.size, 0x1000n);
  assert.equal(fieldsText(c.extra), "vmid=0 num=0 scale=0 tg=0 ttl=0 leaf=0 granule=assumed_4k");
});

Deno.test("TLBI_NH_VA with range: (NUM+1) << SCALE pages of 2^(10+2*TG)", () => {
  // NUM field 2 (num = 3 chunks), SCALE 4, TG 1 (4 KiB), TTL 3, LEAF 1, ASID 9, VMID 0
  // cmd0 = 9 << 48 | 4 << 20 | 2 << 12 | 0x12 = 0x9000000402012
  // cmd1 = VA 0x40000000 | TG 1 << 10 | TTL 3 << 8 | LEAF 1 = 0x40000701
  // size = (2 + 1) << 4 = 48 pages of 4 KiB = 0x30000 bytes
  const c = decodeSmmuCommand(0x9000000402012n, 0x40000701n);
  assert.equal(c.granularity, "range");
  assert.equal(c.domainId, 9);
  assert.equal(c.addr, 0x40000000n);
  assert.equal(c.size, 0x30000n);
  assert.equal(fieldsText(c.extra), "vmid=0 num=2 scale=4 tg=1 ttl=3 leaf=1");
  // TG 3 (64 KiB pages), NUM 0, SCALE 0: one 64 KiB page
  const big = decodeSmmuCommand(0x12n, 0x10000n | (3n << 10n));
  assert.equal(big.size, 0x10000n);
});

Deno.test("TLBI_NH_ASID, TLBI_S12_VMALL, TLBI_NSNH_ALL", () => {
  const a = decodeSmmuCommand((7n << 48n) | 0x11n, 0n);
  assert.equal(a.kind, "tlbi_nh_asid");
  assert.equal(a.granularity, "asid");
  assert.equal(a.domainId, 7);
  // VMID 5 << 32 | 0x28
  const v = decodeSmmuCommand((5n << 32n) | 0x28n, 0n);
  assert.equal(v.kind, "tlbi_s12_vmall");
  assert.equal(v.domainId, 5);
  assert.equal(decodeSmmuCommand(0x30n, 0n).granularity, "global");
});

Deno.test("ATC_INV: SSV, SSID, SID, SIZE", () => {
  // cmd0 = SID 0x100 << 32 | SSID 1 << 12 | SSV 1 << 11 | 0x40 = 0x10000001840
  // cmd1 = 0x7f0000000000 | SIZE 2 -> 4 pages = 0x4000 bytes at 0x7f0000000000
  const c = decodeSmmuCommand(0x10000001840n, 0x7f0000000002n);
  assert.equal(c.kind, "atc_inv");
  assert.equal(c.sid, 0x100);
  assert.equal(c.pasid, 1);
  assert.equal(c.addr, 0x7f0000000000n);
  assert.equal(c.size, 0x4000n);
  assert.equal(fieldsText(c.extra), "ssv=1 global=0 size_log2=2");
  // SIZE 52 (ATC_INV_SIZE_ALL): everything; SSV 0: no PASID
  const all = decodeSmmuCommand(0x10000000040n, 52n);
  assert.equal(all.whole, true);
  assert.equal(all.granularity, "all");
  assert.equal(all.addr, null);
  assert.equal(all.size, null);
  assert.equal(all.pasid, null);
});

Deno.test("CFGI_CD, CMD_SYNC and an unknown opcode", () => {
  // CFGI_CD: SID 0x200 << 32 | SSID 4 << 12 | 0x05
  const cd = decodeSmmuCommand(0x20000004005n, 1n);
  assert.equal(cd.kind, "cfgi_cd");
  assert.equal(cd.sid, 0x200);
  assert.equal(cd.pasid, 4);
  // CMD_SYNC with CS=SEV (2 << 12), MSIDATA 0xabc << 32
  const s = decodeSmmuCommand((0xabcn << 32n) | (2n << 12n) | 0x46n, 0n);
  assert.equal(s.isSync, true);
  assert.equal(fieldsText(s.extra), "cs=2 msh=0 msiattr=0 msidata=0xabc");
  assert.equal(decodeSmmuCommand(0x7fn, 0n).kind, "op_0x7f");
});
