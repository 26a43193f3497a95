import assert from "node:assert/strict";
import { TraceError } from "../../core/errors.ts";
import { ingestToDir } from "../ingest.ts";

/**
 * Tests of ingestToDir's Arrow writer worker: same bytes as encoding on the reading thread, and
 * its failures (write errors, a dying worker) surface as typed errors instead of hanging.
 */

/** The error a call rejects with. */
async function rejects(f: () => Promise<unknown>): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("did not throw");
}

const root = new URL("../../", import.meta.url).pathname;
const FIXTURES = [
  "tests/fixtures/small_v7_zstd.dat",
  "tests/fixtures/small_instance.dat",
  "tests/fixtures/perf/small.data",
  "tests/fixtures/perf/small_zstd.data",
  "tests/fixtures/perf/small_pipe.data",
  "tests/fixtures/text/kernel_default.txt",
  "tests/fixtures/perf/small_script.txt",
];

function files(dir: string, base = dir, out = new Map<string, Uint8Array>()) {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) files(p, base, out);
    else out.set(p.slice(base.length + 1), Deno.readFileSync(p));
  }
  return out;
}

/** Ingests in a fresh process (see testdata/ingest_dir.ts) and returns the files. */
async function ingestFresh(input: string, worker: boolean, batchRows: string, maxBatches: string) {
  const out = Deno.makeTempDirSync();
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./testdata/ingest_dir.ts", import.meta.url).pathname,
        input,
        out,
        worker ? "1" : "0",
        batchRows,
        maxBatches,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    return files(out);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
}

Deno.test("writer worker: every file byte-identical to encoding on the reading thread", async () => {
  for (const f of FIXTURES) {
    // Default batches, then small batches with the worker allowed one batch ahead: many
    // batches, back-pressure on.
    for (const [rows, ahead] of [["-", "-"], ["500", "1"]] as const) {
      const fa = await ingestFresh(`${root}${f}`, false, rows, ahead);
      const fb = await ingestFresh(`${root}${f}`, true, rows, ahead);
      assert.deepStrictEqual([...fb.keys()].sort(), [...fa.keys()].sort(), f);
      assert(fa.size > 2, f);
      for (const [k, v] of fa) assert.deepStrictEqual(fb.get(k), v, `${f}: ${k}`);
    }
  }
});

Deno.test("writer worker: a write error surfaces as the same Deno error class", async () => {
  for (const worker of [false, true]) {
    const out = Deno.makeTempDirSync();
    try {
      // The events table's file is in the way as a directory.
      Deno.mkdirSync(`${out}/main/events.arrows`, { recursive: true });
      const e = await rejects(() =>
        ingestToDir(`${root}tests/fixtures/small_v7_zstd.dat`, out, {
          batchRows: 500,
          writer: { worker },
        })
      );
      assert(e instanceof Deno.errors.IsADirectory, `worker=${worker}: ${e}`);
    } finally {
      Deno.removeSync(out, { recursive: true });
    }
  }
});

Deno.test("writer worker: a reader's TraceError is thrown as is and the worker stops", async () => {
  const out = Deno.makeTempDirSync();
  const bad = `${out}/truncated.dat`;
  try {
    const b = Deno.readFileSync(`${root}tests/fixtures/small_v7_zstd.dat`);
    Deno.writeFileSync(bad, b.subarray(0, 3000));
    const thread = await rejects(() =>
      ingestToDir(bad, `${out}/o0`, { writer: { worker: false } })
    );
    const e = await rejects(() => ingestToDir(bad, `${out}/o`, { writer: { worker: true } }));
    assert(e instanceof TraceError && thread instanceof TraceError, String(e));
    assert.equal(e.message, thread.message);
    const m = await rejects(() =>
      ingestToDir(`${out}/missing.dat`, `${out}/o2`, { writer: { worker: true } })
    );
    assert(m instanceof TraceError && m.message.includes("no such file"), String(m));
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});

Deno.test("writer worker: a worker that dies fails the ingest instead of hanging", async () => {
  const out = Deno.makeTempDirSync();
  try {
    const workerUrl = new URL("./testdata/dying_worker.ts", import.meta.url);
    for (const opts of [{ batchRows: 100 }, {}]) {
      const e = await rejects(() =>
        ingestToDir(`${root}tests/fixtures/perf/small.data`, `${out}/o`, {
          ...opts,
          writer: { worker: true, workerUrl, maxBatches: 1 },
        })
      );
      assert(e.message.includes("writer worker stopped"), String(e));
    }
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});
