/**
 * Regenerates the generated parts of README.md: the CLI reference (from each command's --help text)
 * and the table reference (from the table declarations). `tests/readme_test.ts` fails when the
 * README is out of date.
 *
 *   deno run -A scripts/gen_readme.ts          # rewrite README.md
 *   deno run -A scripts/gen_readme.ts --check  # exit 1 if it would change
 */
import { CANONICAL_TABLES } from "../core/canonical.ts";
import { REPLAY_TABLES } from "../core/replay/mod.ts";
import { tablesMarkdown } from "../core/schema.ts";
import { EVENTS_TABLE, RAW_EVENT_COMMON_COLUMNS, TRACE_INFO_TABLE } from "../core/trace_info.ts";
import { INGEST_HELP } from "../cli/ingest_cmd.ts";
import { MAIN_HELP } from "../cli/main.ts";
import { QUERY_HELP } from "../cli/query_cmd.ts";
import { REPLAY_HELP } from "../cli/replay_cmd.ts";
import { REPORT_HELP } from "../cli/report_cmd.ts";
import { CAPTURE_HELP } from "../core/capture.ts";

/** The generated blocks, by marker name. */
export function generatedBlocks(): Record<string, string> {
  const fence = (s: string) => "```\n" + s.trimEnd() + "\n```";
  return {
    cli: [
      fence(MAIN_HELP),
      "#### replay",
      fence(REPLAY_HELP),
      "#### ingest",
      fence(INGEST_HELP),
      "#### query",
      fence(QUERY_HELP),
      "#### report",
      fence(REPORT_HELP),
      "#### capture",
      fence(CAPTURE_HELP),
    ].join("\n\n"),
    tables: tablesMarkdown([
      RAW_EVENT_COMMON_COLUMNS,
      EVENTS_TABLE,
      TRACE_INFO_TABLE,
      ...CANONICAL_TABLES,
      ...REPLAY_TABLES,
    ]).trimEnd(),
  };
}

/** Formats markdown the way `deno fmt` does (so the check is stable under `deno fmt`). */
function fmtMarkdownSync(text: string): string {
  const tmp = Deno.makeTempFileSync({ suffix: ".md" });
  try {
    Deno.writeTextFileSync(tmp, text);
    const r = new Deno.Command(Deno.execPath(), {
      args: ["fmt", "-q", "--line-width=100", tmp],
      stderr: "piped",
    })
      .outputSync();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    return Deno.readTextFileSync(tmp);
  } finally {
    Deno.removeSync(tmp);
  }
}

/** README text with every generated block replaced. */
export function regenerate(readme: string): string {
  let out = readme;
  for (const [name, body] of Object.entries(generatedBlocks())) {
    const re = new RegExp(`(<!-- ${name}:begin -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`README.md has no <!-- ${name}:begin/end --> markers`);
    out = out.replace(re, (_m, a, b) => `${a}\n${body}\n${b}`);
  }
  return fmtMarkdownSync(out);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url).pathname;
  const cur = Deno.readTextFileSync(path);
  const next = regenerate(cur);
  if (Deno.args.includes("--check")) {
    if (next !== cur) {
      console.error("README.md is out of date: run deno run -A scripts/gen_readme.ts");
      Deno.exit(1);
    }
  } else if (next !== cur) {
    Deno.writeTextFileSync(path, next);
    console.log("README.md updated");
  }
}
