/**
 * Corpus test: every perf.data under ../shared/fixtures against `perf script` and
 * `perf script --ns` run now, sample by sample (comm, tid, cpu, time at each precision, event,
 * payload rendered from the decoded fields), and against the stored `<name>_script*.txt`
 * beside it; those text files are also read by the perf script reader to the same rows.
 *
 * Without ../shared (a user's clone) the tests are reported as ignored with the reason; under CI
 * (IOMMU_REPLAY_CI=1) a missing corpus or a missing perf is a failure.
 */
import { deepStrictEqual, equal } from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { RawTables } from "../ingest/arrow/raw_tables.ts";
import { openFileSource } from "../ingest/file_source.ts";
import { ingestPerfScript } from "../ingest/perf/perf_script_ingest.ts";
import {
  binaryRows,
  compareRows,
  havePerf,
  runPerfScript,
  textRows,
} from "../ingest/perf/testdata/script_compare.ts";

const root = new URL("../../shared/fixtures/", import.meta.url).pathname;
const ci = Deno.env.get("IOMMU_REPLAY_CI") === "1";

function find(dir: string, ok: (name: string) => boolean): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) out.push(...find(p, ok));
      else if (ok(e.name)) out.push(p);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Whether a file starts with the perf.data magic (either byte order). */
function isPerfData(path: string): boolean {
  const f = Deno.openSync(path);
  try {
    const b = new Uint8Array(8);
    const n = f.readSync(b) ?? 0;
    const m = new TextDecoder().decode(b.subarray(0, n));
    return m === "PERFILE2" || m === "2ELIFREP";
  } finally {
    f.close();
  }
}

const files = find(root, (n) => n.endsWith(".data")).filter(isPerfData);
const perf = havePerf();

function skip(reason: string): void {
  if (ci) {
    Deno.test(`corpus perf: ${reason} (required in CI)`, () => {
      throw new Error(reason);
    });
  } else {
    console.error(`NOTE: ${reason}`);
    Deno.test({ name: `corpus perf: ${reason}`, ignore: true, fn() {} });
  }
}

if (files.length === 0) skip(`corpus not run: no perf.data under ${root}`);
else if (!perf) skip("perf script comparison not run: perf is not installed");

/** The stored `perf script` outputs of a .data file: `<base>_script*.txt` beside it. */
function storedTexts(path: string): string[] {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(dir.length + 1, -".data".length);
  return find(dir, (n) => n.startsWith(`${base}_script`) && n.endsWith(".txt"));
}

for (const f of files) {
  const name = f.slice(root.length);
  if (perf) {
    for (const args of [[], ["--ns"]]) {
      Deno.test(`corpus perf: ${name} equals perf script ${args.join(" ")}`.trim(), async () => {
        const { rows } = await binaryRows(f);
        const text = textRows(runPerfScript(f, args));
        equal(text.precision, args.length ? 9 : 6);
        const { mismatches, compared } = compareRows(rows, text.rows, text.precision);
        deepStrictEqual(mismatches, []);
        equal(compared, rows.length * 6);
      });
    }
  }
  for (const t of storedTexts(f)) {
    const tname = t.slice(root.length);
    Deno.test(`corpus perf: ${name} equals the stored ${tname}`, async () => {
      const { rows } = await binaryRows(f);
      const text = textRows(Deno.readTextFileSync(t));
      const { mismatches } = compareRows(rows, text.rows, text.precision);
      deepStrictEqual(mismatches, []);
    });
    Deno.test(`corpus perf: the perf script reader reads ${tname} to the rows of ${name}`, async () => {
      const { rows } = await binaryRows(f);
      const events: Record<string, unknown>[] = [];
      const rt = new RawTables({
        write(s, tb, ipc) {
          if (s === "main" && tb === "events") {
            events.push(...tableFromIPC(ipc).toArray().map((r) => r.toJSON()));
          }
        },
      });
      const { info } = ingestPerfScript(openFileSource(t), rt);
      rt.finish();
      equal(info.unparsed_lines, 0n);
      const precision = info.options.startsWith("precision=ns") ? 9 : 6;
      const unit = 10n ** BigInt(9 - precision);
      equal(events.length, rows.length);
      const bad: string[] = [];
      for (let i = 0; i < rows.length && bad.length < 10; i++) {
        const b = rows[i]!, e = events[i]!;
        const ours = [e.ts, e.cpu, e.pid, e.comm, `${e.system}:${e.event}`];
        const theirs = [b.ts - b.ts % unit, b.cpu, b.tid, b.comm, b.event];
        if (JSON.stringify(ours, big) !== JSON.stringify(theirs, big)) {
          bad.push(`row ${i}: ${JSON.stringify(ours, big)} vs ${JSON.stringify(theirs, big)}`);
        }
      }
      deepStrictEqual(bad, []);
    });
  }
}

function big(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
