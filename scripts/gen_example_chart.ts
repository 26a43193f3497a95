/**
 * Regenerates docs/example_policies.svg, the README's chart: the policy comparison of a replay of
 * examples/sva_two_iommus.dat, rendered headless by vega.
 *
 *   deno run -A scripts/gen_example_chart.ts
 */
import { replayTrace } from "../cli/pipeline.ts";
import { writeReport } from "../cli/report_cmd.ts";

const root = new URL("../", import.meta.url).pathname;
const out = await Deno.makeTempDir({ prefix: "ir-example-" });
try {
  await replayTrace(`${root}examples/sva_two_iommus.dat`, { outDir: `${out}/replay` });
  await writeReport(`${out}/replay`, `${out}/report.html`, { svgDir: `${out}/charts` });
  await Deno.mkdir(`${root}docs`, { recursive: true });
  await Deno.copyFile(`${out}/charts/policies_compared.svg`, `${root}docs/example_policies.svg`);
  console.log("docs/example_policies.svg written");
} finally {
  await Deno.remove(out, { recursive: true });
}
