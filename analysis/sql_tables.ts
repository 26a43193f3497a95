/**
 * Which tables a SQL text can read, so a dataset loads only those (see `cli/dataset.ts`).
 *
 * The answer is conservative: loading a table too many costs time, loading one too few gives a
 * wrong answer or an error. A table is needed when its name, or `schema.name`, appears as an
 * identifier token anywhere in the SQL (case-insensitive, quoted or not; schema-qualified names
 * match by their last part too). Text inside comments and string literals does not count, nor a
 * name right after `AS` (an alias being defined, as in `count(*) AS requests`). A CTE or alias
 * that shadows a table name and is then used loads the table (an over-load, never a wrong result).
 *
 * Everything is needed when the SQL inspects the catalog or names tables in a way no identifier
 * shows: `information_schema`, `pg_catalog`, `duckdb_*()` and `pragma_*()` functions, `PRAGMA`,
 * `SHOW`/`DESCRIBE`/`SUMMARIZE` of no table or of a schema (`DESCRIBE`, `SHOW TABLES`,
 * `SHOW ALL TABLES`), `query(...)`/`query_table(...)` (table names inside strings), `CALL`,
 * `EXPORT DATABASE`/`COPY FROM DATABASE`.
 *
 * @module
 */

/** Kinds of {@linkcode SQLToken}. */
export type SQLTokenKind = "ident" | "quoted" | "string" | "number" | "param" | "punct";

/** One token of a SQL text. */
export interface SQLToken {
  /** What it is. */
  kind: SQLTokenKind;
  /**
   * `ident`: the identifier, lower-cased; `quoted`: the identifier between double quotes
   * (`""` undoubled), lower-cased; `string`: the literal's raw text; `punct`: the character;
   * others: the raw text.
   */
  text: string;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;

/**
 * Splits SQL into tokens, dropping whitespace and comments.
 *
 * Handles `--` and `/* ... *\/` comments (a block comment ends at its first `*\/`, so text
 * after a nested comment counts as code: an over-load at worst), `'...'` strings with `''`,
 * `E'...'` strings with backslash escapes, `$$...$$` and `$tag$...$tag$` strings, and
 * `"..."` identifiers with `""`. An unterminated string or comment runs to the end.
 *
 * @param sql SQL text
 * @returns the tokens, in order
 * @example
 * ```ts
 * import { tokenizeSQL } from "./sql_tables.ts";
 * const t = tokenizeSQL(`SELECT 'x' FROM "Main".t -- c`);
 * console.assert(t.map((x) => x.text).join(" ") === "select 'x' from main . t");
 * ```
 */
export function tokenizeSQL(sql: string): SQLToken[] {
  const out: SQLToken[] = [];
  const n = sql.length;
  let i = 0;
  /** Index after a quoted run starting at `start` (the opening quote), `q` doubled inside. */
  const quoted = (start: number, q: string, backslash: boolean): number => {
    let j = start + 1;
    while (j < n) {
      const c = sql[j]!;
      if (backslash && c === "\\") {
        j += 2;
        continue;
      }
      if (c === q) {
        if (sql[j + 1] === q) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return n;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const e = sql.indexOf("\n", i);
      i = e < 0 ? n : e + 1;
    } else if (c === "/" && sql[i + 1] === "*") {
      const e = sql.indexOf("*/", i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === "'") {
      const e = quoted(i, "'", false);
      out.push({ kind: "string", text: sql.slice(i, e) });
      i = e;
    } else if (c === '"') {
      const e = quoted(i, '"', false);
      const inner = sql.slice(i + 1, sql[e - 1] === '"' && e - 1 > i ? e - 1 : e);
      out.push({ kind: "quoted", text: inner.replaceAll('""', '"').toLowerCase() });
      i = e;
    } else if (c === "$") {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 130));
      if (m) {
        const e = sql.indexOf(m[0], i + m[0].length);
        const end = e < 0 ? n : e + m[0].length;
        out.push({ kind: "string", text: sql.slice(i, end) });
        i = end;
      } else {
        let j = i + 1;
        while (j < n && IDENT_PART.test(sql[j]!) && sql[j] !== "$") j++;
        out.push({ kind: "param", text: sql.slice(i, j) });
        i = j;
      }
    } else if (DIGIT.test(c) || (c === "." && DIGIT.test(sql[i + 1] ?? ""))) {
      let j = i;
      while (j < n && DIGIT.test(sql[j]!)) j++;
      if (sql[j] === "." && DIGIT.test(sql[j + 1] ?? "")) {
        j++;
        while (j < n && DIGIT.test(sql[j]!)) j++;
      }
      if ((sql[j] === "e" || sql[j] === "E") && /[0-9]|[+-][0-9]/.test(sql.slice(j + 1, j + 3))) {
        j += sql[j + 1] === "+" || sql[j + 1] === "-" ? 2 : 1;
        while (j < n && DIGIT.test(sql[j]!)) j++;
      }
      out.push({ kind: "number", text: sql.slice(i, j) });
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_PART.test(sql[j]!)) j++;
      const word = sql.slice(i, j);
      if ((word === "e" || word === "E") && sql[j] === "'") {
        const e = quoted(j, "'", true);
        out.push({ kind: "string", text: sql.slice(i, e) });
        i = e;
      } else {
        out.push({ kind: "ident", text: word.toLowerCase() });
        i = j;
      }
    } else {
      out.push({ kind: "punct", text: c });
      i++;
    }
  }
  return out;
}

/** What a SQL text needs loaded; see {@linkcode sqlTableNeeds}. */
export interface TableNeeds {
  /** Every table is needed. */
  readonly all: boolean;
  /** Why everything is needed (the construct found), when `all`. */
  readonly reason?: string;
  /** Identifier tokens of the SQL, lower-cased. */
  readonly names: ReadonlySet<string>;
  /** Names right after `SHOW`/`DESCRIBE`/`SUMMARIZE`: every table of a schema so named. */
  readonly schemas: ReadonlySet<string>;
}

/** Identifiers (or prefixes) that read the catalog. */
const CATALOG_NAMES = new Set(["information_schema", "pg_catalog"]);
const CATALOG_PREFIXES = ["duckdb_", "pragma_", "pg_", "sqlite_"];
/** Keywords whose statement needs everything wherever they appear. */
const ALL_KEYWORDS = new Set(["pragma", "call", "export", "database"]);
/** Functions that take table names or SQL as strings. */
const STRING_TABLE_FUNCTIONS = new Set(["query", "query_table"]);
/** Statements describing a relation; with no relation after them they list every table. */
const DESCRIBING = new Set(["show", "describe", "summarize"]);
/** Tokens after a describing keyword that start a query (its tables are named in it). */
const QUERY_START = new Set(["select", "from", "with", "values", "table", "("]);

/**
 * Works out which tables a SQL text (one or more statements) can read.
 *
 * @param sql SQL text
 * @returns the identifiers it uses, or `all` with the reason
 * @example
 * ```ts
 * import { needsTable, sqlTableNeeds } from "./sql_tables.ts";
 * const n = sqlTableNeeds("SELECT count(*) FROM main.policy_summary");
 * console.assert(needsTable(n, "main", "policy_summary") && !needsTable(n, "main", "requests"));
 * console.assert(sqlTableNeeds("SHOW TABLES").all);
 * ```
 */
export function sqlTableNeeds(sql: string): TableNeeds {
  const tokens = tokenizeSQL(sql);
  const names = new Set<string>();
  const schemas = new Set<string>();
  let reason: string | undefined;
  const all = (why: string) => {
    reason ??= why;
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== "ident" && t.kind !== "quoted") continue;
    const before = tokens[k - 1];
    // A name right after AS is being defined (column, table or CTE alias, a CAST's type); it
    // never refers to a table there.
    if (before?.kind === "ident" && before.text === "as") continue;
    names.add(t.text);
    if (CATALOG_NAMES.has(t.text) || CATALOG_PREFIXES.some((p) => t.text.startsWith(p))) {
      all(t.text);
    }
    if (t.kind !== "ident") continue;
    const next = tokens[k + 1];
    const prev = tokens[k - 1];
    const atStart = !prev || (prev.kind === "punct" && (prev.text === ";" || prev.text === "("));
    if (ALL_KEYWORDS.has(t.text)) all(t.text.toUpperCase());
    if (STRING_TABLE_FUNCTIONS.has(t.text) && next?.kind === "punct" && next.text === "(") {
      all(`${t.text}()`);
    }
    if (DESCRIBING.has(t.text) || (t.text === "desc" && atStart)) {
      if (!next || (next.kind === "punct" && (next.text === ";" || next.text === ")"))) {
        all(t.text.toUpperCase());
      } else if (next.kind === "ident" && (next.text === "tables" || next.text === "all")) {
        all(`${t.text.toUpperCase()} ${next.text.toUpperCase()}`);
      } else if (
        (next.kind === "ident" || next.kind === "quoted") && !QUERY_START.has(next.text) &&
        !(tokens[k + 2]?.kind === "punct" && tokens[k + 2]!.text === ".")
      ) {
        schemas.add(next.text);
      }
    }
  }
  return reason === undefined
    ? { all: false, names, schemas }
    : { all: true, reason, names, schemas };
}

/**
 * Whether a table is needed.
 *
 * @param needs from {@linkcode sqlTableNeeds}
 * @param schema the table's schema
 * @param name the table's name
 * @returns true when the table must be loaded
 */
export function needsTable(needs: TableNeeds, schema: string, name: string): boolean {
  const s = schema.toLowerCase();
  const t = name.toLowerCase();
  return needs.all || needs.names.has(t) || needs.names.has(`${s}.${t}`) || needs.schemas.has(s);
}

/**
 * A table filter (as the dataset loaders take) for a SQL text.
 *
 * @param sql SQL text
 * @returns `(schema, name) => needed`
 */
export function tableFilterForSQL(sql: string): (schema: string, name: string) => boolean {
  const needs = sqlTableNeeds(sql);
  return (schema, name) => needsTable(needs, schema, name);
}

/**
 * Counts the statements of a SQL text (empty ones between semicolons do not count).
 *
 * @param sql SQL text
 * @returns statements
 * @example
 * ```ts
 * import { statementCount } from "./sql_tables.ts";
 * console.assert(statementCount("SELECT ';'; -- x;\nSELECT 2;") === 2);
 * ```
 */
export function statementCount(sql: string): number {
  let count = 0;
  let inStatement = false;
  for (const t of tokenizeSQL(sql)) {
    if (t.kind === "punct" && t.text === ";") inStatement = false;
    else if (!inStatement) {
      inStatement = true;
      count++;
    }
  }
  return count;
}
