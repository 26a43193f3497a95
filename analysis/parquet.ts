/**
 * Parquet from Arrow IPC bytes, offline.
 *
 * duckdb-wasm ships without its `parquet` extension and would fetch it from the network, so the
 * embedded engine writes Parquet through `parquet-wasm` (Rust's parquet crate compiled to wasm,
 * loaded from the npm package in Deno's cache). Only IPC bytes cross the boundary.
 *
 * @module
 */
import init, * as pw from "parquet-wasm/esm";

let ready: Promise<void> | null = null;

function load(): Promise<void> {
  if (ready === null) {
    ready = (async () => {
      const url = new URL(import.meta.resolve("parquet-wasm/esm/parquet_wasm_bg.wasm"));
      if (url.protocol !== "file:") {
        throw new Error(`parquet-wasm must come from a local npm cache, got ${url.href}`);
      }
      await init({ module_or_path: await Deno.readFile(url) });
    })();
  }
  return ready;
}

/**
 * Encodes an Arrow IPC stream as a Parquet file (zstd-compressed row groups).
 *
 * @param ipc one Arrow IPC stream
 * @returns the Parquet file bytes
 * @example
 * ```ts
 * import { ipcToParquet } from "./parquet.ts";
 * import { rowsToIPC } from "../core/arrow.ts";
 * import { defineTable } from "../core/schema.ts";
 * const spec = defineTable({
 *   schema: "main", name: "t", doc: "d", columns: [{ name: "x", type: "u64", doc: "x" }],
 * });
 * const pq = await ipcToParquet(rowsToIPC(spec, [{ x: 1n }]));
 * console.assert(new TextDecoder().decode(pq.subarray(0, 4)) === "PAR1");
 * ```
 */
export async function ipcToParquet(ipc: Uint8Array): Promise<Uint8Array> {
  await load();
  const table = pw.Table.fromIPCStream(ipc);
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
  return pw.writeParquet(table, props);
}

/**
 * Decodes a Parquet file into one Arrow IPC stream (used to check exports).
 *
 * @param parquet Parquet file bytes
 * @returns an Arrow IPC stream
 */
export async function parquetToIPC(parquet: Uint8Array): Promise<Uint8Array> {
  await load();
  return pw.readParquet(parquet).intoIPCStream();
}
