/**
 * Rows of binary records decoded up to their common values, gathered by a reader so that
 * `RawTables.addRecordRows` fills the columns column by column (a tight loop per column
 * and table) instead of row by row through every column.
 *
 * @module
 */
/**
 * A block of rows: per row its table, time, CPU, pid, comm and where its record lies. Records
 * stay in the reader's buffers (`views` / `bytes`), which must stay unchanged until the block is
 * added.
 *
 * @example
 * ```ts
 * import { RawTables } from "./raw_tables.ts";
 * import { RecordRows } from "./record_rows.ts";
 * const rt = new RawTables({ write() {} });
 * const t = rt.tableForFields("demo", "ev", []);
 * const rec = new Uint8Array(8);
 * const rows = new RecordRows();
 * rows.push(t.ordinal, 0, 42, 1, 7, 1, "demo", rows.bufferOf(new DataView(rec.buffer), rec), 0, 8);
 * rt.addRecordRows(rows);
 * console.assert(rows.length === 0 && t.builder.ts.length === 1);
 * ```
 */
export class RecordRows {
  /** Rows in the block. */
  length = 0;
  /** Rows the block holds before it must be added. */
  readonly capacity: number;
  /** Table (its ordinal in the {@linkcode RawTables}) of each row. */
  readonly table: Int32Array;
  /** High 32 bits of each row's time. */
  readonly tsHi: Int32Array;
  /** Low 32 bits of each row's time. */
  readonly tsLo: Int32Array;
  /** CPU of each row. */
  readonly cpu: Int32Array;
  /** pid of each row. */
  readonly pid: Int32Array;
  /** Key of each row's comm (a key always stands for the same comm; see `addRecord`). */
  readonly commKey: Int32Array;
  /** Comm of each row. */
  readonly comm: string[];
  /** Buffer (index into `views` / `bytes`) holding each row's record. */
  readonly buf: Int32Array;
  /** Start of each row's record in its buffer. */
  readonly start: Int32Array;
  /** Length of each row's record. */
  readonly len: Int32Array;
  /** Buffers the records lie in. */
  readonly views: DataView[] = [];
  /** The same buffers as bytes. */
  readonly bytes: Uint8Array[] = [];

  /**
   * Makes an empty block.
   *
   * @param capacity rows it holds (default 16384)
   */
  constructor(capacity = 16384) {
    this.capacity = capacity;
    this.table = new Int32Array(capacity);
    this.tsHi = new Int32Array(capacity);
    this.tsLo = new Int32Array(capacity);
    this.cpu = new Int32Array(capacity);
    this.pid = new Int32Array(capacity);
    this.commKey = new Int32Array(capacity);
    this.comm = new Array<string>(capacity).fill("");
    this.buf = new Int32Array(capacity);
    this.start = new Int32Array(capacity);
    this.len = new Int32Array(capacity);
  }

  /**
   * The index of a buffer in `views` (added when new).
   *
   * @param view view over the buffer
   * @param bytes the same buffer as bytes
   * @returns its index, for `push`
   */
  bufferOf(view: DataView, bytes: Uint8Array): number {
    const vs = this.views;
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i] === view) return i;
    vs.push(view);
    this.bytes.push(bytes);
    return vs.length - 1;
  }

  /**
   * Appends a row (the caller adds the block when `length` reaches `capacity`).
   *
   * @param table the table's ordinal
   * @param tsHi high 32 bits of the time
   * @param tsLo low 32 bits of the time
   * @param cpu CPU
   * @param pid pid
   * @param commKey key of the comm
   * @param comm the comm
   * @param buf index of the record's buffer (see `bufferOf`)
   * @param start record start in that buffer
   * @param len record length
   */
  push(
    table: number,
    tsHi: number,
    tsLo: number,
    cpu: number,
    pid: number,
    commKey: number,
    comm: string,
    buf: number,
    start: number,
    len: number,
  ): void {
    const m = this.length;
    this.table[m] = table;
    this.tsHi[m] = tsHi;
    this.tsLo[m] = tsLo;
    this.cpu[m] = cpu;
    this.pid[m] = pid;
    this.commKey[m] = commKey;
    this.comm[m] = comm;
    this.buf[m] = buf;
    this.start[m] = start;
    this.len[m] = len;
    this.length = m + 1;
  }

  /** Empties the block (and forgets its buffers). */
  clear(): void {
    this.length = 0;
    this.views.length = 0;
    this.bytes.length = 0;
  }
}
