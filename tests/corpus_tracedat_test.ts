/**
 * Corpus test: every trace.dat under ../shared/fixtures (recorded and third_party) against
 * `trace-cmd report -R -t` run now, event by event and field by field.
 *
 * Without ../shared (a user's clone) the tests are reported as ignored with the reason; under CI
 * (IOMMU_REPLAY_CI=1, set by .ci/run) a missing corpus or a missing trace-cmd is a failure.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { compareWithTraceCmd, haveTraceCmd } from "./corpus/tracecmd_compare.ts";

const root = new URL("../../shared/fixtures/", import.meta.url).pathname;
const ci = Deno.env.get("IOMMU_REPLAY_CI") === "1";

function findDat(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) out.push(...findDat(p));
      else if (e.name.endsWith(".dat")) out.push(p);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

const files = findDat(root);
const tc = haveTraceCmd();
const reason = files.length === 0
  ? `corpus not run: no trace.dat under ${root}`
  : !tc
  ? "corpus not run: trace-cmd is not installed"
  : null;
if (reason) {
  if (ci) {
    Deno.test("corpus: trace.dat fixtures and trace-cmd are present in CI", () => {
      throw new Error(reason);
    });
  } else {
    console.error(`NOTE: ${reason}`);
    Deno.test({ name: `corpus: ${reason}`, ignore: true, fn() {} });
  }
}

for (const f of reason ? [] : files) {
  Deno.test(`corpus: ${f.slice(root.length)} equals trace-cmd report -R -t`, async () => {
    const r = await compareWithTraceCmd(f);
    assertEquals(r.mismatches, []);
    assertEquals(r.ours, r.theirs);
  });
}
