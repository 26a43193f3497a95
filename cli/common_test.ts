import assert from "node:assert/strict";
import { Progress, type ProgressTerminal, type ProgressView, renderProgress } from "./common.ts";

const view = (v: Partial<ProgressView>): ProgressView => ({
  label: "replay",
  stage: "normalize",
  done: 500_000,
  total: 2_000_000,
  unit: "events",
  elapsedMs: 1000,
  columns: 100,
  ...v,
});

Deno.test("renderProgress: bar, percentage, counts, rate and time left when the total is known", () => {
  const line = renderProgress(view({}));
  assert.equal(
    line,
    "replay: normalize [=====>                ]  25%  500k/2M events  500k events/s  ETA 0:03",
  );
  assert.ok(line.length <= 99);
  // the bar keeps its width as the numbers grow
  const wide = renderProgress(view({ done: 1_234_567, total: 9_876_543, elapsedMs: 3_723_000 }));
  assert.equal(wide.indexOf("]"), line.indexOf("]"), wide);
  assert.ok(
    renderProgress(view({ columns: 200 })).includes(`[${"=".repeat(7)}>${" ".repeat(22)}]`),
  );
  // the bar fills up; past the total it stays full with nothing left
  assert.match(renderProgress(view({ done: 2_000_000 })), /\[=+\] 100% .* ETA 0:00$/);
  assert.match(renderProgress(view({ done: 2_500_000 })), /\[=+\] 100% /);
  // a long stage: hours in the ETA
  assert.match(renderProgress(view({ done: 1000, elapsedMs: 1000 })), /ETA 33:19$/);
  assert.match(
    renderProgress(view({ done: 10, total: 1e9, elapsedMs: 1000 })),
    /ETA 27777:46:39$/,
  );
});

Deno.test("renderProgress: without a total, the count, rate and elapsed time", () => {
  assert.equal(
    renderProgress(view({ stage: "reading", total: null, done: 1_234_567, elapsedMs: 2500 })),
    "replay: reading  1,234,567 events  494k events/s  0:02",
  );
  // no rate before there is time to measure it, no ETA without one
  assert.equal(
    renderProgress(view({ done: 0, elapsedMs: 0 })),
    "replay: normalize [>                     ]   0%  0/2M events  ETA -:--",
  );
  // a stage without a count
  assert.equal(
    renderProgress(view({ stage: "charts and report.html", done: null, elapsedMs: 61_000 })),
    "replay: charts and report.html  1:01",
  );
});

Deno.test("renderProgress: fits a narrow terminal (no bar, then cut)", () => {
  const mid = renderProgress(view({ columns: 70 }));
  assert.ok(!mid.includes("["), mid);
  assert.ok(mid.startsWith("replay: normalize  25% "), mid);
  assert.ok(mid.length <= 69);
  const narrow = renderProgress(view({ columns: 20 }));
  assert.equal(narrow, "replay: normalize  ");
  assert.equal(renderProgress(view({ columns: 0 })), "");
});

function fakeTerminal() {
  const out: string[] = [];
  let t = 1000;
  const term: ProgressTerminal = {
    write: (s) => void out.push(s),
    columns: () => 80,
    now: () => t,
  };
  return { out, term, advance: (ms: number) => (t += ms) };
}

Deno.test("Progress redraws by time, not by count, and clears its line", () => {
  const { out, term, advance } = fakeTerminal();
  const p = new Progress("ingest", false, term);
  for (let i = 1; i <= 1000; i++) p.count("reading", i * 65536);
  assert.equal(out.length, 1, "one draw for many counts at once");
  assert.ok(out[0]!.startsWith("\r\x1b[Kingest: reading  65,536 events"), out[0]);
  advance(50);
  p.count("reading", 70_000_000);
  assert.equal(out.length, 1, "not again within 100 ms");
  advance(60);
  p.count("reading", 80_000_000);
  assert.equal(out.length, 2);
  assert.ok(out[1]!.includes("80,000,000 events  727M events/s"), out[1]);
  // a stage without a count is drawn at once
  p.update("writing report.html");
  assert.equal(out.length, 3);
  assert.ok(out[2]!.endsWith("ingest: writing report.html  0:00"), out[2]);
  p.done();
  assert.equal(out[3], "\r\x1b[K");
  p.done();
  assert.equal(out.length, 4, "cleared once");
});

Deno.test("Progress is silent when quiet, and clears nothing it did not draw", () => {
  const { out, term } = fakeTerminal();
  const q = new Progress("replay", true, term);
  q.count("normalize", 1, 2);
  q.update("x");
  q.done();
  assert.deepEqual(out, []);
  new Progress("replay", false, term).done();
  assert.deepEqual(out, []);
});
