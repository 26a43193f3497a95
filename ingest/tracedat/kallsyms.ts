/**
 * `/proc/kallsyms` as stored in trace.dat: address -> function lookups for `%pS` and `ip` fields.
 *
 * @module
 */

/** A sorted symbol table. */
export interface Kallsyms {
  /** Number of symbols. */
  readonly size: number;
  /**
   * The symbol containing `addr` (the nearest symbol at or below it), or null.
   *
   * @param addr address
   * @returns symbol name, offset from its start and module (if any)
   */
  lookup(addr: bigint): { name: string; offset: bigint; module: string | null } | null;
}

/**
 * Parses kallsyms text (`ffffffff81000000 T _text [module]` lines).
 *
 * @param text the text (may be empty)
 * @returns the table
 * @example
 * ```ts
 * import { parseKallsyms } from "./kallsyms.ts";
 * const k = parseKallsyms("ffffffff81000000 T _text\nffffffff81000100 T start\n");
 * console.assert(k.lookup(0xffffffff81000104n)?.name === "start");
 * ```
 */
export function parseKallsyms(text: string): Kallsyms {
  const rows: { addr: bigint; name: string; module: string | null }[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]+)\s+\S\s+(\S+)(?:\s+\[([^\]]+)\])?/.exec(line);
    if (!m) continue;
    rows.push({ addr: BigInt("0x" + m[1]!), name: m[2]!, module: m[3] ?? null });
  }
  rows.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return {
    size: rows.length,
    lookup(addr) {
      let lo = 0;
      let hi = rows.length - 1;
      let best = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (rows[mid]!.addr <= addr) {
          best = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (best < 0) return null;
      const r = rows[best]!;
      return { name: r.name, offset: addr - r.addr, module: r.module };
    },
  };
}
