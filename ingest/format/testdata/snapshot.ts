/**
 * Test data loaders: the event formats of a Linux 6.18 machine (`formats_6.18.txt.gz`, one
 * `### system` line before each format file) and the libtraceevent vectors
 * (`tep_vectors.json.gz`, made by `make_tep_vectors.ts`).
 *
 * @module
 */
import type { FieldValue } from "../../../core/event.ts";

/** One format file of the snapshot. */
export interface SnapshotFormat {
  /** Trace system (directory under `events/`). */
  system: string;
  /** The format file's text. */
  text: string;
}

async function gunzip(url: URL): Promise<string> {
  const bytes = await Deno.readFile(url);
  const stream = new Blob([bytes]).stream().pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
  return await new Response(stream).text();
}

/**
 * Loads the format snapshot.
 *
 * @returns the formats in file order
 */
export async function loadFormatSnapshot(): Promise<SnapshotFormat[]> {
  const text = await gunzip(new URL("./formats_6.18.txt.gz", import.meta.url));
  const out: SnapshotFormat[] = [];
  for (const block of text.split(/^### /m)) {
    if (!block) continue;
    const nl = block.indexOf("\n");
    out.push({ system: block.slice(0, nl), text: block.slice(nl + 1) });
  }
  return out;
}

/** One libtraceevent vector: decoded fields and what trace-cmd prints for them. */
export interface TepVector {
  /** `system:event`. */
  event: string;
  /** Own fields as the decoder produces them. */
  fields: Record<string, FieldValue>;
  /** `trace-cmd report -N` payload (trailing newline removed). */
  p: string;
  /** `trace-cmd report -R` payload. */
  r: string;
}

/** The vector file. */
export interface TepVectors {
  /** kallsyms the vectors were printed with. */
  funcs: [bigint, string][];
  /** printk formats (as the printk table spells them, without quotes). */
  printk: [bigint, string][];
  /** Extra format files (bprint tests) by `system:event`. */
  formats: Record<string, string>;
  vectors: TepVector[];
}

/**
 * JSON encoding with bigints as `{"b": "123"}`.
 *
 * @param v value
 * @returns JSON text
 */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? { b: x.toString() } : x));
}

/**
 * Parses {@linkcode toJson} output.
 *
 * @param text JSON text
 * @returns the value with bigints restored
 */
export function fromJson<T>(text: string): T {
  return JSON.parse(
    text,
    (_k, x) =>
      x !== null && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length === 1 &&
        typeof x.b === "string"
        ? BigInt(x.b)
        : x,
  ) as T;
}

/**
 * Loads the libtraceevent vectors.
 *
 * @returns the vectors
 */
export async function loadTepVectors(): Promise<TepVectors> {
  return fromJson<TepVectors>(await gunzip(new URL("./tep_vectors.json.gz", import.meta.url)));
}
