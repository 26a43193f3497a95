import assert from "node:assert/strict";
import { UsageError } from "../../core/errors.ts";
import { assertGolden, RESULTS } from "../testdata/golden.ts";
import { cumulativeTimeChart } from "./cumulative_time.ts";
import { iommuDeviceHeatmap } from "./iommu_device_heatmap.ts";
import { latencyDistributionChart } from "./latency_distribution.ts";
import { overInvalidationHistogram } from "./over_invalidation_histogram.ts";
import { policyComparisonChart } from "./policy_comparison.ts";
import { renderSVG } from "./render_svg.ts";

Deno.test("policy comparison chart", async () => {
  const spec = policyComparisonChart(RESULTS.policy_comparison);
  const svg = await renderSVG(spec);
  // Bars for both policies, the ratio labels, and the values they encode.
  assert.match(svg, /aria-label="modeled time \(ns\): 4\.5k; policy: per-iommu/);
  assert.match(svg, /aria-label="modeled time \(ns\): 6\.5k; policy: per-device/);
  assert.match(svg, />×1\.44</);
  assert.match(svg, />×1</);
  // Cheapest first.
  assert.match(
    svg,
    /aria-label="Y-axis for a discrete scale with 2 values: per-iommu, per-device"/,
  );
  await assertGolden("policy_comparison.svg", svg);
});

Deno.test("cumulative modeled time chart", async () => {
  const svg = await renderSVG(cumulativeTimeChart(RESULTS.invalidations_over_time));
  // One line per policy, a point per bucket carrying its cumulative value.
  assert.equal(svg.match(/aria-roledescription="line mark container"/g)?.length, 2);
  assert.match(svg, /policy: per-device; t \(ns\): 9,999; cumulative ns: 6,500"/);
  assert.match(svg, /policy: per-iommu; t \(ns\): 909; cumulative ns: 3,000"/);
  assert.match(svg, /time since first request \(ns\)/);
  assert.match(svg, />per-device</);
  await assertGolden("cumulative_time.svg", svg);
});

Deno.test("request latency distribution chart", async () => {
  const spec = latencyDistributionChart(RESULTS.request_latency_histogram);
  const svg = await renderSVG(spec);
  for (const label of ["≥ 512 ns", "≥ 1.02 µs", "≥ 2.05 µs"]) {
    assert.ok(svg.includes(`>${label}<`), label);
  }
  await assertGolden("latency_distribution.svg", svg);
});

Deno.test("per-IOMMU/device heatmap", async () => {
  const svg = await renderSVG(iommuDeviceHeatmap(RESULTS.per_iommu_device));
  assert.ok(svg.includes(">dmar0 · (none)<"));
  assert.ok(svg.includes(">dmar1 · 0000:80:01.0<"));
  // 8 cells, each labelled with its command count.
  assert.equal(svg.match(/<path aria-label="policy: /g)?.length, 8);
  assert.match(svg, /policy: per-device; IOMMU · device: dmar0 · 0000:00:01.0; commands: 3;/);
  // The darkest cell's label is white, a light cell's black.
  assert.match(svg, /commands: 3; [^"]*" [^>]*fill="white">3<\/text>/);
  assert.match(
    svg,
    /policy: per-iommu; IOMMU · device: dmar1 · \(none\); commands: 1; [^"]*" [^>]*fill="black">1<\/text>/,
  );
  await assertGolden("iommu_device_heatmap.svg", svg);
});

Deno.test("over-invalidation histogram", async () => {
  const svg = await renderSVG(overInvalidationHistogram(RESULTS.over_invalidation_histogram));
  for (const b of ["exact", "1-2x", "2-4x", "full"]) assert.ok(svg.includes(`>${b}<`), b);
  await assertGolden("over_invalidation_histogram.svg", svg);
});

Deno.test("no chart makes vega-lite or vega warn", async () => {
  const charts = [
    policyComparisonChart(RESULTS.policy_comparison),
    cumulativeTimeChart(RESULTS.invalidations_over_time),
    latencyDistributionChart(RESULTS.request_latency_histogram),
    iommuDeviceHeatmap(RESULTS.per_iommu_device),
    overInvalidationHistogram(RESULTS.over_invalidation_histogram),
  ];
  for (const spec of charts) {
    const warnings: string[] = [];
    await renderSVG(spec, { onWarning: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [], String(spec.title));
  }
});

Deno.test("chart builders name the missing columns", () => {
  assert.throws(
    () => policyComparisonChart({ columns: ["policy"], rows: [] }),
    (e: unknown) => e instanceof UsageError && /modeled_ns, ratio_to_baseline/.test(e.message),
  );
});
