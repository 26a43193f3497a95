/** The schemas ingest writes equal the declarations the docs are generated from. */
import { deepStrictEqual } from "node:assert/strict";
import { tableFromIPC } from "apache-arrow";
import { arrowTypeFor } from "../core/arrow.ts";
import { EVENTS_TABLE, RAW_EVENT_COMMON_COLUMNS } from "../core/trace_info.ts";
import type { TableSpec } from "../core/schema.ts";
import { ingestToMemory } from "../ingest/ingest.ts";

const here = new URL("./fixtures/", import.meta.url).pathname;

function declared(spec: TableSpec): string[] {
  return spec.columns.map((c) => `${c.name}:${String(arrowTypeFor(c.type))}`);
}

Deno.test("main.events and raw tables' common columns follow their declarations", async () => {
  const m = await ingestToMemory(`${here}small_v7_zstd.dat`);
  const idx = tableFromIPC(m.streams.get("main.events")![0]!);
  deepStrictEqual(
    idx.schema.fields.map((f) => `${f.name}:${String(f.type)}`),
    declared(EVENTS_TABLE),
  );
  const tlb = tableFromIPC(m.streams.get("tlb.tlb_flush")![0]!);
  const n = RAW_EVENT_COMMON_COLUMNS.columns.length;
  deepStrictEqual(
    tlb.schema.fields.slice(0, n).map((f) => `${f.name}:${String(f.type)}`),
    declared(RAW_EVENT_COMMON_COLUMNS),
  );
  // Then the format file's own fields, typed from it: int reason (s32), unsigned long pages (u64).
  deepStrictEqual(tlb.schema.fields.slice(n).map((f) => `${f.name}:${String(f.type)}`), [
    "reason:Int32",
    "pages:Uint64",
  ]);
});
