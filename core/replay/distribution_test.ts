import assert from "node:assert/strict";
import { Distribution } from "./distribution.ts";
import { ExactSum } from "./exact_sum.ts";

Deno.test("Distribution: nearest-rank quantiles on exact values", () => {
  const d = new Distribution();
  for (let i = 0; i < 90; i++) d.add(500);
  for (let i = 0; i < 9; i++) d.add(2000);
  d.add(9000);
  const s = d.summary();
  assert.deepEqual(s, {
    count: 100,
    mean: (90 * 500 + 9 * 2000 + 9000) / 100,
    p50: 500,
    p90: 500,
    p99: 2000,
    max: 9000,
  });
  assert.equal(d.approximate, false);
});

Deno.test("Distribution: switches to buckets within 1% and keeps max exact", () => {
  const d = new Distribution(16);
  for (let i = 1; i <= 1000; i++) d.add(i * 10);
  assert.equal(d.approximate, true);
  assert.equal(d.max, 10000);
  assert.ok(Math.abs(d.quantile(0.5) - 5000) / 5000 < 0.01, `p50 ${d.quantile(0.5)}`);
  assert.ok(Math.abs(d.quantile(0.99) - 9900) / 9900 < 0.01, `p99 ${d.quantile(0.99)}`);
});

Deno.test("Distribution: empty and zeros", () => {
  const d = new Distribution(1);
  assert.equal(d.quantile(0.5), 0);
  d.add(0);
  d.add(0);
  d.add(4);
  assert.equal(d.quantile(0.5), 0);
  assert.ok(Math.abs(d.quantile(1) - 4) < 0.05);
});

Deno.test("ExactSum: beyond 2^53", () => {
  const s = new ExactSum();
  for (let i = 0; i < 5; i++) s.add(2 ** 52);
  s.add(7);
  assert.equal(s.value(), 5n * 2n ** 52n + 7n);
});
