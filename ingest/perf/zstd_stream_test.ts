import { deepStrictEqual, equal, rejects } from "node:assert/strict";
import { zstdCompressSync } from "node:zlib";
import { ZstdStream } from "./zstd_stream.ts";

Deno.test("ZstdStream: one stream fed in pieces gives the input back", async () => {
  const input = new Uint8Array(100000);
  for (let i = 0; i < input.length; i++) input[i] = (i * 31) % 251;
  const z = zstdCompressSync(input);
  const s = new ZstdStream();
  const parts: Uint8Array[] = [];
  for (let at = 0; at < z.length; at += 1000) parts.push(await s.push(z.subarray(at, at + 1000)));
  s.close();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  deepStrictEqual(out, input);
});

Deno.test("ZstdStream: garbage rejects, and so does every later push", async () => {
  const s = new ZstdStream();
  await rejects(s.push(new Uint8Array(64).fill(0xa5)));
  await rejects(s.push(new Uint8Array(4)));
  s.close();
});

Deno.test("ZstdStream: output past the cap rejects", async () => {
  const z = zstdCompressSync(new Uint8Array(1 << 20));
  const s = new ZstdStream(4096);
  await rejects(s.push(z), /expands past 4096/);
  s.close();
  equal(s.maxOutput, 4096);
});
