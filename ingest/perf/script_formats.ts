/**
 * Candidate formats for an event named in `perf script` text (`system:event`): formats the
 * caller supplies first (e.g. the tracing data of the perf.data the text came from), then the
 * bundled formats of the kernel the header names (`# os release : ...`), then the other bundled
 * variants, newest first, so a payload printed by a kernel of unknown version still finds the
 * print fmt that reads it.
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
} from "../known_formats/mod.ts";

const bundles = new Map<string, Map<string, EventFormat>>();

function bundle(version: string): Map<string, EventFormat> {
  let m = bundles.get(version);
  if (m) return m;
  m = new Map();
  for (const k of knownFormats(version)) {
    // Kprobe examples are user-defined: their names mean nothing in a foreign trace.
    if (k.system === "kprobes") continue;
    m.set(`${k.system}:${k.name}`, parseFormatFile(k.text, k.system));
  }
  bundles.set(version, m);
  return m;
}

/** The bundle version for a kernel release, or null when the release is unusable. */
function versionFor(release: string): string | null {
  try {
    return compareKernelVersions(release, OLDEST_KNOWN_KERNEL) < 0 ? OLDEST_KNOWN_KERNEL : release;
  } catch {
    return null;
  }
}

/**
 * Finds candidate formats by `system:event`.
 *
 * @example
 * ```ts
 * import { ScriptFormats } from "./script_formats.ts";
 * const f = new ScriptFormats();
 * f.setKernel("6.18.44");
 * const c = f.candidates("tlb", "tlb_flush");
 * console.assert(c.length >= 1 && c[0]!.ownFields.length === 2);
 * console.assert(f.candidates("nosuch", "event").length === 0);
 * ```
 */
export class ScriptFormats {
  private readonly supplied = new Map<string, EventFormat>();
  private kernel: string | null = null;

  /**
   * Creates the lookup.
   *
   * @param formats formats that take precedence over the bundle
   */
  constructor(formats: readonly EventFormat[] = []) {
    for (const f of formats) this.supplied.set(`${f.system}:${f.name}`, f);
  }

  /**
   * Sets the kernel release whose bundle comes first (the first call wins).
   *
   * @param release `uname -r` text
   */
  setKernel(release: string): void {
    if (this.kernel === null) this.kernel = release;
  }

  /**
   * The formats to try for an event, best first (distinct print fmts and layouts).
   *
   * @param system trace system
   * @param event event name
   * @returns candidates, empty when nothing is known
   */
  candidates(system: string, event: string): EventFormat[] {
    const key = `${system}:${event}`;
    const out: EventFormat[] = [];
    const seen = new Set<string>();
    const add = (f: EventFormat | undefined) => {
      if (!f) return;
      const sig = f.printFmt + "\0" + f.ownFields.map((x) => `${x.name}:${x.type}`).join(",");
      if (seen.has(sig)) return;
      seen.add(sig);
      out.push(f);
    };
    add(this.supplied.get(key));
    const v = this.kernel === null ? null : versionFor(this.kernel);
    if (v) add(bundle(v).get(key));
    for (let i = KNOWN_FORMAT_VERSIONS.length - 1; i >= 0; i--) {
      add(bundle(KNOWN_FORMAT_VERSIONS[i]!).get(key));
    }
    return out;
  }
}
