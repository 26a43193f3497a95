import assert from "node:assert/strict";
import { writeChunks } from "./write_chunks.ts";

/** A file that takes at most `max` bytes per write and records what it got. */
function file(max: number) {
  const got: number[] = [];
  let calls = 0;
  return {
    got,
    calls: () => calls,
    writeSync(b: Uint8Array): number {
      calls++;
      const n = Math.min(max, b.length);
      got.push(...b.subarray(0, n));
      return n;
    },
  };
}

Deno.test("writeChunks: the concatenation of the pieces, in order, whatever their sizes", () => {
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 1000;
  for (const [scratch, direct, max] of [[16, 8, 1 << 20], [64, 1 << 16, 5], [4, 100, 3]]) {
    const chunks: Uint8Array[] = [];
    let v = 0;
    for (let i = 0; i < 300; i++) {
      const len = rnd() % 3 === 0 ? rnd() % 40 : rnd() % 6;
      chunks.push(Uint8Array.from({ length: len }, () => v++ & 0xff));
    }
    const f = file(max!);
    writeChunks(f, chunks, new Uint8Array(scratch!), direct);
    assert.deepStrictEqual(f.got, Array.from({ length: v }, (_, i) => i & 0xff));
  }
});

Deno.test("writeChunks: small pieces share a write, large ones are written alone", () => {
  const f = file(1 << 20);
  const small = Array.from({ length: 10 }, () => new Uint8Array(10));
  writeChunks(f, [...small, new Uint8Array(100), ...small], new Uint8Array(1000), 64);
  assert.equal(f.calls(), 3);
  assert.equal(f.got.length, 300);
});
