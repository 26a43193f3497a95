import { deepStrictEqual } from "node:assert/strict";
import { memorySource } from "../file_source.ts";
import { textLines } from "./text_lines.ts";

const src = (s: string) => memorySource(new TextEncoder().encode(s), "t.txt");

Deno.test("textLines: lines across chunk borders, CRLF, offsets, last line without newline", () => {
  const lines = [...textLines(src("ab\r\ncdef\n\nxyz"), 100, 3)];
  deepStrictEqual(lines.map((l) => [l.text, l.number, l.offset, l.overlong]), [
    ["ab", 1, 0, false],
    ["cdef", 2, 4, false],
    ["", 3, 9, false],
    ["xyz", 4, 10, false],
  ]);
});

Deno.test("textLines: overlong lines are cut and flagged", () => {
  const lines = [...textLines(src("0123456789\nab\n" + "z".repeat(30)), 4, 3)];
  deepStrictEqual(lines.map((l) => [l.text, l.overlong]), [
    ["0123", true],
    ["ab", false],
    ["zzzz", true],
  ]);
});

Deno.test("textLines: UTF-8 split across chunks", () => {
  const lines = [...textLines(src("héllo\nwörld\n"), 100, 2)];
  deepStrictEqual(lines.map((l) => l.text), ["héllo", "wörld"]);
});
