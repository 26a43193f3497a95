/**
 * Decoder of Intel VT-d queued-invalidation descriptors, as logged by `intel_iommu:qi_submit`
 * (`qw0`..`qw3`).
 *
 * Bit layout (bit numbers within each 64-bit word; type = qw0[3:0]; from the kernel's `QI_*`
 * macros in `drivers/iommu/intel/iommu.h`, see `research/iommu.md` §2):
 *
 * | type | kind | qw0 | qw1 |
 * |---|---|---|---|
 * | 1 | `cc_inv` | GRAN[5:4] (1 global, 2 domain, 3 device), DID[31:16], SID[47:32], FM[49:48] | - |
 * | 2 | `iotlb_inv` | GRAN[5:4] (1 global, 2 domain, 3 page), DW bit 6, DR bit 7, DID[31:16] | ADDR[63:12], IH bit 6, AM[5:0] |
 * | 3 | `dev_tlb_inv` | PFSID low[15:12], QDEP[20:16], SID[47:32], PFSID high[63:52] | ADDR[63:12], S bit 0 |
 * | 4 | `iec_inv` | G bit 4 (1 = index-selective), IM[31:27], IIDX[47:32] | - |
 * | 5 | `inv_wait` | IF bit 4, SW bit 5, FN bit 6, PD bit 7, status data[63:32] | status address |
 * | 6 | `p_iotlb_inv` | GRAN[5:4] (2 PASID-selective, 3 page-selective-within-PASID), DID[31:16], PASID[51:32] | ADDR[63:12], IH bit 6, AM[5:0] |
 * | 7 | `pc_inv` | GRAN[5:4] (0 all PASIDs of the DID, 1 PASID-selective, 3 global), DID[31:16], PASID[51:32] | - |
 * | 8 | `p_dev_tlb_inv` | PFSID low[15:12], QDEP[8:4], SID[31:16], PASID[51:32], PFSID high[63:52] | ADDR[63:12], S bit 11, G bit 0 |
 * | 9 | `page_grp_resp` | PASID present bit 4, PDP bit 5, RESP[15:12], RID[31:16], PASID[51:32] | LPIG bit 2, PRG index[11:3] |
 *
 * Ranges:
 * - IOTLB page-selective (`iotlb_inv`/`p_iotlb_inv` with page granularity): `2^AM` pages of 4 KiB at
 *   ADDR aligned down to that size.
 * - Device-TLB (ATS) with S = 1: the size is encoded in the address. With N the lowest 0 bit of
 *   ADDR at bit 12 or above, the range is `2^(N+1)` bytes, naturally aligned. S = 0: one 4 KiB page.
 * - A range that would reach 2^64 bytes is the whole address space: `addr` and `size` null
 *   (as for domain-wide commands), `whole` true, `granularity` `all` for dev-TLB types.
 * - QDEP 0 means 32 (the PCIe ATS Invalidate Queue Depth encoding).
 *
 * @module
 */
import { fieldsText } from "./decoded_command.ts";

/** The kernel's names of the nine descriptor types, indexed by type number. */
export const VTD_KINDS: Readonly<Record<number, string>> = Object.freeze({
  1: "cc_inv",
  2: "iotlb_inv",
  3: "dev_tlb_inv",
  4: "iec_inv",
  5: "inv_wait",
  6: "p_iotlb_inv",
  7: "pc_inv",
  8: "p_dev_tlb_inv",
  9: "page_grp_resp",
});

/** One decoded descriptor. Fields that the type does not have are null. */
export interface VtdDescriptor {
  /** qw0[3:0]. */
  type: number;
  /** Kernel name (`p_iotlb_inv`, ...), or `type_<n>` for an unknown type. */
  kind: string;
  /** Granularity text: `global`, `domain`, `device`, `page`, `pasid`, `all_pasids`, `index`, `range`, ... */
  granularity: string | null;
  /** Domain id (DID). */
  did: number | null;
  /** PASID (20 bits). */
  pasid: number | null;
  /** Source id (requester id, bus<<8 | devfn); for `page_grp_resp` the RID. */
  sid: number | null;
  /** Physical-function SID (dev-TLB types). */
  pfsid: number | null;
  /** ATS invalidate queue depth, decoded (field 0 means 32). */
  qdep: number | null;
  /** First byte covered (aligned), null when not address-based or when the whole space. */
  addr: bigint | null;
  /** Bytes covered, null when not address-based or when the whole space is covered. */
  size: bigint | null;
  /** True when the range covers the whole 64-bit space. */
  whole: boolean;
  /** Address mask (AM) for IOTLB types. */
  am: number | null;
  /** Size bit S for dev-TLB types. */
  s: boolean | null;
  /** Invalidation hint (IH) for IOTLB types. */
  ih: boolean | null;
  /** Other decoded fields, in a stable order, for the `fields` column. */
  extra: Array<[string, string]>;
  /** `0x<qw0> 0x<qw1> 0x<qw2> 0x<qw3>`. */
  raw: string;
}

const M = (v: bigint, lo: number, bits: number): number =>
  Number((v >> BigInt(lo)) & ((1n << BigInt(bits)) - 1n));
const B = (v: bigint, bit: number): boolean => ((v >> BigInt(bit)) & 1n) === 1n;
const PAGE = 4096n;
const ADDR_MASK = ((1n << 64n) - 1n) ^ 0xfffn;

/** Result of decoding an address range. */
export interface DecodedRange {
  /** First byte (aligned). */
  addr: bigint;
  /** Bytes, null when the whole 64-bit space. */
  size: bigint | null;
  /** Whole 64-bit space. */
  whole: boolean;
  /** The given address was not aligned to the size (hardware ignores the low bits). */
  unaligned: boolean;
}

/**
 * The range of a page-selective IOTLB invalidation: `2^am` 4 KiB pages at `addr` aligned down.
 *
 * @param addr ADDR field (bits 63:12 of qw1; low bits are ignored)
 * @param am address mask
 * @returns the covered range
 * @example
 * ```ts
 * import { psiRange } from "./vtd_descriptor.ts";
 * // AM=3 -> 8 pages = 0x8000 bytes, 0x7f0000003000 aligned down to 0x8000 -> 0x7f0000000000
 * const r = psiRange(0x7f0000003000n, 3);
 * console.assert(r.addr === 0x7f0000000000n && r.size === 0x8000n && r.unaligned);
 * ```
 */
export function psiRange(addr: bigint, am: number): DecodedRange {
  const a = addr & ADDR_MASK;
  if (12 + am >= 64) return { addr: 0n, size: null, whole: true, unaligned: a !== 0n };
  const size = PAGE << BigInt(am);
  const base = a & ~(size - 1n);
  return { addr: base, size, whole: false, unaligned: base !== a };
}

/**
 * The range of a device-TLB (ATS) invalidation address with the size bit S.
 *
 * @param addr ADDR field (bits 63:12 are used)
 * @param s the S bit
 * @returns the covered range
 * @example
 * ```ts
 * import { atsRange } from "./vtd_descriptor.ts";
 * // 0x12345f000: bits 12..16 are 1, bit 17 is 0 -> N=17 -> 2^18 bytes at 0x123440000
 * const r = atsRange(0x12345f000n, true);
 * console.assert(r.addr === 0x123440000n && r.size === 0x40000n);
 * ```
 */
export function atsRange(addr: bigint, s: boolean): DecodedRange {
  const a = addr & ADDR_MASK;
  if (!s) return { addr: a, size: PAGE, whole: false, unaligned: false };
  let n = 12;
  while (n < 64 && ((a >> BigInt(n)) & 1n) === 1n) n++;
  if (n >= 63) return { addr: 0n, size: null, whole: true, unaligned: false };
  const size = 1n << BigInt(n + 1);
  return { addr: a & ~(size - 1n), size, whole: false, unaligned: false };
}

function h(v: bigint | number): string {
  return "0x" + v.toString(16);
}

/**
 * Decodes one descriptor.
 *
 * @param qw0 first 64-bit word
 * @param qw1 second word
 * @param qw2 third word (256-bit scalable-mode descriptors; 0 otherwise)
 * @param qw3 fourth word
 * @returns the decoded descriptor
 * @example
 * ```ts
 * import { decodeVtdDescriptor } from "./vtd_descriptor.ts";
 * // the sample from the qi_submit patch: type 2, GRAN=2 (domain), DW, DR, DID=1
 * const d = decodeVtdDescriptor(0x100e2n, 0n, 0n, 0n);
 * console.assert(d.kind === "iotlb_inv" && d.granularity === "domain" && d.did === 1);
 * ```
 */
export function decodeVtdDescriptor(
  qw0: bigint,
  qw1: bigint,
  qw2 = 0n,
  qw3 = 0n,
): VtdDescriptor {
  const type = M(qw0, 0, 4);
  const d: VtdDescriptor = {
    type,
    kind: VTD_KINDS[type] ?? `type_${type}`,
    granularity: null,
    did: null,
    pasid: null,
    sid: null,
    pfsid: null,
    qdep: null,
    addr: null,
    size: null,
    whole: false,
    am: null,
    s: null,
    ih: null,
    extra: [],
    raw: `${h(qw0)} ${h(qw1)} ${h(qw2)} ${h(qw3)}`,
  };
  const gran = M(qw0, 4, 2);
  const setRange = (r: DecodedRange) => {
    d.addr = r.whole ? null : r.addr;
    d.size = r.size;
    d.whole = r.whole;
    if (r.whole) d.extra.push(["whole", "1"]);
    if (r.unaligned) d.extra.push(["unaligned", h(qw1 & ADDR_MASK)]);
  };
  switch (type) {
    case 1: {
      d.granularity = ["reserved0", "global", "domain", "device"][gran] ?? null;
      d.did = M(qw0, 16, 16);
      d.sid = M(qw0, 32, 16);
      d.extra.push(["fm", String(M(qw0, 48, 2))]);
      break;
    }
    case 2: {
      d.granularity = ["reserved0", "global", "domain", "page"][gran] ?? null;
      d.did = M(qw0, 16, 16);
      d.am = M(qw1, 0, 6);
      d.ih = B(qw1, 6);
      d.extra.push(["dw", B(qw0, 6) ? "1" : "0"], ["dr", B(qw0, 7) ? "1" : "0"]);
      d.extra.push(["am", String(d.am)], ["ih", d.ih ? "1" : "0"]);
      if (gran === 3) setRange(psiRange(qw1, d.am));
      break;
    }
    case 3: {
      d.sid = M(qw0, 32, 16);
      d.pfsid = (M(qw0, 52, 12) << 4) | M(qw0, 12, 4);
      const q = M(qw0, 16, 5);
      d.qdep = q === 0 ? 32 : q;
      d.s = B(qw1, 0);
      setRange(atsRange(qw1, d.s));
      d.granularity = d.whole ? "all" : d.s ? "range" : "page";
      d.extra.push(["s", d.s ? "1" : "0"], ["qdep_field", String(q)], ["pfsid", h(d.pfsid)]);
      break;
    }
    case 4: {
      const index = B(qw0, 4);
      d.granularity = index ? "index" : "global";
      d.extra.push(["iidx", String(M(qw0, 32, 16))], ["im", String(M(qw0, 27, 5))]);
      break;
    }
    case 5: {
      d.granularity = null;
      d.extra.push(
        ["if", B(qw0, 4) ? "1" : "0"],
        ["sw", B(qw0, 5) ? "1" : "0"],
        ["fn", B(qw0, 6) ? "1" : "0"],
        ["pd", B(qw0, 7) ? "1" : "0"],
        ["status_data", h(qw0 >> 32n)],
        ["status_addr", h(qw1)],
      );
      break;
    }
    case 6: {
      d.granularity = ["reserved0", "reserved1", "pasid", "page"][gran] ?? null;
      d.did = M(qw0, 16, 16);
      d.pasid = M(qw0, 32, 20);
      d.am = M(qw1, 0, 6);
      d.ih = B(qw1, 6);
      d.extra.push(["am", String(d.am)], ["ih", d.ih ? "1" : "0"]);
      if (gran === 3) setRange(psiRange(qw1, d.am));
      break;
    }
    case 7: {
      d.granularity = ["all_pasids", "pasid", "reserved2", "global"][gran] ?? null;
      d.did = M(qw0, 16, 16);
      d.pasid = M(qw0, 32, 20);
      break;
    }
    case 8: {
      d.sid = M(qw0, 16, 16);
      d.pasid = M(qw0, 32, 20);
      d.pfsid = (M(qw0, 52, 12) << 4) | M(qw0, 12, 4);
      const q = M(qw0, 4, 5);
      d.qdep = q === 0 ? 32 : q;
      d.s = B(qw1, 11);
      const g = B(qw1, 0);
      setRange(atsRange(qw1, d.s));
      d.granularity = d.whole ? "all" : d.s ? "range" : "page";
      d.extra.push(
        ["s", d.s ? "1" : "0"],
        ["g", g ? "1" : "0"],
        ["qdep_field", String(q)],
        ["pfsid", h(d.pfsid)],
      );
      break;
    }
    case 9: {
      const pasidPresent = B(qw0, 4);
      d.sid = M(qw0, 16, 16);
      d.pasid = pasidPresent ? M(qw0, 32, 20) : null;
      d.extra.push(
        ["pasid_p", pasidPresent ? "1" : "0"],
        ["pdp", B(qw0, 5) ? "1" : "0"],
        ["resp_code", String(M(qw0, 12, 4))],
        ["lpig", B(qw1, 2) ? "1" : "0"],
        ["prg_index", String(M(qw1, 3, 9))],
      );
      break;
    }
    default:
      break;
  }
  return d;
}

/**
 * The `fields` column text of a decoded descriptor.
 *
 * @param d decoded descriptor
 * @returns `key=value` pairs separated by spaces, or null when there are none
 * @example
 * ```ts
 * import { decodeVtdDescriptor, vtdFieldsText } from "./vtd_descriptor.ts";
 * console.assert(vtdFieldsText(decodeVtdDescriptor(0x7n, 0n)) === null);
 * ```
 */
export function vtdFieldsText(d: VtdDescriptor): string | null {
  return fieldsText(d.extra);
}
