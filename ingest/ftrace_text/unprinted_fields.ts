/**
 * Fields an event records but its print format does not print, restored from the ones it does
 * print where the kernel's data layout ties them together.
 *
 * Text holds only what the print format printed; a field it leaves out is null unless it can be
 * computed exactly from a printed one. One case matters for replay:
 *
 * - `mmap:exit_mmap` records `mm` (the `struct mm_struct *` that dies) and `mt` (`&mm->mm_mt`, its
 *   maple tree) but prints only `mt_mod <mt>, DESTROY`. The mm pointer is the only mm identity the
 *   tracepoints give, so it is restored as `mt - offsetof(struct mm_struct, mm_mt)`:
 *   - 6.1 - 6.4: `mm_mt` is the first member, offset 0;
 *   - 6.5 and later: `mm_count` sits alone in the first, cache-line-aligned block (commit
 *     c1753fd02a00 "mm: move mm_count into its own cache line", Mathieu Desnoyers, 2023), so
 *     `mm_mt` follows at one cache line, 0x40 on x86-64 and arm64 (64-byte L1 lines, SMP).
 *   A kernel built with another cache-line size gives another offset: read such a trace with its
 *   own formats from a binary trace instead. Without a known kernel version the newest layout is
 *   assumed.
 *
 * @module
 */
import type { FieldValue } from "../../core/event.ts";
import type { EventFormat } from "../format/types.ts";
import { compareKernelVersions } from "../known_formats/mod.ts";

/** `offsetof(struct mm_struct, mm_mt)` from v6.5 on (one 64-byte cache line). */
export const MM_MT_OFFSET_6_5 = 0x40n;

/**
 * `offsetof(struct mm_struct, mm_mt)` for a kernel release (64-byte cache lines).
 *
 * @param kernel the release (`6.12.11`), or null when unknown (the newest layout)
 * @returns the offset in bytes
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mmMtOffset } from "./unprinted_fields.ts";
 * assert.equal(mmMtOffset("6.12.11"), 0x40n);
 * assert.equal(mmMtOffset("6.1.0-18-amd64"), 0n);
 * ```
 */
export function mmMtOffset(kernel: string | null): bigint {
  if (kernel === null) return MM_MT_OFFSET_6_5;
  try {
    return compareKernelVersions(kernel, "6.5") >= 0 ? MM_MT_OFFSET_6_5 : 0n;
  } catch {
    return MM_MT_OFFSET_6_5;
  }
}

/**
 * Restores the unprinted fields of one decoded event in place (see the module doc).
 *
 * @param format the event's format
 * @param values the decoded values, by field name
 * @param kernel the traced kernel's release, or null
 * @returns the names of the fields restored (empty when none)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFormatFile } from "../format/format_file.ts";
 * import { restoreUnprinted } from "./unprinted_fields.ts";
 * const fmt = parseFormatFile(
 *   "name: exit_mmap\nID: 1\nformat:\n\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n" +
 *     "\tfield:struct maple_tree * mt;\toffset:16;\tsize:8;\tsigned:0;\n\n" +
 *     'print fmt: "mt_mod %p, DESTROY", REC->mt\n',
 *   "mmap",
 * );
 * const v: Record<string, bigint | null> = { mt: 0xffff888134bb5740n };
 * assert.deepEqual(restoreUnprinted(fmt, v, "6.12.11"), ["mm"]);
 * assert.equal(v.mm, 0xffff888134bb5700n);
 * ```
 */
export function restoreUnprinted(
  format: EventFormat,
  values: Record<string, FieldValue>,
  kernel: string | null,
): string[] {
  if (format.name !== "exit_mmap" || format.system !== "mmap") return [];
  const mt = values["mt"];
  if (typeof mt !== "bigint" || values["mm"] !== undefined && values["mm"] !== null) return [];
  const f = format.ownFields.find((x) => x.name === "mm");
  if (!f || f.kind !== "int" || f.size !== 8) return [];
  const mm = mt - mmMtOffset(kernel);
  if (mm <= 0n) return [];
  values["mm"] = mm;
  return ["mm"];
}
