/// <reference lib="dom" />
/**
 * Hostile text from a trace, end to end: a trace.dat (written by synth/) whose device names, comm
 * and file name hold markup, quotes and control characters goes through the real replay pipeline
 * with an output directory and the report writer `replay --out` uses; the report.html it produces
 * is opened in Debian's headless chromium. No script from the trace may run (no dialog, no console
 * error, no injected element), every chart must render, and the hostile strings must show as text.
 * Fails (never skips) when chromium is missing.
 */
import assert from "node:assert/strict";
import { launchChromium, watchPage } from "./browser.ts";
import type { TraceEvent } from "../core/event.ts";
import { replayTrace } from "../cli/pipeline.ts";
import { writeReport } from "../cli/report_cmd.ts";
import { knownFormats } from "../ingest/known_formats/known_formats.ts";
import { TWO_IOMMU_DEVICES, twoIommus612 } from "../synth/scenarios/vtd_sva.ts";
import { writeTraceDat } from "../synth/tracedat_writer.ts";

/** The four devices' new names: markup, attribute breakers, a title breaker, quotes + controls. */
const HOSTILE_DEVICES = [
  "<script>alert(1)</script>",
  `"><img src=x onerror=alert(2)>`,
  "</title></script><script>alert(3)</script>",
  `'; alert(4); "\u0007\u001b[31m`,
];
/** The application's comm (saved cmdlines allow anything but a line break). */
const HOSTILE_COMM = `<script>alert(5)</script>'"\u0007`;
/** The trace's file name (the report's title names it). */
const HOSTILE_FILE = `"><svg onload=alert(6)>\u0007.dat`;

/** The two-IOMMU scenario with hostile device names and comm. */
function hostileEvents(): TraceEvent[] {
  const rename = new Map(TWO_IOMMU_DEVICES.map((d, i) => [d.name, HOSTILE_DEVICES[i]!]));
  return twoIommus612().events.map((e) => {
    const fields = { ...e.fields };
    const dev = fields.dev;
    if (typeof dev === "string" && rename.has(dev)) fields.dev = rename.get(dev)!;
    return { ...e, comm: e.pid === 0 ? e.comm : HOSTILE_COMM, fields };
  });
}

Deno.test({
  name: "hostile names in a trace stay text in the replay report (headless chromium)",
  // playwright keeps child-process pipes and timers it cleans up asynchronously.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "security-browser-" });
    const browser = await launchChromium("security browser test");
    try {
      const trace = `${tmp}/${HOSTILE_FILE}`;
      const events = hostileEvents();
      await Deno.writeFile(
        trace,
        writeTraceDat({
          version: 7,
          compression: "zstd",
          kernel: "6.12.0",
          cpus: 4,
          formats: knownFormats("6.12.0"),
          events,
        }),
      );
      // what `deno task replay <trace> --out DIR` runs
      const out = `${tmp}/out`;
      const r = await replayTrace(trace, { outDir: out, keepRows: false });
      assert.ok(r.counts.requests > 0, "the scenario replays requests");
      const devices = r.canonical.devices.map((d) => d.device);
      for (const d of HOSTILE_DEVICES) assert.ok(devices.includes(d), `device ${d} read back`);
      assert.ok(r.canonical.bindings.some((b) => b.comm === HOSTILE_COMM), "comm read back");
      await writeReport(out, `${out}/report.html`, {
        svgDir: `${out}/charts`,
        title: `iommu-replay: ${trace}`,
        notes: r.canonical.statements,
      });
      const html = await Deno.readTextFile(`${out}/report.html`);
      for (const s of [...HOSTILE_DEVICES, HOSTILE_COMM, HOSTILE_FILE]) {
        assert.ok(!html.includes(s), `raw ${JSON.stringify(s)} in the HTML`);
      }
      for (const f of Deno.readDirSync(`${out}/charts`)) {
        const svg = Deno.readTextFileSync(`${out}/charts/${f.name}`);
        assert.ok(!/<(script|img)\b/i.test(svg), `${f.name} holds markup from the trace`);
      }

      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const { problems, requests } = watchPage(page);
      await page.goto(new URL(`file://${out}/report.html`).href, { waitUntil: "load" });
      const charts = await page.locator(".chart").count();
      assert.equal(charts, 5, "the replay report has its five charts");
      await page.waitForFunction(
        (n) => document.querySelectorAll(".chart[data-rendered], .chart[data-error]").length === n,
        charts,
        { timeout: 30_000 },
      ).catch((e: Error) => {
        throw new Error(`the charts did not finish: ${problems.join("; ") || e.message}`);
      });
      const state = await page.evaluate(() => ({
        charts: [...document.querySelectorAll(".chart")].map((el) => ({
          rendered: el.getAttribute("data-rendered"),
          error: el.getAttribute("data-error"),
          svgs: el.querySelectorAll("svg.marks").length,
        })),
        injected: document.querySelectorAll("img, iframe, object, embed, [onerror], [onload]")
          .length,
        scripts: document.scripts.length,
        // the chart data block holds the names as JSON data; no script that runs names them
        codeNamingAlert: [...document.scripts].filter((s) =>
          s.type !== "application/json" && /alert\(\d\)/.test(s.text)
        ).length,
        // everything a user can read: text and the charts' accessible labels
        text: document.body.innerText + "\n" +
          [...document.querySelectorAll("[aria-label]")].map((e) =>
            e.getAttribute("aria-label")
          )
            .join("\n"),
      }));
      state.charts.forEach((c, i) => {
        assert.equal(c.error, null, `chart ${i} failed`);
        assert.equal(c.rendered, "true", `chart ${i} rendered`);
        assert.equal(c.svgs, 1, `chart ${i} has an svg`);
      });
      assert.equal(state.injected, 0, "no element from the trace's markup");
      assert.equal(state.scripts, 5, "the report's own scripts only (specs, vega x3, boot)");
      assert.equal(state.codeNamingAlert, 0, "no script element from the trace");
      // the markup shows as text (control characters may be shown as symbols)
      for (const d of HOSTILE_DEVICES.slice(0, 3)) {
        assert.ok(state.text.includes(d), `${JSON.stringify(d)} shown as text`);
      }
      assert.ok(state.text.includes(`'; alert(4); "`), "quotes shown as text");
      const title = await page.title();
      assert.ok(title.startsWith(`iommu-replay: ${tmp}/"><svg onload=alert(6)>`), title);
      assert.deepEqual(requests, []);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
