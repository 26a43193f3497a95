/**
 * Which format an event named in text has: formats the caller supplies (e.g. read from the
 * traced machine's tracefs), else the bundled formats of the trace's kernel version (from the
 * latency header, or the newest bundle when the text does not say).
 *
 * Every event also carries the other bundled variants of its format (other kernel versions) as
 * alternates, so a payload printed by an older kernel still parses when its version is unknown.
 *
 * @module
 */
import { parseFormatFile } from "../format/format_file.ts";
import type { EventFormat } from "../format/types.ts";
import {
  compareKernelVersions,
  KNOWN_FORMAT_VERSIONS,
  knownFormats,
  OLDEST_KNOWN_KERNEL,
  parseKernelVersion,
} from "../known_formats/mod.ts";

/** An event with a known format. */
export interface KnownEvent {
  /** Trace system. */
  system: string;
  /** Event name. */
  name: string;
  /** The format to use first, then alternates (other kernel versions' variants), newest first. */
  formats: EventFormat[];
}

/** The newest kernel version the bundle describes. */
export const NEWEST_KNOWN_KERNEL: string = KNOWN_FORMAT_VERSIONS[KNOWN_FORMAT_VERSIONS.length - 1]!;

const parsedByVersion = new Map<string, Map<string, EventFormat>>();

function bundled(version: string): Map<string, EventFormat> {
  let m = parsedByVersion.get(version);
  if (m) return m;
  m = new Map();
  for (const k of knownFormats(version)) {
    // Kprobe examples are user-defined probes: their names mean nothing in a foreign trace.
    if (k.system === "kprobes") continue;
    m.set(k.name, parseFormatFile(k.text, k.system));
  }
  parsedByVersion.set(version, m);
  return m;
}

/**
 * Chooses the bundled version for a kernel release: the release itself when the bundle covers
 * it, the oldest bundle for older kernels, the newest for unparsable text.
 *
 * @param release `uname -r` text or null
 * @returns the version to use and why, when it is not the release itself
 * @example
 * ```ts
 * import { bundleVersionFor } from "./format_resolver.ts";
 * console.assert(bundleVersionFor("6.18.44-fc-v595").version === "6.18.44-fc-v595");
 * console.assert(bundleVersionFor("4.19.0").note !== null);
 * ```
 */
export function bundleVersionFor(release: string | null): { version: string; note: string | null } {
  if (!release) return { version: NEWEST_KNOWN_KERNEL, note: null };
  try {
    parseKernelVersion(release);
  } catch {
    return {
      version: NEWEST_KNOWN_KERNEL,
      note: `kernel "${release}" not understood; bundled formats of ${NEWEST_KNOWN_KERNEL} used`,
    };
  }
  if (compareKernelVersions(release, OLDEST_KNOWN_KERNEL) < 0) {
    return {
      version: OLDEST_KNOWN_KERNEL,
      note:
        `kernel ${release} is older than the bundled formats; those of ${OLDEST_KNOWN_KERNEL} used`,
    };
  }
  return { version: release, note: null };
}

/**
 * Looks up formats by event name.
 *
 * @example
 * ```ts
 * import { FormatResolver } from "./format_resolver.ts";
 * const r = new FormatResolver({ kernel: "6.18" });
 * const e = r.lookup("tlb_flush")!;
 * console.assert(e.system === "tlb" && e.formats[0]!.ownFields.length === 2);
 * console.assert(r.lookup("mm_page_alloc") === null);
 * ```
 */
export class FormatResolver {
  private kernel: string | null;
  private readonly supplied = new Map<string, EventFormat>();
  private cache = new Map<string, KnownEvent | null>();
  /** Why the bundle version differs from the trace's kernel (for a warning), or null. */
  note: string | null = null;

  /**
   * A resolver over the bundle of one kernel version.
   *
   * @param opts `kernel`: release whose bundle to use (null: newest); `formats`: formats that
   *   take precedence over the bundle
   */
  constructor(opts: { kernel?: string | null; formats?: readonly EventFormat[] } = {}) {
    this.kernel = opts.kernel ?? null;
    for (const f of opts.formats ?? []) this.supplied.set(f.name, f);
  }

  /**
   * Sets the kernel release (from a header). Lookups made before keep their answers.
   *
   * @param release `uname -r` text
   */
  setKernel(release: string): void {
    if (this.kernel === null) this.kernel = release;
  }

  /** The bundle version in use. */
  get bundleVersion(): string {
    return bundleVersionFor(this.kernel).version;
  }

  /**
   * The known formats of an event.
   *
   * @param name event name
   * @returns the event, or null when no format is known
   */
  lookup(name: string): KnownEvent | null {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit;
    const { version, note } = bundleVersionFor(this.kernel);
    if (note) this.note = note;
    const formats: EventFormat[] = [];
    const own = this.supplied.get(name);
    if (own) formats.push(own);
    const primary = bundled(version).get(name);
    if (primary) formats.push(primary);
    const seen = new Set(formats.map((f) => f.printFmt + "\0" + fieldSig(f)));
    for (let i = KNOWN_FORMAT_VERSIONS.length - 1; i >= 0; i--) {
      const alt = bundled(KNOWN_FORMAT_VERSIONS[i]!).get(name);
      if (!alt) continue;
      const sig = alt.printFmt + "\0" + fieldSig(alt);
      if (seen.has(sig)) continue;
      seen.add(sig);
      formats.push(alt);
    }
    const r = formats.length ? { system: formats[0]!.system, name, formats } : null;
    this.cache.set(name, r);
    return r;
  }
}

function fieldSig(f: EventFormat): string {
  return f.ownFields.map((x) => `${x.type} ${x.name}:${x.size}`).join(";");
}
