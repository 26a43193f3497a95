/**
 * The command line's output and input paths, end to end in a child process: `--format` copies of
 * every table (Parquet, CSV) beside the Arrow files, recorded in the manifest; and one-line usage
 * or input errors naming the path for an `--out` that is a file or a trace that is a directory.
 */
import assert from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { loadDataset, readManifest } from "../analysis/dataset.ts";
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { quoteIdent } from "../analysis/engine.ts";
import { parquetToIPC } from "../analysis/parquet.ts";
import { UsageError } from "../core/errors.ts";
import { parseFormats } from "../cli/table_formats.ts";

const MAIN = new URL("../cli/main.ts", import.meta.url).pathname;
const TRACE = new URL("../examples/sva_two_iommus.dat", import.meta.url).pathname;

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** One line on stderr, no stack trace, no "internal error". */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /internal error|os error|\bat .*\.ts:\d+/);
  return lines[0]!;
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.lstat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("parseFormats: arrow is implied, unknown names are usage errors", () => {
  assert.deepEqual(parseFormats(undefined), []);
  assert.deepEqual(parseFormats("arrow"), []);
  assert.deepEqual(parseFormats(" Parquet , csv,parquet"), ["parquet", "csv"]);
  assert.throws(
    () => parseFormats("arrow,xlsx"),
    (e) => e instanceof UsageError && /xlsx/.test(e.message),
  );
  assert.throws(() => parseFormats(","), UsageError);
});

Deno.test("--out that is a file, or under a file: usage error naming it, exit 2", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const file = `${tmp}/taken`;
    await Deno.writeTextFile(file, "keep me");
    for (const cmd of ["replay", "ingest"]) {
      const r = await run(cmd, TRACE, "--out", file, "-q");
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.equal(
        oneLine(r.stderr),
        `${cmd}: --out ${file} exists and is not a directory (see --help)`,
      );
      const under = await run(cmd, TRACE, "--out", `${file}/sub`, "-q");
      assert.equal(under.code, 2, under.stderr);
      assert.match(
        oneLine(under.stderr),
        new RegExp(`--out ${file}/sub: a parent of it is a file`),
      );
    }
    assert.equal(await Deno.readTextFile(file), "keep me");
    const rep = await run("report", tmp, "--out", tmp);
    assert.equal(rep.code, 2, rep.stderr);
    assert.match(oneLine(rep.stderr), new RegExp(`--out ${tmp} is a directory, not a file`));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a directory given as the trace: input error naming it, exit 1, nothing created", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await run("replay", tmp);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      oneLine(r.stderr),
      `replay: error: ${tmp}: open at byte 0: is a directory, not a trace file`,
    );
    const i = await run("ingest", tmp, "--out", `${tmp}/out`);
    assert.equal(i.code, 1, i.stderr);
    assert.match(oneLine(i.stderr), new RegExp(`^ingest: error: ${tmp}: .*is a directory`));
    assert.equal(await exists(`${tmp}/out`), false);
    const gone = await run("replay", `${tmp}/missing.dat`);
    assert.equal(gone.code, 1, gone.stderr);
    assert.match(oneLine(gone.stderr), /missing\.dat: open at byte 0: no such file/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Checks every table's copies against the table itself, as DuckDB loads it from the Arrow file. */
async function assertCopies(dir: string, formats: ("parquet" | "csv")[]): Promise<number> {
  const raw = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  await readManifest(dir); // the manifest with its copies still passes the loader's checks
  const e = await openDuckDBWasm();
  let checked = 0;
  try {
    await loadDataset(e, dir);
    for (const t of raw.tables) {
      const table = `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
      const base = t.file.replace(/\.arrows$/, "");
      for (const f of ["parquet", "csv"] as const) {
        if (!formats.includes(f)) {
          assert.equal(t[f], undefined, `${table}: no ${f} asked for`);
          continue;
        }
        assert.equal(t[f], `${base}.${f}`, `${table}: manifest lists its ${f} copy`);
        const bytes = await Deno.readFile(`${dir}/${t[f]}`);
        if (f === "csv") {
          assert.equal(new TextDecoder().decode(bytes), await e.queryCSV(`SELECT * FROM ${table}`));
        } else {
          const got = tableFromIPC(await parquetToIPC(bytes));
          assert.equal(got.numRows, t.rows, `${table} parquet rows`);
          const cols = await e.query(`SELECT * FROM ${table} LIMIT 0`);
          assert.deepEqual(got.schema.fields.map((x) => x.name), cols.columns);
        }
        checked++;
      }
    }
  } finally {
    await e.close();
  }
  return checked;
}

Deno.test("ingest --format parquet,csv: a copy of every table beside it, in the manifest", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await run(
      "ingest",
      TRACE,
      "--out",
      `${tmp}/i`,
      "--format",
      "arrow,parquet,csv",
      "-q",
    );
    assert.equal(r.code, 0, r.stderr);
    const n = await assertCopies(`${tmp}/i`, ["parquet", "csv"]);
    assert.ok(n >= 2 * 10, `${n} copies`);
    // default: Arrow only
    const a = await run("ingest", TRACE, "--out", `${tmp}/a`, "-q");
    assert.equal(a.code, 0, a.stderr);
    assert.equal(await assertCopies(`${tmp}/a`, []), 0);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("replay --out --format csv: raw, canonical and result tables as CSV too", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const r = await run("replay", TRACE, "--out", tmp, "--format", "csv", "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    await assertCopies(tmp, ["csv"]);
    const summary = await Deno.readTextFile(`${tmp}/main/policy_summary.csv`);
    assert.match(summary, /^policy,cost_model,/);
    assert.ok(await exists(`${tmp}/report.html`));
    const bad = await run("replay", TRACE, "--format", "csv");
    assert.equal(bad.code, 2);
    assert.equal(oneLine(bad.stderr), "replay: --format needs --out DIR (see --help)");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
