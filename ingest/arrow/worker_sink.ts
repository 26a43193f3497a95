/**
 * An {@linkcode IpcSink} that hands finished batches (their buffers transferred, not copied) to a
 * worker which encodes them as Arrow IPC streams and writes the `.arrows` files, so the ingest
 * thread keeps decoding on one core while the other encodes and writes.
 *
 * Memory stays bounded: when the worker is more than `maxBatches` batches or `maxBytes` bytes
 * behind, {@linkcode WorkerIpcSink.backpressure} returns a promise the reader awaits. A failure in
 * the worker (a write error, an encoding error, the worker dying) rejects that promise and
 * {@linkcode WorkerIpcSink.close} with an error of the same class as it was thrown with.
 *
 * @module
 */
import type { BatchParts, IpcSink } from "./raw_tables.ts";
import { type ColumnParts, packedSize, packParts } from "./columns.ts";
import {
  errorFromWire,
  type FromWorker,
  type SchemaDesc,
  schemaDesc,
  type ToWorker,
} from "./batch_wire.ts";

/** Options of {@linkcode WorkerIpcSink}. */
export interface WorkerSinkOptions {
  /** Most batches posted and not yet written before the reader waits (default 8). */
  maxBatches?: number;
  /** Most bytes of batches posted and not yet written before the reader waits (default 64 MiB). */
  maxBytes?: number;
  /** The worker module (default `ipc_write_worker.ts`; tests pass others). */
  workerUrl?: URL;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Writes a trace's tables into a directory through a worker. */
export class WorkerIpcSink implements IpcSink {
  readonly #worker: Worker;
  readonly #maxBatches: number;
  readonly #maxBytes: number;
  /** Sizes of the batches posted and not yet acknowledged, oldest first. */
  readonly #sizes: number[] = [];
  #head = 0;
  #bytes = 0;
  #failure: Error | null = null;
  #waiters: Waiter[] = [];
  #end: Waiter | null = null;
  #alive = true;
  /** `schema.table` -> file relative to the directory. */
  readonly #rels = new Map<string, string>();
  readonly #schemas = new WeakSet<object>();
  /** The shared buffer of each batch posted and not yet acknowledged (null: none), as `#sizes`. */
  readonly #bufs: (SharedArrayBuffer | null)[] = [];
  /** Messages the worker has finished, counted by the worker (`Atomics`). */
  readonly #done = new Int32Array(new SharedArrayBuffer(4));
  /** Messages taken in by `#sync`. */
  #acked = 0;
  /** Shared buffers the worker is done with, to carry later batches. */
  readonly #pool: SharedArrayBuffer[] = [];

  /**
   * @param dir output directory (exists)
   * @param fileName the file of a table, relative to `dir` (`<dir>/<file>`: created by the worker)
   * @param opts limits, worker module
   */
  constructor(
    readonly dir: string,
    readonly fileName: (schema: string, table: string) => string,
    opts: WorkerSinkOptions = {},
  ) {
    this.#maxBatches = Math.max(1, opts.maxBatches ?? 8);
    this.#maxBytes = Math.max(1, opts.maxBytes ?? 64 << 20);
    this.#worker = new Worker(opts.workerUrl ?? new URL("./ipc_write_worker.ts", import.meta.url), {
      type: "module",
    });
    this.#worker.postMessage({ t: "init", done: this.#done } satisfies ToWorker);
    this.#worker.onmessage = (ev: MessageEvent<FromWorker>) => this.#onMessage(ev.data);
    this.#worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#fail(new Error(`the Arrow writer worker stopped: ${ev.message}`));
    };
    this.#worker.onmessageerror = () => {
      this.#fail(new Error("the Arrow writer worker sent a message that could not be read"));
    };
  }

  /** The file of a table written so far (relative to the directory), if any. */
  fileOf(schema: string, table: string): string | undefined {
    return this.#rels.get(`${schema}.${table}`);
  }

  #rel(schema: string, table: string): { key: string; rel: string; first: boolean } {
    const key = `${schema}.${table}`;
    let rel = this.#rels.get(key);
    const first = rel === undefined;
    if (rel === undefined) {
      rel = this.fileName(schema, table);
      this.#rels.set(key, rel);
    }
    return { key, rel, first };
  }

  #onMessage(m: FromWorker): void {
    switch (m.t) {
      case "done":
        this.#sync();
        if (!this.#behind()) {
          const w = this.#waiters;
          this.#waiters = [];
          for (const x of w) x.resolve();
        }
        return;
      case "error":
        this.#fail(errorFromWire(m.error));
        return;
      case "ended": {
        const e = this.#end;
        this.#end = null;
        if (!e) return;
        if (this.#failure) e.reject(this.#failure);
        else e.resolve();
        return;
      }
    }
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    const w = this.#waiters;
    this.#waiters = [];
    for (const x of w) x.reject(this.#failure);
    if (this.#end) {
      // No `ended` follows a dead worker; after an `error` one does, but the failure is known.
      const end = this.#end;
      this.#end = null;
      end.reject(this.#failure);
    }
  }

  /**
   * Takes in the batches the worker has finished (its shared counter, read without waiting for
   * its `done` messages, which arrive only when this thread yields): their memory goes back to the
   * pool and stops counting as in flight.
   */
  #sync(): void {
    const done = Atomics.load(this.#done, 0);
    while (this.#acked < done) {
      const buf = this.#bufs[this.#head];
      this.#bufs[this.#head] = null;
      if (buf && this.#pool.length < this.#maxBatches + 2) this.#pool.push(buf);
      this.#bytes -= this.#sizes[this.#head] ?? 0;
      this.#head++;
      this.#acked++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#sizes.length) {
      this.#sizes.splice(0, this.#head);
      this.#bufs.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #behind(): boolean {
    return this.#sizes.length - this.#head > this.#maxBatches || this.#bytes > this.#maxBytes;
  }

  #post(m: ToWorker, size: number, buf: SharedArrayBuffer | null): void {
    if (this.#failure || !this.#alive) return;
    this.#sizes.push(size);
    this.#bufs.push(buf);
    this.#bytes += size;
    this.#worker.postMessage(m);
  }

  write(schema: string, table: string, ipc: Uint8Array): void {
    const { key, rel } = this.#rel(schema, table);
    this.#post({ t: "bytes", key, rel, dir: this.dir, ipc }, ipc.length, null);
  }

  writeParts(schema: string, table: string, b: BatchParts): void {
    const { key, rel } = this.#rel(schema, table);
    let desc: SchemaDesc | null = null;
    if (!this.#schemas.has(b.schema)) {
      desc = schemaDesc(b.schema);
      this.#schemas.add(b.schema);
    }
    // One copy of the batch into a shared buffer of its own (the builders reuse theirs for the
    // next rows), reused once the worker is done with it. Posting views of shared memory copies
    // nothing (transferring ArrayBuffers cost milliseconds per batch).
    let size = 0;
    for (const c of b.columns) size += packedSize(c);
    const buf = this.#buffer(size);
    const columns: ColumnParts[] = [];
    let at = 0;
    for (const c of b.columns) {
      const [q, next] = packParts(c, buf, at);
      columns.push(q);
      at = next;
    }
    this.#post(
      { t: "batch", key, rel, dir: this.dir, schema: desc, length: b.length, columns },
      size,
      buf,
    );
  }

  /** A buffer of at least `size` bytes: the smallest big enough in the pool, or a new one. */
  #buffer(size: number): SharedArrayBuffer {
    this.#sync();
    const pool = this.#pool;
    let best = -1;
    for (let i = 0; i < pool.length; i++) {
      const l = pool[i]!.byteLength;
      if (l >= size && (best < 0 || l < pool[best]!.byteLength)) best = i;
    }
    if (best >= 0) {
      const b = pool[best]!;
      pool[best] = pool[pool.length - 1]!;
      pool.pop();
      return b;
    }
    let n = 1 << 16;
    while (n < size) n *= 2;
    return new SharedArrayBuffer(n);
  }

  backpressure(): Promise<void> | null {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#sync();
    if (!this.#behind()) return null;
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /**
   * Waits until every batch is written and the files are closed, then stops the worker.
   *
   * @throws the worker's first failure, as the class it was thrown with
   */
  async close(): Promise<void> {
    try {
      if (this.#failure) throw this.#failure;
      const done = new Promise<void>((resolve, reject) => (this.#end = { resolve, reject }));
      this.#worker.postMessage({ t: "end" } satisfies ToWorker);
      await done;
      if (this.#failure) throw this.#failure;
    } finally {
      this.dispose();
    }
  }

  /** Stops the worker now (batches not yet written are lost). Safe to call more than once. */
  dispose(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#worker.terminate();
  }
}
