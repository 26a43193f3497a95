/**
 * Bundled tracefs `format` files for the events iommu-replay reasons about, chosen by kernel
 * version.
 *
 * Used to synthesise traces for a given kernel, and by readers as a fallback reference when a
 * trace lacks a format. The layouts and print formats, and where each one comes from, are
 * declared in `catalog.ts` and explained in `README.md`.
 *
 * `ID:` numbers are made up (stable across versions, e.g. `tlb:tlb_flush` is always 1401):
 * real ids are assigned per kernel build and boot, so nothing may key on them.
 *
 * @module
 */

import { UsageError } from "../../core/errors.ts";
import { FORMAT_CATALOG, type FormatVariant } from "./catalog.ts";
import {
  compareKernelVersions,
  formatKernelVersion,
  parseKernelVersion,
} from "./kernel_version.ts";
import { type Abi, ABI_X86_64, renderFormat, renderHeaderPage } from "./render_format.ts";

/** One bundled format file. */
export interface KnownFormat {
  /** Trace system (the `events/<system>/` directory). */
  system: string;
  /** Event name. */
  name: string;
  /** The made-up event id written in the `ID:` line. */
  id: number;
  /** The full text of the `format` file. */
  text: string;
  /** Provenance of this variant (see `README.md`). */
  source: string;
  /** For kprobe examples, the `kprobe_events` definition. */
  probe?: string;
}

/** Options of {@linkcode knownFormats}. */
export interface KnownFormatsOptions {
  /**
   * Target ABI. Defaults to x86_64; `charSigned` defaults to true before 6.2 (x86 compiled
   * `char` as signed until the kernel switched to `-funsigned-char`).
   */
  abi?: Partial<Abi>;
  /** Only these trace systems (default: all). */
  systems?: readonly string[];
}

/** The oldest kernel the bundle covers. */
export const OLDEST_KNOWN_KERNEL = "5.15";

/**
 * Every kernel version at which a bundled format starts or stops, ascending. Between two
 * consecutive entries all bundled texts are the same.
 */
export const KNOWN_FORMAT_VERSIONS: readonly string[] = Object.freeze(
  [
    ...new Set([
      OLDEST_KNOWN_KERNEL,
      "6.2",
      ...FORMAT_CATALOG.flatMap((v) => (v.until ? [v.since, v.until] : [v.since])),
    ]),
  ]
    .filter((v) => compareKernelVersions(v, OLDEST_KNOWN_KERNEL) >= 0)
    .sort(compareKernelVersions),
);

function abiFor(kernel: string, abi: Partial<Abi> | undefined): Abi {
  return {
    longSize: abi?.longSize ?? ABI_X86_64.longSize,
    int64Align: abi?.int64Align ?? ABI_X86_64.int64Align,
    charSigned: abi?.charSigned ?? compareKernelVersions(kernel, "6.2") < 0,
  };
}

function covers(v: FormatVariant, kernel: string): boolean {
  return compareKernelVersions(kernel, v.since) >= 0 &&
    (v.until === undefined || compareKernelVersions(kernel, v.until) < 0);
}

/**
 * The bundled format files valid for a kernel version.
 *
 * Events that do not exist in that version (e.g. `intel_iommu:cache_tag_flush_all` outside
 * 6.10–6.16, `dma:*` before 6.12) are left out.
 *
 * @param kernel a kernel release (`6.18.44-fc-v595`, `6.1`, ...)
 * @param options ABI and system filter
 * @returns one entry per event, in catalog order
 * @throws {UsageError} for an unparsable version or one older than {@linkcode OLDEST_KNOWN_KERNEL}
 * @example
 * ```ts
 * import { knownFormats } from "./known_formats.ts";
 * const f = knownFormats("6.12", { systems: ["intel_iommu"] });
 * console.assert(f.some((e) => e.name === "cache_tag_flush_all") === true);
 * console.assert(knownFormats("6.17").some((e) => e.name === "cache_tag_flush_all") === false);
 * ```
 */
export function knownFormats(kernel: string, options: KnownFormatsOptions = {}): KnownFormat[] {
  const v = formatKernelVersion(parseKernelVersion(kernel));
  if (compareKernelVersions(v, OLDEST_KNOWN_KERNEL) < 0) {
    throw new UsageError(
      `kernel ${kernel}: no bundled formats before ${OLDEST_KNOWN_KERNEL}; record the formats ` +
        `from the machine's /sys/kernel/tracing/events instead`,
    );
  }
  const abi = abiFor(v, options.abi);
  const out: KnownFormat[] = [];
  for (const variant of FORMAT_CATALOG) {
    if (options.systems && !options.systems.includes(variant.system)) continue;
    if (!covers(variant, v)) continue;
    const entry: KnownFormat = {
      system: variant.system,
      name: variant.name,
      id: variant.id,
      text: renderFormat(variant.name, variant.id, variant.shape, abi),
      source: variant.source,
    };
    if (variant.probe) entry.probe = variant.probe;
    out.push(entry);
  }
  return out;
}

/**
 * One bundled format file, by name.
 *
 * @param kernel a kernel release
 * @param system trace system
 * @param name event name
 * @param options ABI
 * @returns the format, or `undefined` when the event is not bundled for that version
 * @example
 * ```ts
 * import { knownFormat } from "./known_formats.ts";
 * console.assert(knownFormat("6.18", "tlb", "tlb_flush")?.id === 1401);
 * ```
 */
export function knownFormat(
  kernel: string,
  system: string,
  name: string,
  options: KnownFormatsOptions = {},
): KnownFormat | undefined {
  return knownFormats(kernel, { ...options, systems: [system] }).find((f) => f.name === name);
}

/**
 * The `events/header_page` text for a kernel version and ABI.
 *
 * @param kernel a kernel release
 * @param abi target ABI (x86_64 by default)
 * @param pageSize ring-buffer page size (4096)
 * @returns the header_page text
 * @example
 * ```ts
 * import { knownHeaderPage } from "./known_formats.ts";
 * console.assert(knownHeaderPage("6.18").includes("offset:16;\tsize:4080;"));
 * ```
 */
export function knownHeaderPage(kernel: string, abi: Partial<Abi> = {}, pageSize = 4096): string {
  const v = formatKernelVersion(parseKernelVersion(kernel));
  return renderHeaderPage(abiFor(v, abi), pageSize);
}
