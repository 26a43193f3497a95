import assert from "node:assert/strict";
import { recordSpan, RingBufferPageWriter } from "./ring_buffer_page.ts";
import { UsageError } from "../core/errors.ts";

function collect(options = {}) {
  const pages: Uint8Array[] = [];
  const w = new RingBufferPageWriter((p) => pages.push(p.slice()), options);
  return { w, pages };
}

Deno.test("record headers: type_len for small payloads, length word above 112 bytes", () => {
  const { w, pages } = collect();
  w.add(100n, new Uint8Array(10).fill(0xaa)); // 12 bytes -> type_len 3
  w.add(103n, new Uint8Array(113).fill(0xbb)); // 116 aligned -> type_len 0, array[0] = 120
  w.finish();
  const v = new DataView(pages[0]!.buffer);
  assert.equal(v.getBigUint64(0, true), 100n);
  assert.equal(v.getBigUint64(8, true), BigInt(4 + 12 + 8 + 116));
  assert.equal(v.getUint32(16, true), 3);
  assert.equal(pages[0]![20], 0xaa);
  assert.equal(pages[0]![30], 0, "payload padded to 4 bytes with zeros");
  assert.equal(v.getUint32(32, true), 3 << 5);
  assert.equal(v.getUint32(36, true), 120);
  assert.equal(pages[0]![40], 0xbb);
  assert.equal(recordSpan(10), 16);
  assert.equal(recordSpan(112), 116);
  assert.equal(recordSpan(113), 124);
});

Deno.test("a delta beyond 27 bits is carried by a TIME_EXTEND record", () => {
  const { w, pages } = collect();
  const gap = (5n << 27n) + 77n;
  w.add(1n, new Uint8Array(8));
  w.add(1n + gap, new Uint8Array(8));
  w.finish();
  const v = new DataView(pages[0]!.buffer);
  assert.equal(v.getUint32(28, true), (77 << 5) | 30);
  assert.equal(v.getUint32(32, true), 5);
  assert.equal(v.getUint32(36, true), 2, "the event after the extend has delta 0");
  assert.equal(v.getBigUint64(8, true), 12n + 8n + 12n);
});

Deno.test("pages fill to the data size and the next record opens a new page", () => {
  const { w, pages } = collect();
  for (let i = 0; i < 400; i++) w.add(BigInt(1000 + i), new Uint8Array(16)); // 20 bytes each
  w.finish();
  // 4080 / 20 = 204 records per page.
  assert.equal(pages.length, 2);
  const p1 = new DataView(pages[1]!.buffer);
  assert.equal(p1.getBigUint64(0, true), 1204n);
  assert.equal(p1.getBigUint64(8, true), BigInt(196 * 20));
  assert.equal(w.records, 400);
});

Deno.test("lost events set commit bits 31/30 and store the count after the data", () => {
  const { w, pages } = collect({ longSize: 4 });
  w.add(1n, new Uint8Array(8));
  w.markLost(9);
  w.add(2n, new Uint8Array(8));
  w.markLost(null);
  w.add(3n, new Uint8Array(8));
  w.finish();
  assert.equal(pages.length, 3);
  const v = (i: number) => new DataView(pages[i]!.buffer);
  assert.equal(v(0).getUint32(8, true), 12);
  assert.equal(v(1).getUint32(8, true), (0xc0000000 | 12) >>> 0);
  assert.equal(v(1).getUint32(12 + 12, true), 9);
  assert.equal(v(2).getUint32(8, true), (0x80000000 | 12) >>> 0);
});

Deno.test("big endian puts type_len in the top bits", () => {
  const { w, pages } = collect({ littleEndian: false });
  w.add(7n, new Uint8Array(8));
  w.add(9n, new Uint8Array(8));
  w.finish();
  const v = new DataView(pages[0]!.buffer);
  assert.equal(v.getBigUint64(0, false), 7n);
  assert.equal(v.getUint32(16, false), 2 << 27);
  assert.equal(v.getUint32(28, false), ((2 << 27) | 2) >>> 0);
});

Deno.test("backwards time and oversized records are refused", () => {
  const { w } = collect();
  w.add(10n, new Uint8Array(8));
  assert.throws(() => w.add(9n, new Uint8Array(8)), UsageError);
  assert.throws(() => w.add(11n, new Uint8Array(4090)), /does not fit/);
  assert.throws(() => new RingBufferPageWriter(() => {}, { pageSize: 102 }), UsageError);
});
