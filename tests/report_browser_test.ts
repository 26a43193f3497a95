/// <reference lib="dom" />
/**
 * Opens a generated HTML report in Debian's headless chromium and checks that every chart
 * rendered, nothing was fetched from the network and no console error was printed. Saves a
 * screenshot under tests/tmp/. Fails (never skips) when chromium is missing.
 */
import assert from "node:assert/strict";
import { launchChromium, watchPage } from "./browser.ts";
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { buildReport } from "../analysis/report.ts";
import { standardReport } from "../analysis/standard_report.ts";
import { loadSynthetic } from "../analysis/testdata/synthetic.ts";

const TMP = new URL("./tmp/", import.meta.url);

Deno.test({
  name: "report renders every chart in headless chromium, offline, without console errors",
  // playwright keeps child-process pipes and timers it cleans up asynchronously.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const e = await openDuckDBWasm();
    let html: string;
    let charts: number;
    try {
      await loadSynthetic(e);
      const input = await standardReport(e, {
        title: `Synthetic report </script><script>alert("x")</script> \u0007`,
        notes: [`A note with <b>markup</b> & "quotes" and a bell \u0007.`],
      });
      charts = input.charts.length;
      assert.equal(charts, 5);
      html = buildReport(input);
    } finally {
      await e.close();
    }
    await Deno.mkdir(TMP, { recursive: true });
    const file = new URL("report.html", TMP);
    await Deno.writeTextFile(file, html);

    const browser = await launchChromium("report browser test");
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const { problems, requests } = watchPage(page);
      await page.goto(file.href, { waitUntil: "load" });
      await page.waitForFunction(
        (n) => document.querySelectorAll(".chart[data-rendered], .chart[data-error]").length === n,
        charts,
        { timeout: 30_000 },
      );
      const state = await page.evaluate(() =>
        [...document.querySelectorAll(".chart")].map((el) => ({
          rendered: el.getAttribute("data-rendered"),
          error: el.getAttribute("data-error"),
          svgs: el.querySelectorAll("svg.marks").length,
          marks: el.querySelectorAll("svg.marks path, svg.marks text").length,
          text: el.textContent?.slice(0, 200) ?? "",
        }))
      );
      assert.equal(state.length, 5);
      state.forEach((s, i) => {
        assert.equal(s.error, null, `chart ${i} failed: ${s.text}`);
        assert.equal(s.rendered, "true", `chart ${i}`);
        assert.equal(s.svgs, 1, `chart ${i} has an svg`);
        assert.ok(s.marks > 5, `chart ${i} has marks`);
      });
      // The escaped title is text, not markup; no injected script ran.
      const title = await page.title();
      assert.equal(title, `Synthetic report </script><script>alert("x")</script> \u2407`);
      assert.equal(await page.locator(".notes b").count(), 0);
      assert.equal(await page.locator("table").count(), 4);
      // Legend interaction works (clicking a legend entry re-renders without errors).
      await page.locator("#chart-1 .role-legend-symbol path").first().click();
      await page.screenshot({ path: new URL("report.png", TMP).pathname, fullPage: true });
      assert.deepEqual(requests, []);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  },
});
