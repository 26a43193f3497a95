import assert from "node:assert/strict";
import {
  cellText,
  chart,
  dataRows,
  markdown,
  REPO_ROOT,
  repoPath,
  SETTLE_MS,
  showWith,
  table,
  transposeRow,
  VEGA_LITE_MIME,
} from "./display.ts";

Deno.test("cellText: exact integers, rounded fractions, null, JSON for nested values", () => {
  assert.equal(cellText(18446744073709551615n), "18446744073709551615");
  assert.equal(cellText(-3n), "-3");
  assert.equal(cellText(4122400), "4122400");
  assert.equal(cellText(0.5077123), "0.5077");
  assert.equal(cellText(3.69949), "3.699");
  assert.equal(cellText(2798.0763), "2798.076");
  assert.equal(cellText(Number.NaN), "NaN");
  assert.equal(cellText(null), "null");
  assert.equal(cellText(undefined), "null");
  assert.equal(cellText(true), "true");
  assert.equal(cellText("a  b"), "a  b");
  assert.equal(cellText({ n: 1n, l: [2, "x"] }), '{"n":"1","l":[2,"x"]}');
  assert.equal(cellText(new Date(0)), "1970-01-01T00:00:00.000Z");
});

Deno.test("table: aligned plain text, numbers right-aligned, nulls counted as numeric", () => {
  const b = table({
    columns: ["policy", "submissions", "ratio"],
    rows: [["intel-per-device", 13506n, 1], ["ideal", 4123n, null]],
  }, { title: "T" });
  assert.equal(
    b["text/plain"],
    [
      "T",
      "policy            submissions  ratio",
      "----------------  -----------  -----",
      "intel-per-device        13506      1",
      "ideal                    4123   null",
    ].join("\n"),
  );
  const html = String(b["text/html"]);
  assert.ok(html.includes("<p><b>T</b></p>"));
  assert.ok(html.includes('<th style="text-align:right">submissions</th>'));
  assert.ok(html.includes('<tr><td>ideal</td><td style="text-align:right">4123</td>'));
  assert.equal(html.match(/<tr>/g)?.length, 3);
});

Deno.test("table: escapes HTML in titles, headers and cells", () => {
  const b = table({ columns: ["c<1>"], rows: [[`<script>alert("x")</script>&'`]] }, {
    title: "<b>",
  });
  const html = String(b["text/html"]);
  assert.ok(!html.includes("<script>"));
  assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
  assert.ok(html.includes("<th>c&lt;1&gt;</th>"));
  assert.ok(html.includes("<p><b>&lt;b&gt;</b></p>"));
});

Deno.test("table: maxRows cuts the rows and says how many are left out", () => {
  const rows = Array.from({ length: 7 }, (_, i) => [i]);
  const b = table({ columns: ["i"], rows }, { maxRows: 5 });
  assert.equal(b["text/plain"], "i\n-\n0\n1\n2\n3\n4\n(2 more rows not shown)");
  assert.equal(String(b["text/html"]).match(/<tr>/g)?.length, 6);
  assert.ok(String(b["text/html"]).includes("<p><i>(2 more rows not shown)</i></p>"));
  const one = table({ columns: ["i"], rows: rows.slice(0, 2) }, { maxRows: 1 });
  assert.ok(String(one["text/plain"]).endsWith("(1 more row not shown)"));
  const empty = table({ columns: ["a", "b"], rows: [] });
  assert.equal(empty["text/plain"], "a  b\n-  -");
});

Deno.test("transposeRow: one field per line; a missing row is a RangeError", () => {
  const r = { columns: ["format", "cpus", "kernel"], rows: [["tracedat", 4, null]] };
  assert.deepEqual(transposeRow(r), {
    columns: ["field", "value"],
    rows: [["format", "tracedat"], ["cpus", 4], ["kernel", null]],
  });
  assert.throws(() => transposeRow(r, 1), RangeError);
});

Deno.test("dataRows: bigints become numbers, nested values JSON, nulls stay", () => {
  assert.deepEqual(
    dataRows({ columns: ["p", "n", "x", "l"], rows: [["ideal", 4123n, null, [1n]]] }),
    [{ p: "ideal", n: 4123, x: null, l: '["1"]' }],
  );
});

Deno.test("chart: Vega-Lite spec, its SVG and the title as text", async () => {
  const spec = {
    title: "Two bars",
    data: { values: [{ a: "x", b: 1 }, { a: "y", b: 2 }] },
    mark: "bar" as const,
    encoding: {
      x: { field: "a", type: "nominal" as const },
      y: { field: "b", type: "quantitative" as const },
    },
  };
  const b = await chart(spec);
  assert.deepEqual(Object.keys(b).sort(), ["image/svg+xml", "text/plain", VEGA_LITE_MIME].sort());
  assert.equal(b[VEGA_LITE_MIME], spec);
  assert.equal(b["text/plain"], "[chart: Two bars]");
  const svg = String(b["image/svg+xml"]);
  assert.ok(svg.startsWith("<svg"));
  assert.deepEqual(
    svg.match(/aria-label="a: [xy]; b: \d" role="graphics-symbol" aria-roledescription="bar"/g)
      ?.length,
    2,
  );
  const untitled = await chart({ ...spec, title: { text: "Object title" } });
  assert.equal(untitled["text/plain"], "[chart: Object title]");
});

Deno.test("chart: a spec that fetches data is refused", async () => {
  await assert.rejects(() =>
    chart({
      data: { url: "https://example.com/x.json" },
      mark: "bar",
      encoding: { x: { field: "a", type: "nominal" } },
    })
  );
});

Deno.test("markdown: Markdown with a plain-text twin", () => {
  assert.deepEqual(markdown("# T"), { "text/markdown": "# T", "text/plain": "# T" });
});

Deno.test("showWith: displays in order, awaiting promised bundles, then pauses", async () => {
  const seen: unknown[] = [];
  const late = new Promise<Record<string, unknown>>((r) =>
    setTimeout(() => r(markdown("second")), 5)
  );
  const t0 = performance.now();
  await showWith((b) => void seen.push(b["text/plain"]), [markdown("first"), late, markdown("3")]);
  const elapsed = performance.now() - t0;
  assert.deepEqual(seen, ["first", "second", "3"]);
  assert.ok(elapsed >= SETTLE_MS, `paused ${elapsed} ms, expected >= ${SETTLE_MS}`);
});

Deno.test("repoPath: relative to the repository root, absolute kept", () => {
  assert.ok(REPO_ROOT.endsWith("/"));
  assert.ok(Deno.statSync(`${REPO_ROOT}mod.ts`).isFile);
  assert.equal(repoPath("examples/x.dat"), `${REPO_ROOT}examples/x.dat`);
  assert.equal(repoPath("./a/../b.dat"), `${REPO_ROOT}b.dat`);
  assert.equal(repoPath("/abs/t.dat"), "/abs/t.dat");
});
