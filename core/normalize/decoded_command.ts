/**
 * The vendor-neutral shape of one decoded IOMMU invalidation command (SMMUv3 command-queue
 * entries, AMD-Vi commands). VT-d descriptors have their own richer type
 * ({@linkcode ./vtd_descriptor.ts}) that the normalizer maps onto the same row.
 *
 * @module
 */

/** One decoded command. Fields the command does not have are null. */
export interface DecodedCommand {
  /** Kernel name of the command in lower case (`tlbi_nh_va`, `atc_inv`, `inv_iotlb_pages`, ...). */
  kind: string;
  /** Granularity text (`asid`, `va`, `range`, `all`, `global`, `page`, `pasid`, ...). */
  granularity: string | null;
  /** Domain tag: SMMUv3 ASID (stage 1) or VMID (stage 2); AMD domain id. */
  domainId: number | null;
  /** PASID / SSID when the command is PASID-tagged. */
  pasid: number | null;
  /** Stream id / AMD device id (PCI requester id for PCI devices). */
  sid: number | null;
  /** First byte covered, null when not address-based or when the whole space. */
  addr: bigint | null;
  /** Bytes covered, null when not address-based or when the whole space (2^64 does not fit). */
  size: bigint | null;
  /** Covers the whole address space. */
  whole: boolean;
  /** True for the command that ends a submission (CMD_SYNC, COMPLETION_WAIT). */
  isSync: boolean;
  /** Other decoded fields as `[key, value]`, stable order. */
  extra: Array<[string, string]>;
  /** Raw words in hex. */
  raw: string;
}

/**
 * Joins `[key, value]` pairs into the `fields` column text.
 *
 * @param extra pairs
 * @returns `k=v k=v`, or null when empty
 * @example
 * ```ts
 * import { fieldsText } from "./decoded_command.ts";
 * console.assert(fieldsText([["num", "3"], ["tg", "1"]]) === "num=3 tg=1");
 * console.assert(fieldsText([]) === null);
 * ```
 */
export function fieldsText(extra: ReadonlyArray<readonly [string, string]>): string | null {
  if (extra.length === 0) return null;
  return extra.map(([k, v]) => `${k}=${v}`).join(" ");
}
