/**
 * Bundled tracefs format files (IOMMU, DMA, TLB, mm syscalls, sched, task, mmap, kprobe
 * examples) for Linux 5.15 and later, chosen by kernel version.
 *
 * @module
 */

export {
  KNOWN_FORMAT_VERSIONS,
  type KnownFormat,
  knownFormat,
  knownFormats,
  type KnownFormatsOptions,
  knownHeaderPage,
  OLDEST_KNOWN_KERNEL,
} from "./known_formats.ts";
export {
  type Abi,
  ABI_X86_64,
  type EventShape,
  type FieldDecl,
  HEADER_EVENT_TEXT,
  type ProbeFetchType,
  renderFormat,
  renderHeaderPage,
} from "./render_format.ts";
export {
  compareKernelVersions,
  formatKernelVersion,
  type KernelVersion,
  parseKernelVersion,
} from "./kernel_version.ts";
export { FORMAT_CATALOG, type FormatVariant } from "./catalog.ts";
