import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { memorySource } from "../file_source.ts";
import { LineReader, type LineReaderOptions } from "./line_reader.ts";

function readAll(text: string | Uint8Array, opts: LineReaderOptions = {}) {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  const r = new LineReader(memorySource(bytes, "mem"), opts);
  const lines: [number, number, string][] = [];
  while (r.next()) lines.push([r.lineNo, r.offset, r.text]);
  return { lines, overlong: r.overlong, overlongLines: r.overlongLines };
}

Deno.test("line reader: lines, numbers and byte offsets across tiny chunks", () => {
  const text = "ab\ncde\n\nf\r\ngh";
  const want: [number, number, string][] = [[1, 0, "ab"], [2, 3, "cde"], [3, 7, ""], [4, 8, "f"], [
    5,
    11,
    "gh",
  ]];
  for (const chunkBytes of [16, 17, 1 << 20]) {
    assertEquals(readAll(text, { chunkBytes }).lines, want);
  }
  // Chunk smaller than a line: lines are carried over chunk boundaries.
  const long = "0123456789abcdefghij\nxyz\n";
  assertEquals(readAll(long, { chunkBytes: 16 }).lines, [[1, 0, "0123456789abcdefghij"], [
    2,
    21,
    "xyz",
  ]]);
});

Deno.test("line reader: UTF-8 lines keep exact byte offsets", () => {
  const text = "Web Cöntent-1\nnext\n€uro\nz";
  const r = readAll(text, { chunkBytes: 16 });
  assertEquals(r.lines, [[1, 0, "Web Cöntent-1"], [2, 15, "next"], [3, 20, "€uro"], [4, 27, "z"]]);
});

Deno.test("line reader: empty input and a file of one newline", () => {
  assertEquals(readAll("").lines, []);
  assertEquals(readAll("\n").lines, [[1, 0, ""]]);
});

Deno.test("line reader: overlong lines are skipped and counted, never kept", () => {
  const big = "x".repeat(100);
  const text = `a\n${big}\nb\n${big}${big}\nc\n${big}`;
  for (const chunkBytes of [16, 40, 1 << 20]) {
    const r = readAll(text, { chunkBytes, maxLineBytes: 50 });
    assertEquals(
      r.lines.map((l) => [l[0], l[2]]),
      [[1, "a"], [3, "b"], [5, "c"]],
      `chunk ${chunkBytes}`,
    );
    assertEquals(r.overlong, 3);
    assertEquals(r.overlongLines, [2, 4, 6]);
  }
});

Deno.test("line reader: a 5 MB line without a newline stays within the cap", () => {
  const bytes = new Uint8Array(5 << 20).fill(0x41);
  const r = readAll(bytes, { chunkBytes: 1 << 16, maxLineBytes: 1 << 12 });
  assertEquals(r.lines, []);
  assertEquals(r.overlong, 1);
});
