import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { parseTextTimestamp } from "./timestamp.ts";

Deno.test("timestamps: µs, ns, raw counts, rejects", () => {
  assertEquals(parseTextTimestamp("383.902511"), { ts: 383902511000n, isNs: true, digits: 6 });
  assertEquals(parseTextTimestamp("250.672887703"), { ts: 250672887703n, isNs: true, digits: 9 });
  assertEquals(parseTextTimestamp("12345678.5"), { ts: 12345678500000000n, isNs: true, digits: 1 });
  assertEquals(parseTextTimestamp("3126"), { ts: 3126n, isNs: false, digits: 0 });
  assertEquals(parseTextTimestamp("1795265353965432905")?.ts, 1795265353965432905n);
  for (const bad of ["", ".5", "1.", "1.2.3", "1.0000000001", "a1", "-1", "99999999999999999999"]) {
    assertEquals(parseTextTimestamp(bad), null, bad);
  }
});
