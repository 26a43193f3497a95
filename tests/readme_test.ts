/** The README's generated parts are current and its first screen has the two commands. */
import { ok, strictEqual } from "node:assert/strict";
import { regenerate } from "../scripts/gen_readme.ts";

const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

Deno.test("README: CLI and table references equal what the code declares", () => {
  strictEqual(regenerate(readme), readme, "run: deno run -A scripts/gen_readme.ts");
});

Deno.test("README: first screen gives the install line and the two commands", () => {
  const first = readme.split("\n").slice(0, 25).join("\n");
  ok(first.includes("npm install -g deno@"));
  ok(first.includes("deno task replay examples/"));
  ok(first.includes("deno task test"));
  const example = /deno task replay (examples\/\S+)/.exec(first)![1]!;
  ok(Deno.statSync(new URL(`../${example}`, import.meta.url)).isFile, `${example} is in the repo`);
});
