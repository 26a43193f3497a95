/**
 * Times every saved query over a replay output directory the way `deno task query DIR` runs one:
 * a fresh duckdb-wasm per query, loaded with only the tables the query reads
 * (`analysis/sql_tables.ts`), then the query (median of 3 runs, after one warm-up). Prints one
 * JSON line `{"<query> (load)": ms, "<query>": ms, ...}`; progress goes to stderr.
 *
 *   deno run -A bench/query_once.ts <replay-out-dir>
 */
import { loadDataset } from "../analysis/dataset.ts";
import { openDuckDBWasm } from "../analysis/duckdb_wasm.ts";
import { SAVED_QUERIES, savedQuerySQL } from "../analysis/queries.ts";
import { tableFilterForSQL } from "../analysis/sql_tables.ts";

const dir = Deno.args[0];
if (!dir) {
  console.error("usage: query_once.ts <dir>");
  Deno.exit(2);
}
const out: Record<string, number> = {};
for (const q of SAVED_QUERIES) {
  const sql = savedQuerySQL(q.name);
  const engine = await openDuckDBWasm();
  try {
    const t0 = performance.now();
    const loaded = await loadDataset(engine, dir, { tables: tableFilterForSQL(sql) });
    const load = performance.now() - t0;
    await engine.query(sql);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await engine.query(sql);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    out[`${q.name} (load)`] = load;
    out[q.name] = times[1]!;
    const tables = loaded.tables.map((t) => `${t.schema}.${t.name}`).join(", ");
    console.error(
      `${q.name}: load ${load.toFixed(0)} ms (${tables}), query ${times[1]!.toFixed(0)} ms`,
    );
  } finally {
    await engine.close();
  }
}
console.log(JSON.stringify(out));
