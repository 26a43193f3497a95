/**
 * Topology files: the IOMMU units, the devices behind them, and which processes bind which
 * devices. A topology is snapshotted from sysfs at capture time (`core/capture.ts`) or written by
 * hand, and it is the what-if input for replaying an mm trace recorded on a machine without SVA
 * hardware.
 *
 * ## Format (`"format": "iommu-replay-topology/1"`)
 *
 * ```json
 * {
 *   "format": "iommu-replay-topology/1",
 *   "kernel": "6.12.0",
 *   "iommus": [{ "name": "dmar0", "vendor": "intel" }],
 *   "devices": [
 *     { "name": "0000:6a:01.0", "iommu": "dmar0", "ats": true, "pasid": true, "qdep": 32 }
 *   ],
 *   "bindings": [
 *     { "comm": "dsa_test", "devices": ["0000:6a:01.0"], "pasid": 2 }
 *   ]
 * }
 * ```
 *
 * - `format` (required), `kernel` (optional text), `note` (optional text).
 * - `iommus` (required array): `name` (required, unique), `vendor` (`intel`, `arm-smmuv3`, `amd`,
 *   `unknown`; default `unknown`).
 * - `devices` (required array): `name` (required, unique; the kernel's device name),
 *   `iommu` (name of a listed unit, or null), `sid` (0..65535; derived from a PCI name when
 *   absent), `ats`, `pasid` (booleans or null), `qdep` (1..32 or null). Absent means unknown.
 * - `bindings` (optional array): which process binds which devices. At least one of `pid`
 *   (integer > 0), `comm` (1..15 characters) or `mm` (pointer text); `devices` (non-empty array
 *   of listed device names); `pasid` (1..1048575, or null/absent when not known).
 *
 * Unknown keys and bad values raise a {@linkcode UsageError} naming the file, the JSON path and
 * the problem (`topo.json: $.devices[1].qdep: must be an integer 1..32 or null`).
 *
 * @module
 */
import type { BindingRow, DeviceRow, IommuRow, IommuVendor } from "./canonical.ts";
import { UsageError } from "./errors.ts";

/** The format tag of topology files. */
export const TOPOLOGY_FORMAT = "iommu-replay-topology/1";

/** One IOMMU unit. */
export interface TopologyIommu {
  /** Unit name (`dmar0`, `ivhd0`, `smmu3.0x...`). */
  name: string;
  /** Vendor. */
  vendor: IommuVendor;
}

/** One device. */
export interface TopologyDevice {
  /** Kernel device name. */
  name: string;
  /** Its IOMMU unit, null if unknown. */
  iommu: string | null;
  /** PCI requester id. */
  sid: number | null;
  /** ATS enabled. */
  ats: boolean | null;
  /** PASID capable. */
  pasid: boolean | null;
  /** ATS invalidate queue depth. */
  qdep: number | null;
}

/** One process binding. */
export interface TopologyBinding {
  /** Process id. */
  pid: number | null;
  /** Process name. */
  comm: string | null;
  /** mm pointer text. */
  mm: string | null;
  /** Bound devices. */
  devices: string[];
  /** PASID, null if not known. */
  pasid: number | null;
}

/** A validated topology. */
export interface Topology {
  /** Format tag. */
  format: typeof TOPOLOGY_FORMAT;
  /** Kernel version, when known. */
  kernel: string | null;
  /** Free text. */
  note: string | null;
  /** IOMMU units. */
  iommus: TopologyIommu[];
  /** Devices. */
  devices: TopologyDevice[];
  /** Process bindings. */
  bindings: TopologyBinding[];
}

const VENDORS: readonly IommuVendor[] = ["intel", "arm-smmuv3", "amd", "unknown"];
const PCI_NAME = /^(?:([0-9a-fA-F]{4,}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;

function fail(file: string, path: string, problem: string): never {
  throw new UsageError(`${file}: ${path}: ${problem}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function keys(
  file: string,
  path: string,
  o: Record<string, unknown>,
  allowed: readonly string[],
  required: readonly string[],
): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      fail(file, `${path}.${k}`, `unknown key (allowed: ${allowed.join(", ")})`);
    }
  }
  for (const k of required) if (!(k in o)) fail(file, `${path}.${k}`, "missing required key");
}

function text(file: string, path: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) fail(file, path, "must be a non-empty string");
  return v;
}

function optBool(file: string, path: string, v: unknown): boolean | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "boolean") fail(file, path, "must be true, false or null");
  return v;
}

function optInt(file: string, path: string, v: unknown, lo: number, hi: number): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
    fail(file, path, `must be an integer ${lo}..${hi} or null`);
  }
  return v;
}

/**
 * The PCI requester id of a device name, or null.
 *
 * @param name e.g. `0000:6a:01.0`
 * @returns bus << 8 | dev << 3 | fn
 * @example
 * ```ts
 * import { sidOfName } from "./topology.ts";
 * console.assert(sidOfName("0000:00:02.0") === 0x10);
 * ```
 */
export function sidOfName(name: string): number | null {
  const m = PCI_NAME.exec(name);
  if (!m) return null;
  return (parseInt(m[2]!, 16) << 8) | (parseInt(m[3]!, 16) << 3) | parseInt(m[4]!, 10);
}

/**
 * Validates a parsed topology document.
 *
 * @param doc parsed JSON
 * @param file file name for messages
 * @returns the topology
 * @throws {UsageError} naming the file, JSON path and problem
 * @example
 * ```ts
 * import { validateTopology } from "./topology.ts";
 * const t = validateTopology({ format: "iommu-replay-topology/1", iommus: [], devices: [] }, "t.json");
 * console.assert(t.bindings.length === 0);
 * ```
 */
export function validateTopology(doc: unknown, file: string): Topology {
  if (!isObj(doc)) fail(file, "$", "must be a JSON object");
  keys(file, "$", doc, ["format", "kernel", "note", "iommus", "devices", "bindings"], [
    "format",
    "iommus",
    "devices",
  ]);
  if (doc.format !== TOPOLOGY_FORMAT) fail(file, "$.format", `must be "${TOPOLOGY_FORMAT}"`);
  const kernel = doc.kernel === undefined || doc.kernel === null
    ? null
    : text(file, "$.kernel", doc.kernel);
  const note = doc.note === undefined || doc.note === null ? null : text(file, "$.note", doc.note);
  if (!Array.isArray(doc.iommus)) fail(file, "$.iommus", "must be an array");
  const iommus: TopologyIommu[] = [];
  const iommuNames = new Set<string>();
  doc.iommus.forEach((u, i) => {
    const p = `$.iommus[${i}]`;
    if (!isObj(u)) fail(file, p, "must be an object");
    keys(file, p, u, ["name", "vendor"], ["name"]);
    const name = text(file, `${p}.name`, u.name);
    if (iommuNames.has(name)) fail(file, `${p}.name`, `duplicate IOMMU "${name}"`);
    iommuNames.add(name);
    let vendor: IommuVendor = "unknown";
    if (u.vendor !== undefined) {
      if (typeof u.vendor !== "string" || !(VENDORS as readonly string[]).includes(u.vendor)) {
        fail(file, `${p}.vendor`, `must be one of ${VENDORS.join(", ")}`);
      }
      vendor = u.vendor as IommuVendor;
    }
    iommus.push({ name, vendor });
  });
  if (!Array.isArray(doc.devices)) fail(file, "$.devices", "must be an array");
  const devices: TopologyDevice[] = [];
  const devNames = new Set<string>();
  doc.devices.forEach((d, i) => {
    const p = `$.devices[${i}]`;
    if (!isObj(d)) fail(file, p, "must be an object");
    keys(file, p, d, ["name", "iommu", "sid", "ats", "pasid", "qdep"], ["name"]);
    const name = text(file, `${p}.name`, d.name);
    if (devNames.has(name)) fail(file, `${p}.name`, `duplicate device "${name}"`);
    devNames.add(name);
    let iommu: string | null = null;
    if (d.iommu !== undefined && d.iommu !== null) {
      iommu = text(file, `${p}.iommu`, d.iommu);
      if (!iommuNames.has(iommu)) {
        fail(file, `${p}.iommu`, `IOMMU "${iommu}" is not listed in $.iommus`);
      }
    }
    devices.push({
      name,
      iommu,
      sid: optInt(file, `${p}.sid`, d.sid, 0, 0xffff) ?? sidOfName(name),
      ats: optBool(file, `${p}.ats`, d.ats),
      pasid: optBool(file, `${p}.pasid`, d.pasid),
      qdep: optInt(file, `${p}.qdep`, d.qdep, 1, 32),
    });
  });
  const bindings: TopologyBinding[] = [];
  if (doc.bindings !== undefined) {
    if (!Array.isArray(doc.bindings)) fail(file, "$.bindings", "must be an array");
    doc.bindings.forEach((b, i) => {
      const p = `$.bindings[${i}]`;
      if (!isObj(b)) fail(file, p, "must be an object");
      keys(file, p, b, ["pid", "comm", "mm", "devices", "pasid"], ["devices"]);
      const pid = optInt(file, `${p}.pid`, b.pid, 1, 0x3fffffff);
      let comm: string | null = null;
      if (b.comm !== undefined && b.comm !== null) {
        comm = text(file, `${p}.comm`, b.comm);
        if (comm.length > 15) {
          fail(file, `${p}.comm`, "is longer than 15 characters (TASK_COMM_LEN)");
        }
      }
      const mm = b.mm === undefined || b.mm === null ? null : text(file, `${p}.mm`, b.mm);
      if (pid === null && comm === null && mm === null) {
        fail(file, p, "needs at least one of pid, comm, mm");
      }
      if (!Array.isArray(b.devices) || b.devices.length === 0) {
        fail(file, `${p}.devices`, "must be a non-empty array of device names");
      }
      const devs = b.devices.map((n, j) => {
        const name = text(file, `${p}.devices[${j}]`, n);
        if (!devNames.has(name)) {
          fail(file, `${p}.devices[${j}]`, `device "${name}" is not listed in $.devices`);
        }
        return name;
      });
      bindings.push({
        pid,
        comm,
        mm,
        devices: devs,
        pasid: optInt(file, `${p}.pasid`, b.pasid, 1, 0xfffff),
      });
    });
  }
  return { format: TOPOLOGY_FORMAT, kernel, note, iommus, devices, bindings };
}

/**
 * Parses and validates topology JSON text.
 *
 * @param textIn file content
 * @param file file name for messages
 * @returns the topology
 * @throws {UsageError} on bad JSON or invalid content
 */
export function parseTopology(textIn: string, file: string): Topology {
  let doc: unknown;
  try {
    doc = JSON.parse(textIn);
  } catch (e) {
    fail(file, "$", `not valid JSON (${(e as Error).message})`);
  }
  return validateTopology(doc, file);
}

/**
 * Reads and validates a topology file.
 *
 * @param path file path
 * @returns the topology
 * @throws {UsageError} when unreadable or invalid
 */
export async function loadTopology(path: string): Promise<Topology> {
  let t: string;
  try {
    t = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`${path}: cannot read topology (${(e as Error).message})`);
  }
  return parseTopology(t, path);
}

/**
 * Serializes a topology (stable key order, two-space indent, trailing newline).
 *
 * @param t the topology
 * @returns JSON text
 */
export function topologyToJson(t: Topology): string {
  const out: Record<string, unknown> = { format: t.format };
  if (t.kernel !== null) out.kernel = t.kernel;
  if (t.note !== null) out.note = t.note;
  out.iommus = t.iommus.map((u) => ({ name: u.name, vendor: u.vendor }));
  out.devices = t.devices.map((d) => ({
    name: d.name,
    iommu: d.iommu,
    sid: d.sid,
    ats: d.ats,
    pasid: d.pasid,
    qdep: d.qdep,
  }));
  out.bindings = t.bindings.map((b) => {
    const o: Record<string, unknown> = {};
    if (b.pid !== null) o.pid = b.pid;
    if (b.comm !== null) o.comm = b.comm;
    if (b.mm !== null) o.mm = b.mm;
    o.devices = b.devices;
    o.pasid = b.pasid;
    return o;
  });
  return JSON.stringify(out, null, 2) + "\n";
}

/** Canonical rows of a topology. */
export interface TopologyRows {
  /** IOMMU rows. */
  iommus: IommuRow[];
  /** Device rows. */
  devices: DeviceRow[];
  /** Binding rows. */
  bindings: BindingRow[];
}

/**
 * The canonical rows a topology describes: one binding row per (binding, device), source
 * `topology`, with no time bounds. The mm is the given pointer, else `pid:<pid>` (the synthetic id
 * the normalizer gives a process first seen in a trace), else null (comm only).
 *
 * @param topo the topology
 * @returns iommus, devices and bindings rows
 * @example
 * ```ts
 * import { topologyToCanonical, validateTopology } from "./topology.ts";
 * const t = validateTopology({
 *   format: "iommu-replay-topology/1",
 *   iommus: [{ name: "dmar0", vendor: "intel" }],
 *   devices: [{ name: "0000:00:02.0", iommu: "dmar0", ats: true }],
 *   bindings: [{ pid: 42, devices: ["0000:00:02.0"], pasid: 1 }],
 * }, "t.json");
 * const rows = topologyToCanonical(t);
 * console.assert(rows.bindings[0]!.mm === "pid:42" && rows.devices[0]!.sid === 0x10);
 * ```
 */
export function topologyToCanonical(topo: Topology): TopologyRows {
  const iommus: IommuRow[] = topo.iommus.map((u) => ({
    iommu: u.name,
    vendor: u.vendor,
    source: "topology",
  }));
  const byName = new Map(topo.devices.map((d) => [d.name, d]));
  const devices: DeviceRow[] = topo.devices.map((d) => ({
    device: d.name,
    sid: d.sid,
    iommu: d.iommu,
    ats: d.ats,
    pasid: d.pasid,
    qdep: d.qdep,
    source: "topology",
  }));
  const bindings: BindingRow[] = [];
  for (const b of topo.bindings) {
    for (const dev of b.devices) {
      bindings.push({
        binding_id: bindings.length,
        mm: b.mm ?? (b.pid !== null ? `pid:${b.pid}` : null),
        pid: b.pid,
        comm: b.comm,
        pasid: b.pasid,
        device: dev,
        iommu: byName.get(dev)?.iommu ?? null,
        domain_id: null,
        from_ts: null,
        to_ts: null,
        source: "topology",
      });
    }
  }
  return { iommus, devices, bindings };
}

/**
 * An empty, valid topology (what capture returns on a machine without an IOMMU).
 *
 * @param note why it is empty
 * @returns the topology
 */
export function emptyTopology(note: string | null = null): Topology {
  return { format: TOPOLOGY_FORMAT, kernel: null, note, iommus: [], devices: [], bindings: [] };
}
