/**
 * Test helper: an Arrow IPC batch as text (schema types without dictionary ids, every buffer of
 * every column), to compare the output of two table builders made in one process: Arrow numbers
 * dictionary types in the order a process makes them, so their bytes differ in those ids only.
 *
 * @module
 */
import { type Data, tableFromIPC } from "apache-arrow";

/**
 * The text of one IPC stream.
 *
 * @param ipc the stream
 * @returns its rows, types and buffers, one line per column
 */
export function batchText(ipc: Uint8Array): string {
  const t = tableFromIPC(ipc);
  const out: string[] = [`rows ${t.numRows}`];
  const bytes = (a: ArrayBufferView | null | undefined) =>
    a ? Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).join(",") : "-";
  const data = (d: Data): string =>
    [
      String(d.type).replace(/id=\d+/, ""),
      d.length,
      d.nullCount,
      bytes(d.nullBitmap),
      bytes(d.values),
      bytes(d.valueOffsets),
      d.dictionary ? JSON.stringify(d.dictionary.toArray()) : "-",
      ...d.children.map(data),
    ].join(" ");
  for (const f of t.schema.fields) {
    for (const d of t.getChild(f.name)!.data) out.push(`${f.name}: ${data(d)}`);
  }
  return out.join("\n");
}
