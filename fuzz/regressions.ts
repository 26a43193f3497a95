/**
 * Regression inputs: every fuzz finding is kept as `fuzz/regressions/<target>/<name>.bin` (the
 * input) with a `<name>.txt` note (what it was, what happened), and replayed by
 * `tests/fuzz_test.ts`.
 *
 * @module
 */
import { TARGET_NAMES, type TargetName } from "./seeds.ts";
import type { Finding } from "./campaign.ts";

/** The regression folder of the repository. */
export const REGRESSIONS_DIR: URL = new URL("./regressions/", import.meta.url);

/**
 * Lists the regression inputs per target.
 *
 * @param dir the regressions folder (default {@linkcode REGRESSIONS_DIR})
 * @returns target -> absolute paths of `.bin` files, sorted
 */
export function listRegressions(dir: URL = REGRESSIONS_DIR): Map<TargetName, string[]> {
  const out = new Map<TargetName, string[]>();
  for (const t of TARGET_NAMES) {
    const sub = new URL(`${t}/`, dir);
    const files: string[] = [];
    try {
      for (const e of Deno.readDirSync(sub)) {
        if (e.isFile && e.name.endsWith(".bin")) files.push(new URL(e.name, sub).pathname);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (files.length > 0) out.set(t, files.sort());
  }
  return out;
}

async function sha8(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return [...d.subarray(0, 4)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Saves a finding as a regression input (`<kind>-<sha>.bin` + `.txt` note).
 *
 * @param f the finding (with its bytes)
 * @param dir the regressions folder
 * @param master the campaign's master seed (for the note)
 * @returns the path written, or null when the finding has no bytes
 */
export async function saveFinding(
  f: Finding,
  dir: URL = REGRESSIONS_DIR,
  master?: number,
): Promise<string | null> {
  if (!f.bytes) return null;
  const sub = new URL(`${f.target}/`, dir);
  Deno.mkdirSync(sub, { recursive: true });
  const name = `${f.outcome.kind}-${await sha8(f.bytes)}`;
  const bin = new URL(`${name}.bin`, sub);
  Deno.writeFileSync(bin, f.bytes);
  const note = [
    `target: ${f.target}`,
    `outcome: ${JSON.stringify(f.outcome)}`,
    `seed file: ${f.seed ?? "?"}`,
    `mutations: ${(f.ops ?? []).join(", ")}`,
    `reproduce: deno task fuzz --target ${f.target} --seed ${master ?? "?"} --index ${f.index}`,
    "",
  ].join("\n");
  Deno.writeTextFileSync(new URL(`${name}.txt`, sub), note);
  return bin.pathname;
}
