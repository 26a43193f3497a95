/**
 * Splitting a concatenation of Arrow IPC streams into its streams.
 *
 * A table's `.arrows` file (see `dataset.ts`) is one or more complete IPC streams written back
 * to back, each starting with its schema message and ending with an end-of-stream marker. DuckDB
 * takes one stream per insert, so the loader walks the message framing (length prefix, the
 * `Message` flatbuffer's header type and body length) without decoding any column, and hands
 * each stream over as its own buffer. Files are read in chunks: memory holds one stream.
 *
 * @module
 */
import { TraceError } from "../core/errors.ts";

/** One complete IPC stream cut out of a larger input. */
export interface IPCStreamPiece {
  /** The stream's bytes (schema message ... end-of-stream marker), in a buffer of its own. */
  bytes: Uint8Array;
  /** Byte offset of the stream in the input. */
  offset: number;
  /** Record batches in the stream. */
  batches: number;
  /** Rows over all record batches. */
  rows: number;
}

const CONTINUATION = 0xffffffff;
/** "ARRO" read as a little-endian u32: the start of the IPC *file* format's magic. */
const ARROW1_LE = 0x4f525241;
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
/** Largest metadata flatbuffer accepted (real ones are a few KiB). */
const MAX_METADATA = 64 << 20;
/** Largest message body accepted (one record batch). */
const MAX_BODY = 2 ** 40;

const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY = 2;
const HEADER_RECORD_BATCH = 3;

interface MessageFacts {
  headerType: number;
  bodyLength: number;
  /** Rows of a record batch, 0 otherwise. */
  rows: number;
}

/**
 * Reads the facts the framing needs from a `Message` flatbuffer, with bounds checks.
 * Message fields: 0 version, 1 header type, 2 header, 3 bodyLength; RecordBatch field 0 length.
 */
function readMessage(
  buf: Uint8Array,
  start: number,
  len: number,
  fail: (why: string) => never,
): MessageFacts {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = start + len;
  const need = (p: number, n: number) => {
    if (p < start || p + n > end) fail("message metadata points outside itself");
  };
  const u32 = (p: number) => (need(p, 4), dv.getUint32(p, true));
  const i64 = (p: number) => {
    need(p, 8);
    const v = dv.getBigInt64(p, true);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`bad 64-bit length ${v}`);
    return Number(v);
  };
  const table = (p: number) => {
    const vt = p - (need(p, 4), dv.getInt32(p, true));
    need(vt, 4);
    const vtSize = dv.getUint16(vt, true);
    need(vt, vtSize);
    return (id: number): number => {
      const e = 4 + 2 * id;
      return e + 2 > vtSize ? 0 : dv.getUint16(vt + e, true);
    };
  };
  const root = start + u32(start);
  const field = table(root);
  const ht = field(1);
  const headerType = ht ? (need(root + ht, 1), dv.getUint8(root + ht)) : 0;
  const bl = field(3);
  const bodyLength = bl ? i64(root + bl) : 0;
  let rows = 0;
  const h = field(2);
  if (headerType === HEADER_RECORD_BATCH && h) {
    const hp = root + h;
    const rb = hp + u32(hp);
    const l = table(rb)(0);
    rows = l ? i64(rb + l) : 0;
  }
  return { headerType, bodyLength, rows };
}

/**
 * Incremental splitter: push chunks of a concatenation of IPC streams, get complete streams.
 *
 * @example
 * ```ts
 * import { IPCStreamSplitter } from "./ipc_streams.ts";
 * import { rowsToIPC } from "../core/arrow.ts";
 * import { defineTable } from "../core/schema.ts";
 * const spec = defineTable({
 *   schema: "main", name: "t", doc: "d", columns: [{ name: "x", type: "i32", doc: "x" }],
 * });
 * const a = rowsToIPC(spec, [{ x: 1 }]);
 * const b = rowsToIPC(spec, [{ x: 2 }, { x: 3 }]);
 * const s = new IPCStreamSplitter("t.arrows");
 * const got = [...s.push(a.subarray(0, 10)), ...s.push(a.subarray(10)), ...s.push(b), ...s.end()];
 * console.assert(got.length === 2 && got[1]!.rows === 2 && got[1]!.offset === a.length);
 * ```
 */
export class IPCStreamSplitter {
  #buf = new Uint8Array(1 << 16);
  #len = 0;
  /** Input offset of `#buf[0]`. */
  #base = 0;
  /** Start of the current stream in `#buf`. */
  #start = 0;
  /** Start of the next unread message in `#buf`. */
  #pos = 0;
  #messages = 0;
  #batches = 0;
  #rows = 0;
  #ended = false;

  /**
   * Creates a splitter.
   *
   * @param file name used in error messages
   */
  constructor(readonly file: string) {}

  #fail(
    code: "truncated" | "bad_size" | "bad_value" | "bad_magic",
    why: string,
    at: number,
  ): never {
    throw new TraceError(code, why, {
      file: this.file,
      section: "arrow ipc stream",
      offset: this.#base + at,
    });
  }

  #append(chunk: Uint8Array): void {
    if (this.#start > 0 && this.#len + chunk.length > this.#buf.length) {
      // Drop what was already handed out.
      this.#buf.copyWithin(0, this.#start, this.#len);
      this.#len -= this.#start;
      this.#pos -= this.#start;
      this.#base += this.#start;
      this.#start = 0;
    }
    if (this.#len + chunk.length > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < this.#len + chunk.length) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len += chunk.length;
  }

  #emit(end: number, addEOS: boolean): IPCStreamPiece {
    const n = end - this.#start;
    const bytes = new Uint8Array(n + (addEOS ? EOS.length : 0));
    bytes.set(this.#buf.subarray(this.#start, end));
    if (addEOS) bytes.set(EOS, n);
    const piece = {
      bytes,
      offset: this.#base + this.#start,
      batches: this.#batches,
      rows: this.#rows,
    };
    this.#start = end;
    this.#messages = 0;
    this.#batches = 0;
    this.#rows = 0;
    return piece;
  }

  /**
   * Feeds the next chunk of input.
   *
   * @param chunk bytes following the previous chunk
   * @returns the streams completed by this chunk, in order
   * @throws {TraceError} on a malformed message prefix or metadata (names file and offset)
   */
  push(chunk: Uint8Array): IPCStreamPiece[] {
    if (this.#ended) throw new TypeError("push after end");
    this.#append(chunk);
    const out: IPCStreamPiece[] = [];
    const buf = this.#buf;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (this.#len - this.#pos >= 4) {
      const p = this.#pos;
      let prefix = 4;
      let metaLen = dv.getUint32(p, true);
      if (metaLen === CONTINUATION) {
        if (this.#len - p < 8) break;
        prefix = 8;
        metaLen = dv.getUint32(p + 4, true);
      }
      if (this.#messages === 0 && metaLen === ARROW1_LE && this.#len - p >= 6) {
        if (buf[p + 4] === 0x57 && buf[p + 5] === 0x31) {
          this.#fail("bad_magic", "Arrow IPC file format (ARROW1), expected IPC streams", p);
        }
      }
      if (metaLen === 0) {
        // End-of-stream marker.
        if (this.#messages === 0) {
          this.#fail("bad_value", "end-of-stream marker without a schema", p);
        }
        this.#pos = p + prefix;
        out.push(this.#emit(this.#pos, false));
        continue;
      }
      if (metaLen > MAX_METADATA) {
        this.#fail("bad_size", `message metadata of ${metaLen} bytes is not plausible`, p);
      }
      if (this.#len - p < prefix + metaLen) break;
      const m = readMessage(
        buf,
        p + prefix,
        metaLen,
        (why) => this.#fail("bad_value", why, p),
      );
      if (m.bodyLength > MAX_BODY) {
        this.#fail("bad_size", `message body of ${m.bodyLength} bytes is not plausible`, p);
      }
      if (m.headerType === HEADER_SCHEMA && this.#messages > 0) {
        // A new stream begins without the previous one's end marker: cut there.
        out.push(this.#emit(p, true));
      }
      if (this.#messages === 0 && m.headerType !== HEADER_SCHEMA) {
        this.#fail("bad_value", `stream starts with message type ${m.headerType}, not a schema`, p);
      }
      if (
        m.headerType !== HEADER_SCHEMA && m.headerType !== HEADER_DICTIONARY &&
        m.headerType !== HEADER_RECORD_BATCH
      ) {
        this.#fail("bad_value", `unsupported message type ${m.headerType}`, p);
      }
      const total = prefix + metaLen + m.bodyLength;
      if (this.#len - p < total) break;
      this.#messages++;
      if (m.headerType === HEADER_RECORD_BATCH) {
        this.#batches++;
        this.#rows += m.rows;
      }
      this.#pos = p + total;
    }
    return out;
  }

  /**
   * Ends the input. A last stream that lacks only its end marker is returned with one added.
   *
   * @returns the last stream, if any
   * @throws {TraceError} `truncated` when the input stops inside a message
   */
  end(): IPCStreamPiece[] {
    if (this.#ended) return [];
    this.#ended = true;
    if (this.#pos < this.#len) {
      this.#fail(
        "truncated",
        `input ends inside a message (${this.#len - this.#pos} bytes left)`,
        this.#pos,
      );
    }
    if (this.#messages > 0) return [this.#emit(this.#pos, true)];
    return [];
  }
}

/**
 * Splits an in-memory concatenation of IPC streams.
 *
 * @param bytes the concatenation
 * @param file name used in error messages
 * @returns the streams, in order
 * @throws {TraceError} on malformed or truncated input
 */
export function splitIPCStreams(bytes: Uint8Array, file = "<memory>"): IPCStreamPiece[] {
  const s = new IPCStreamSplitter(file);
  return [...s.push(bytes), ...s.end()];
}

/**
 * Reads a file of concatenated IPC streams chunk by chunk, yielding each stream.
 *
 * @param path the `.arrows` file
 * @param chunkBytes read size (default 1 MiB)
 * @returns the streams, in file order
 * @throws {TraceError} on malformed or truncated input
 */
export async function* readIPCStreams(
  path: string,
  chunkBytes = 1 << 20,
): AsyncGenerator<IPCStreamPiece> {
  const f = await Deno.open(path, { read: true });
  try {
    const s = new IPCStreamSplitter(path);
    const chunk = new Uint8Array(chunkBytes);
    while (true) {
      const n = await f.read(chunk);
      if (n === null) break;
      yield* s.push(chunk.subarray(0, n));
    }
    yield* s.end();
  } finally {
    f.close();
  }
}

/**
 * Counts the record batches and rows of one IPC stream from its framing alone (no copy, no
 * column decoding).
 *
 * @param bytes one IPC stream
 * @param file name used in error messages
 * @returns record batches and rows
 * @throws {TraceError} on malformed input
 */
export function ipcStreamStats(
  bytes: Uint8Array,
  file = "<memory>",
): { batches: number; rows: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (code: "truncated" | "bad_value", why: string, at: number): never => {
    throw new TraceError(code, why, { file, section: "arrow ipc stream", offset: at });
  };
  let batches = 0;
  let rows = 0;
  let p = 0;
  while (bytes.length - p >= 4) {
    let prefix = 4;
    let metaLen = dv.getUint32(p, true);
    if (metaLen === CONTINUATION) {
      if (bytes.length - p < 8) fail("truncated", "cut inside a message prefix", p);
      prefix = 8;
      metaLen = dv.getUint32(p + 4, true);
    }
    if (metaLen === 0) break;
    if (bytes.length - p < prefix + metaLen) fail("truncated", "cut inside message metadata", p);
    const at = p;
    const m = readMessage(bytes, p + prefix, metaLen, (why) => fail("bad_value", why, at));
    if (m.headerType === HEADER_RECORD_BATCH) {
      batches++;
      rows += m.rows;
    }
    p += prefix + metaLen + m.bodyLength;
    if (p > bytes.length) fail("truncated", "cut inside a message body", at);
  }
  return { batches, rows };
}
