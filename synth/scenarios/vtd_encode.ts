/**
 * VT-d descriptor encoders that follow the kernel's `qi_desc_*` / `qi_flush_*` helpers and
 * `QI_*` macros (`drivers/iommu/intel/iommu.h`, `dmar.c`, `cache.c`), and the cache-tag range
 * computation (`calculate_psi_aligned_address`). The scenario builders use them to emit the exact
 * words a kernel would log; they are written from the macro definitions, independently of the
 * decoder in `core/normalize/vtd_descriptor.ts`.
 *
 * @module
 */

const PAGE_SHIFT = 12n;
/** `QI_DONE` in `enum { QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT }`. */
export const QI_DONE = 2n;
/** `MAX_AGAW_PFN_WIDTH` (64 - 12). */
export const MAX_AGAW_PFN_WIDTH = 52n;
/** `FLPT_DEFAULT_DID`. */
export const FLPT_DEFAULT_DID = 1;

function ilog2(v: bigint): bigint {
  let n = -1n;
  while (v > 0n) {
    v >>= 1n;
    n++;
  }
  return n;
}

function roundupPow2(v: bigint): bigint {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
}

/**
 * `qi_desc_piotlb` / `qi_flush_piotlb`: PASID-based IOTLB invalidation (type 6).
 *
 * @param did domain id
 * @param pasid PASID
 * @param addr address
 * @param npages pages, or -1n for PASID-selective
 * @param ih invalidation hint
 * @returns [qw0, qw1, 0, 0]
 */
export function piotlb(
  did: number,
  pasid: number,
  addr: bigint,
  npages: bigint,
  ih = false,
): bigint[] {
  const base = (BigInt(pasid) << 32n) | (BigInt(did) << 16n) | 6n;
  if (npages === -1n) return [base | (2n << 4n), 0n, 0n, 0n];
  const mask = ilog2(roundupPow2(npages));
  const align = 1n << (PAGE_SHIFT + mask);
  const a = addr & ~(align - 1n);
  return [base | (3n << 4n), (a & ~0xfffn) | ((ih ? 1n : 0n) << 6n) | (mask & 0x3fn), 0n, 0n];
}

/**
 * `qi_desc_dev_iotlb_pasid` / `qi_flush_dev_iotlb_pasid`: PASID-based device-TLB invalidation
 * (type 8). `qdep` is masked to 5 bits (32 becomes 0).
 *
 * @param sid requester id
 * @param pfsid physical-function SID
 * @param pasid PASID
 * @param qdep ATS queue depth
 * @param addr address
 * @param sizeOrder log2 pages
 * @returns [qw0, qw1, 0, 0]
 */
export function devTlbPasid(
  sid: number,
  pfsid: number,
  pasid: number,
  qdep: number,
  addr: bigint,
  sizeOrder: bigint,
): bigint[] {
  const qw0 = (BigInt(pasid & 0xfffff) << 32n) | (BigInt(sid & 0xffff) << 16n) |
    (BigInt(qdep & 0x1f) << 4n) | 8n | (BigInt(pfsid & 0xf) << 12n) |
    (BigInt((pfsid >> 4) & 0xfff) << 52n);
  let qw1 = addr & ~0xfffn;
  if (sizeOrder > 0n) {
    // GENMASK_ULL(size_order + 12 - 1, 12), then clear bit (12 + size_order - 1), then S (bit 11)
    qw1 |= ((1n << (sizeOrder + PAGE_SHIFT)) - 1n) & ~((1n << PAGE_SHIFT) - 1n);
    qw1 &= ~(1n << (PAGE_SHIFT + sizeOrder - 1n));
    qw1 |= 1n << 11n;
  }
  return [qw0, qw1 & ((1n << 64n) - 1n), 0n, 0n];
}

/**
 * `qi_desc_dev_iotlb` / `qi_flush_dev_iotlb`: device-TLB invalidation without PASID (type 3).
 *
 * @param sid requester id
 * @param pfsid physical-function SID
 * @param qdep ATS queue depth (>= 32 becomes 0)
 * @param addr address
 * @param mask log2 pages
 * @returns [qw0, qw1, 0, 0]
 */
export function devTlb(
  sid: number,
  pfsid: number,
  qdep: number,
  addr: bigint,
  mask: bigint,
): bigint[] {
  let a = addr;
  let qw1: bigint;
  if (mask > 0n) {
    a |= (1n << (PAGE_SHIFT + mask - 1n)) - 1n;
    qw1 = (a & ~0xfffn) | 1n;
  } else qw1 = a & ~0xfffn;
  const q = qdep >= 32 ? 0 : qdep;
  const qw0 = (BigInt(sid) << 32n) | (BigInt(q & 0x1f) << 16n) | 3n | (BigInt(pfsid & 0xf) << 12n) |
    (BigInt((pfsid >> 4) & 0xfff) << 52n);
  return [qw0, qw1 & ((1n << 64n) - 1n), 0n, 0n];
}

/**
 * `pasid_cache_invalidation_with_pasid`: PASID-cache invalidation, PASID-selective (type 7, gran 1).
 *
 * @param did domain id
 * @param pasid PASID
 * @returns [qw0, 0, 0, 0]
 */
export function pcInvPasid(did: number, pasid: number): bigint[] {
  return [(BigInt(did) << 16n) | (1n << 4n) | (BigInt(pasid) << 32n) | 7n, 0n, 0n, 0n];
}

/**
 * The fenced wait descriptor `intel_drain_pasid_prq` puts first in its 3-descriptor submission.
 *
 * @returns [qw0, 0, 0, 0]
 */
export function invWaitFence(): bigint[] {
  return [(QI_DONE << 32n) | (1n << 6n) | 5n, 0n, 0n, 0n];
}

/** The PSI parameters the cache-tag code computes for a range. */
export interface PsiAligned {
  /** Aligned address. */
  addr: bigint;
  /** Pages (a power of two). */
  pages: bigint;
  /** log2 pages. */
  mask: bigint;
}

/**
 * `calculate_psi_aligned_address(start, end)` with `end` inclusive (the fixed version: `pages`
 * is updated to `2^mask` in the unaligned case).
 *
 * @param start first byte
 * @param end last byte (inclusive)
 * @returns addr, pages and mask
 */
export function psiAligned(start: bigint, end: bigint): PsiAligned {
  // aligned_nrpages(start, end - start + 1): pages touched by the range
  const offset = start & 0xfffn;
  const size = end - start + 1n;
  const pages = (offset + size + 0xfffn) >> PAGE_SHIFT;
  let alignedPages = roundupPow2(pages);
  const bitmask = alignedPages - 1n;
  let mask = ilog2(alignedPages);
  const pfn = start >> PAGE_SHIFT;
  if ((bitmask & pfn) !== 0n) {
    const endPfn = pfn + pages - 1n;
    const shared = ~(pfn ^ endPfn) & ~bitmask & ((1n << 64n) - 1n);
    if (shared !== 0n) {
      let b = 0n;
      while (((shared >> b) & 1n) === 0n) b++;
      mask = b;
    } else mask = MAX_AGAW_PFN_WIDTH;
    alignedPages = 1n << mask;
  }
  const align = 1n << (PAGE_SHIFT + mask);
  return { addr: start & ~(align - 1n), pages: alignedPages, mask };
}

/**
 * Requester id of a PCI name.
 *
 * @param bus bus
 * @param dev device
 * @param fn function
 * @returns bus << 8 | dev << 3 | fn
 */
export function sidOf(bus: number, dev: number, fn: number): number {
  return (bus << 8) | (dev << 3) | fn;
}
