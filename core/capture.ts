/**
 * Capture helpers for real hardware: snapshot the IOMMU topology from sysfs, and build the exact
 * `trace-cmd record` command line (tracepoints that exist, plus the probe definitions of the
 * shipped mappings for functions the running kernel has).
 *
 * Pure logic over an injectable filesystem: every path is read under the given roots, so tests
 * run against a fake tree.
 *
 * What the snapshot reads:
 * - `<sysfs>/class/iommu/<unit>`: the units; vendor from an `intel-iommu/` or `amd-iommu/`
 *   subdirectory, else from the name (`dmarN` Intel, `ivhdN` AMD, `smmu3.*` SMMUv3).
 * - `<sysfs>/class/iommu/<unit>/devices/<dev>`: the devices behind each unit.
 * - `<sysfs>/bus/pci/devices/<bdf>/iommu` (a link to the unit) and `<sysfs>/kernel/iommu_groups/
 *   <n>/devices/<dev>` (devices in groups, placed through their `iommu` link when present).
 * - `<sysfs>/bus/pci/devices/<bdf>/config`: when the extended configuration space is readable
 *   (root), the ATS capability (ID 0x000f: queue depth at +4 bits 4:0, 0 meaning 32; enable at
 *   +6 bit 15) and the PASID capability (ID 0x001b). Unreadable facts stay null.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { IommuVendor } from "./canonical.ts";
import { UsageError } from "./errors.ts";
import { NORMALIZER_EVENT_KEYS } from "./normalize/normalize.ts";
import { probeDefinition, type ProbeMapping } from "./probes/mapping.ts";
import { SHIPPED_MAPPINGS } from "./probes/shipped.ts";
import {
  emptyTopology,
  sidOfName,
  type Topology,
  type TopologyDevice,
  topologyToJson,
} from "./topology.ts";

/** A topology snapshot and what it could not see. */
export interface TopologySnapshot {
  /** The snapshot. */
  topology: Topology;
  /** Human-readable notes (`no IOMMU found ...`, unreadable config space, ...). */
  notes: string[];
}

async function listDir(path: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) out.push(e.name);
  } catch {
    return [];
  }
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function linkName(path: string): Promise<string | null> {
  try {
    const t = await Deno.readLink(path);
    const parts = t.split("/").filter((p) => p.length > 0);
    return parts[parts.length - 1] ?? null;
  } catch {
    return null;
  }
}

/**
 * The vendor an IOMMU unit's name implies.
 *
 * @param name unit name
 * @returns the vendor
 * @example
 * ```ts
 * import { vendorOfUnit } from "./capture.ts";
 * console.assert(vendorOfUnit("dmar3") === "intel" && vendorOfUnit("ivhd0") === "amd");
 * ```
 */
export function vendorOfUnit(name: string): IommuVendor {
  if (/^dmar\d+$/.test(name)) return "intel";
  if (/^ivhd\d+$/.test(name)) return "amd";
  if (/^smmu3\./.test(name)) return "arm-smmuv3";
  return "unknown";
}

/** ATS / PASID facts read from a PCI configuration space. */
export interface PciCaps {
  /** ATS capability present and enabled; null when the extended space is not readable. */
  ats: boolean | null;
  /** ATS invalidate queue depth (0 in the field means 32). */
  qdep: number | null;
  /** PASID capability present. */
  pasid: boolean | null;
}

/**
 * Walks the PCIe extended capability list of a configuration-space dump.
 *
 * @param cfg configuration space bytes (4096 for the extended space; 64/256 when not root)
 * @returns the ATS and PASID facts; all null when the extended space is not in `cfg`
 * @example
 * ```ts
 * import { pciCaps } from "./capture.ts";
 * console.assert(pciCaps(new Uint8Array(64)).ats === null);
 * ```
 */
export function pciCaps(cfg: Uint8Array): PciCaps {
  if (cfg.length < 0x104) return { ats: null, qdep: null, pasid: null };
  const dv = new DataView(cfg.buffer, cfg.byteOffset, cfg.byteLength);
  let ats: boolean | null = false;
  let qdep: number | null = null;
  let pasid = false;
  let off = 0x100;
  for (let guard = 0; off >= 0x100 && off + 4 <= cfg.length && guard < 256; guard++) {
    const hdr = dv.getUint32(off, true);
    if (hdr === 0 || hdr === 0xffffffff) break;
    const id = hdr & 0xffff;
    if (id === 0x000f && off + 8 <= cfg.length) {
      const q = dv.getUint16(off + 4, true) & 0x1f;
      qdep = q === 0 ? 32 : q;
      ats = (dv.getUint16(off + 6, true) & 0x8000) !== 0;
    }
    if (id === 0x001b) pasid = true;
    const next = (hdr >>> 20) & 0xffc;
    if (next === 0 || next <= off) break;
    off = next;
  }
  return { ats, qdep, pasid };
}

/**
 * Snapshots the IOMMU topology under a sysfs root.
 *
 * @param sysfs sysfs root (default `/sys`)
 * @returns the topology and notes; an empty topology (with a note) on a machine without an IOMMU
 */
export async function snapshotTopology(sysfs = "/sys"): Promise<TopologySnapshot> {
  const notes: string[] = [];
  const units = await listDir(`${sysfs}/class/iommu`);
  const devices = new Map<string, TopologyDevice>();
  const iommus = [];
  for (const u of units) {
    let vendor = vendorOfUnit(u);
    if (await exists(`${sysfs}/class/iommu/${u}/intel-iommu`)) vendor = "intel";
    else if (await exists(`${sysfs}/class/iommu/${u}/amd-iommu`)) vendor = "amd";
    iommus.push({ name: u, vendor });
    for (const d of await listDir(`${sysfs}/class/iommu/${u}/devices`)) {
      devices.set(d, { name: d, iommu: u, sid: sidOfName(d), ats: null, pasid: null, qdep: null });
    }
  }
  const unitSet = new Set(units);
  const place = async (name: string, linkPath: string) => {
    const u = await linkName(linkPath);
    const cur = devices.get(name);
    const iommu = u !== null && unitSet.has(u) ? u : cur?.iommu ?? null;
    devices.set(
      name,
      cur
        ? { ...cur, iommu }
        : { name, iommu, sid: sidOfName(name), ats: null, pasid: null, qdep: null },
    );
  };
  for (const bdf of await listDir(`${sysfs}/bus/pci/devices`)) {
    if ((await linkName(`${sysfs}/bus/pci/devices/${bdf}/iommu`)) !== null) {
      await place(bdf, `${sysfs}/bus/pci/devices/${bdf}/iommu`);
    }
  }
  for (const g of await listDir(`${sysfs}/kernel/iommu_groups`)) {
    for (const d of await listDir(`${sysfs}/kernel/iommu_groups/${g}/devices`)) {
      await place(d, `${sysfs}/kernel/iommu_groups/${g}/devices/${d}/iommu`);
    }
  }
  let unreadable = 0;
  for (const d of devices.values()) {
    if (d.sid === null) continue;
    let cfg: Uint8Array;
    try {
      cfg = await Deno.readFile(`${sysfs}/bus/pci/devices/${d.name}/config`);
    } catch {
      continue;
    }
    const caps = pciCaps(cfg);
    if (caps.ats === null) {
      unreadable++;
      continue;
    }
    d.ats = caps.ats;
    d.qdep = caps.qdep;
    d.pasid = caps.pasid;
  }
  if (unreadable > 0) {
    notes.push(
      `${unreadable} PCI devices: extended config space not readable (run as root for ATS/PASID)`,
    );
  }
  if (iommus.length === 0) {
    notes.push(`no IOMMU found under ${sysfs}/class/iommu: empty topology`);
    const t = emptyTopology("no IOMMU found at capture time");
    t.devices = [...devices.values()].map((d) => ({ ...d, iommu: null }));
    return { topology: t, notes };
  }
  const t = emptyTopology(null);
  t.iommus = iommus;
  t.devices = [...devices.values()].sort((
    a,
    b,
  ) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { topology: t, notes };
}

/** The capture command and what it needs. */
export interface CapturePlan {
  /** Shell lines that define the probes (run as root before recording). */
  setup: string[];
  /** `trace-cmd record` argument vector. */
  argv: string[];
  /** `argv` as one shell-quoted line. */
  commandLine: string;
  /** Tracepoints the normalizer reads that this kernel does not have. */
  missing: string[];
  /** Notes (probe files missing, functions not in kallsyms, BTF). */
  notes: string[];
}

/**
 * Quotes a shell word when needed.
 *
 * @param w word
 * @returns the word, single-quoted when it has shell metacharacters
 * @example
 * ```ts
 * import { shellQuote } from "./capture.ts";
 * console.assert(shellQuote("a b") === "'a b'" && shellQuote("-e") === "-e");
 * ```
 */
export function shellQuote(w: string): string {
  if (/^[A-Za-z0-9_./:=,+@%-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

/**
 * Names of the functions in a kallsyms text.
 *
 * @param text `/proc/kallsyms` content
 * @returns symbol names (module suffixes dropped)
 */
export function kallsymsNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length >= 3 && parts[2]) names.add(parts[2]);
  }
  return names;
}

/**
 * Builds the capture command for the running kernel.
 *
 * @param opts tracefs root (default `/sys/kernel/tracing`), kallsyms path (default
 *   `/proc/kallsyms`), sysfs root (for the BTF check), mappings (default: shipped), output file
 * @returns the plan
 */
export async function buildCaptureCommand(opts: {
  tracefs?: string;
  kallsyms?: string;
  sysfs?: string;
  mappings?: readonly ProbeMapping[];
  output?: string;
} = {}): Promise<CapturePlan> {
  const tracefs = opts.tracefs ?? "/sys/kernel/tracing";
  const notes: string[] = [];
  const events: string[] = [];
  const missing: string[] = [];
  for (const key of NORMALIZER_EVENT_KEYS) {
    const [sys, ev] = key.split(":") as [string, string];
    if (await exists(`${tracefs}/events/${sys}/${ev}`)) events.push(key);
    else missing.push(key);
  }
  let syms = new Set<string>();
  const ksPath = opts.kallsyms ?? "/proc/kallsyms";
  try {
    syms = kallsymsNames(await Deno.readTextFile(ksPath));
  } catch {
    notes.push(`${ksPath} not readable: no probes defined`);
  }
  const setup: string[] = [];
  const skipped: string[] = [];
  let readme = "";
  try {
    readme = await Deno.readTextFile(`${tracefs}/README`);
  } catch {
    // no README: trust the probe files alone
  }
  const hasKprobes = await exists(`${tracefs}/kprobe_events`);
  const hasUprobes = await exists(`${tracefs}/uprobe_events`);
  const hasFprobes = (await exists(`${tracefs}/dynamic_events`)) &&
    (readme === "" || readme.includes("f[:[<group>/][<event>]]"));
  let fellBack = 0;
  const unsupported = new Set<string>();
  for (const m of opts.mappings ?? SHIPPED_MAPPINGS) {
    for (const p of m.probes) {
      const fn = p.type === "uprobe" ? null : p.function;
      if (fn !== null && !syms.has(fn)) {
        skipped.push(fn);
        continue;
      }
      let spec = p;
      if ((p.type === "fprobe" || p.type === "fexit") && !hasFprobes && hasKprobes) {
        // Same entry/exit semantics through kprobes (BTF arguments work there too).
        spec = { ...p, type: p.type === "fprobe" ? "kprobe" : "kretprobe" };
        fellBack++;
      }
      const ok = spec.type === "uprobe"
        ? hasUprobes
        : spec.type === "fprobe" || spec.type === "fexit"
        ? hasFprobes
        : hasKprobes;
      if (!ok) {
        unsupported.add(spec.type);
        continue;
      }
      const def = probeDefinition(spec);
      setup.push(`echo ${shellQuote(def.line)} >> ${shellQuote(`${tracefs}/${def.target}`)}`);
      events.push(`${p.system}:${p.event}`);
    }
  }
  if (fellBack > 0) notes.push(`no fprobe support: ${fellBack} fprobes defined as kprobes instead`);
  if (unsupported.size > 0) {
    notes.push(
      `this kernel cannot define ${[...unsupported].join(", ")} probes: those were skipped`,
    );
  }
  if (skipped.length > 0) {
    notes.push(`functions not in this kernel (probes skipped): ${skipped.join(", ")}`);
  }
  if (setup.length > 0 && !(await exists(`${opts.sysfs ?? "/sys"}/kernel/btf/vmlinux`))) {
    notes.push(
      "no /sys/kernel/btf/vmlinux: probes that fetch BTF arguments (dev->kobj.name, ...) will be rejected",
    );
  }
  const argv = ["trace-cmd", "record", "--no-filter", "-d"];
  for (const e of events) argv.push("-e", e);
  if (opts.output) argv.push("-o", opts.output);
  return { setup, argv, commandLine: argv.map(shellQuote).join(" "), missing, notes };
}

/** Where runCapture writes (console by default; tests pass their own). */
export interface CaptureIO {
  /** Writes one line of regular output. */
  out(line: string): void;
  /** Writes one line of error output. */
  err(line: string): void;
}

/** Help text of `deno task capture`. */
export const CAPTURE_HELP =
  `Usage: deno task capture [--out FILE] [--tracefs DIR] [--sysfs DIR] [--kallsyms FILE]

Snapshots the IOMMU topology from sysfs into FILE (default topology.json) and prints the
commands to record a trace for iommu-replay: the probe definitions (run as root) and the
trace-cmd record command line with every tracepoint and probe this kernel has.

  --out FILE        topology output (default topology.json)
  --tracefs DIR     tracefs root (default /sys/kernel/tracing)
  --sysfs DIR       sysfs root (default /sys)
  --kallsyms FILE   kernel symbols (default /proc/kallsyms)
  --help            this text`;

/**
 * The `capture` command: writes the topology and prints the probe setup and the trace-cmd command.
 *
 * @param args command-line arguments (after `capture`)
 * @param io output sinks (default: console)
 * @returns the exit code: 0 success, 2 usage error, 1 other failure
 */
export async function runCapture(
  args: string[],
  io: CaptureIO = { out: (l) => console.log(l), err: (l) => console.error(l) },
): Promise<number> {
  let values: { help?: boolean; out?: string; tracefs?: string; sysfs?: string; kallsyms?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        out: { type: "string" },
        tracefs: { type: "string" },
        sysfs: { type: "string" },
        kallsyms: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`capture: ${(e as Error).message.split("\n")[0]}`);
    return 2;
  }
  if (values.help) {
    io.out(CAPTURE_HELP);
    return 0;
  }
  const out = values.out ?? "topology.json";
  const sysfs = values.sysfs ?? "/sys";
  try {
    const snap = await snapshotTopology(sysfs);
    await Deno.writeTextFile(out, topologyToJson(snap.topology));
    const plan = await buildCaptureCommand({
      tracefs: values.tracefs ?? "/sys/kernel/tracing",
      kallsyms: values.kallsyms ?? "/proc/kallsyms",
      sysfs,
    });
    for (const n of snap.notes) io.out(`# ${n}`);
    io.out(
      `# topology: ${snap.topology.iommus.length} IOMMU units, ${snap.topology.devices.length} devices -> ${out}`,
    );
    for (const n of plan.notes) io.out(`# ${n}`);
    if (plan.missing.length > 0) {
      io.out(`# tracepoints not in this kernel: ${plan.missing.join(" ")}`);
    }
    for (const l of plan.setup) io.out(l);
    io.out(plan.commandLine);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`capture: ${e.message}`);
      return 2;
    }
    io.err(`capture: ${(e as Error).message.split("\n")[0]}`);
    return 1;
  }
}
