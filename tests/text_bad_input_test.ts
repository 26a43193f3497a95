/**
 * Bad text input through the whole ingest path: a typed error or counted lines, never a hang or
 * an out-of-memory.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { TraceError } from "../core/errors.ts";
import { registerTextIngesters } from "../ingest/ftrace_text/register.ts";
import { ingestToMemory, registerIngester } from "../ingest/ingest.ts";

registerTextIngesters(registerIngester);

const GOOD = "          gen.sh-9396    [001] d..1.   383.902511: tlb_flush: pages:1 reason:x (3)\n";

function withFile(bytes: Uint8Array | string, fn: (path: string) => Promise<void>) {
  return async () => {
    const path = Deno.makeTempFileSync({ prefix: "text_bad_", suffix: ".txt" });
    try {
      if (typeof bytes === "string") Deno.writeTextFileSync(path, bytes);
      else Deno.writeFileSync(path, bytes);
      await fn(path);
    } finally {
      Deno.removeSync(path);
    }
  };
}

Deno.test(
  "bad text: a header followed by garbage is a parse error naming the file and line",
  withFile(
    "# tracer: nop\n" + Array.from({ length: 3000 }, (_, i) => `junk ${i}`).join("\n"),
    async (path) => {
      await rejects(ingestToMemory(path), (e: unknown) => {
        assert(e instanceof TraceError);
        assertEquals(e.code, "parse_error");
        assertEquals(e.location.file, path);
        assert(e.location.section.startsWith("line "));
        return true;
      });
    },
  ),
);

Deno.test(
  "bad text: binary junk is not taken for a trace",
  withFile(new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff), async (path) => {
    await rejects(ingestToMemory(path), (e: unknown) => {
      assert(e instanceof TraceError);
      assertEquals(e.code, "bad_magic");
      return true;
    });
  }),
);

Deno.test(
  "bad text: a 32 MB line between events is skipped and counted",
  withFile(
    "# tracer: nop\n" + GOOD + "x".repeat(32 << 20) + "\n" + GOOD,
    async (path) => {
      const m = await ingestToMemory(path);
      assertEquals(m.manifest.info.events, 2);
      assertEquals(m.manifest.info.unparsed_lines, 1);
      assert(m.manifest.warnings.some((w) => w.code === "unparsed_lines"));
    },
  ),
);

Deno.test(
  "bad text: a file cut in the middle of a line keeps what came before",
  withFile("# tracer: nop\n" + GOOD.repeat(10) + GOOD.slice(0, 40), async (path) => {
    const m = await ingestToMemory(path);
    assertEquals(m.manifest.info.events, 10);
    assertEquals(m.manifest.info.unparsed_lines, 1);
  }),
);
