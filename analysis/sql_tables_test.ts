import assert from "node:assert/strict";
import {
  needsTable,
  sqlTableNeeds,
  statementCount,
  tableFilterForSQL,
  tokenizeSQL,
} from "./sql_tables.ts";

const TABLES = [
  ["main", "policy_summary"],
  ["main", "requests"],
  ["main", "replayed_commands"],
  ["main", "events"],
  ["tlb", "tlb_flush"],
  ["intel_iommu", "qi_submit"],
] as const;

/** The tables of {@linkcode TABLES} a SQL text needs, as `schema.name`. */
function needed(sql: string): string[] {
  const f = tableFilterForSQL(sql);
  return TABLES.filter(([s, n]) => f(s, n)).map(([s, n]) => `${s}.${n}`);
}

const ALL = TABLES.map(([s, n]) => `${s}.${n}`);

Deno.test("tokenizeSQL: identifiers, quoted identifiers, strings, comments", () => {
  const t = tokenizeSQL(`SELECT "A ""b""".x, 'it''s' -- FROM t\n/* c */ FROM Main.T1;`);
  assert.deepEqual(t.map((x) => `${x.kind}:${x.text}`), [
    "ident:select",
    'quoted:a "b"',
    "punct:.",
    "ident:x",
    "punct:,",
    "string:'it''s'",
    "ident:from",
    "ident:main",
    "punct:.",
    "ident:t1",
    "punct:;",
  ]);
  assert.deepEqual(
    tokenizeSQL(`E'a\\' b' $$ c $$ $q$ d $q$ $1 1.5e3 x`).map((x) => x.kind),
    ["string", "string", "string", "param", "number", "ident"],
  );
  // Unterminated strings and comments run to the end.
  assert.deepEqual(tokenizeSQL("x 'abc").map((x) => x.kind), ["ident", "string"]);
  assert.deepEqual(tokenizeSQL("x /* abc").map((x) => x.kind), ["ident"]);
  assert.deepEqual(tokenizeSQL('x "abc').map((x) => x.kind), ["ident", "quoted"]);
});

Deno.test("sqlTableNeeds: named tables only", () => {
  assert.deepEqual(needed("SELECT count(*) FROM main.policy_summary"), ["main.policy_summary"]);
  assert.deepEqual(needed("select * from POLICY_SUMMARY"), ["main.policy_summary"]);
  assert.deepEqual(needed('SELECT * FROM "main"."Policy_Summary"'), ["main.policy_summary"]);
  assert.deepEqual(needed('SELECT * FROM "main.requests"'), ["main.requests"]);
  assert.deepEqual(needed("FROM tlb . tlb_flush JOIN intel_iommu.qi_submit USING (ts)"), [
    "tlb.tlb_flush",
    "intel_iommu.qi_submit",
  ]);
  assert.deepEqual(needed("SELECT 1"), []);
  assert.deepEqual(needed("SELECT * FROM main.nope"), []);
  // Several statements: the union.
  assert.deepEqual(needed("SELECT * FROM requests; SELECT * FROM events"), [
    "main.requests",
    "main.events",
  ]);
});

Deno.test("sqlTableNeeds: comments and string literals do not count", () => {
  assert.deepEqual(
    needed(`SELECT 'main.requests', 'events' AS x -- FROM main.replayed_commands
            /* JOIN tlb.tlb_flush */ FROM main.policy_summary`),
    ["main.policy_summary"],
  );
  assert.deepEqual(needed("SELECT $$requests$$, $t$ events $t$, E'\\'requests'"), []);
  // A doubled quote does not end the string; a backslash only escapes in E'...'.
  assert.deepEqual(needed("SELECT 'a'' FROM requests'"), []);
  assert.deepEqual(needed("SELECT E'\\'' FROM requests"), ["main.requests"]);
  assert.deepEqual(needed("SELECT 'a\\' FROM requests"), ["main.requests"]);
  // DuckDB nests block comments; ending at the first */ over-loads, never under-loads.
  assert.deepEqual(needed("SELECT 1 /* a /* b */ requests */"), ["main.requests"]);
  // A dollar-quoted string ends at its own tag only.
  assert.deepEqual(needed("SELECT $a$ $$ requests $a$ FROM events"), ["main.events"]);
});

Deno.test("sqlTableNeeds: CTEs and aliases shadowing a table load it (over-load, safe)", () => {
  assert.deepEqual(
    needed("WITH requests AS (SELECT 1 AS x) SELECT * FROM requests"),
    ["main.requests"],
  );
  assert.deepEqual(needed("WITH r AS (FROM main.events) SELECT * FROM r"), ["main.events"]);
  // A name right after AS is an alias being defined, not a reference.
  assert.deepEqual(needed('SELECT count(*) AS requests, x AS "events" FROM main.policy_summary'), [
    "main.policy_summary",
  ]);
  assert.deepEqual(needed("SELECT CAST(x AS events) FROM tlb_flush AS requests"), [
    "tlb.tlb_flush",
  ]);
  // A column named like a table loads the table too.
  assert.deepEqual(needed("SELECT events FROM main.policy_summary"), [
    "main.policy_summary",
    "main.events",
  ]);
});

Deno.test("sqlTableNeeds: catalog queries and indirect names need everything", () => {
  for (
    const sql of [
      "SELECT * FROM information_schema.tables",
      "SELECT * FROM INFORMATION_SCHEMA.columns WHERE table_name = 'requests'",
      'SELECT * FROM "information_schema"."tables"',
      "SELECT * FROM duckdb_tables()",
      "FROM duckdb_columns() WHERE schema_name = 'main'",
      "SELECT * FROM pg_catalog.pg_tables",
      "SELECT * FROM sqlite_master",
      "SHOW TABLES",
      "show all tables",
      "DESCRIBE",
      "describe;",
      "SELECT * FROM (SHOW TABLES)",
      "SUMMARIZE main",
      "DESCRIBE tlb",
      "PRAGMA show_tables",
      "SELECT * FROM pragma_table_info('main.requests')",
      "CALL pragma_storage_info('requests')",
      "SELECT * FROM query_table('main.' || 'requests')",
      "SELECT * FROM query('SELECT * FROM requests')",
      "EXPORT DATABASE 'x'",
    ]
  ) {
    const n = sqlTableNeeds(sql);
    if (sql === "SUMMARIZE main" || sql === "DESCRIBE tlb") {
      // A schema after SHOW/DESCRIBE/SUMMARIZE: that schema's tables.
      assert.equal(n.all, false, sql);
      const want = sql.endsWith("main")
        ? ALL.filter((t) => t.startsWith("main."))
        : ["tlb.tlb_flush"];
      assert.deepEqual(needed(sql), want, sql);
      continue;
    }
    assert.equal(n.all, true, sql);
    assert.ok(n.reason, sql);
    assert.deepEqual(needed(sql), ALL, sql);
  }
  // Describing one table, or a query, needs only what it names.
  assert.deepEqual(needed("DESCRIBE main.requests"), ["main.requests"]);
  assert.deepEqual(needed("SUMMARIZE SELECT * FROM events"), ["main.events"]);
  assert.deepEqual(needed("FROM (DESCRIBE tlb.tlb_flush)"), ["tlb.tlb_flush"]);
  assert.deepEqual(needed("DESC main.requests"), ["main.requests"]);
  // DESC in ORDER BY is not DESCRIBE; `query` as a column is not query().
  assert.deepEqual(needed("SELECT query FROM requests ORDER BY 1 DESC"), ["main.requests"]);
  // Catalog words inside strings or comments do not count.
  assert.equal(sqlTableNeeds("SELECT 'information_schema' -- SHOW TABLES").all, false);
});

Deno.test("needsTable matches case-insensitively", () => {
  const n = sqlTableNeeds("SELECT * FROM Main.Requests");
  assert.ok(needsTable(n, "MAIN", "REQUESTS"));
  assert.ok(!needsTable(n, "main", "events"));
});

Deno.test("statementCount ignores empty statements, strings and comments", () => {
  assert.equal(statementCount(""), 0);
  assert.equal(statementCount(" ; ;"), 0);
  assert.equal(statementCount("SELECT 1"), 1);
  assert.equal(statementCount("SELECT ';' -- ;\n;"), 1);
  assert.equal(statementCount("SELECT 1; SELECT 2"), 2);
});
