/**
 * Worker that encodes finished raw-table batches as Arrow IPC streams and appends them to their
 * `.arrows` files, so the ingest thread only decodes. Messages are {@linkcode ToWorker}; every
 * batch is acknowledged on the shared counter of `init` (the ingest thread reads it to recycle
 * memory and for back-pressure) and with `done` (which wakes it when it waits), the first
 * failure with `error` (later batches are dropped, still acknowledged), `end` with `ended` once
 * every file is closed. A batch's columns view shared memory that carries a later batch once its
 * `done` is received.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { Schema } from "apache-arrow";
import { encodeBatchChunks } from "./raw_tables.ts";
import { writeAll, writeChunks } from "./write_chunks.ts";
import { errorToWire, type FromWorker, schemaFromDesc, type ToWorker } from "./batch_wire.ts";

const files = new Map<string, Deno.FsFile>();
const schemas = new Map<string, Schema>();
let failed = false;
/** Where the small pieces of a batch's stream are gathered before they are written. */
const scratch = new Uint8Array(1 << 20);
/** Messages finished, shared with the ingest thread (it recycles their memory). */
let done: Int32Array | null = null;

function post(m: FromWorker): void {
  self.postMessage(m);
}

function fileOf(key: string, dir: string, rel: string): Deno.FsFile {
  let f = files.get(key);
  if (!f) {
    const slash = rel.lastIndexOf("/");
    if (slash > 0) Deno.mkdirSync(`${dir}/${rel.slice(0, slash)}`, { recursive: true });
    f = Deno.openSync(`${dir}/${rel}`, { write: true, create: true, truncate: true });
    files.set(key, f);
  }
  return f;
}

function closeAll(): void {
  for (const f of files.values()) {
    try {
      f.close();
    } catch {
      // already closed
    }
  }
  files.clear();
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.t === "init") {
    done = m.done;
    return;
  }
  if (m.t === "end") {
    closeAll();
    post({ t: "ended" });
    return;
  }
  let bytes = 0;
  if (!failed) {
    try {
      if (m.t === "bytes") {
        bytes = m.ipc.length;
        writeAll(fileOf(m.key, m.dir, m.rel), m.ipc);
      } else {
        let s = schemas.get(m.key);
        if (!s) {
          if (!m.schema) throw new Error(`no schema for ${m.key}`);
          s = schemaFromDesc(m.schema);
          schemas.set(m.key, s);
        }
        const { chunks, size } = encodeBatchChunks(s, m.length, m.columns);
        bytes = size;
        // Small pieces gathered in a buffer kept from batch to batch, the column buffers (shared
        // memory) written as they are: joining all in a new buffer per batch costs a copy and
        // its page faults.
        writeChunks(fileOf(m.key, m.dir, m.rel), chunks, scratch);
      }
    } catch (e) {
      failed = true;
      post({ t: "error", error: errorToWire(e) });
    }
  }
  if (done) Atomics.add(done, 0, 1);
  post({ t: "done", bytes });
};
