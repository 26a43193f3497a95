import assert from "node:assert/strict";
import { buildReport, escapeHTML, scriptJSON } from "./report.ts";

const NASTY =
  `</script><script>alert("x")</script> 'q' & "dq" \u0000\u0007\u001b\u007f\u0085 \ud800 end`;

Deno.test("escapeHTML escapes markup, quotes and control characters", () => {
  assert.equal(
    escapeHTML(NASTY),
    "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39;q&#39; &amp; &quot;dq&quot; " +
      "\u2400\u2407\u241b\u2421\\u0085 \ufffd end",
  );
  // Tabs, newlines and valid surrogate pairs pass through.
  assert.equal(escapeHTML("a\tb\nc 😀"), "a\tb\nc 😀");
});

Deno.test("scriptJSON cannot close its script element", () => {
  const j = scriptJSON({ s: NASTY, n: 2n ** 70n, m: 5n, line: "\u2028" });
  assert.ok(!j.includes("<") && !j.includes(">") && !j.includes("&"));
  assert.deepEqual(JSON.parse(j), { s: NASTY, n: "1180591620717411303424", m: 5, line: "\u2028" });
});

function outsideScripts(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, "<script></script>");
}

Deno.test("buildReport: one offline page, every string escaped", () => {
  const html = buildReport({
    title: `Report ${NASTY}`,
    notes: [`note ${NASTY}`],
    summaryTables: [{
      title: `table ${NASTY}`,
      doc: `doc ${NASTY}`,
      columns: ["name", `col ${NASTY}`, "n", "x", "list", "flag"],
      rows: [
        [NASTY, null, 18446744073709551615n, 0.1 + 0.2, [1n, "a"], true],
        ["b", "c", 1, 2, { k: 3n }, false],
      ],
    }],
    charts: [{
      title: `chart ${NASTY}`,
      doc: "d",
      spec: {
        data: { values: [{ a: NASTY, b: 1 }] },
        mark: "bar",
        encoding: {
          x: { field: "a", type: "nominal" },
          y: { field: "b", type: "quantitative" },
        },
      },
    }],
  });
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  // The only script elements are ours: specs JSON, three libraries, the boot script.
  assert.equal(html.match(/<script\b/gi)!.length, 5);
  assert.equal(html.match(/<\/script>/gi)!.length, 5);
  const outside = outsideScripts(html);
  assert.ok(!outside.includes(NASTY));
  assert.ok(!/<script>alert/.test(outside));
  // Nothing is loaded from anywhere: no src/href attributes, a CSP that forbids it.
  assert.ok(!/\b(src|href)\s*=/.test(outside));
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline';/,
  );
  assert.ok(!/unsafe-eval/.test(html.slice(0, 2000)));
  assert.match(outside, /<title>Report &lt;\/script&gt;/);
  assert.match(outside, /<td class="num">18446744073709551615<\/td>/);
  assert.match(outside, /<td class="num">0\.3<\/td>/);
  assert.match(outside, /<td class="null">NULL<\/td>/);
  assert.match(outside, /<td class="json">\[&quot;1&quot;,&quot;a&quot;\]<\/td>/);
  assert.match(outside, /<div class="chart" id="chart-0" data-chart="0"><\/div>/);
  // The spec survives the trip through the JSON block.
  const specs = JSON.parse(
    /<script type="application\/json" id="chart-specs">([^<]*)<\/script>/.exec(html)![1]!,
  );
  assert.equal(specs[0].data.values[0].a, NASTY);
  // The three UMD bundles are inlined whole and define their globals.
  assert.ok(html.includes("self).vega={}"));
  assert.ok(html.includes("self).vegaLite={}"));
  assert.ok(html.includes("self).vegaEmbed=t("));
  assert.ok(html.length > 800_000);
});

Deno.test("buildReport caps long tables and says so", () => {
  const rows = Array.from({ length: 12 }, (_, i) => [i]);
  const html = buildReport({
    title: "t",
    summaryTables: [{ title: "x", columns: ["i"], rows }],
    charts: [],
    maxRows: 10,
  });
  assert.equal(outsideScripts(html).match(/<tr><td class="num">/g)!.length, 10);
  assert.match(html, /2 more rows not shown \(12 in all\)/);
  const empty = buildReport({
    title: "t",
    summaryTables: [{ title: "x", columns: ["i"], rows: [] }],
    charts: [],
  });
  assert.match(empty, /No rows\./);
});
