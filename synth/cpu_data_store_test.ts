import assert from "node:assert/strict";
import { CpuDataStream, FileByteStore, MemoryByteStore } from "./cpu_data_store.ts";
import { decompressBlock } from "./compression.ts";

function fill(s: CpuDataStream, n: number): void {
  for (let i = 0; i < n; i++) s.add(BigInt(i), new Uint8Array(60).fill(i & 0xff));
  s.finish();
}

Deno.test("uncompressed stream stores whole pages", () => {
  const s = new CpuDataStream(new MemoryByteStore());
  fill(s, 200); // 64 bytes each -> 63 per page -> 4 pages
  assert.equal(s.pages, 4);
  assert.equal(s.store.size, 4 * 4096);
  assert.equal(s.chunks, 0);
  assert.equal(s.firstTs, 0n);
  assert.equal(s.lastTs, 199n);
});

Deno.test("compressed stream writes chunks of at most 10 pages with size headers", () => {
  const s = new CpuDataStream(new MemoryByteStore(), { compression: "zstd" });
  fill(s, 63 * 23); // 23 pages -> chunks of 10, 10, 3
  assert.equal(s.pages, 23);
  assert.equal(s.chunks, 3);
  const all = new Uint8Array(s.store.size);
  let at = 0;
  for (const p of s.store.pieces()) {
    all.set(p, at);
    at += p.length;
  }
  const v = new DataView(all.buffer);
  const sizes: number[] = [];
  for (let p = 0; p < all.length;) {
    const cs = v.getUint32(p, true);
    const us = v.getUint32(p + 4, true);
    assert.equal(decompressBlock("zstd", all.subarray(p + 8, p + 8 + cs)).length, us);
    sizes.push(us / 4096);
    p += 8 + cs;
  }
  assert.deepEqual(sizes, [10, 10, 3]);
});

Deno.test("file store round-trips bytes through a temporary file and deletes it", () => {
  const store = new FileByteStore();
  const data = new Uint8Array(3 << 20).map((_, i) => i * 7);
  store.append(data.subarray(0, 1000));
  store.append(data.subarray(1000));
  assert.equal(store.size, data.length);
  const back = new Uint8Array(store.size);
  let at = 0;
  for (const p of store.pieces()) {
    back.set(p, at);
    at += p.length;
  }
  assert.deepEqual(back, data);
  store.append(new Uint8Array([1, 2, 3]));
  assert.equal(store.size, data.length + 3);
  store.dispose();
});
