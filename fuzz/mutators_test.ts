import { deepStrictEqual, equal, notDeepStrictEqual, ok } from "node:assert/strict";
import {
  bitFlip,
  embeddedDigits,
  findSizeFields,
  lyingSize,
  MAX_MUTATED_BYTES,
  mutate,
  mutateJson,
  mutateLines,
  truncate,
} from "./mutators.ts";
import { hash32, Rng } from "./rng.ts";
import { inputFor, MAGIC_BYTES } from "./inputs.ts";

const ENC = new TextEncoder();
const DEC = new TextDecoder();

Deno.test("rng: sfc32 is deterministic, in range, and seeds differ", () => {
  const a = new Rng(1);
  const b = new Rng(1);
  const xs = Array.from({ length: 8 }, () => a.u32());
  deepStrictEqual(xs, Array.from({ length: 8 }, () => b.u32()));
  notDeepStrictEqual(xs, Array.from({ length: 8 }, () => new Rng(2).u32()));
  const r = new Rng(3);
  for (let i = 0; i < 1000; i++) {
    const v = r.int(7);
    ok(Number.isInteger(v) && v >= 0 && v < 7);
    const l = r.low(100);
    ok(l >= 0 && l < 100);
  }
  equal(hash32("a"), hash32("a"));
  ok(hash32(1, "x", 2) !== hash32(1, "x", 3));
});

Deno.test("mutators: bit flips change 1 to 8 bits and never the length", () => {
  const seed = new Uint8Array(256);
  for (let s = 0; s < 50; s++) {
    const out = bitFlip(seed, new Rng(s));
    equal(out.length, 256);
    let bits = 0;
    for (const b of out) for (let k = 0; k < 8; k++) bits += (b >> k) & 1;
    ok(bits >= 1 && bits <= 8, `seed ${s}: ${bits} bits`);
    equal(seed.every((b) => b === 0), true, "input untouched");
  }
});

Deno.test("mutators: size fields are found and made to lie", () => {
  // A u32 LE 100 at 8 and a u64 BE 64 at 16, in a 128-byte input.
  const b = new Uint8Array(128);
  const v = new DataView(b.buffer);
  v.setUint32(8, 100, true);
  v.setBigUint64(16, 64n, false);
  // Each call scans a window starting at a random (low-biased) offset: take several.
  const fields = Array.from({ length: 20 }, (_, s) => findSizeFields(b, new Rng(s))).flat();
  ok(fields.some((f) => f.at === 8 && f.width === 4 && f.le && f.value === 100));
  ok(fields.some((f) => f.at === 16 && f.width === 8 && !f.le && f.value === 64));
  let changed = 0;
  for (let s = 0; s < 40; s++) {
    const out = lyingSize(b, new Rng(s));
    const ov = new DataView(out.buffer);
    if (ov.getUint32(8, true) !== 100 || ov.getBigUint64(16, false) !== 64n) changed++;
  }
  // Some calls scan a window past both fields and fall back to a boundary integer elsewhere.
  ok(changed >= 20, `${changed} of 40 lied`);
});

Deno.test("mutators: truncation shortens, embedded digits keep the length", () => {
  const text = ENC.encode("field:int pid;\toffset:4;\tsize:4;\tsigned:1;");
  for (let s = 0; s < 20; s++) {
    ok(truncate(text, new Rng(s)).length < text.length);
    const d = embeddedDigits(text, new Rng(s));
    equal(d.length, text.length);
    equal(DEC.decode(d).replace(/\d/g, "0"), DEC.decode(text).replace(/\d/g, "0"));
  }
});

Deno.test("mutators: line mutations keep most lines, JSON mutations keep valid JSON mostly", () => {
  const lines = ENC.encode(Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n"));
  let kept = 0;
  for (let s = 0; s < 30; s++) {
    const out = DEC.decode(mutateLines(lines, new Rng(s), lines));
    if (out.includes("line 25") || out.includes("line 26")) kept++;
    ok(out.length <= MAX_MUTATED_BYTES);
  }
  ok(kept >= 20, `${kept} of 30 kept the middle`);
  const doc = ENC.encode('{"format":"x","iommus":[{"name":"a"}],"devices":[]}');
  let valid = 0;
  let changed = 0;
  for (let s = 0; s < 50; s++) {
    const out = mutateJson(doc, new Rng(s), doc);
    ok(out.length <= 4 << 20);
    try {
      JSON.parse(DEC.decode(out));
      valid++;
    } catch {
      // a textual mutation
    }
    if (DEC.decode(out) !== DEC.decode(doc)) changed++;
  }
  ok(valid >= 35, `${valid} of 50 valid JSON`);
  ok(changed >= 40, `${changed} of 50 changed`);
});

Deno.test("inputs: seeds come first unmutated, then reproducible mutations keeping the magic", () => {
  const seed = { name: "s", bytes: ENC.encode("PERFILE2" + "\u0000".repeat(200)) };
  deepStrictEqual(inputFor("perf_data", [seed], 1, 0).bytes, seed.bytes);
  let magic = 0;
  for (let i = 1; i < 101; i++) {
    const a = inputFor("perf_data", [seed], 1, i);
    deepStrictEqual(a.bytes, inputFor("perf_data", [seed], 1, i).bytes);
    ok(a.ops.length >= 1 && a.ops.length <= 4);
    if (a.bytes.length >= MAGIC_BYTES && DEC.decode(a.bytes.subarray(0, 8)) === "PERFILE2") magic++;
  }
  ok(magic >= 80, `${magic} of 100 kept the magic`);
  const m = mutate("binary", seed.bytes, new Rng(5), seed.bytes);
  ok(m.bytes !== seed.bytes, "a copy, never the seed itself");
});
