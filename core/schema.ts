/**
 * Table schemas declared once, as data.
 *
 * Every table the toolkit writes (canonical IOMMU tables, replay results, the events index)
 * is declared with {@linkcode defineTable}. The Arrow schema, the DuckDB DDL and the README's
 * table reference are all generated from that one declaration.
 *
 * @module
 */

/** Logical column types. `utf8` columns are dictionary-encoded in Arrow. */
export type ColumnType =
  | "i8"
  | "u8"
  | "i16"
  | "u16"
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "f64"
  | "bool"
  | "utf8"
  | "list<i64>"
  | "list<u64>"
  | "list<i32>"
  | "list<u32>"
  | "list<f64>";

/** One column of a declared table. */
export interface ColumnSpec {
  /** Column name (snake_case). */
  readonly name: string;
  /** Logical type. */
  readonly type: ColumnType;
  /** One-line description shown in docs. */
  readonly doc: string;
  /** True when the value may be unknown (null). Unknown facts stay null, never guessed. */
  readonly nullable?: boolean;
}

/** A declared table. */
export interface TableSpec {
  /** DuckDB schema (`main` for the toolkit's own tables, the trace system for raw tables). */
  readonly schema: string;
  /** Table name. */
  readonly name: string;
  /** What one row is. */
  readonly doc: string;
  /** Columns in order. */
  readonly columns: readonly ColumnSpec[];
}

/**
 * Declares a table.
 *
 * @param spec the declaration
 * @returns the same declaration, frozen
 * @example
 * ```ts
 * import { defineTable, duckdbType } from "./schema.ts";
 * const t = defineTable({
 *   schema: "main",
 *   name: "demo",
 *   doc: "one row per demo",
 *   columns: [{ name: "ts", type: "i64", doc: "time (ns)" }],
 * });
 * console.assert(duckdbType(t.columns[0]!.type) === "BIGINT");
 * ```
 */
export function defineTable(spec: TableSpec): TableSpec {
  const seen = new Set<string>();
  for (const c of spec.columns) {
    if (seen.has(c.name)) throw new Error(`table ${spec.name}: duplicate column ${c.name}`);
    seen.add(c.name);
  }
  return Object.freeze({ ...spec, columns: Object.freeze([...spec.columns]) });
}

const DUCK: Record<ColumnType, string> = {
  i8: "TINYINT",
  u8: "UTINYINT",
  i16: "SMALLINT",
  u16: "USMALLINT",
  i32: "INTEGER",
  u32: "UINTEGER",
  i64: "BIGINT",
  u64: "UBIGINT",
  f64: "DOUBLE",
  bool: "BOOLEAN",
  utf8: "VARCHAR",
  "list<i64>": "BIGINT[]",
  "list<u64>": "UBIGINT[]",
  "list<i32>": "INTEGER[]",
  "list<u32>": "UINTEGER[]",
  "list<f64>": "DOUBLE[]",
};

/**
 * The DuckDB type of a logical column type.
 *
 * @param t logical type
 * @returns DuckDB SQL type name
 * @example
 * ```ts
 * import { duckdbType } from "./schema.ts";
 * console.assert(duckdbType("u64") === "UBIGINT");
 * ```
 */
export function duckdbType(t: ColumnType): string {
  return DUCK[t];
}

/**
 * Markdown reference of the given tables (used to generate the README's table reference).
 *
 * @param tables declared tables
 * @returns markdown text
 * @example
 * ```ts
 * import { defineTable, tablesMarkdown } from "./schema.ts";
 * const md = tablesMarkdown([
 *   defineTable({ schema: "main", name: "x", doc: "d", columns: [{ name: "a", type: "u8", doc: "a" }] }),
 * ]);
 * console.assert(md.includes("`main.x`"));
 * ```
 */
export function tablesMarkdown(tables: readonly TableSpec[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push(`### \`${t.schema}.${t.name}\`\n\n${t.doc}\n`);
    out.push("| column | type | description |", "|---|---|---|");
    for (const c of t.columns) {
      out.push(
        `| \`${c.name}\` | ${duckdbType(c.type)}${c.nullable ? " (nullable)" : ""} | ${c.doc} |`,
      );
    }
    out.push("");
  }
  return out.join("\n");
}
