/**
 * Loads a replay output directory into duckdb-wasm and times every saved query (median of 3 runs,
 * after one warm-up); prints one JSON line `{query name: milliseconds}`.
 *
 *   deno run -A bench/query_once.ts <replay-out-dir>
 */
import { loadDataset } from "../analysis/dataset.ts";
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { SAVED_QUERIES, savedQuerySQL } from "../analysis/queries.ts";

const dir = Deno.args[0];
if (!dir) {
  console.error("usage: query_once.ts <dir>");
  Deno.exit(2);
}
const engine = await openDuckDBWasm();
const t0 = performance.now();
await loadDataset(engine, dir);
const out: Record<string, number> = { "load tables": performance.now() - t0 };
for (const q of SAVED_QUERIES) {
  const sql = savedQuerySQL(q.name);
  await engine.query(sql);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = performance.now();
    await engine.query(sql);
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  out[q.name] = times[1]!;
}
await engine.close();
console.log(JSON.stringify(out));
