/**
 * Small builders of canonical rows for the replay tests.
 *
 * @module
 */
import type {
  BindingRow,
  DeviceRow,
  IommuRow,
  IommuVendor,
  ObservedCommandRow,
  RequestRow,
} from "../../canonical.ts";

/** A topology: units and devices. */
export interface Topo {
  iommus: IommuRow[];
  devices: DeviceRow[];
}

/**
 * Builds a topology.
 *
 * @param units unit name -> vendor
 * @param devices [name, unit, ats] triples; sid = index + 0x10
 * @returns rows
 */
export function topo(
  units: Record<string, IommuVendor>,
  devices: [string, string, boolean][],
): Topo {
  return {
    iommus: Object.entries(units).map(([iommu, vendor]) => ({ iommu, vendor, source: "test" })),
    devices: devices.map(([device, iommu, ats], i) => ({
      device,
      sid: 0x10 + i,
      iommu,
      ats,
      pasid: true,
      qdep: 0,
      source: "test",
    })),
  };
}

/**
 * Binds an mm through a PASID to devices.
 *
 * @param t the topology
 * @param mm the mm
 * @param pasid the PASID
 * @param names devices (default all)
 * @param extra overrides (from_ts, to_ts, domain_id, pid, first id)
 * @returns binding rows
 */
export function bind(
  t: Topo,
  mm: string,
  pasid: number,
  names?: string[],
  extra: Partial<BindingRow> & { firstId?: number } = {},
): BindingRow[] {
  const { firstId, ...over } = extra;
  const list = names ?? t.devices.map((d) => d.device);
  return list.map((device, i) => ({
    binding_id: (firstId ?? 0) + i,
    mm,
    pid: 100,
    comm: "app",
    pasid,
    device,
    iommu: t.devices.find((d) => d.device === device)?.iommu ?? null,
    domain_id: 1,
    from_ts: null,
    to_ts: null,
    source: "test",
    ...over,
  }));
}

/**
 * A request for `pages` pages from page frame `startPfn`.
 *
 * @param id request id
 * @param ts time
 * @param startPfn first page frame
 * @param pages page count
 * @param extra overrides
 * @returns the row
 */
export function req(
  id: number,
  ts: bigint,
  startPfn: number,
  pages: number,
  extra: Partial<RequestRow> = {},
): RequestRow {
  const start = BigInt(startPfn) * 4096n;
  return {
    request_id: id,
    ts,
    cpu: 0,
    mm: "mm1",
    pid: 100,
    pasid: 5,
    start,
    end: start + BigInt(pages) * 4096n,
    pages: BigInt(pages),
    source: "cache_tag_flush_range",
    full: false,
    ...extra,
  };
}

/** A whole-address-space request. */
export function fullReq(id: number, ts: bigint, extra: Partial<RequestRow> = {}): RequestRow {
  return {
    ...req(id, ts, 0, 1, extra),
    start: 0n,
    end: (1n << 64n) - 1n,
    pages: 1n << 52n,
    full: true,
    ...extra,
  };
}

/**
 * An observed command.
 *
 * @param id command id
 * @param ts time
 * @param kind kind
 * @param fields overrides
 * @returns the row
 */
export function observed(
  id: number,
  ts: bigint,
  kind: string,
  fields: Partial<ObservedCommandRow> = {},
): ObservedCommandRow {
  return {
    command_id: id,
    ts,
    cpu: 0,
    iommu: "dmar0",
    submission_id: id,
    kind,
    domain_id: 1,
    pasid: 5,
    sid: null,
    device: null,
    addr: null,
    size: null,
    granularity: null,
    raw: null,
    ...fields,
  };
}

/** 4 ATS devices behind dmar0 (the K1/K2 setup). */
export function fourAtsOneIommu(): Topo {
  return topo({ dmar0: "intel" }, [
    ["0000:6a:01.0", "dmar0", true],
    ["0000:6a:02.0", "dmar0", true],
    ["0000:6a:03.0", "dmar0", true],
    ["0000:6a:04.0", "dmar0", true],
  ]);
}
