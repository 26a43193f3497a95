/**
 * End to end through `ingest/ingest.ts`: the text readers registered for their sniffed formats,
 * a kernel trace file and a trace-cmd report ingested into a directory of Arrow files.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { registerTextIngesters } from "../ingest/ftrace_text/register.ts";
import { ingestToDir, registerIngester } from "../ingest/ingest.ts";

registerTextIngesters(registerIngester);

const dir = new URL("./fixtures/text/", import.meta.url).pathname;

for (
  const [file, format] of [
    ["kernel_default.txt", "ftrace_text"],
    ["report_raw.txt", "tracecmd_report"],
  ] as const
) {
  Deno.test(`ingest: ${file} is sniffed as ${format} and written as Arrow files`, async () => {
    const out = Deno.makeTempDirSync({ prefix: "text_ingest_" });
    try {
      const m = await ingestToDir(`${dir}${file}`, out);
      assertEquals(m.info.format, format);
      assertEquals(m.info.events, 143);
      assertEquals(m.info.unparsed_lines, 0);
      const rows = Object.fromEntries(m.tables.map((t) => [`${t.schema}.${t.name}`, t.rows]));
      assertEquals(rows["tlb.tlb_flush"], 124);
      assertEquals(rows["main.events"], 143);
      assertEquals(rows["syscalls.sys_enter_munmap"], 4);
      for (const t of m.tables) {
        if (t.file) assert(Deno.statSync(`${out}/${t.file}`).size > 0, t.file);
      }
    } finally {
      Deno.removeSync(out, { recursive: true });
    }
  });
}
