/**
 * Golden-file comparison for chart SVGs: `UPDATE_GOLDEN=1 deno test ...` rewrites the files.
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * Compares text with `analysis/testdata/<name>`, or rewrites it when UPDATE_GOLDEN=1.
 *
 * @param name file name inside analysis/testdata
 * @param actual produced text
 */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const url = new URL(`./${name}`, import.meta.url);
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.writeTextFile(url, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(url);
  } catch {
    throw new Error(`golden file ${name} is missing; run with UPDATE_GOLDEN=1 to create it`);
  }
  assert.equal(actual, expected, `${name} differs from the golden file`);
}

/** Results of the saved queries on the synthetic tables (as asserted in queries_test.ts). */
export const RESULTS = {
  policy_comparison: {
    columns: [
      "policy",
      "submissions",
      "descriptors",
      "pages_requested",
      "pages_invalidated",
      "over_invalidation",
      "modeled_ns",
      "ratio_to_baseline",
      "anomalies",
    ],
    rows: [
      ["per-iommu", 3n, 6n, 7n, 14n, 2, 4500, 1, 0n],
      ["per-device", 3n, 7n, 7n, 30n, 30 / 7, 6500, 6500 / 4500, 2n],
    ],
  },
  invalidations_over_time: {
    columns: [
      "policy",
      "t_ns",
      "requests",
      "submissions",
      "descriptors",
      "modeled_ns",
      "cumulative_ns",
    ],
    rows: [
      ["per-device", 0n, 1n, 1n, 4n, 3000, 3000],
      ["per-device", 909n, 1n, 1n, 1n, 1000, 4000],
      ["per-device", 9999n, 1n, 1n, 2n, 2500, 6500],
      ["per-iommu", 0n, 1n, 1n, 3n, 2000, 2000],
      ["per-iommu", 909n, 1n, 1n, 1n, 1000, 3000],
      ["per-iommu", 9999n, 1n, 1n, 2n, 1500, 4500],
    ],
  },
  request_latency_histogram: {
    columns: ["policy", "lo_ns", "requests"],
    rows: [
      ["per-device", 512n, 1n],
      ["per-device", 2048n, 2n],
      ["per-iommu", 512n, 1n],
      ["per-iommu", 1024n, 2n],
    ],
  },
  per_iommu_device: {
    columns: [
      "policy",
      "iommu",
      "device",
      "commands",
      "submissions",
      "requests",
      "pages",
      "full_flushes",
    ],
    rows: [
      ["per-device", "dmar0", "0000:00:01.0", 3n, 2n, 2n, 5n, 0n],
      ["per-device", "dmar0", "0000:00:02.0", 2n, 1n, 1n, 4n, 0n],
      ["per-device", "dmar1", "0000:80:01.0", 2n, 1n, 1n, 16n, 1n],
      ["per-iommu", "dmar0", "(none)", 2n, 2n, 2n, 3n, 0n],
      ["per-iommu", "dmar0", "0000:00:01.0", 1n, 1n, 1n, 2n, 0n],
      ["per-iommu", "dmar0", "0000:00:02.0", 1n, 1n, 1n, 2n, 0n],
      ["per-iommu", "dmar1", "(none)", 1n, 1n, 1n, 4n, 0n],
      ["per-iommu", "dmar1", "0000:80:01.0", 1n, 1n, 1n, 4n, 0n],
    ],
  },
  over_invalidation_histogram: {
    columns: ["policy", "bin_order", "bin", "targets"],
    rows: [
      ["per-device", 0, "exact", 3n],
      ["per-device", 1, "1-2x", 1n],
      ["per-device", 2, "2-4x", 1n],
      ["per-device", 6, "full", 1n],
      ["per-iommu", 0, "exact", 6n],
    ],
  },
};
