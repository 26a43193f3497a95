import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { PageCursor, RB_MISSED_EVENTS, RB_MISSED_STORED } from "./ring_buffer.ts";

const HP64 = { timestampSize: 8, commitSize: 8, dataOffset: 16, dataSize: 4080 };
const HP32 = { timestampSize: 8, commitSize: 4, dataOffset: 12, dataSize: 4084 };

/** Builds a page from record words; returns the page bytes. */
function page(
  hp: typeof HP64,
  le: boolean,
  ts: bigint,
  words: number[],
  commitFlags = 0,
  lost?: number,
): Uint8Array {
  const p = new Uint8Array(4096);
  const v = new DataView(p.buffer);
  v.setBigUint64(0, ts, le);
  const size = words.length * 4;
  if (hp.commitSize === 8) v.setBigUint64(8, BigInt(size | commitFlags) & 0xffffffffn, le);
  else v.setUint32(8, (size | commitFlags) >>> 0, le);
  words.forEach((w, i) => v.setUint32(hp.dataOffset + i * 4, w >>> 0, le));
  if (lost !== undefined) {
    if (hp.commitSize === 8) v.setBigUint64(hp.dataOffset + size, BigInt(lost), le);
    else v.setUint32(hp.dataOffset + size, lost, le);
  }
  return p;
}

const hdr = (
  typeLen: number,
  delta: number,
  le: boolean,
) => (le ? (delta << 5) | typeLen : (typeLen << 27) | delta);

function walk(c: PageCursor) {
  const out: [number, number, number][] = [];
  while (c.next()) out.push([c.rel, c.recStart, c.recLen]);
  return out;
}

for (const le of [true, false]) {
  Deno.test(`every type_len (${le ? "little" : "big"} endian, 64-bit)`, () => {
    const words = [
      hdr(2, 10, le),
      0x11,
      0x22, // type_len 2: 8-byte payload at +4, ts += 10
      hdr(30, 5, le),
      3, // time extend: ts += 3<<27 + 5
      hdr(0, 7, le),
      12,
      0xaa,
      0xbb, // type_len 0: length word 12 (incl. itself): 8-byte payload at +8
      hdr(29, 4, le),
      8,
      0, // discarded event (padding with delta): 4 + 8 bytes, ts += 4
      hdr(1, 1, le),
      0x33, // type_len 1
      hdr(29, 0, le), // null padding: end of page
      hdr(1, 1, le),
      0x44, // never reached
    ];
    const c = new PageCursor(HP64, le);
    c.load(page(HP64, le, 1000n, words), 0, 4096, 900n);
    const ext = 3 * 134217728 + 5;
    deepStrictEqual(walk(c), [
      [110, 16 + 4, 8],
      [110 + ext + 7, 16 + 28, 8],
      [110 + ext + 7 + 4 + 1, 16 + 52, 4],
    ]);
    strictEqual(c.discarded, 1);
    strictEqual(c.problem, null);
  });
}

Deno.test("absolute time stamp (type_len 31) keeps the top bits of the current time", () => {
  const le = true;
  const words = [hdr(31, 0x10, le), 2, hdr(1, 3, le), 0];
  const c = new PageCursor(HP64, le);
  c.load(page(HP64, le, 0x0800000000000000n, words), 0, 4096, 0x0800000000000000n);
  strictEqual(c.next(), true);
  // ((2 << 27) | 0x10) | (page ts & 0xf8<<56) then + 3
  strictEqual(
    BigInt(c.rel) + 0x0800000000000000n,
    ((2n << 27n) | 0x10n | 0x0800000000000000n) + 3n,
  );
});

Deno.test("32-bit page header (4-byte commit, data at 12) and lost-event flags", () => {
  const le = true;
  const c = new PageCursor(HP32, le);
  c.load(
    page(HP32, le, 50n, [hdr(1, 2, le), 9], RB_MISSED_EVENTS | RB_MISSED_STORED, 17),
    0,
    4096,
    0n,
  );
  strictEqual(c.missed, 17);
  deepStrictEqual(walk(c), [[52, 16, 4]]);
  c.load(page(HP32, le, 50n, [hdr(1, 2, le), 9], RB_MISSED_EVENTS), 0, 4096, 0n);
  strictEqual(c.missed, -1);
});

Deno.test("malformed pages stop with a problem instead of reading past the page", () => {
  const le = true;
  const c = new PageCursor(HP64, le);
  // commit larger than the page
  const p = page(HP64, le, 0n, []);
  new DataView(p.buffer).setBigUint64(8, 5000n, true);
  strictEqual(c.load(p, 0, 4096, 0n), false);
  strictEqual(c.next(), false);
  // a type_len 0 record whose length runs past the data
  c.load(page(HP64, le, 0n, [hdr(0, 1, le), 400, 0]), 0, 4096, 0n);
  strictEqual(c.next(), false);
  strictEqual(typeof c.problem, "string");
});
