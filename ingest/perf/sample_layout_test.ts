import { equal } from "node:assert/strict";
import { rawOffset, sampleLayout } from "./sample_layout.ts";
import { READ_FORMAT, SAMPLE } from "./perf_constants.ts";

Deno.test("sampleLayout: perf record without -a (ID instead of IDENTIFIER)", () => {
  // IP|TID|TIME|ID|CPU|PERIOD|RAW
  const st = SAMPLE.IP | SAMPLE.TID | SAMPLE.TIME | SAMPLE.ID | SAMPLE.CPU | SAMPLE.PERIOD |
    SAMPLE.RAW;
  const l = sampleLayout(st, 0, true);
  equal(l.tid, 16);
  equal(l.time, 24);
  equal(l.id, 32);
  equal(l.cpu, 40);
  equal(l.fixedEnd, 56);
  // trailer: TID, TIME, ID, CPU from the end
  equal(l.trailerSize, 32);
  equal(l.trailerTid, 32);
  equal(l.trailerTime, 24);
  equal(l.trailerId, 16);
  equal(l.trailerCpu, 8);
});

Deno.test("rawOffset: skips READ (group with ids) and CALLCHAIN", () => {
  const st = SAMPLE.TIME | SAMPLE.READ | SAMPLE.CALLCHAIN | SAMPLE.RAW;
  const rf = READ_FORMAT.GROUP | READ_FORMAT.ID | READ_FORMAT.TOTAL_TIME_ENABLED;
  const l = sampleLayout(st, rf, false);
  // header 8, time 8, read: nr 8 + enabled 8 + 2 * (value 8 + id 8), callchain: nr 8 + 3 * 8
  const b = new Uint8Array(8 + 8 + 16 + 32 + 8 + 24 + 4 + 8);
  const v = new DataView(b.buffer);
  v.setBigUint64(16, 2n, true);
  v.setBigUint64(64, 3n, true);
  equal(rawOffset(l, v, 0, b.length, true), 96);
  // a group count that cannot fit gives -1
  v.setBigUint64(16, 1000n, true);
  equal(rawOffset(l, v, 0, b.length, true), -1);
  // so does a record too short for the fixed part
  equal(rawOffset(sampleLayout(SAMPLE.IP | SAMPLE.RAW, 0, false), v, 0, 12, true), -1);
});
