/**
 * The project's own recorded fixtures (tests/fixtures/record.sh) against the `trace-cmd report -R -t`
 * output stored beside them: every event's buffer, comm, pid, cpu, ts and field values.
 * Runs without trace-cmd.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { compareWithTraceCmd, linesFromFile } from "./corpus/tracecmd_compare.ts";

const here = new URL("./fixtures/", import.meta.url).pathname;

for (const name of ["small_v7_zstd", "small_instance", "small_counter"]) {
  Deno.test(`trace.dat ${name} equals the stored trace-cmd report, field by field`, async () => {
    const r = await compareWithTraceCmd(
      `${here}${name}.dat`,
      linesFromFile(`${here}${name}.report_raw.txt.gz`),
    );
    assertEquals(r.mismatches, []);
    assertEquals(r.ours, r.theirs);
    if (r.theirs < 1000) throw new Error(`too few events compared: ${r.theirs}`);
    if (r.fieldsCompared < r.theirs) throw new Error("fields were not compared");
  });
}

Deno.test("trace.dat v6 conversion of small_v7_zstd reads the same events", async () => {
  const tmp = await Deno.makeTempFile({ suffix: ".dat" });
  try {
    const gz = await Deno.open(`${here}small_v6.dat.gz`);
    const out = await Deno.open(tmp, { write: true, truncate: true });
    await gz.readable.pipeThrough(new DecompressionStream("gzip")).pipeTo(out.writable);
    const r = await compareWithTraceCmd(
      tmp,
      linesFromFile(`${here}small_v7_zstd.report_raw.txt.gz`),
    );
    assertEquals(r.mismatches, []);
    assertEquals(r.ours, r.theirs);
  } finally {
    await Deno.remove(tmp);
  }
});
