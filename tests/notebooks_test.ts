/**
 * The notebooks under notebooks/: every one is committed clean (no outputs, the `deno` kernel),
 * its code type-checks, and, run headless by `jupyter nbconvert --to notebook --execute` with a
 * kernel spec written into a temporary directory, every cell runs without error and shows what it
 * is tagged for: `chart` cells a Vega-Lite bundle with its SVG, `table` and `summary` cells an HTML
 * table. The summary tables are then checked against facts of the example traces.
 *
 * Executed copies go to a temporary directory, never into the repository. Without
 * jupyter-nbconvert the execution tests are reported as ignored with the reason; under CI
 * (IOMMU_REPLAY_CI=1) a missing jupyter-nbconvert is a failure.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BUILTIN_POLICY_NAMES } from "../mod.ts";
import { KERNEL_NAME, writeKernelSpec } from "../notebooks/kernel/install_kernel.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const NOTEBOOKS = `${ROOT}notebooks/`;
const ci = Deno.env.get("IOMMU_REPLAY_CI") === "1";
const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

interface Output {
  output_type: string;
  data?: Record<string, unknown>;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  id?: string;
  source: string | string[];
  metadata: { tags?: string[] };
  execution_count?: number | null;
  outputs?: Output[];
}
interface Notebook {
  cells: Cell[];
  metadata: { kernelspec?: { name?: string; language?: string } };
  nbformat: number;
}

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : s ?? "");
const codeCells = (nb: Notebook) => nb.cells.filter((c) => c.cell_type === "code");

/** The notebooks in the repository, and the ones that must be there. */
const REQUIRED = ["explore_trace.ipynb", "whatif_policies.ipynb"];
const found = [...Deno.readDirSync(NOTEBOOKS)]
  .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
  .map((e) => e.name)
  .sort();

function load(name: string): Notebook {
  return JSON.parse(Deno.readTextFileSync(`${NOTEBOOKS}${name}`));
}

Deno.test("notebooks: the required notebooks exist", () => {
  for (const n of REQUIRED) assert.ok(found.includes(n), `notebooks/${n} is missing`);
});

for (const name of found) {
  Deno.test(`notebooks: ${name} is committed clean, for the ${KERNEL_NAME} kernel`, () => {
    const nb = load(name);
    assert.equal(nb.nbformat, 4);
    assert.equal(nb.metadata.kernelspec?.name, KERNEL_NAME);
    assert.equal(nb.metadata.kernelspec?.language, "typescript");
    for (const c of codeCells(nb)) {
      assert.deepEqual(c.outputs, [], `cell ${c.id} has outputs`);
      assert.equal(c.execution_count, null, `cell ${c.id} has an execution count`);
    }
    assert.ok(codeCells(nb).some((c) => c.metadata.tags?.includes("summary")), "no summary cell");
  });

  Deno.test(`notebooks: ${name} names the tables each querying section reads`, () => {
    const cells = load(name).cells;
    cells.forEach((c, i) => {
      if (c.cell_type !== "code" || !/\.query\(/.test(text(c.source))) return;
      const prose = cells.slice(0, i).reverse().find((p) => p.cell_type === "markdown");
      assert.ok(
        prose && /Reads `/.test(text(prose.source)),
        `cell ${c.id} queries tables but the section before it does not say what it reads`,
      );
    });
  });

  Deno.test(`notebooks: ${name} type-checks (cells as one module)`, async () => {
    // The kernel runs cells without type checking; check them here. Relative imports are made
    // absolute so the module can live in a temporary file; deno.json gives imports and options.
    const dir = new URL(`file://${NOTEBOOKS}`);
    const src = codeCells(load(name)).map((c) => text(c.source)).join("\n\n")
      .replace(/from "(\.{1,2}\/[^"]+)"/g, (_m, p: string) => `from "${new URL(p, dir).href}"`);
    const tmp = await Deno.makeTempDir({ prefix: "nbcheck-" });
    try {
      await Deno.writeTextFile(`${tmp}/cells.ts`, `${src}\nexport {};\n`);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["check", "--quiet", "--config", `${ROOT}deno.json`, `${tmp}/cells.ts`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const td = new TextDecoder();
      assert.equal(r.code, 0, td.decode(r.stdout) + td.decode(r.stderr));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

function haveNbconvert(): boolean {
  try {
    return new Deno.Command("jupyter-nbconvert", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/** Rows of the HTML tables of a bundle: header cells then data cells, as text. */
function htmlTables(html: string): { columns: string[]; rows: string[][] }[] {
  const unescape = (s: string) =>
    s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&");
  return [...html.matchAll(/<table>([\s\S]*?)<\/table>/g)].map((t) => {
    const rows = [...t[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
      [...r[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => unescape(c[1]!))
    );
    return { columns: rows[0] ?? [], rows: rows.slice(1) };
  });
}

/** The tables a cell showed, as objects keyed by column. */
function cellTables(c: Cell): Record<string, string>[][] {
  const out: Record<string, string>[][] = [];
  for (const o of c.outputs ?? []) {
    const html = o.data?.["text/html"];
    if (html === undefined) continue;
    for (const t of htmlTables(text(html as string | string[]))) {
      out.push(t.rows.map((r) => Object.fromEntries(t.columns.map((k, i) => [k, r[i]!]))));
    }
  }
  return out;
}

function cellById(nb: Notebook, id: string): Cell {
  const c = nb.cells.find((x) => x.id === id);
  assert.ok(c, `no cell ${id}`);
  return c;
}

function cellText(c: Cell): string {
  return (c.outputs ?? []).map((o) => text(o.data?.["text/plain"] as string) + text(o.text))
    .join("\n");
}

/** What the default inputs of each notebook must show (facts of the example files). */
const EXPECT: Record<string, (nb: Notebook) => void> = {
  "explore_trace.ipynb": (nb) => {
    // examples/sva_two_iommus.dat: a VT-d SVA trace of a 6.12 kernel on two IOMMUs.
    const facts = cellTables(cellById(nb, "facts"))[0]!;
    const field = (k: string) => facts.find((r) => r.field === k)?.value;
    assert.equal(field("format"), "tracedat");
    assert.equal(field("compression"), "zstd");
    const events = cellTables(cellById(nb, "events"))[0]!;
    const total = events.reduce((s, r) => s + Number(r.events), 0);
    assert.equal(String(total), field("events"), "events per type add up to trace_info.events");
    for (const e of ["qi_submit", "cache_tag_flush_range", "tlb_flush"]) {
      assert.ok(events.some((r) => r.event === e), `no ${e} events`);
    }
    const qi = cellTables(cellById(nb, "qi"))[0]!;
    assert.deepEqual([...new Set(qi.map((r) => r.iommu))].sort(), ["dmar0", "dmar1"]);
    const qiTotal = qi.reduce((s, r) => s + Number(r.descriptors), 0);
    const qiEvents = Number(events.find((r) => r.event === "qi_submit")!.events);
    assert.equal(qiTotal, qiEvents, "descriptors per type add up to the qi_submit events");
    // Summary: every built-in policy that applies once (the example holds SVA flushes only, so
    // not the DMA-API ones), cheapest first, the baseline at ratio 1.
    const summary = cellTables(cellById(nb, "summary"))[0]!;
    assert.deepEqual(
      summary.map((r) => r.policy).sort(),
      BUILTIN_POLICY_NAMES.filter((p) => !p.startsWith("dma-")).sort(),
    );
    const ns = summary.map((r) => Number(r.modeled_ns));
    assert.deepEqual(ns, [...ns].sort((a, b) => a - b));
    assert.equal(summary.find((r) => r.policy === "intel-per-device")!.ratio_to_baseline, "1");
    const ideal = summary.find((r) => r.policy === "ideal")!;
    assert.equal(ideal.over_invalidation, "1", "ideal invalidates exactly what was requested");
  },
  "whatif_policies.ipynb": (nb) => {
    // examples/mm_workload.dat against examples/topology.json, 4 policies x 2 cost models.
    assert.ok(cellText(cellById(nb, "replay")).includes("What-if mode: true."));
    const procs = cellTables(cellById(nb, "requests"))[0]!;
    assert.deepEqual(
      [...new Set(procs.map((r) => r.comm))].sort(),
      ["db_worker", "dsa_copy", "iaa_comp"],
      "the topology binds dsa_copy, iaa_comp and db_worker",
    );
    for (const p of procs) {
      assert.ok(Number(p.requests) > 0, `${p.comm} (${p.pid}) has no requests`);
      assert.equal(p.devices, { dsa_copy: "3", iaa_comp: "3", db_worker: "1" }[p.comm!]);
    }
    const summary = cellTables(cellById(nb, "summary"))[0]!;
    const policies = ["intel-per-device", "intel-cache-tag", "intel-batched", "ideal"];
    const models = ["bare-metal-vtd", "viommu-trap"];
    assert.deepEqual(
      summary.map((r) => `${r.cost_model} ${r.policy}`),
      models.flatMap((m) => policies.map((p) => `${m} ${p}`)),
    );
    for (const p of policies) {
      const [bare, trap] = models.map((m) =>
        summary.find((r) => r.cost_model === m && r.policy === p)!
      );
      // The cost model prices commands; it does not change them.
      assert.equal(trap!.submissions, bare!.submissions);
      assert.equal(trap!.descriptors, bare!.descriptors);
      assert.equal(bare!.traps, "0");
      assert.equal(trap!.traps, trap!.submissions, "every submission traps under viommu-trap");
      assert.ok(Number(trap!.modeled_ns) > Number(bare!.modeled_ns));
    }
    const bare = (p: string) =>
      summary.find((r) => r.cost_model === "bare-metal-vtd" && r.policy === p)!;
    assert.equal(bare("intel-per-device").ratio_to_baseline, "1");
    // Batching merges per-IOMMU submissions: fewer than per cache tag, same descriptors.
    assert.ok(
      Number(bare("intel-batched").submissions) < Number(bare("intel-cache-tag").submissions),
    );
    assert.equal(bare("intel-batched").descriptors, bare("intel-cache-tag").descriptors);
  },
};

const reason = haveNbconvert()
  ? null
  : "notebooks not executed: jupyter-nbconvert is not installed";
if (reason) {
  if (ci) {
    Deno.test("notebooks: jupyter-nbconvert is present in CI", () => {
      throw new Error(`${reason} (apt-get install jupyter-nbconvert python3-ipykernel)`);
    });
  } else {
    console.error(`NOTE: ${reason}`);
    Deno.test({ name: `notebooks: ${reason}`, ignore: true, fn() {} });
  }
}

for (const name of reason ? [] : found) {
  Deno.test(`notebooks: ${name} runs under jupyter nbconvert --execute`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "iommu-replay-nbexec-" });
    try {
      await writeKernelSpec(`${tmp}/jupyter`);
      const env: Record<string, string> = {
        ...Deno.env.toObject(),
        JUPYTER_PATH: `${tmp}/jupyter`,
        JUPYTER_RUNTIME_DIR: `${tmp}/runtime`,
        JUPYTER_CONFIG_DIR: `${tmp}/config`,
        JUPYTER_DATA_DIR: `${tmp}/data`,
      };
      // The notebooks' defaults (the example files) are what is checked.
      delete env.IOMMU_REPLAY_TRACE;
      delete env.IOMMU_REPLAY_TOPOLOGY;
      const r = await new Deno.Command("jupyter-nbconvert", {
        args: [
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.timeout=300",
          "--output-dir",
          `${tmp}/out`,
          `${NOTEBOOKS}${name}`,
        ],
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(900_000),
      }).output();
      const log = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, `nbconvert failed:\n${log.slice(-4000)}`);
      const nb: Notebook = JSON.parse(await Deno.readTextFile(`${tmp}/out/${name}`));

      for (const c of codeCells(nb)) {
        assert.equal(typeof c.execution_count, "number", `cell ${c.id} did not run`);
        const errors = (c.outputs ?? []).filter((o) => o.output_type === "error");
        assert.deepEqual(errors, [], `cell ${c.id} raised`);
        const tags = c.metadata.tags ?? [];
        const data = (c.outputs ?? []).filter((o) => o.output_type === "display_data")
          .map((o) => o.data ?? {});
        if (tags.includes("chart")) {
          const both = data.filter((d) => VEGA_LITE_MIME in d && "image/svg+xml" in d);
          assert.ok(both.length > 0, `chart cell ${c.id} shows no Vega-Lite + SVG bundle`);
          for (const d of both) {
            assert.ok(text(d["image/svg+xml"] as string).startsWith("<svg"));
            const values = (d[VEGA_LITE_MIME] as { data?: { values?: unknown[] } }).data?.values;
            assert.ok(values && values.length > 0, `chart cell ${c.id} has no data`);
          }
        }
        if (tags.includes("table") || tags.includes("summary")) {
          const tables = cellTables(c);
          assert.ok(tables.length > 0, `cell ${c.id} shows no table`);
          if (tags.includes("summary")) assert.ok(tables[0]!.length > 0, "empty summary");
        }
      }
      EXPECT[name]?.(nb);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
