/**
 * What the ingest thread and its Arrow writer worker (see `ipc_write_worker.ts`) send each other:
 * table schemas as plain descriptions, finished batches as column parts (buffers transferred),
 * and errors as their class name and fields so they are thrown again with the same type.
 *
 * @module
 */
import { DataType, Dictionary, Field, Int32, List, Schema, Utf8 } from "apache-arrow";
import { TraceError, type TraceErrorCode, type TraceLocation } from "../../core/errors.ts";
import { type ColumnParts, intKind } from "./columns.ts";

/** A column type the raw tables use: integer, string dictionary or list of integers. */
export type TypeDesc =
  | { k: "int"; bytes: number; signed: boolean }
  | { k: "dict"; id: number; ordered: boolean }
  | { k: "list"; item: string; nullable: boolean; of: TypeDesc };

/** A table schema: field names and types (every field nullable, no metadata). */
export interface SchemaDesc {
  names: string[];
  types: TypeDesc[];
}

/** The description of an Arrow type the raw tables use. */
export function typeDesc(t: DataType): TypeDesc {
  if (DataType.isInt(t)) return { k: "int", bytes: t.bitWidth / 8, signed: t.isSigned };
  if (DataType.isDictionary(t)) {
    if (!DataType.isUtf8(t.dictionary) || !DataType.isInt(t.indices) || t.indices.bitWidth !== 32) {
      throw new Error(`no wire form for ${t}`);
    }
    return { k: "dict", id: t.id, ordered: t.isOrdered };
  }
  if (DataType.isList(t)) {
    const f = (t as List).children[0]!;
    return { k: "list", item: f.name, nullable: f.nullable, of: typeDesc(f.type) };
  }
  throw new Error(`no wire form for ${t}`);
}

/** The Arrow type of a description (dictionary ids kept, so the IPC bytes are the same). */
export function typeFromDesc(d: TypeDesc): DataType {
  switch (d.k) {
    case "int":
      return intKind(d.bytes, d.signed).type;
    case "dict":
      return new Dictionary(new Utf8(), new Int32(), d.id, d.ordered);
    case "list":
      return new List(new Field(d.item, typeFromDesc(d.of), d.nullable));
  }
}

/** The description of a raw table's schema. */
export function schemaDesc(s: Schema): SchemaDesc {
  for (const f of s.fields) {
    if (!f.nullable || f.metadata.size > 0) throw new Error(`no wire form for field ${f.name}`);
  }
  if (s.metadata.size > 0) throw new Error("no wire form for schema metadata");
  return { names: s.fields.map((f) => f.name), types: s.fields.map((f) => typeDesc(f.type)) };
}

/** The schema of a description. */
export function schemaFromDesc(d: SchemaDesc): Schema {
  return new Schema(d.names.map((n, i) => new Field(n, typeFromDesc(d.types[i]!), true)));
}

/** An error as data (structured clone keeps neither the class nor own fields). */
export interface WireError {
  name: string;
  message: string;
  code?: TraceErrorCode;
  reason?: string;
  location?: TraceLocation;
}

/** The data of an error thrown in the worker. */
export function errorToWire(e: unknown): WireError {
  if (e instanceof TraceError) {
    return {
      name: e.name,
      message: e.message,
      code: e.code,
      reason: e.reason,
      location: e.location,
    };
  }
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

/**
 * The error of its data, of the class it was thrown as: `TraceError`, a `Deno.errors` class
 * (`NotFound`, `PermissionDenied`, `IsADirectory`, ...) or a built-in error class.
 */
export function errorFromWire(w: WireError): Error {
  if (w.name === "TraceError" && w.code && w.location) {
    return new TraceError(w.code, w.reason ?? w.message, w.location);
  }
  const deno = (Deno.errors as unknown as Record<string, new (m: string) => Error>)[w.name];
  if (typeof deno === "function") return new deno(w.message);
  const builtin: Record<string, new (m: string) => Error> = {
    TypeError,
    RangeError,
    SyntaxError,
    ReferenceError,
    URIError,
    EvalError,
  };
  const C = builtin[w.name];
  const e = C ? new C(w.message) : new Error(w.message);
  if (!C && w.name !== "Error") e.name = w.name;
  return e;
}

/** Ingest thread -> worker. */
export type ToWorker =
  /** First message: a shared counter the worker increments after each `batch` or `bytes`. */
  | { t: "init"; done: Int32Array }
  | {
    t: "batch";
    /** The table (`schema.table`): one open file each. */
    key: string;
    /** Output file, relative to `dir`. */
    rel: string;
    /** Output directory (created on the first batch of a file). */
    dir: string;
    /** The table's schema: on its first batch only. */
    schema: SchemaDesc | null;
    length: number;
    /** The columns, viewing shared memory the worker reads before its `done`. */
    columns: ColumnParts[];
  }
  | { t: "bytes"; key: string; rel: string; dir: string; ipc: Uint8Array }
  | { t: "end" };

/** Worker -> ingest thread. */
export type FromWorker =
  | { t: "done"; bytes: number }
  | { t: "error"; error: WireError }
  | { t: "ended" };
