/**
 * Decoder of AMD-Vi command-buffer entries (four 32-bit words), as captured by a probe on
 * `__iommu_queue_command_sync` (see `core/probes/amd.json`).
 *
 * Layout (from the kernel's `build_*` helpers in `drivers/iommu/amd/iommu.c`):
 * - opcode = data[1][31:28].
 * - `completion_wait` (1): data[0] bit 0 store, bit 1 interrupt, bit 2 flush queue; store address
 *   data[0][31:3] | data[1][19:0] << 32; store data data[2..3]. Ends a submission.
 * - `inv_dev_entry` (2): device id data[0][15:0].
 * - `inv_iommu_pages` (3): PASID data[0][19:0] (when GN), domain id data[1][15:0]; data[2] bit 0 S,
 *   bit 1 PDE, bit 2 GN; address = data[3] << 32 | data[2][31:12].
 * - `inv_iotlb_pages` (4): device id data[0][15:0], QDEP data[0][31:24], PASID = data[0][23:16] << 8 |
 *   data[1][23:16] (when GN); data[2] bit 0 S, bit 2 GN; address as above.
 * - `inv_irt` (5): device id data[0][15:0]. `complete_ppr` (7): device id data[0][15:0],
 *   PASID data[1][19:0] (when GN, data[2] bit 2), tag data[3][8:0], status data[3][15:12].
 *   `inv_all` (8).
 *
 * Address with S = 1 uses the PCIe ATS size encoding (lowest 0 bit at or above bit 12 gives
 * `2^(N+1)` bytes); `0x7ffffffffffff000` with S is the whole space. S = 0 is one 4 KiB page.
 *
 * @module
 */
import type { DecodedCommand } from "./decoded_command.ts";
import { atsRange } from "./vtd_descriptor.ts";

/** Kernel `CMD_*` names (lower case) by opcode. */
export const AMD_OPCODES: Readonly<Record<number, string>> = Object.freeze({
  1: "completion_wait",
  2: "inv_dev_entry",
  3: "inv_iommu_pages",
  4: "inv_iotlb_pages",
  5: "inv_irt",
  7: "complete_ppr",
  8: "inv_all",
});

const h = (v: bigint | number) => "0x" + v.toString(16);

/**
 * Decodes one AMD-Vi command.
 *
 * @param data the four 32-bit words (numbers or bigints)
 * @returns the decoded command
 * @throws {RangeError} when fewer than four words are given
 * @example
 * ```ts
 * import { decodeAmdCommand } from "./amd_command.ts";
 * // INV_IOMMU_PAGES, domain 7, PASID 3, GN|PDE|S, address 0x1000 with S -> bits 12 set, 13 clear
 * // -> 2^14 bytes at 0x0
 * const c = decodeAmdCommand([3, (3 << 28) | 7, 0x1000 | 0x7, 0]);
 * console.assert(c.kind === "inv_iommu_pages" && c.domainId === 7 && c.pasid === 3);
 * console.assert(c.addr === 0n && c.size === 0x4000n);
 * ```
 */
export function decodeAmdCommand(data: ReadonlyArray<number | bigint>): DecodedCommand {
  if (data.length < 4) throw new RangeError(`AMD command needs 4 words, got ${data.length}`);
  const w = data.slice(0, 4).map((x) => Number(BigInt.asUintN(32, BigInt(x))));
  const [d0, d1, d2, d3] = w as [number, number, number, number];
  const op = d1 >>> 28;
  const c: DecodedCommand = {
    kind: AMD_OPCODES[op] ?? `op_${op}`,
    granularity: null,
    domainId: null,
    pasid: null,
    sid: null,
    addr: null,
    size: null,
    whole: false,
    isSync: op === 1,
    extra: [],
    raw: w.map(h).join(" "),
  };
  const address = (BigInt(d3) << 32n) | BigInt(d2 & 0xfffff000);
  const s = (d2 & 1) === 1;
  const gn = (d2 & 4) === 4;
  const range = () => {
    const r = atsRange(address, s);
    if (r.whole) {
      c.whole = true;
      c.granularity = "all";
    } else {
      c.addr = r.addr;
      c.size = r.size;
      c.granularity = s ? "range" : "page";
    }
  };
  switch (op) {
    case 1:
      c.extra.push(
        ["store", (d0 & 1) === 1 ? "1" : "0"],
        ["int", (d0 & 2) === 2 ? "1" : "0"],
        ["store_addr", h((BigInt(d1 & 0xfffff) << 32n) | BigInt(d0 & 0xfffffff8))],
        ["store_data", h((BigInt(d3) << 32n) | BigInt(d2))],
      );
      break;
    case 2:
    case 5:
      c.sid = d0 & 0xffff;
      break;
    case 3:
      c.domainId = d1 & 0xffff;
      if (gn) c.pasid = d0 & 0xfffff;
      range();
      c.extra.push(["s", s ? "1" : "0"], ["pde", (d2 & 2) === 2 ? "1" : "0"], [
        "gn",
        gn ? "1" : "0",
      ]);
      break;
    case 4:
      c.sid = d0 & 0xffff;
      if (gn) c.pasid = (((d0 >>> 16) & 0xff) << 8) | ((d1 >>> 16) & 0xff);
      range();
      c.extra.push(["s", s ? "1" : "0"], ["gn", gn ? "1" : "0"], ["qdep", String(d0 >>> 24)]);
      break;
    case 7:
      c.sid = d0 & 0xffff;
      if (gn) c.pasid = d1 & 0xfffff;
      c.extra.push(["gn", gn ? "1" : "0"], ["tag", String(d3 & 0x1ff)], [
        "status",
        String((d3 >>> 12) & 0xf),
      ]);
      break;
    case 8:
      c.granularity = "global";
      break;
    default:
      break;
  }
  return c;
}
