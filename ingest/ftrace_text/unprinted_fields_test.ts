import assert from "node:assert/strict";
import type { FieldValue } from "../../core/event.ts";
import { parseFormatFile } from "../format/format_file.ts";
import { knownFormat } from "../known_formats/mod.ts";
import { mmMtOffset, restoreUnprinted } from "./unprinted_fields.ts";

const exitMmap = parseFormatFile(knownFormat("6.12", "mmap", "exit_mmap")!.text, "mmap");
const tlbFlush = parseFormatFile(knownFormat("6.12", "tlb", "tlb_flush")!.text, "tlb");

Deno.test("unprinted fields: mm_mt offset by kernel (0 before 6.5, one cache line after)", () => {
  assert.deepEqual(
    ["6.1", "6.4.16", "6.5", "6.12.11", "7.0-rc1", null].map(mmMtOffset),
    [0n, 0n, 0x40n, 0x40n, 0x40n, 0x40n],
  );
  assert.equal(mmMtOffset("not a version"), 0x40n);
});

Deno.test("unprinted fields: exit_mmap's mm from mt; nothing else is touched", () => {
  const v: Record<string, FieldValue> = { mt: 0x1040n };
  assert.deepEqual(restoreUnprinted(exitMmap, v, "6.12"), ["mm"]);
  assert.equal(v.mm, 0x1000n);
  // a printed (or otherwise known) mm wins; no mt, no mm
  const known: Record<string, FieldValue> = { mt: 0x1040n, mm: 0x2000n };
  assert.deepEqual(restoreUnprinted(exitMmap, known, "6.12"), []);
  assert.equal(known.mm, 0x2000n);
  const none: Record<string, FieldValue> = {};
  assert.deepEqual(restoreUnprinted(exitMmap, none, "6.12"), []);
  assert.deepEqual(none, {});
  // an mt below the offset cannot be a member of an mm
  assert.deepEqual(restoreUnprinted(exitMmap, { mt: 0x20n }, "6.12"), []);
  const tlb: Record<string, FieldValue> = { pages: 1n, reason: 3 };
  assert.deepEqual(restoreUnprinted(tlbFlush, tlb, "6.12"), []);
  assert.deepEqual(tlb, { pages: 1n, reason: 3 });
});
