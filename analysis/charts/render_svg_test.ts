import assert from "node:assert/strict";
import { renderSVG } from "./render_svg.ts";

Deno.test("renderSVG is deterministic", async () => {
  const spec = {
    data: { values: [{ a: "x", b: 1 }, { a: "y", b: 3 }] },
    mark: "bar" as const,
    encoding: {
      x: { field: "a", type: "nominal" as const },
      y: { field: "b", type: "quantitative" as const },
    },
  };
  const a = await renderSVG(spec);
  const b = await renderSVG(spec);
  assert.equal(a, b);
  assert.match(a, /^<svg [^>]*width="\d+"/);
  // Two bars, one per row.
  assert.equal(a.match(/<path aria-label="a: [xy]; b: [13]"/g)?.length, 2);
});

Deno.test("renderSVG runs expressions without code generation and fetches nothing", async () => {
  const svg = await renderSVG({
    data: { values: [{ a: 2 }] },
    transform: [{ calculate: "datum.a * 21", as: "b" }],
    mark: "text",
    encoding: { text: { field: "b", type: "quantitative" } },
  });
  assert.match(svg, />42</);
  await assert.rejects(
    () =>
      renderSVG({
        data: { url: "https://example.invalid/x.json" },
        mark: "point",
        encoding: { x: { field: "a", type: "quantitative" } },
      }),
    /charts load no external data/,
  );
});

Deno.test("data text is escaped in the SVG", async () => {
  const svg = await renderSVG({
    data: { values: [{ a: '<script>&"x"', b: 1 }] },
    mark: "bar",
    encoding: {
      x: { field: "a", type: "nominal" },
      y: { field: "b", type: "quantitative" },
    },
  });
  assert.ok(!svg.includes("<script>"));
  assert.ok(svg.includes("&lt;script&gt;&amp;"));
});

Deno.test("renderSVG hands vega-lite's warnings to onWarning instead of printing them", async () => {
  // Two layers sharing a y scale whose `sort: "x"` resolves differently (stacked bar vs text).
  const spec = {
    data: { values: [{ a: "x", b: 1 }, { a: "y", b: 3 }] },
    encoding: {
      y: { field: "a", type: "nominal" as const, sort: "x" as const },
      x: { field: "b", type: "quantitative" as const },
    },
    layer: [
      { mark: "bar" as const },
      { mark: "text" as const, encoding: { text: { field: "b", type: "quantitative" as const } } },
    ],
  };
  const warnings: string[] = [];
  const svg = await renderSVG(spec, { onWarning: (m) => warnings.push(m) });
  assert.match(svg, /^<svg /);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /conflicting sort properties/);
});
